import { z } from 'zod';
import { connectionName } from './common-params.js';
import { readOnlyValidation } from './spec.js';

/** "5%" (of the rule's `of` count) or an absolute number of violating rows. */
const threshold = z.union([
  z.string().regex(/^\d+(\.\d+)?\s*%$/, 'expected a percentage like "5%"'),
  z.number().int().nonnegative(),
]);

export const ruleSchema = z
  .object({
    name: z.string().min(1),
    /** Returns the violating rows. */
    sql: z.string().min(1),
    severity: z.enum(['ERROR', 'WARNING']),
    /** WARNING rules: at or above it the rule is red, below it (but above zero) amber. Default 5%. */
    threshold: threshold.optional(),
    /** Denominator of a percentage threshold, e.g. SELECT count(*) FROM applications. */
    of: z.string().min(1).optional(),
  })
  .strict()
  .refine((r) => r.severity === 'ERROR' || typeof r.threshold === 'number' || r.of !== undefined, {
    message: 'a WARNING rule with a percentage threshold (5% by default) needs "of": the query counting all records',
  });

export const validateRulesParams = z
  .object({
    target: connectionName.optional(),
    source: connectionName.optional(),
    rules: z.array(ruleSchema).min(1),
    /** Columns shown as *** in the examples (e-mail, phone, …). */
    personal: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((p) => (p.source === undefined) !== (p.target === undefined), { message: 'expected exactly one of "target" or "source"' });
export type ValidateRulesParams = z.infer<typeof validateRulesParams>;
export type ValidationRule = z.infer<typeof ruleSchema>;

export const validateRulesSpec = readOnlyValidation({
  id: 'validate.rules',
  summary: 'data-quality rules (ERROR / WARNING with thresholds) with counts and masked examples',
  params: validateRulesParams,
  connections: (p: ValidateRulesParams) => [...(p.target ? [p.target] : []), ...(p.source ? [p.source] : [])],
});
