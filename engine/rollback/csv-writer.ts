/**
 * RFC 4180 CSV of exported rows (pure). NULL is an empty field and the empty
 * string a quoted empty field, so the two stay distinguishable; lines end CRLF.
 */

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '') return '""';
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export const csvLine = (values: readonly (string | null)[]): string => `${values.map(csvField).join(',')}\r\n`;
