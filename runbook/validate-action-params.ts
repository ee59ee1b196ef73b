import { z } from 'zod';
import { conversionOptionsSchema } from './etl-action-params.js';

/**
 * Parameters of the validate.* actions. Those that map tables take the ETL's
 * conversion options, so they compare exactly the tables and columns the
 * load moved (mappings are recomputed from the same catalog).
 */
const connectionName = z.string().min(1, 'expected the name of a connection declared under connections');
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'expected a plain identifier');
const stepId = z.string().min(1, 'expected the id of the etl.copy or load step');
const snapshotDir = z.string().min(1, 'expected the snapshot directory (an absolute path on the worker host)');
const oneSource = { message: 'expected exactly one of "source" or "snapshot"' };

export const validateCountsParams = conversionOptionsSchema
  .extend({
    source: connectionName.optional(),
    snapshot: snapshotDir.optional(),
    target: connectionName,
    /** The etl.copy / load step whose bookkeeping holds loaded + quarantined; without it source must equal target. */
    load_step: stepId.optional(),
    bookkeeping_schema: identifier.default('cutover_etl'),
  })
  .strict()
  .refine((p) => (p.source === undefined) !== (p.snapshot === undefined), oneSource);

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

export const validateTotalsParams = z
  .object({
    source: connectionName,
    target: connectionName,
    totals: z.array(z.object({ name: z.string().min(1), source_sql: z.string().min(1), target_sql: z.string().min(1) }).strict()).min(1),
  })
  .strict();

export type ValidateCountsParams = z.infer<typeof validateCountsParams>;
export type ValidateAggregatesParams = z.infer<typeof validateAggregatesParams>;
export type ValidateIntegrityParams = z.infer<typeof validateIntegrityParams>;
export type ValidateRulesParams = z.infer<typeof validateRulesParams>;
export type ValidationRule = z.infer<typeof ruleSchema>;
export type ValidateTotalsParams = z.infer<typeof validateTotalsParams>;
