import type { SourceValue } from './contracts.js';

/**
 * PostgreSQL COPY text format, field level: tab-separated, \N for NULL, and
 * backslash escapes. Only backslash, tab, newline and carriage return must
 * be escaped (PostgreSQL docs, COPY "Text Format"); everything else is sent
 * as is, so a raw '\n' only ever ends a row.
 */
export const NULL_FIELD = '\\N';

const UNESCAPE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Splits one COPY text line (without or with its '\n') into fields; \N alone is NULL. Inverse of the encoder. */
export function parseCopyLine(line: string): Array<string | null> {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  return text.split('\t').map((field) => (field === NULL_FIELD ? null : unescapeField(field)));
}

/** Decodes every escape PostgreSQL reads in COPY text: \b \f \n \r \t \v, octal \ooo, hex \xhh, else the char itself. */
function unescapeField(field: string): string {
  if (!field.includes('\\')) return field;
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i] as string;
    if (c !== '\\' || i === field.length - 1) {
      out += c;
      continue;
    }
    const next = field[++i] as string;
    const oct = /^[0-7]{1,3}/.exec(field.slice(i, i + 3));
    const hex = next === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(field.slice(i + 1, i + 3)) : null;
    if (oct) {
      out += String.fromCharCode(parseInt(oct[0], 8));
      i += oct[0].length - 1;
    } else if (hex) {
      out += String.fromCharCode(parseInt(hex[0], 16));
      i += hex[0].length;
    } else out += UNESCAPE[next] ?? next;
  }
  return out;
}

const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Printable, storable text for a value: NUL as \0, lone surrogates as \uXXXX, bytes as \x hex; truncated to `max` chars. */
export function sampleOf(value: SourceValue, max = 120): string {
  if (value === null) return 'NULL';
  const raw = Buffer.isBuffer(value) ? `\\x${value.subarray(0, max).toString('hex')}` : String(value);
  const cut = raw.length > max ? `${raw.slice(0, max)}…` : raw;
  return cut.replace(/\u0000/g, '\\0').replace(LONE_SURROGATES, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
