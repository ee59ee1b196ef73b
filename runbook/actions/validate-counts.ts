import { z } from 'zod';
import { connectionName, identifier, oneSource, snapshotDir } from './common-params.js';
import { conversionOptionsSchema } from './conversion-params.js';
import { readOnlyValidation, readsSnapshot } from './spec.js';

const loadStepId = z.string().min(1, 'expected the id of the etl.copy or load step');

export const validateCountsParams = conversionOptionsSchema
  .extend({
    source: connectionName.optional(),
    snapshot: snapshotDir.optional(),
    target: connectionName,
    /** The etl.copy / load step whose bookkeeping holds loaded + quarantined; without it source must equal target. */
    load_step: loadStepId.optional(),
    bookkeeping_schema: identifier.default('cutover_etl'),
  })
  .strict()
  .refine((p) => (p.source === undefined) !== (p.snapshot === undefined), oneSource);
export type ValidateCountsParams = z.infer<typeof validateCountsParams>;

export const validateCountsSpec = readOnlyValidation({
  id: 'validate.counts',
  summary: 'exact row counts per mapped table, source against target, the load\'s quarantine counted',
  params: validateCountsParams,
  connections: (p: ValidateCountsParams) => [p.target, ...(p.source ? [p.source] : [])],
  snapshot: readsSnapshot,
  // The step whose chunk bookkeeping holds loaded + quarantined: a load of a missing or later step would count nothing.
  stepRefs: (p: ValidateCountsParams) => (p.load_step === undefined ? [] : [{ field: 'load_step', stepId: p.load_step, actions: ['etl.copy', 'load'], earlier: true }]),
});
