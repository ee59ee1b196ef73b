import { shownProblems } from '../config/runbook-files.js';
import { runbookNameProblem } from '../runbook/input-bounds.js';
import type { BotDeps } from './deps.js';

export interface StartRequest {
  runbook: string;
  channel: string;
  /** The person starting it: the one who typed `/migrate start`, or who scheduled the run. */
  user: string;
  dryRun: boolean;
  /** Given by a schedule so a repeated start is refused instead of creating a second run. */
  runId?: string;
}

export type StartResult = { ok: true; runId: string } | { ok: false; code: string; message: string };

/**
 * The one way a run starts, shared by `/migrate start` and the scheduler:
 * load the runbook fresh, resolve the actor, let the core decide, render.
 * Never throws for a refusal; the message is fit for Slack.
 */
export async function startRun(deps: Pick<BotDeps, 'runbooks' | 'service' | 'actors' | 'publisher' | 'now' | 'newRunId'>, req: StartRequest): Promise<StartResult> {
  const badName = runbookNameProblem(req.runbook);
  if (badName) return { ok: false, code: 'runbook.not_found', message: badName };
  const entry = await deps.runbooks.get(req.runbook);
  if (!entry) return { ok: false, code: 'runbook.not_found', message: `There is no runbook \`${req.runbook}\`. \`/migrate runbooks\` lists them.` };
  if (!entry.result.ok) {
    const problems = shownProblems(entry.result.problems);
    return { ok: false, code: 'runbook.invalid', message: `Runbook \`${req.runbook}\` cannot start; fix these first:\n${problems.map((p) => `• ${p}`).join('\n')}` };
  }
  const runbook = entry.result.runbook;
  const at = deps.now();
  const outcome = await deps.service.start({
    type: 'start',
    at,
    actor: await deps.actors.resolve(req.user, runbook.plan),
    runId: req.runId ?? deps.newRunId(req.runbook, at),
    channel: req.channel,
    dryRun: req.dryRun,
    plan: runbook.plan,
    runbookFile: entry.file,
    runbookText: entry.text,
  });
  if (!outcome.ok) return { ok: false, code: outcome.code, message: outcome.message };
  await deps.publisher.request(outcome.state.runId);
  return { ok: true, runId: outcome.state.runId };
}
