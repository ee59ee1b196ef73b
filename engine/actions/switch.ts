import { CutoverError } from '../../runbook/errors.js';
import type { SwitchParams, SwitchStep } from '../../runbook/rollback-action-params.js';
import { ActionError, type ActionContext, type ActionImpl, type ActionResult } from '../action.js';
import { httpAction } from './http.js';
import { shellAction } from './shell.js';
import { sqlAction } from './sql.js';

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

const sentence = (err: unknown): string =>
  err instanceof CutoverError ? err.userMessage : err instanceof Error ? err.message : String(err);

/**
 * `switch`: flips the application to PostgreSQL with the runbook's shell, http
 * or sql step, records the go-live time, then runs every smoke check (all of
 * them, so the thread shows the whole picture). A failed smoke check fails the
 * step with switch.smoke_failed and switched: true, which the bot answers by
 * offering rollback. Not idempotent: the flip may be a shell command.
 */
export function switchAction(now: () => Date = () => new Date()): ActionImpl<SwitchParams> {
  return {
    id: 'switch',
    async run(ctx, params) {
      let flip: ActionResult;
      try {
        flip = await runStep(ctx, params.flip);
      } catch (err) {
        // The flip may have half happened (a script that failed mid-way); say so rather than claim nothing changed.
        throw new ActionError('switch.flip_failed', `the switch to PostgreSQL failed: ${sentence(err)}; check whether the application was partly switched`, {
          cause: err,
          details: { switched: false, flip: sentence(err) },
        });
      }
      const goLiveAt = now().toISOString();
      ctx.progress(`switched: ${flip.summary}`, { goLiveAt });
      const smoke: SmokeOutcome[] = [];
      for (const step of params.smoke) {
        try {
          smoke.push({ ok: true, summary: (await runStep(ctx, step)).summary });
        } catch (err) {
          smoke.push({ ok: false, summary: sentence(err) });
        }
      }
      const failed = smoke.filter((s) => !s.ok);
      const dry = ctx.dryRun ? 'dry run: ' : '';
      if (failed.length > 0) {
        throw new ActionError(
          'switch.smoke_failed',
          `${dry}switched to PostgreSQL at ${goLiveAt}, but ${failed.length} of ${smoke.length} smoke checks failed (${failed.map((f) => f.summary).join('; ')}); rollback is offered`,
          { details: { goLiveAt, switched: true, smoke, flip: flip.summary } },
        );
      }
      return {
        summary: `${dry}switched to PostgreSQL at ${goLiveAt}; ${smoke.length} smoke checks passed`,
        details: { goLiveAt, smoke, flip: flip.summary },
      };
    },
  };
}
