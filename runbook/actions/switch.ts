import { z } from 'zod';
import { connectionName } from './common-params.js';
import { httpParams, type HttpParams } from './http.js';
import { shellParams, type ShellParams } from './shell.js';
import { sqlParams, type SqlParams } from './sql.js';
import { defineAction, type CrashRecovery } from './spec.js';

/** The go-live switch (issue 5): it wraps the sql, shell and http actions, whose schemas validate its flip and smoke checks. */

/** A flip or smoke step as the switch runs it, its params already parsed by the inner action's schema. */
export type SwitchStep =
  | { action: 'shell'; params: ShellParams }
  | { action: 'http'; params: HttpParams }
  | { action: 'sql'; params: SqlParams };
/** The target tables whose deletions after go-live are recorded (cutover.deleted_since_golive), on one connection. */
export interface TrackDeletes {
  connection: string;
  tables: string[];
}
export interface SwitchParams {
  flip: SwitchStep;
  smoke: SwitchStep[];
  track_deletes?: TrackDeletes;
}

interface SwitchInnerSchemas {
  shell: z.ZodType<ShellParams>;
  http: z.ZodType<HttpParams>;
  sql: z.ZodType<SqlParams>;
}

const rawStep = (actions: readonly ['shell', 'http', 'sql'] | readonly ['http', 'sql']) =>
  z.object({ action: z.enum(actions), params: z.record(z.string(), z.unknown()) }).strict();

/**
 * `switch`: a flip (shell, http or sql) then smoke checks (http or sql). The
 * inner params are validated with the catalog schema of their action inside
 * superRefine, so a bad inner step is a load-time error carrying its path
 * (e.g. flip.params.argv).
 */
function switchParamsSchema(inner: SwitchInnerSchemas): z.ZodType<SwitchParams> {
  const parseStep = (step: { action: 'shell' | 'http' | 'sql'; params: unknown }) => inner[step.action].safeParse(step.params);
  return z
    .object({
      flip: rawStep(['shell', 'http', 'sql']),
      smoke: z.array(rawStep(['http', 'sql'])).default([]),
      /**
       * Tables whose deletions the post-go-live export must replay: the switch installs a trigger on each
       * (in the flip's transaction when the flip is SQL on this connection) that keeps their deleted keys.
       */
      track_deletes: z
        .object({ connection: connectionName, tables: z.array(z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'expected schema.table')).min(1) })
        .strict()
        .optional(),
    })
    .strict()
    .superRefine((p, ctx) => {
      const steps = [{ step: p.flip, path: ['flip'] as (string | number)[] }, ...p.smoke.map((step, i) => ({ step, path: ['smoke', i] }))];
      for (const { step, path } of steps) {
        const parsed = parseStep(step);
        if (parsed.success) continue;
        for (const issue of parsed.error.issues) {
          ctx.addIssue({ code: 'custom', message: issue.message, path: [...path, 'params', ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))] });
        }
      }
    })
    .transform((p): SwitchParams => ({ flip: toStep(p.flip), smoke: p.smoke.map(toStep), ...(p.track_deletes ? { track_deletes: p.track_deletes } : {}) }));

  // Only reached after superRefine accepted every step, so parse cannot throw here.
  function toStep(step: { action: 'shell' | 'http' | 'sql'; params: unknown }): SwitchStep {
    switch (step.action) {
      case 'shell':
        return { action: 'shell', params: inner.shell.parse(step.params) };
      case 'http':
        return { action: 'http', params: inner.http.parse(step.params) };
      case 'sql':
        return { action: 'sql', params: inner.sql.parse(step.params) };
    }
  }
}

/** Connections a switch touches (its sql flip and sql smoke checks), for load-time checks. */
export const switchConnections = (p: SwitchParams): string[] => [
  ...[p.flip, ...p.smoke].flatMap((s) => (s.action === 'sql' ? [s.params.connection] : [])),
  ...(p.track_deletes ? [p.track_deletes.connection] : []),
];

/** The go-live switch: its flip and smoke checks are validated with the schemas of their actions, with their paths. */
export const switchParams = switchParamsSchema({ shell: shellParams, http: httpParams, sql: sqlParams });

export const switchSpec = defineAction({
  id: 'switch',
  summary: 'flip the application to PostgreSQL (shell, http or sql), record the go-live time, run the smoke checks',
  params: switchParams,
  // A transactional sql flip commits with its ledger row: the action skips a committed flip. Any other flip only a done_when probe can judge.
  recovery: (p: SwitchParams): CrashRecovery =>
    p.flip.action === 'sql' && p.flip.params.transaction
      ? { kind: 'resumes', why: 'the flip commits with its row in the effect ledger; a re-run skips a committed flip and runs the smoke checks again' }
      : { kind: 'ask', why: `the ${p.flip.action} flip may have happened before the worker stopped` },
  connections: (p: SwitchParams) => switchConnections(p),
});
