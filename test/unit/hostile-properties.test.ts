import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { decodeButtonValue } from '../../bot/button-value.js';
import { parseMigrateText } from '../../bot/command-text.js';
import { decodeConfirmValue } from '../../bot/destructive/confirm-value.js';
import { decodeAckValue } from '../../bot/escalation/ack-value.js';
import { decodeFollowUpValue } from '../../bot/follow-ups/follow-up-value.js';
import type { ColumnMapping, SourceValue, ValueKind } from '../../engine/etl/contracts.js';
import { encodeValue, parseCopyLine } from '../../engine/etl/encoder.js';
import { loadRunbook } from '../../runbook/load.js';

/**
 * Issue 14: whatever arrives — typed text, a button's value, a runbook file,
 * a value read from SQL Server — the answer is a result or a coded refusal,
 * never an exception. fast-check shrinks any counterexample to its smallest.
 */

const KINDS = ['home', 'start', 'status', 'pause', 'abort', 'resume', 'rollback', 'hold', 'reject', 'skip', 'refused', 'override', 'runbooks', 'backups', 'report', 'compare', 'contacts', 'schedule', 'unschedule', 'help'];
const SUBCOMMANDS = ['start', 'status', 'pause', 'abort', 'resume', 'rollback', 'hold', 'reject', 'skip', 'override', 'runbooks', 'backups', 'report', 'compare', 'contacts', 'schedule', 'unschedule', 'help', '--dry-run', 'cancel'];

/** Words a person (or an attacker) might type: real subcommands, slugs, long runs, any Unicode. */
const word = fc.oneof(fc.constantFrom(...SUBCOMMANDS), fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,80}$/), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ minLength: 60, maxLength: 6000 }));
const commandText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(word, { maxLength: 8 }).map((ws) => ws.join(' ')));

describe('the command parser', () => {
  it('answers any text with a command, help or a refusal, never an exception', () => {
    fc.assert(
      fc.property(commandText, (text) => {
        const parsed = parseMigrateText(text);
        expect(KINDS).toContain(parsed.kind);
        if (parsed.kind === 'help') expect(parsed.problem === null || typeof parsed.problem === 'string').toBe(true);
        if (parsed.kind === 'refused') expect(parsed.problem.length).toBeLessThan(1000);
        if (parsed.kind === 'start') expect(parsed.runbook.length).toBeLessThanOrEqual(64);
      }),
      { numRuns: 1000 },
    );
  });
});

const decoders = { decodeButtonValue, decodeConfirmValue, decodeAckValue, decodeFollowUpValue };
/** Values shaped like the real ones (so the schemas are exercised past JSON.parse), and anything at all. */
const buttonValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.json(),
  fc
    .record({ r: fc.anything(), s: fc.anything(), a: fc.anything(), k: fc.anything(), m: fc.anything(), u: fc.anything(), t: fc.anything(), l: fc.anything(), q: fc.anything(), f: fc.anything(), n: fc.anything() }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v) ?? ''),
  fc.string({ minLength: 1900, maxLength: 2200 }),
);

describe('the button-value decoders', () => {
  it.each(Object.entries(decoders))('%s gives a value or null for any string, never an exception', (_, decode) => {
    fc.assert(
      fc.property(fc.option(buttonValue, { nil: undefined }), (raw) => {
        const value = decode(raw);
        expect(value === null || (typeof value === 'object' && typeof value.runId === 'string')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

/** YAML from arbitrary trees shaped like runbooks (right keys, any values), and arbitrary text. */
const step = fc.record({ id: fc.anything(), title: fc.anything(), approve: fc.constantFrom('dba', 'x', 7), action: fc.constantFrom('manual', 'sql', 'load', 'validate.counts', 'nope'), params: fc.anything() }, { requiredKeys: [] });
const runbookTree = fc.record(
  {
    title: fc.anything(),
    roles: fc.oneof(fc.anything(), fc.constant({ dba: { title: 'DBA', members: ['U1'] } })),
    connections: fc.anything(),
    phases: fc.array(fc.record({ id: fc.anything(), title: fc.anything(), steps: fc.array(step, { maxLength: 4 }) }, { requiredKeys: [] }), { maxLength: 3 }),
    rollback: fc.dictionary(fc.string(), fc.record({ title: fc.anything(), approve: fc.anything(), steps: fc.array(step, { maxLength: 2 }) }, { requiredKeys: [] }), { maxKeys: 2 }),
    escalation: fc.anything(),
  },
  { requiredKeys: [] },
);
const runbookText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  runbookTree.map((tree) => {
    try {
      return stringify(tree);
    } catch {
      return String(tree);
    }
  }),
  fc.array(fc.constantFrom('a: &a [1]\n', 'b: *a\n', '- ', '  ', '{', '}', '[', ']', ': ', '${X}', '${X:-', '<<: *a\n', '\n', '"', "'", '#', '&x ', '*x', '!!binary ', '? '), { maxLength: 60 }).map((parts) => parts.join('')),
);

describe('the runbook loader', () => {
  it('gives a runbook or problems naming file and path for any text, never an exception', () => {
    fc.assert(
      fc.property(runbookText, fc.dictionary(fc.constantFrom('X', 'Y'), fc.string()), (text, env) => {
        const result = loadRunbook({ name: 'p', file: 'p.yaml', text, env });
        if (!result.ok) {
          expect(result.problems.length).toBeGreaterThan(0);
          for (const p of result.problems) expect(p).toEqual({ file: 'p.yaml', path: expect.any(String), message: expect.any(String) });
        }
      }),
      { numRuns: 300 },
    );
  });
});

const VALUE_KINDS: ValueKind[] = ['int', 'exact', 'float', 'bool', 'text', 'bytes', 'date', 'time', 'timestamp', 'timestamptz', 'uuid'];
const column = fc.record({
  kind: fc.constantFrom(...VALUE_KINDS),
  nullable: fc.boolean(),
  maxChars: fc.option(fc.integer({ min: 1, max: 50 }), { nil: null }),
});
const sourceValue: fc.Arbitrary<SourceValue> = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'not a date' : d.toISOString())),
  fc.constantFrom('NaN', 'Infinity', '-0', '1e400', '99999999999999999999999999999999999999999', '2024-02-30', '24:00:00', '00000000-0000-0000-0000-00000000000g', '\\N', '\u0000'),
);

describe('the COPY encoder', () => {
  it('encodes any value of any column to one COPY field or a reason, never an exception', () => {
    fc.assert(
      fc.property(column, sourceValue, (c, value) => {
        const mapping: ColumnMapping = { source: 'v', target: 'v', sourceType: c.kind, targetType: c.kind, kind: c.kind, nullable: c.nullable, maxChars: c.maxChars };
        const result = encodeValue(value, mapping);
        if (result.ok) {
          // One field: nothing in it can end the row or start another column, so a row is never split or shifted.
          expect(result.text).not.toMatch(/[\t\n\r]/);
          expect(parseCopyLine(result.text)).toHaveLength(1);
        } else {
          expect(typeof result.reason).toBe('string');
        }
      }),
      { numRuns: 3000 },
    );
  });
});
