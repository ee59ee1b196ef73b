import type { Logger } from 'pino';
import type { RunbookFiles } from '../../config/runbook-files.js';
import type { ScheduleStore, ScheduledRun } from '../../config/schedule-store.js';
import { nextTierRecipients } from '../../runbook/escalation.js';
import type { Runbook } from '../../runbook/load.js';
import { dueMilestones, milestones, scheduleFinished, unconfirmedRoles, type Milestone, type RollCall } from '../../runbook/schedule.js';
import type { RunService } from '../../runbook/run-service.js';
import type { Notifier } from '../escalation/notifier.js';
import { runPolicyOf } from '../escalation/run-policy.js';
import { mentions } from '../render/escalation-blocks.js';
import { slackTime } from '../render/format.js';
import { renderReminder, renderRollCall } from '../render/schedule-blocks.js';
import type { StartRequest, StartResult } from '../start-run.js';
import { sweepEach } from '../sweeper.js';

/** Default confirm window for the window-opening roll call when the runbook no longer loads. */
const DEFAULT_CONFIRM_S = 1200;

/**
 * One pass over the scheduled runs: reminders, roll calls and their
 * escalations, and the start at T. Each milestone is claimed in Redis before
 * it is sent (once, whoever sweeps, across restarts); the start is the
 * exception: it runs first and is recorded after, because its run id is
 * deterministic and a second start is refused — so a crash in between can
 * neither lose nor double it.
 */
export class ScheduleSweep {
  constructor(
    private readonly deps: {
      schedules: ScheduleStore;
      runbooks: RunbookFiles;
      service: Pick<RunService, 'load'>;
      notifier: Notifier;
      start: (req: StartRequest) => Promise<StartResult>;
      log: Logger;
      now: () => number;
    },
  ) {}

  /** Never throws. */
  async sweep(): Promise<void> {
    await sweepEach(await this.deps.schedules.list(), (s) => this.sweepOne(s), (err, s) => this.deps.log.error({ err, schedule: s.id }, 'schedule sweep failed'));
  }

  private async sweepOne(s: ScheduledRun): Promise<void> {
    const { schedules, now } = this.deps;
    const entry = await this.deps.runbooks.get(s.runbook).catch(() => null);
    const runbook = entry?.result.ok ? entry.result.runbook : null;
    const confirmS = runbook ? runPolicyOf(runbook.doc).policy.escalateAfterSeconds : DEFAULT_CONFIRM_S;
    const all = milestones({ at: s.at, createdAt: s.createdAt, windowStart: runbook?.plan.window?.start ?? null, confirmWithinMs: confirmS * 1000 });
    const at = now();
    const { send, skip } = dueMilestones(all, at, await schedules.done(s.id));
    for (const key of skip) await schedules.claim(s.id, key, at);
    for (const m of send) {
      if (m.kind === 'start') {
        await this.startRun(s);
        await schedules.claim(s.id, m.key, at);
      } else if (await schedules.claim(s.id, m.key, at)) {
        await this.perform(s, m, runbook);
      }
    }
    if (scheduleFinished(all, await schedules.done(s.id))) {
      await schedules.remove(s.id);
      this.deps.log.info({ schedule: s.id }, 'schedule finished');
    }
  }

  private async perform(s: ScheduledRun, m: Exclude<Milestone, { kind: 'start' }>, runbook: Runbook | null): Promise<void> {
    const { notifier, schedules } = this.deps;
    if (m.kind === 'reminder') {
      await notifier.post(s.channel, renderReminder(s, runbook?.plan ?? null, this.deps.now()));
      this.deps.log.info({ schedule: s.id, reminder: m.key }, 'schedule reminder sent');
      return;
    }
    if (!runbook) {
      await notifier.post(s.channel, `⚠️ Runbook \`${s.runbook}\` no longer loads, so its roll call could not be held; check \`/migrate runbooks\` before ${slackTime(s.at)}.`);
      return;
    }
    if (m.kind === 'rollcall') {
      const rendered = renderRollCall(s, runbook.plan, m.call, m.deadline, {});
      const ts = await notifier.post(s.channel, rendered.text, rendered.blocks);
      if (ts) await schedules.setMessage(s.id, `rollcall-${m.call}`, ts);
      this.deps.log.info({ schedule: s.id, call: m.call }, 'roll call posted');
      return;
    }
    await this.escalateRollCall(s, m.call, runbook);
  }

  /** Roles nobody confirmed for: their contacts and the next tier are told now, before the window. */
  private async escalateRollCall(s: ScheduledRun, call: RollCall, runbook: Runbook): Promise<void> {
    const confirmed = new Set(Object.keys(await this.deps.schedules.confirmations(s.id, call)));
    const missing = unconfirmedRoles(Object.keys(runbook.plan.roles), confirmed);
    if (missing.length === 0) return;
    const { policy, contacts } = runPolicyOf(runbook.doc);
    const reach = [...new Set(missing.flatMap((r) => nextTierRecipients(runbook.plan, policy, contacts, r)))];
    const titles = missing.map((r) => runbook.plan.roles[r]?.title ?? r).join(', ');
    const text = `🚨 Roll call: nobody has confirmed for ${titles} — *${runbook.plan.title}* starts at ${slackTime(s.at)}. Find someone now. ${mentions(reach)}`;
    const threadTs = (await this.deps.schedules.message(s.id, `rollcall-${call}`)) ?? undefined;
    await this.deps.notifier.send({
      channel: s.channel,
      ...(threadTs ? { threadTs } : {}),
      text,
      dm: reach,
      dmText: `🚨 Roll call for ${runbook.plan.title} (<#${s.channel}>): nobody has confirmed for ${titles}; the run starts at ${slackTime(s.at)}.`,
      incidentChannel: policy.incidentChannel,
    });
    this.deps.log.info({ schedule: s.id, call, missing }, 'roll call escalated');
  }

  private async startRun(s: ScheduledRun): Promise<void> {
    if (await this.deps.service.load(s.runId)) return;
    const result = await this.deps.start({ runbook: s.runbook, channel: s.channel, user: s.by, dryRun: false, runId: s.runId });
    if (result.ok) {
      this.deps.log.info({ schedule: s.id, runId: result.runId }, 'scheduled run started');
      return;
    }
    this.deps.log.warn({ schedule: s.id, code: result.code }, 'scheduled run did not start');
    await this.deps.notifier.post(s.channel, `⚠️ The run of \`${s.runbook}\` scheduled by <@${s.by}> for ${slackTime(s.at)} did not start: ${result.message}`);
  }
}
