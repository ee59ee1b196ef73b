import { z } from 'zod';
import { connectionName, sqlFile } from './common-params.js';
import { defineAction, type CrashRecovery } from './spec.js';

/**
 * Parameters of freeze.source and unfreeze.source (issue 8). The freeze is
 * what makes "a row written after extraction" impossible; its undo is derived
 * from the freeze step's own params, so the two can never disagree.
 */

/** A database, login or role name: spliced into DDL, always quoted by the engine; refused when it could not be a name. */
const objectName = z
  .string()
  .min(1)
  .max(128, 'expected a name of at most 128 characters')
  .refine((n) => !n.includes('\u0000'), 'a name cannot contain NUL');

export const freezeSourceParams = z
  .object({
    connection: connectionName,
    /** The database to freeze; default: the one the connection opens. */
    database: objectName.optional(),
    /**
     * The runbook's consent to change the source. Without it the step only
     * lists the connected sessions (and fails on any with expect_no_sessions).
     */
    set_read_only: z.boolean().default(false),
    /** A runbook-given alternative to ALTER DATABASE … READ_ONLY (e.g. disabling logins): statements, or a file under sql/. */
    statements: z.array(z.string().min(1)).min(1).optional(),
    file: sqlFile.optional(),
    /** What undoes `statements`/`file`, run by unfreeze.source. */
    unfreeze_statements: z.array(z.string().min(1)).min(1).optional(),
    unfreeze_file: sqlFile.optional(),
    /** Proof for the alternative: a query whose first value must be 1/true once frozen. */
    verify_sql: z.string().min(1).optional(),
    /** A write that must fail once frozen (run in a transaction that is rolled back); default: creating a probe table. */
    probe_sql: z.string().min(1).optional(),
    /** The application's login roles: PostgreSQL ALTER ROLE … NOLOGIN, SQL Server ALTER LOGIN … DISABLE; their sessions are ended. */
    app_roles: z.array(objectName).default([]),
    /** PostgreSQL: login roles allowed to keep write privileges after the freeze (monitoring, the DBAs); any other is refused. */
    trusted_roles: z.array(objectName).default([]),
    /** Fail when any session other than cutover's own is still connected (seed 002: "verify no active connections"). */
    expect_no_sessions: z.boolean().default(false),
  })
  .strict()
  .superRefine((p, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (p.statements && p.file) issue('file', 'expected at most one of "statements" or "file"');
    if (p.unfreeze_statements && p.unfreeze_file) issue('unfreeze_file', 'expected at most one of "unfreeze_statements" or "unfreeze_file"');
    const alternative = p.statements !== undefined || p.file !== undefined;
    if (!p.set_read_only) {
      for (const key of ['statements', 'file', 'app_roles'] as const) {
        const given = key === 'app_roles' ? p.app_roles.length > 0 : p[key] !== undefined;
        if (given) issue(key, `"${key}" changes the source; it runs only with set_read_only: true (the runbook's consent to freeze)`);
      }
    }
    if (alternative && p.unfreeze_statements === undefined && p.unfreeze_file === undefined) {
      issue('unfreeze_statements', 'a freeze by statements needs its undo: "unfreeze_statements" or "unfreeze_file", run by unfreeze.source in every rollback');
    }
    if (!alternative && (p.unfreeze_statements !== undefined || p.unfreeze_file !== undefined)) {
      issue('unfreeze_statements', '"unfreeze_statements"/"unfreeze_file" undo "statements"/"file", which are not given');
    }
    if (alternative && p.verify_sql === undefined && p.probe_sql === undefined) {
      issue('verify_sql', 'a freeze by statements must be proven: give "verify_sql" (must return 1 once frozen) and/or "probe_sql" (a write that must fail)');
    }
  });
export type FreezeSourceParams = z.infer<typeof freezeSourceParams>;

/** Whether the step changes the source (and so must be undone by every rollback scenario). */
export const freezeChangesSource = (p: FreezeSourceParams): boolean => p.set_read_only;

export const freezeSourceSpec = defineAction({
  id: 'freeze.source',
  summary: 'list the sessions on the source; with set_read_only: true freeze it (READ_ONLY, or the runbook\'s statements) and prove it with a write probe',
  params: freezeSourceParams,
  // Nothing "adopts" a freeze: a re-run applies it again. The built-in freeze sets the same settings again; the runbook's own statements may not bear that.
  recovery: (p: FreezeSourceParams): CrashRecovery =>
    p.statements !== undefined || p.file !== undefined
      ? { kind: 'ask', why: 'it runs the runbook\'s own freeze statements, which may not be safe to run twice (a done_when probe such as its verify_sql lets a re-run skip a freeze that happened)' }
      : { kind: 'rerun', why: p.set_read_only ? 'a re-run sets the same read-only settings and disabled logins again, ends the sessions opened since, and proves the freeze again' : 'it only lists the sessions' },
  connections: (p: FreezeSourceParams) => [p.connection],
  compensation: (p: FreezeSourceParams) => (freezeChangesSource(p) ? { action: 'unfreeze.source', field: 'freeze_step' } : null),
});
