import { z } from 'zod';

/** Parameter pieces several actions share, so one name means one rule and one message everywhere. */

export const connectionName = z.string().min(1, 'expected the name of a connection declared under connections');
export const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'expected a plain identifier');
export const snapshotDir = z.string().min(1, 'expected the snapshot directory (an absolute path on the worker host)');
/** For actions that read either a live source or a snapshot. */
export const oneSource = { message: 'expected exactly one of "source" or "snapshot"' };
/** A file under sql/, never outside it. */
export const sqlFile = z
  .string()
  .regex(/^[\w./-]+\.sql$/, 'expected a .sql file name relative to sql/')
  .refine((f) => !f.split('/').includes('..'), 'expected a path inside sql/, without ".."');
