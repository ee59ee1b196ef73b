import { z } from 'zod';
import { connectionName, sqlFile } from './common-params.js';
import { defineAction, type CrashRecovery } from './spec.js';

export const sqlParams = z
  .object({
    connection: connectionName,
    sql: z.string().min(1).optional(),
    file: sqlFile.optional(),
    /** Run every statement in one transaction (PostgreSQL) so a crash leaves nothing half done. */
    transaction: z.boolean().default(true),
    expect: z
      .object({ rows: z.number().int().nonnegative().optional(), min_rows: z.number().int().nonnegative().optional() })
      .strict()
      .optional(),
  })
  .strict()
  .refine((p) => (p.sql === undefined) !== (p.file === undefined), {
    message: 'expected exactly one of "sql" or "file"',
  });
export type SqlParams = z.infer<typeof sqlParams>;

export const sqlSpec = defineAction({
  id: 'sql',
  summary: 'run SQL statements or a file from sql/ against a named connection',
  params: sqlParams,
  recovery: (p: SqlParams): CrashRecovery =>
    p.transaction
      ? { kind: 'ledger', connection: p.connection }
      : { kind: 'ask', why: 'it runs without a transaction (transaction: false), so a re-run could apply part of it twice' },
  connections: (p: SqlParams) => [p.connection],
});
