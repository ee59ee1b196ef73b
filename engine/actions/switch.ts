import { CutoverError } from '../../runbook/errors.js';
import type { SwitchParams, SwitchStep } from '../../runbook/actions/switch.js';
import { ActionError, type ActionContext, type ActionImpl, type ActionResult } from '../action.js';
import { EffectAlreadyCommitted } from '../ledger/effect-key.js';
import { findEffect } from '../ledger/find-effect.js';
import { httpAction } from './http.js';
import { shellAction } from './shell.js';
import { readSqlFile, sqlAction } from './sql.js';
import { checkout } from '../etl/checkpoints.js';
import { installTrackingSql, primaryKeys } from '../rollback/tombstones.js';

export interface SmokeOutcome {
  ok: boolean;
  summary: string;
}

/** Runs one inner step through the existing implementation (not the registry, which imports this module). */
function runStep(ctx: ActionContext, step: SwitchStep): Promise<ActionResult> {
  switch (step.action) {
    case 'shell':
      return shellAction.run(ctx, step.params);
    case 'http':
      return httpAction.run(ctx, step.params);
    case 'sql':
      return sqlAction.run(ctx, step.params);
  }
}

interface Flip {
  summary: string;
  goLiveAt: string;
  /** The flip had committed in an earlier attempt: read from the effect ledger, not run. */
  fromLedger: boolean;
}

/**
 * Runs the flip unless it already happened. A transactional sql flip commits
 * with its row in the effect ledger, so a re-run after a crash (or another
 * attempt committing first) finds it there and keeps its go-live time; any
 * other flip runs as written (the catalog leaves those to done_when or a person).
 */
async function flipOnce(ctx: ActionContext, params: SwitchParams, now: () => Date): Promise<Flip> {
  const step = await withTracking(ctx, params);
  const ledgered = step.action === 'sql' && step.params.transaction && ctx.effectKey ? step.params.connection : null;
  if (!ledgered) return { summary: (await runStep({ ...ctx, effectKey: null }, step)).summary, goLiveAt: now().toISOString(), fromLedger: false };
  const committed = async (): Promise<Flip | null> => {
    const entry = await findEffect(ctx.connections, ledgered, ctx.runId, ctx.stepId);
    if (!entry) return null;
    if (!entry.result || !entry.finishedAt) {
      throw new ActionError('ledger.partial', 'the flip\'s SQL ended its own transaction in an earlier attempt, so how much of it took effect is unknown');
    }
    return { summary: entry.result.summary, goLiveAt: entry.finishedAt.toISOString(), fromLedger: true };
  };
  const before = await committed();
  if (before) return before;
  try {
    return { summary: (await runStep(ctx, step)).summary, goLiveAt: now().toISOString(), fromLedger: false };
  } catch (err) {
    const after = err instanceof EffectAlreadyCommitted ? await committed() : null;
    if (after) return after;
    throw err;
  }
}

/**
 * The flip, with the tracking of deletions (track_deletes) started at the same
 * instant: prepended to a transactional sql flip on the same connection, so the
 * go-live and the first tracked delete share one COMMIT (and the effect ledger
 * row); otherwise installed in its own transaction just before the flip. A
 * re-run by the same run keeps what was recorded.
 */
async function withTracking(ctx: ActionContext, params: SwitchParams): Promise<SwitchStep> {
  const track = params.track_deletes;
  if (!track) return params.flip;
  if (ctx.connections.kind(track.connection) !== 'postgres') {
    throw new CutoverError('switch.track_kind', `track_deletes.connection "${track.connection}" is not a PostgreSQL connection: deletions are tracked on the target`);
  }
  const client = await checkout(ctx.connections.postgres(track.connection));
  let install: string;
  try {
    install = installTrackingSql(ctx.runId, await primaryKeys(client, track.tables));
  } finally {
    client.release();
  }
  const flip = params.flip;
  if (flip.action === 'sql' && flip.params.transaction && flip.params.connection === track.connection) {
    const text = flip.params.file !== undefined ? await readSqlFile(ctx.sqlDir, flip.params.file) : (flip.params.sql ?? '');
    // The flip's own statements stay last, so its `expect` still judges them.
    const { file: _file, ...rest } = flip.params;
    return { action: 'sql', params: { ...rest, sql: `${install}\n${text}` } };
  }
  const own = await checkout(ctx.connections.postgres(track.connection));
  let clean = false;
  try {
    await own.query('BEGIN');
    await own.query(install);
    await own.query(ctx.dryRun ? 'ROLLBACK' : 'COMMIT');
    clean = true;
  } finally {
    own.release(!clean);
  }
  return flip;
}

const sentence = (err: unknown): string =>
  err instanceof CutoverError ? err.userMessage : err instanceof Error ? err.message : String(err);

/**
 * `switch`: flips the application to PostgreSQL with the runbook's shell, http
 * or sql step, records the go-live time, then runs every smoke check (all of
 * them, so the thread shows the whole picture). A failed smoke check fails the
 * step with switch.smoke_failed and switched: true, which the bot answers by
 * offering rollback. A transactional sql flip is recorded in the effect
 * ledger and never runs twice; a shell or http flip is not idempotent.
 */
export function switchAction(now: () => Date = () => new Date()): ActionImpl<SwitchParams> {
  return {
    id: 'switch',
    async run(ctx, params) {
      let flip: Flip;
      try {
        flip = await flipOnce(ctx, params, now);
      } catch (err) {
        // The flip may have half happened (a script that failed mid-way); say so rather than claim nothing changed.
        throw new ActionError('switch.flip_failed', `the switch to PostgreSQL failed: ${sentence(err)}; check whether the application was partly switched`, {
          cause: err,
          details: { switched: false, flip: sentence(err) },
        });
      }
      const { goLiveAt } = flip;
      ctx.progress(`switched: ${flip.summary}`, { goLiveAt });
      const smoke: SmokeOutcome[] = [];
      // Smoke checks read; only the flip is the step's effect, so only the flip writes the ledger.
      const checks: ActionContext = { ...ctx, effectKey: null };
      for (const step of params.smoke) {
        try {
          smoke.push({ ok: true, summary: (await runStep(checks, step)).summary });
        } catch (err) {
          smoke.push({ ok: false, summary: sentence(err) });
        }
      }
      const failed = smoke.filter((s) => !s.ok);
      const dry = ctx.dryRun ? 'dry run: ' : '';
      const again = flip.fromLedger ? ` (the flip had committed before a worker stopped, at ${goLiveAt}: taken from the effect ledger, not run again)` : '';
      if (failed.length > 0) {
        throw new ActionError(
          'switch.smoke_failed',
          `${dry}switched to PostgreSQL at ${goLiveAt}, but ${failed.length} of ${smoke.length} smoke checks failed (${failed.map((f) => f.summary).join('; ')}); rollback is offered`,
          { details: { goLiveAt, switched: true, smoke, flip: flip.summary } },
        );
      }
      return {
        summary: `${dry}switched to PostgreSQL at ${goLiveAt}${again}; ${smoke.length} smoke checks passed`,
        details: { goLiveAt, smoke, flip: flip.summary },
      };
    },
  };
}
