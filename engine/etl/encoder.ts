import { Transform, type TransformCallback } from 'node:stream';
import { CutoverError } from '../../runbook/errors.js';
import type { ColumnMapping, QuarantineRecord, SourceRow, SourceValue, TableMapping } from './contracts.js';
import { NULL_FIELD, sampleOf } from './copy-text.js';
import { RowBatch } from './row-batch.js';
import { encodeTemporal, temporalPrecision, type FieldResult } from './encode-temporal.js';

export { parseCopyLine, sampleOf } from './copy-text.js';

/**
 * SourceValue → one field of PostgreSQL COPY text. Refuses (never coerces)
 * what PostgreSQL would reject or silently change, so the row can be
 * quarantined with a reason instead of failing or corrupting a whole chunk.
 * Temporal rounding is documented in encode-temporal.ts.
 *
 * Each column gets a field encoder compiled once from its mapping (limits
 * parsed from targetType up front; strings, not result objects, on success),
 * because this runs for every value of every row.
 */
export type EncodeResult = { ok: true; text: string } | { ok: false; reason: string };
type FieldEncoder = (v: SourceValue) => FieldResult;

const NUL_IN_TEXT = { reason: 'NUL byte (0x00) in text: PostgreSQL cannot store it' };
const BAD_SURROGATE = { reason: 'invalid UTF-16 surrogate' };
const NOT_DECIMAL = { reason: 'not a decimal literal' };
const NOT_UUID = { reason: 'not a uuid' };
/** One scan for everything text needs a second look at: NUL, surrogates, and the four escaped characters. */
const TEXT_SPECIAL = /[\u0000\\\t\n\r\uD800-\uDFFF]/;

const typeName = (v: SourceValue): string => (Buffer.isBuffer(v) ? 'Buffer' : typeof v);
const wrongType = (expected: string, v: SourceValue): FieldResult => ({ reason: `expected ${expected} value, got ${typeName(v)}` });
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Width of an integer target type (overrides keep the user's spelling, so case and spaces vary), 0 for others. */
function intBits(targetType: string): number {
  const t = targetType.trim().toLowerCase();
  if (/^(smallint|int2)$/.test(t)) return 16;
  if (/^(integer|int|int4)$/.test(t)) return 32;
  return /^(bigint|int8)$/.test(t) ? 64 : 0;
}

function codePoints(s: string): number {
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) pairs++;
  }
  return s.length - pairs;
}

function textEncoder(column: ColumnMapping): FieldEncoder {
  const max = column.maxChars;
  return (v) => {
    if (typeof v !== 'string') return wrongType('a string', v);
    // Code points never exceed UTF-16 units, so only long strings need counting.
    if (max !== null && v.length > max && codePoints(v) > max) return { reason: `${codePoints(v)} characters, ${column.targetType} allows ${max}` };
    if (!TEXT_SPECIAL.test(v)) return v;
    return NUL_OR_SURROGATE.test(v) ? specialText(v) : escapeText(v);
  };
}

const NUL_OR_SURROGATE = /[\u0000\uD800-\uDFFF]/;

/**
 * Text with a character COPY escapes but no NUL or surrogate: replaceAll
 * per character present, a third cheaper than the character loop of
 * specialText on a note with a tab and a backslash.
 */
function escapeText(v: string): string {
  let s = v;
  if (s.includes('\\')) s = s.replaceAll('\\', '\\\\');
  if (s.includes('\t')) s = s.replaceAll('\t', '\\t');
  if (s.includes('\n')) s = s.replaceAll('\n', '\\n');
  if (s.includes('\r')) s = s.replaceAll('\r', '\\r');
  return s;
}

/**
 * Text that holds a NUL or a surrogate (and maybe characters COPY escapes),
 * in one pass: refused for a NUL or a lone surrogate, else escaped.
 */
function specialText(v: string): FieldResult {
  let out = '';
  let from = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c > 92) {
      if (c < 0xd800 || c > 0xdfff) continue;
      if (c > 0xdbff || i + 1 === v.length) return BAD_SURROGATE;
      const low = v.charCodeAt(++i);
      if (low < 0xdc00 || low > 0xdfff) return BAD_SURROGATE;
      continue;
    }
    const escaped = c === 92 ? '\\\\' : c === 9 ? '\\t' : c === 10 ? '\\n' : c === 13 ? '\\r' : c === 0 ? null : undefined;
    if (escaped === undefined) continue;
    if (escaped === null) return NUL_IN_TEXT;
    out += v.slice(from, i) + escaped;
    from = i + 1;
  }
  return from === 0 ? v : out + v.slice(from);
}

function intEncoder(column: ColumnMapping): FieldEncoder {
  const bits = intBits(column.targetType);
  const hi = bits && bits < 64 ? 2 ** (bits - 1) - 1 : Number.MAX_SAFE_INTEGER;
  const lo = -hi - 1;
  return (v) => {
    if (typeof v !== 'number') return wrongType('a number', v);
    if (!Number.isSafeInteger(v)) return { reason: `${v} is not an exact integer` };
    return v < lo || v > hi ? { reason: `${v} out of range for ${column.targetType}` } : String(v);
  };
}

/** Decimal literals kept digit for digit; checked against an integer type's range or numeric(p,s)'s room. */
function exactEncoder(column: ColumnMapping): FieldEncoder {
  const t = column.targetType;
  const bits = intBits(t);
  const range: [bigint, bigint] | null = bits ? [-(2n ** BigInt(bits - 1)), 2n ** BigInt(bits - 1) - 1n] : null;
  const ps = /^(?:numeric|decimal)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/i.exec(t.trim());
  const scale = ps ? Number(ps[2] ?? 0) : 0;
  const room = ps ? Number(ps[1]) - scale : Infinity;
  return (v) => {
    // A safe integer number is exact; any other number may already have lost digits.
    const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
    if (typeof s !== 'string') return wrongType('an exact decimal string', v);
    const n = s.length;
    let i = s.charCodeAt(0) === 43 || s.charCodeAt(0) === 45 ? 1 : 0;
    const intStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    const intEnd = i;
    let fracStart = i;
    if (i < n && s.charCodeAt(i) === 46) for (fracStart = ++i; i < n && isDigit(s.charCodeAt(i)); ) i++;
    if (i !== n || (intEnd === intStart && i === fracStart)) return NOT_DECIMAL;
    let sig = intStart;
    while (sig < intEnd && s.charCodeAt(sig) === 48) sig++;
    const fraction = fracStart < n ? s.slice(fracStart) : '';
    if (range) {
      // Plain bigint text of up to 18 digits is canonical and in range: skip the BigInt.
      if (bits === 64 && fracStart === n && sig === intStart && intEnd - sig <= 18 && s.charCodeAt(0) !== 43) return s;
      if (/[1-9]/.test(fraction)) return { reason: `fraction in a value for ${t}` };
      const big = BigInt(intEnd === intStart ? '0' : s.slice(0, intEnd));
      return big < range[0] || big > range[1] ? { reason: `${s} out of range for ${t}` } : String(big);
    }
    if (intEnd - sig > room) return { reason: `numeric field overflow: ${s} does not fit ${t}` };
    if (ps && /[1-9]/.test(fraction.slice(scale))) return { reason: `${s} would be rounded by ${t}` };
    return s;
  };
}

function floatText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  // String() is the shortest text that round-trips, but drops the sign of -0.
  return Object.is(v, -0) ? '-0' : String(v);
}

const UUID_LOWER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_ANY_CASE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function uuidText(v: SourceValue): FieldResult {
  if (typeof v !== 'string') return wrongType('a string', v);
  // PostgreSQL prints lower case, and the ETL's connections ask the driver for that (lowerCaseGuids in
  // engine/connections.ts), so one test passes nearly every GUID; SQL Server's own text form is upper case.
  if (UUID_LOWER.test(v)) return v;
  return UUID_ANY_CASE.test(v) ? v.toLowerCase() : NOT_UUID;
}

function kindEncoder(column: ColumnMapping): FieldEncoder {
  switch (column.kind) {
    case 'int':
      return intEncoder(column);
    case 'exact':
      return exactEncoder(column);
    case 'float':
      return (v) => (typeof v === 'number' ? floatText(v) : wrongType('a number', v));
    case 'bool':
      return (v) => (typeof v === 'boolean' ? (v ? 't' : 'f') : wrongType('a boolean', v));
    case 'text':
      return textEncoder(column);
    case 'bytes':
      // COPY reads "\\x…" as the bytea input "\x…" (hex format).
      return (v) => (Buffer.isBuffer(v) ? `\\\\x${v.toString('hex')}` : wrongType('a Buffer', v));
    case 'uuid':
      return uuidText;
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const kind = column.kind;
      const places = temporalPrecision(column.targetType);
      return (v) => (typeof v === 'string' ? encodeTemporal(kind, v, places) : wrongType('a string', v));
    }
  }
}

const compiled = new WeakMap<ColumnMapping, FieldEncoder>();

/** The column's compiled field encoder (cached per ColumnMapping object). */
export function fieldEncoder(column: ColumnMapping): FieldEncoder {
  const hit = compiled.get(column);
  if (hit) return hit;
  const encode = kindEncoder(column);
  const onNull: FieldResult = column.nullable ? NULL_FIELD : { reason: `NULL in NOT NULL column ${column.target}` };
  const fn: FieldEncoder = (v) => (v === null ? onNull : encode(v));
  compiled.set(column, fn);
  return fn;
}

/** One value as one COPY text field, or the reason PostgreSQL could not take it unchanged. */
export function encodeValue(value: SourceValue, column: ColumnMapping): EncodeResult {
  const r = fieldEncoder(column)(value);
  return typeof r === 'string' ? { ok: true, text: r } : { ok: false, reason: r.reason };
}

/**
 * Encoder options. The default batch (256 KB) is large because pg-copy-streams
 * slows down with many tiny writes (its #127), and because an encode thread
 * posts each batch to the loader's thread: at 64 KB those messages cost 12%
 * of the CPU of a threaded load (bench/etl-load.ts line (f), 2.55 → 2.25
 * CPU-seconds per million rows).
 */
export interface EncoderOptions {
  batchBytes?: number;
}

class CopyEncoder extends Transform {
  private readonly fields: FieldEncoder[];
  private readonly keyIdx: number[];
  /** The row being encoded, field by field: written out only once every field is accepted. */
  private readonly texts: string[];
  private buf: Buffer;
  private at = 0;

  constructor(
    private readonly mapping: TableMapping,
    private readonly quarantine: QuarantineRecord[],
    private readonly batchBytes: number,
  ) {
    super({ writableObjectMode: true, readableObjectMode: false });
    const names = mapping.columns.map((c) => c.source);
    this.fields = mapping.columns.map(fieldEncoder);
    this.texts = new Array<string>(this.fields.length).fill('');
    this.buf = Buffer.allocUnsafe(this.capacity());
    this.keyIdx = mapping.key ? mapping.key.columns.map((k) => names.indexOf(k)) : names.map((_, i) => i);
    const missing = mapping.key?.columns.filter((_, i) => this.keyIdx[i] === -1) ?? [];
    if (missing.length) throw new CutoverError('etl.mapping-invalid', `key column(s) ${missing.join(', ')} are not copied columns of ${mapping.source.schema}.${mapping.source.name}`);
  }

  override _transform(item: SourceRow | RowBatch, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!(item instanceof RowBatch)) {
      cb(this.encodeRow(item));
      return;
    }
    for (const row of item.rows) {
      const err = this.encodeRow(row);
      if (err) {
        cb(err);
        return;
      }
    }
    cb();
  }

  /** Writes the row into the batch, or quarantines it; only a misshapen row is an error. */
  private encodeRow(row: SourceRow): CutoverError | undefined {
    const fields = this.fields;
    const texts = this.texts;
    if (!Array.isArray(row) || row.length !== fields.length) {
      // A misshapen row is an adapter bug, not bad data: fail loudly rather than quarantine.
      return new CutoverError('etl.row-shape', `row has ${Array.isArray(row) ? row.length : 'no'} values, ${this.mapping.source.name} maps ${fields.length} columns`);
    }
    // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units), plus a separator per field.
    let worst = fields.length;
    for (let i = 0; i < fields.length; i++) {
      const r = (fields[i] as FieldEncoder)(row[i] ?? null);
      if (typeof r !== 'string') {
        this.refuse(row, i, r.reason);
        return undefined;
      }
      texts[i] = r;
      worst += r.length * 3;
    }
    if (this.at + worst > this.buf.length) {
      this.emitBatch();
      if (worst > this.buf.length) this.buf = Buffer.allocUnsafe(worst); // one huge row gets a buffer of its own
    }
    this.writeRow();
    if (this.at >= this.batchBytes) this.emitBatch();
    return undefined;
  }

  override _flush(cb: TransformCallback): void {
    this.emitBatch();
    cb();
  }

  /**
   * Each row is written into the batch Buffer as it is accepted: appending
   * rows to one batch string and converting that at the end took about 1.5×
   * as long (V8 flattens the rope of row strings first), measured with
   * driver-like flat strings; see bench/etl-load.ts, line "(e)". join and
   * one write are the cheapest of the ways tried (a template per field, a
   * write per field): 0.54 against 0.59–0.82 µs per Antrag row.
   */
  private writeRow(): void {
    this.at += this.buf.write(`${this.texts.join('\t')}\n`, this.at, 'utf8');
  }

  /** Pushes whole rows only, so every batch ends on a row boundary. */
  private emitBatch(): void {
    if (this.at === 0) return;
    this.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(this.capacity());
    this.at = 0;
  }

  private capacity(): number {
    return this.batchBytes * 2;
  }

  private refuse(row: SourceRow, at: number, reason: string): void {
    const key: Record<string, string | null> = {};
    for (const i of this.keyIdx) key[(this.mapping.columns[i] as ColumnMapping).source] = row[i] == null ? null : sampleOf(row[i] ?? null, 200);
    this.quarantine.push({ key, column: (this.mapping.columns[at] as ColumnMapping).source, reason, sample: sampleOf(row[at] ?? null) });
  }
}

/**
 * Object-mode SourceRows or RowBatches in, COPY text Buffers out (about batchBytes each).
 * Rows with a value PostgreSQL cannot take unchanged are appended to
 * `quarantine` and left out of the stream.
 */
export function createEncoder(mapping: TableMapping, quarantine: QuarantineRecord[], options: EncoderOptions = {}): Transform {
  return new CopyEncoder(mapping, quarantine, Math.max(1, options.batchBytes ?? 256 * 1024));
}
