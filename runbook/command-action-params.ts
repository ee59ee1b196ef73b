import { z } from 'zod';
import { durationSchema } from './duration.js';

/** Parameters of the actions that run a person's own command (SQL, a program, an HTTP call), which the switch and rollbacks also wrap. */

export const connectionName = z.string().min(1, 'expected the name of a connection declared under connections');

export const sqlParams = z
  .object({
    connection: connectionName,
    sql: z.string().min(1).optional(),
    file: z
      .string()
      .regex(/^[\w./-]+\.sql$/, 'expected a .sql file name relative to sql/')
      .refine((f) => !f.split('/').includes('..'), 'expected a path inside sql/, without ".."')
      .optional(),
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

export const shellParams = z
  .object({
    argv: z.array(z.string()).min(1, 'expected an argv array with at least the program'),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    ok_exit_codes: z.array(z.number().int()).default([0]),
    /** Mark true only when running the command twice is harmless. */
    idempotent: z.boolean().default(false),
  })
  .strict();
export type ShellParams = z.infer<typeof shellParams>;

export const httpParams = z
  .object({
    url: z.string().url('expected an absolute http(s) URL'),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().optional(),
    expect_status: z.union([z.number().int(), z.array(z.number().int()).min(1)]).default(200),
    expect_body_contains: z.string().optional(),
    request_timeout: durationSchema.optional(),
  })
  .strict();
export type HttpParams = z.infer<typeof httpParams>;
