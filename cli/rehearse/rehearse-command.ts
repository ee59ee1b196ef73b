import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { destination } from 'pino';
import type { StateBackend } from '../../config/backend.js';
import { loadWorkerEnv } from '../../config/env.js';
import { createLogger } from '../../config/logger.js';
import { reportFiles } from '../../bot/report/report-service.js';
import { RunHistory } from '../../bot/report/run-history.js';
import { createActions } from '../../engine/actions/index.js';
import { openConnections } from '../../engine/connections.js';
import { startWorker } from '../../engine/worker.js';
import { localBackend } from '../../local/start-local.js';
import { compareRuns } from '../../runbook/compare.js';
import { formatDuration } from '../../runbook/duration.js';
import { loadRunbook } from '../../runbook/load.js';
import { allSteps, type Plan } from '../../runbook/plan.js';
import type { Actor } from '../../runbook/policy.js';
import { RunService } from '../../runbook/run-service.js';
import type { Names } from '../../runbook/report/index.js';
import type { RunState } from '../../runbook/state.js';
import { isValidationAction, readValidation } from '../../runbook/validation-result.js';
import { COMMON_OPTIONS, listArg, parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { lintFile } from '../lint/lint-command.js';
import { Output, shownPath, type CliIo } from '../output.js';
import { rolesAsked, starterOf } from './approvers.js';
import { driveRun, type HeadlessOutcome } from './headless-run.js';
import { ProgressView } from './progress-view.js';

export const REHEARSE_USAGE = `Usage: cutover rehearse <runbook.yaml> [--auto-approve role,…] [--until <step>] [--out <dir>]

Runs the runbook headless with the real engine: the worker executes every step
against the runbook's databases, and each step is approved by members of its
role through the same run service the bot uses (roles, N-of-M, separation of
duties, the validation gate and required backups all apply). State lives in
this process, or in Redis when REDIS_URL answers (prefix <REDIS_PREFIX>-rehearse,
apart from a live installation's runs). Writes the report, the audit trail
(JSON), the timeline (PNG) and the worker's log to the output folder.

Options:
  --auto-approve <roles>  approve as these roles only (default: every role the runbook asks);
                          a step of another role ends the rehearsal
  --until <step>          stop once this step is done (the run is aborted there)
  --out <dir>             the output folder (default var/rehearsals/<run id>)
  --abort-active          first abort an active rehearsal of this runbook left by a killed one
  -q, --quiet             only the verdict and the folder
  -h, --help              this text

Exit: 0 completed (or reached --until) with every validation green, 1 not green
(a failed step, a red or amber validation, a refused approval, a step no
auto-approved role may approve), 2 wrong arguments, 3 could not rehearse (the
runbook does not load, another run of it is active), 130 interrupted.`;

export async function rehearseCommand(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    'auto-approve': { type: 'string', multiple: true },
    until: { type: 'string' },
    out: { type: 'string' },
    'abort-active': { type: 'boolean' },
  });
  const out = new Output(io, values.quiet === true);
  if (values.help) {
    out.result(REHEARSE_USAGE);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw usageError('expected exactly one runbook file');
  const file = positionals[0] as string;
  const text = await readFile(resolve(io.cwd, file), 'utf8').catch(() => null);
  if (text === null) {
    out.error(`cutover rehearse: cannot read ${file}`);
    return EXIT.failed;
  }
  const loaded = loadRunbook({ name: basename(file, extname(file)), file, text, env: io.env });
  if (!loaded.ok) {
    for (const p of (await lintFile(file, io)) ?? []) out.error(`${p.file}:${p.line}:${p.column} ${p.path} ${p.message}`);
    out.error(`cutover rehearse: ${file} does not load (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'} above); nothing was run`);
    return EXIT.failed;
  }
  const runbook = loaded.runbook;
  const plan = runbook.plan;
  const autoApprove = new Set(listArg(values['auto-approve']).length > 0 ? listArg(values['auto-approve']) : rolesAsked(plan));
  const unknownRoles = [...autoApprove].filter((r) => !plan.roles[r]);
  if (unknownRoles.length > 0) throw usageError(`--auto-approve: ${unknownRoles.join(', ')} ${unknownRoles.length === 1 ? 'is not a role' : 'are not roles'} of ${file} (its roles: ${Object.keys(plan.roles).join(', ')})`);
  const until = values.until ?? null;
  if (until !== null && !allSteps(plan).some((s) => s.id === until)) throw usageError(`--until: ${file} has no step ${JSON.stringify(until)}`);
  const starter = starterOf(plan);
  if (!starter) throw usageError(`${file} names nobody who may start it`);

  const runId = `${plan.runbook}-rehearsal-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(2).toString('hex')}`;
  const folder = resolve(io.cwd, values.out ?? join('var', 'rehearsals', runId));
  await mkdir(folder, { recursive: true });
  const logFile = join(folder, 'worker.log');
  const log = createLogger('rehearse', { level: io.env.LOG_LEVEL ?? 'info' }, destination({ dest: logFile, sync: true, mkdir: true }));
  const prefix = `${io.env.REDIS_PREFIX || 'cutover'}-rehearse`;
  const backend = await localBackend({ REDIS_URL: io.env.REDIS_URL || 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix }, log);
  out.note(`Rehearsing ${file} as run ${runId} (${backend.kind === 'redis' ? `Redis, prefix ${prefix}` : 'in this process'}); approving as ${[...autoApprove].join(', ')}${until ? `, until ${until}` : ''}.`);
  try {
    const worker = await startWorker(loadWorkerEnv({ ...io.env, REDIS_PREFIX: prefix }), log, backend, createActions({ connections: openConnections }), { metricsServer: false });
    const service = new RunService({ store: backend.store, queue: backend.queue, updates: backend.updates, followUps: backend.followUps });
    // No Slack to ask: people are named by the runbook's contacts, on the terminal and in the report.
    const names = Object.fromEntries(runbook.doc.contacts.flatMap((c) => (c.slack ? [[c.slack, c.name]] : [])));
    let outcome: HeadlessOutcome;
    try {
      if (values['abort-active']) await abortActive(backend, service, plan, out);
      outcome = await driveRun(
        { runId, runbook, text, starter, aborter: aborterOf(plan, starter), moves: { starter, autoApprove, until }, interrupt: io.interrupt ?? new AbortController().signal },
        { service, updates: backend.updates, view: new ProgressView(out, Date.now, names), now: Date.now },
      );
    } finally {
      // Running steps were told to stop by the abort; the worker waits for them before the backend closes.
      await worker.stop();
    }
    if (outcome.kind === 'refused') {
      out.error(`cutover rehearse: the run did not start: ${outcome.reason}${outcome.reason.includes('already active') ? ' (--abort-active aborts a rehearsal a killed one left)' : ''}`);
      return EXIT.failed;
    }
    await writeReport(service, outcome.state, folder, names);
    return verdict(outcome, until, out, shownPath(io.cwd, folder), logFile);
  } finally {
    await backend.close();
  }
}

/** Who aborts a rehearsal that stops early: a member of the first role allowed to abort, else the starter. */
function aborterOf(plan: Plan, starter: Actor): Actor {
  const roles = plan.permissions.abort === null ? [] : plan.permissions.abort.map((r) => plan.roles[r]).filter((r) => r !== undefined);
  const member = roles.flatMap((r) => r.members)[0];
  if (member) return { id: member, groups: [] };
  const group = roles.find((r) => r.usergroups.length > 0);
  return group ? { id: 'U0REHEARSEABORT', groups: group.usergroups } : starter;
}

async function abortActive(backend: StateBackend, service: RunService, plan: Plan, out: Output): Promise<void> {
  const active = (await service.activeRunIds()).find((a) => a.runbook === plan.runbook);
  if (!active) return;
  const starter = starterOf(plan);
  const outcome = await service.execute(active.runId, { type: 'abort', at: Date.now(), actor: aborterOf(plan, starter ?? { id: 'U0REHEARSE' }), reason: 'aborted by cutover rehearse --abort-active' });
  out.note(outcome.ok ? `Aborted the active run ${active.runId} (--abort-active).` : `Could not abort the active run ${active.runId}: ${outcome.message}`);
}

async function writeReport(service: RunService, state: RunState, folder: string, names: Names): Promise<void> {
  const events = (await service.history(state.runId))?.events ?? [];
  const now = state.finishedAt ?? Date.now();
  const history = new RunHistory({ runs: service, now: Date.now });
  const previous = await history.previousRun(state);
  const comparison = previous ? compareRuns(state, previous, { now, currentLabel: await history.label(state), baselineLabel: await history.label(previous) }) : null;
  const files = reportFiles(state, events, now, comparison, names);
  await writeFile(join(folder, `${state.runId}-report.md`), files.markdown, 'utf8');
  await writeFile(join(folder, `${state.runId}-audit.json`), files.audit, 'utf8');
  await writeFile(join(folder, `${state.runId}-timeline.png`), files.png);
  if (files.reconciliation !== null) await writeFile(join(folder, `${state.runId}-reconciliation-final.json`), files.reconciliation, 'utf8');
}

/** Green: every validation step that ran is green, and none failed or was skipped. */
function validationsGreen(state: RunState): { green: boolean; notGreen: string[] } {
  const notGreen = allSteps(state.plan)
    .filter((s) => isValidationAction(s.action))
    .flatMap((s) => {
      const step = state.steps[s.id];
      if (!step || step.status === 'pending' || step.status === 'awaiting_approval') return [];
      const v = readValidation(step.status === 'failed' ? step.error?.details : step.result?.details)?.verdict;
      return v === 'green' && step.status === 'succeeded' ? [] : [`${s.id}: ${step.status === 'skipped' ? 'skipped' : (v ?? step.status)}`];
    });
  return { green: notGreen.length === 0, notGreen };
}

function verdict(outcome: Exclude<HeadlessOutcome, { kind: 'refused' }>, until: string | null, out: Output, folder: string, logFile: string): ExitCode {
  const { state } = outcome;
  const p = out.paint;
  const took = formatDuration(((state.finishedAt ?? Date.now()) - state.startedAt) / 1000);
  const checks = validationsGreen(state);
  out.result(`report: ${folder}`);
  if (outcome.kind === 'interrupted') {
    out.result(p.yellow(`interrupted after ${took}: run ${state.runId} aborted`));
    return EXIT.interrupted;
  }
  if (outcome.kind === 'stopped') {
    out.result(p.red(`NOT GREEN after ${took}: ${outcome.reason}`));
    out.note(`The worker's log: ${logFile}`);
    return EXIT.findings;
  }
  if (!checks.green) {
    out.result(p.red(`NOT GREEN after ${took}: ${checks.notGreen.join('; ')}`));
    return EXIT.findings;
  }
  const done = Object.values(state.steps).filter((s) => s.status === 'succeeded').length;
  out.result(p.green(`${outcome.kind === 'until' ? `green up to ${until ?? '?'}` : 'completed green'} in ${took}: ${done} steps done, every validation that ran green`));
  return EXIT.ok;
}
