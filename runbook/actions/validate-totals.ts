import { z } from 'zod';
import { connectionName } from './common-params.js';
import { readOnlyValidation } from './spec.js';

export const validateTotalsParams = z
  .object({
    source: connectionName,
    target: connectionName,
    totals: z.array(z.object({ name: z.string().min(1), source_sql: z.string().min(1), target_sql: z.string().min(1) }).strict()).min(1),
  })
  .strict();
export type ValidateTotalsParams = z.infer<typeof validateTotalsParams>;

export const validateTotalsSpec = readOnlyValidation({
  id: 'validate.totals',
  summary: 'named business totals, one query per side, compared exactly',
  params: validateTotalsParams,
  connections: (p: ValidateTotalsParams) => [p.source, p.target],
});
