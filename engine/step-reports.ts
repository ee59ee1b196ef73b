import type { Logger } from 'pino';
import type { Command } from '../runbook/decide.js';
import type { StepJob } from '../runbook/ports.js';
import type { RunService } from '../runbook/run-service.js';
import type { LedgerEntry } from './ledger/effect-key.js';

type Report = Extract<Command, { type: `report.${string}` }>;
type ReportBody = Report extends infer R ? (R extends Report ? Omit<R, 'at' | 'stepId' | 'attempt'> : never) : never;
/** Appends one report of this attempt; false when the run refused it (a late report of an old attempt, a finished run). */
export type Reporter = (body: ReportBody) => Promise<boolean>;

export function stepReporter(job: StepJob, deps: { service: RunService; now: () => number }, log: Logger): Reporter {
  return async (body) => {
    const command: Report = { ...body, at: deps.now(), stepId: job.stepId, attempt: job.attempt };
    const outcome = await deps.service.execute(job.runId, command);
    if (!outcome.ok) log.warn({ type: body.type, refusal: outcome.message }, 'report refused');
    return outcome.ok;
  };
}

/** Reports what the ledger holds for this step: succeeded with its recorded result, or failed when its row committed without one. */
export async function reportFromLedger(report: Reporter, entry: LedgerEntry): Promise<void> {
  const ledger = { jobId: entry.jobId, attempt: entry.attempt, committedAt: entry.finishedAt?.toISOString() ?? null };
  if (!entry.result || !entry.finishedAt) {
    await report({
      type: 'report.failed',
      code: 'ledger.partial',
      message: `The effect ledger holds a row for this step without its result: its SQL ended the step's transaction itself (a COMMIT inside the text), so part of it took effect before the worker stopped. Check its effect by hand, then Skip it (a Retry would find the same row).`,
      details: { ledger },
    });
    return;
  }
  await report({
    type: 'report.succeeded',
    summary: `${entry.result.summary} (from the effect ledger: attempt ${entry.attempt} committed it at ${ledger.committedAt} but its worker stopped before reporting it; not run again)`,
    details: { ...entry.result.details, ledger },
  });
}
