import mssql from 'mssql';

/**
 * Values of a runbook-written query (validate.totals, validate.rules) as
 * text. Queries the engine writes itself select exact forms
 * (select-list.ts); a runbook's query returns whatever the driver makes of
 * its columns, and tedious makes decimal, numeric, money and smallmoney
 * JavaScript numbers. A double holds every decimal of up to 15 significant
 * digits, so such a value is exact while |v| < 10^(15 − scale); beyond that
 * its last digits may be gone and it must not be compared as exact. Pure.
 */

/** How the driver typed a column: an entry of mssql's recordset.columns. */
export interface DriverColumn {
  type?: unknown;
  scale?: number;
  precision?: number;
}

export interface DriverText {
  text: string | null;
  /** False when the driver may have rounded the value (a decimal or money beyond 15 significant digits). */
  exact: boolean;
}

const DECIMAL_TYPES = new Set<unknown>([mssql.Decimal, mssql.Numeric]);
const MONEY_TYPES = new Set<unknown>([mssql.Money, mssql.SmallMoney]);

/** The scale of a decimal-like column the driver reads as a number, or null for any other column. */
function numberScale(column: DriverColumn | undefined): number | null {
  if (!column) return null;
  if (MONEY_TYPES.has(column.type)) return 4;
  if (DECIMAL_TYPES.has(column.type)) return column.scale ?? 0;
  return null;
}

export function driverValueText(value: unknown, column?: DriverColumn): DriverText {
  if (value === null || value === undefined) return { text: null, exact: true };
  const scale = typeof value === 'number' ? numberScale(column) : null;
  if (typeof value === 'number' && scale !== null) {
    // toFixed, not String: String(1e-7) is "1e-7", which no numeric comparison reads as 0.0000001.
    if (Math.abs(value) < 10 ** (15 - scale)) return { text: value.toFixed(scale), exact: true };
    return { text: String(value), exact: false };
  }
  if (value instanceof Date) return { text: value.toISOString(), exact: true };
  if (Buffer.isBuffer(value)) return { text: value.toString('hex'), exact: true };
  if (typeof value === 'object') return { text: JSON.stringify(value), exact: true };
  return { text: String(value), exact: true };
}

/** The SQL Server type of a column as people write it, for messages: decimal(38,4), money. */
export function driverTypeName(column: DriverColumn | undefined): string {
  if (!column) return 'unknown type';
  if (column.type === mssql.Money) return 'money';
  if (column.type === mssql.SmallMoney) return 'smallmoney';
  const name = column.type === mssql.Numeric ? 'numeric' : column.type === mssql.Decimal ? 'decimal' : 'value';
  return column.precision !== undefined ? `${name}(${column.precision},${column.scale ?? 0})` : name;
}
