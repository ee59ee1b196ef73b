import { z } from 'zod';
import { connectionName } from './common-params.js';
import { conversionOptionsSchema } from './conversion-params.js';
import { readOnlyValidation } from './spec.js';

export const validateAggregatesParams = conversionOptionsSchema
  .extend({
    source: connectionName,
    target: connectionName,
    /** Only these columns (by source name) of these source tables ("dbo.Antrag" or "Antrag"). */
    columns: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)).optional(),
    /** "Not comparable" columns (GUIDs, collations that order differently) make the verdict amber. */
    strict: z.boolean().default(false),
  })
  .strict();
export type ValidateAggregatesParams = z.infer<typeof validateAggregatesParams>;

export const validateAggregatesSpec = readOnlyValidation({
  id: 'validate.aggregates',
  summary: 'per column non-null count, min, max and sum computed in both databases and compared',
  params: validateAggregatesParams,
  connections: (p: ValidateAggregatesParams) => [p.source, p.target],
});
