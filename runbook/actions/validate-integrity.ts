import type { z } from 'zod';
import { connectionName, identifier, snapshotDir } from './common-params.js';
import { conversionOptionsSchema } from './conversion-params.js';
import { readOnlyValidation, readsSnapshot } from './spec.js';

export const validateIntegrityParams = conversionOptionsSchema
  .omit({ target_schema: true })
  .extend({
    target: connectionName,
    /** The target schema to check. */
    schema: identifier,
    /** With a source (or snapshot), mapped keys and NOT NULL columns the target could not enforce are checked too. */
    source: connectionName.optional(),
    snapshot: snapshotDir.optional(),
  })
  .strict()
  .refine((p) => p.source === undefined || p.snapshot === undefined, { message: 'expected at most one of "source" or "snapshot"' });
export type ValidateIntegrityParams = z.infer<typeof validateIntegrityParams>;

export const validateIntegritySpec = readOnlyValidation({
  id: 'validate.integrity',
  summary: 'orphaned foreign keys, duplicate keys, NOT NULL and CHECK violations in the target',
  params: validateIntegrityParams,
  connections: (p: ValidateIntegrityParams) => [p.target, ...(p.source ? [p.source] : [])],
  snapshot: readsSnapshot,
});
