import { createHash } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { MessageRefs } from '../../config/redis-message-refs.js';
import { gateReportDue, reportChanges, type GateReportDue } from '../../runbook/gate-report.js';
import type { PlanStep } from '../../runbook/plan.js';
import { peopleInReconciliation, reconciliationMarkdown, reconciliationSummary } from '../../runbook/reconciliation-markdown.js';
import { reconciliationReport } from '../../runbook/reconciliation.js';
import type { Names } from '../../runbook/report/people.js';
import type { RunState, StepState } from '../../runbook/state.js';
import { verdictSchema } from '../../runbook/validation-result.js';
import { slackTime } from '../render/format.js';

/** Field in the message-refs hash per version of the report: `claimed:<ms>` while one process posts it, then `posted:<ms>`. */
export const reportField = (due: GateReportDue): string => `reconciliation-report:${createHash('sha256').update(due.fingerprint).digest('hex').slice(0, 16)}`;
/** The last version posted (JSON), for the next one to say what it supersedes. */
const LATEST = 'reconciliation-report:latest';
/** A claim older than this belongs to a process that died mid-upload: another takes it over (late rather than missing). */
const STALE_CLAIM_MS = 60_000;

const latestSchema = z.object({
  n: z.number(),
  gate: z.string(),
  at: z.number(),
  results: z.array(z.object({ stepId: z.string(), attempt: z.number(), check: z.string().nullable(), verdict: verdictSchema })),
});
type Latest = z.infer<typeof latestSchema>;

function readLatest(raw: string | undefined | null): Latest | null {
  if (!raw) return null;
  try {
    const parsed = latestSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Posts the run's reconciliation report once, with the go/no-go gate: a
 * Markdown file with the JSON attached (both uploaded as files, never as an
 * inline snippet), above the gate's approval prompt. The publisher asks
 * before each step's message; for a gate whose report is due this uploads it
 * first, so the prompt always comes after the evidence it asks on. A later
 * version (a validation re-run while the gate waits, checks between two
 * gates) is posted once more, saying what it supersedes and why. Claimed in
 * the refs hash (HSETNX), so two renders or two web processes post each
 * version once.
 */
export class GateReports {
  constructor(
    private readonly deps: {
      client: WebClient;
      refs: MessageRefs;
      log: Logger;
      now: () => number;
      /** People's names for the Markdown file (Slack does not render mentions in a file). */
      names?: (ids: string[]) => Promise<Names>;
    },
  ) {}

  /**
   * True when the step's message may be rendered now. False only while
   * another process is posting this gate's report: its render posts the
   * prompt after it. A failed upload answers true (the prompt must not wait
   * on Slack's file service) and frees the claim for the next render. Never throws.
   */
  async beforeStep(state: RunState, planStep: PlanStep, step: StepState, rootTs: string, refs: Record<string, string>): Promise<boolean> {
    const due = gateReportDue(state, planStep, step, refs[`step:${planStep.id}`] !== undefined);
    if (!due) return true;
    const claim = reportField(due);
    if (refs[claim]?.startsWith('posted:')) return true;
    try {
      const won = await this.claim(state.runId, claim);
      if (won === 'posted') return true;
      if (won === 'busy') return false;
    } catch (err) {
      this.deps.log.error({ err, runId: state.runId }, 'reconciliation report claim failed');
      return true;
    }
    try {
      const latest = readLatest(await this.deps.refs.get(state.runId, LATEST));
      const posted = await this.upload(state, planStep, due, latest, rootTs);
      await this.deps.refs.set(state.runId, { [claim]: `posted:${posted.at}`, [LATEST]: JSON.stringify(posted) });
    } catch (err) {
      this.deps.log.error({ err, runId: state.runId, gate: planStep.id }, 'reconciliation report upload failed');
      await this.deps.refs.unset(state.runId, claim).catch(() => undefined);
    }
    return true;
  }

  /** 'won' for the one process that posts this version now; a claim left by a dead process is taken over. */
  private async claim(runId: string, claim: string): Promise<'won' | 'busy' | 'posted'> {
    const now = this.deps.now();
    if (await this.deps.refs.claim(runId, claim, `claimed:${now}`)) return 'won';
    const value = (await this.deps.refs.get(runId, claim)) ?? '';
    if (value.startsWith('posted:')) return 'posted';
    const since = Number(value.replace(/^claimed:/, ''));
    if (Number.isFinite(since) && now - since < STALE_CLAIM_MS) return 'busy';
    await this.deps.refs.set(runId, { [claim]: `claimed:${now}` });
    return 'won';
  }

  private async upload(state: RunState, gate: PlanStep, due: GateReportDue, latest: Latest | null, rootTs: string): Promise<Latest> {
    const at = this.deps.now();
    const report = reconciliationReport(state, at);
    const names = this.deps.names ? await this.deps.names(peopleInReconciliation(report)).catch(() => ({})) : {};
    const n = (latest?.n ?? 0) + 1;
    const base = `${state.runId}-reconciliation${n > 1 ? `-${n}` : ''}`;
    const title = `Reconciliation report${report.dry_run ? ' (dry run)' : ''}${n > 1 ? ` ${n}` : ''} — gate "${gate.title}"`;
    const changes = latest ? reportChanges(state, latest.results, due.results) : [];
    const head = latest
      ? `📋 *Updated reconciliation report* for the go/no-go gate *${gate.title}*: it supersedes report ${latest.n}, posted ${slackTime(latest.at)} with *${latest.gate}*${changes.length ? ` — ${changes.join('; ')}` : ''}.`
      : `📋 *Reconciliation report* for the go/no-go gate *${gate.title}*: the evidence its approval rests on.`;
    await this.deps.client.files.uploadV2({
      channel_id: state.channel,
      thread_ts: rootTs,
      initial_comment: `${head}\n${reconciliationSummary(report)}\nThe full report is the Markdown file; its JSON is attached for tools.`,
      file_uploads: [
        { file: Buffer.from(reconciliationMarkdown(report, names), 'utf8'), filename: `${base}.md`, title },
        { file: Buffer.from(JSON.stringify(report, null, 2), 'utf8'), filename: `${base}.json`, title: `${title} (JSON)` },
      ],
    });
    this.deps.log.info({ runId: state.runId, gate: gate.id, version: n }, 'reconciliation report posted with the gate');
    return { n, gate: gate.title, at, results: due.results };
  }
}
