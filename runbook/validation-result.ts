import { z } from 'zod';

/**
 * The core's reading of engine/validate/contracts.ts: every validate.* step
 * leaves `details.validation` in its result. The core may not import the
 * engine, and details come back from stored events, so the shape is checked
 * here with zod rather than trusted.
 */
export const verdictSchema = z.enum(['green', 'amber', 'red']);
export type Verdict = z.infer<typeof verdictSchema>;

export const validationItemSchema = z.object({
  subject: z.string(),
  verdict: verdictSchema,
  message: z.string(),
  figures: z.record(z.string(), z.unknown()).optional(),
});
export type ValidationItem = z.infer<typeof validationItemSchema>;

export const validationResultSchema = z.object({
  check: z.enum(['counts', 'aggregates', 'checksums', 'integrity', 'rules', 'totals', 'queries']),
  verdict: verdictSchema,
  items: z.array(validationItemSchema),
  at: z.number(),
  seconds: z.number(),
});
export type ValidationResult = z.infer<typeof validationResultSchema>;
export type ValidationCheck = ValidationResult['check'];

export const VERDICT_ICON: Record<Verdict, string> = { green: '🟢', amber: '🟠', red: '🔴' };

/** Steps whose action id starts with `validate.` are validations; nothing else counts as evidence. */
export const isValidationAction = (action: string): boolean => action.startsWith('validate.');

/** red beats amber beats green; nothing at all is green (callers decide what "nothing" means). */
export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let out: Verdict = 'green';
  for (const v of verdicts) {
    if (v === 'red') return 'red';
    if (v === 'amber') out = 'amber';
  }
  return out;
}

/** The validation in a step's details, or null when there is none or it is malformed. */
export function readValidation(details: Record<string, unknown> | undefined): ValidationResult | null {
  const parsed = validationResultSchema.safeParse(details?.['validation']);
  return parsed.success ? parsed.data : null;
}

/** "counts: antrag source 12000 ≠ target 11999": the check, the subject unless the message already names it, the message. */
export function describeItem(check: string, item: ValidationItem): string {
  const text = item.message.startsWith(item.subject) ? item.message : `${item.subject} ${item.message}`;
  return `${check}: ${text}`;
}

/** One validation result a gate decision rested on: which step, which attempt, what it said. */
export interface EvidenceResult {
  stepId: string;
  attempt: number;
  /** null when the step left no readable validation (skipped, or failed before checking). */
  check: ValidationCheck | null;
  verdict: Verdict;
}

/** What a gated step's approval or override was based on; recorded in the event so the audit trail stands alone. */
export interface GateEvidence {
  verdict: Verdict;
  results: EvidenceResult[];
  /** The failing checks in words, e.g. "counts: antrag source 12000 ≠ target 11999" (at most a handful). */
  failing: string[];
}
