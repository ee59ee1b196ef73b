import type { PlannedTable } from './inventory.js';

export const rowsText = (tables: readonly PlannedTable[]): string => `${tables.reduce((n, t) => n + t.rows, 0).toLocaleString('en-US')} rows`;

/** 616.3 KB, 12.0 GB: the tables' bytes for people, marked when estimated from column types. */
export function bytesText(tables: readonly PlannedTable[]): string {
  const bytes = tables.reduce((n, t) => n + t.bytes, 0);
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}${tables.some((t) => t.bytesEstimated) ? ' (estimated)' : ''}`;
}
