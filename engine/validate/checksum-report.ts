import { truncate } from '../action.js';
import { SECRET_NAME } from '../secrets.js';
import type { TableMapping } from '../etl/contracts.js';
import { hashedColumns } from './canonical.js';
import type { TableDiff } from './checksum-diff.js';
import { keyColumns, keyId, type CanonicalRowText } from './checksum-source.js';
import type { ValidationItem, ValidationResult } from './contracts.js';
import { worstVerdict as worst } from '../../runbook/validation-result.js';

/** Both sides' rows of the first differing keys of a table, by keyId, for the side-by-side view. */
export interface SideBySide {
  source: Map<string, CanonicalRowText>;
  target: Map<string, CanonicalRowText>;
}

/** Values that look like credentials whatever their column is called (Slack/GitHub/AWS tokens, JWTs, PEM keys). */
const SECRET_VALUE = /^(xox[abposr]-|gh[pousr]_|AKIA[0-9A-Z]{16}|eyJ[\w-]{8,}\.|-----BEGIN )/;

/** Personal columns by "schema.table.column" or "table.column" (source names, case-insensitive). */
export function maskerFor(personal: readonly string[]): (table: TableMapping, column: string) => boolean {
  const set = new Set(personal.map((p) => p.toLowerCase()));
  return (t, column) => {
    const c = column.toLowerCase();
    const name = t.source.name.toLowerCase();
    return set.has(`${t.source.schema.toLowerCase()}.${name}.${c}`) || set.has(`${name}.${c}`) || SECRET_NAME.test(column);
  };
}

const tableName = (t: TableMapping): string => `${t.target.schema}.${t.target.name}`;
const keyText = (t: TableMapping, key: readonly string[]): string => keyColumns(t).map((c, i) => `${c.target}=${key[i] ?? ''}`).join(', ');

function item(d: TableDiff): ValidationItem {
  const count = (k: string) => d.differences.filter((x) => x.kind === k).length;
  const [missing, extra, changed] = [count('missing'), count('extra'), count('changed')];
  const red = !d.equal || d.differences.length > 0;
  const rows = `source ${d.sourceRows.toLocaleString('en-US')}, target ${d.targetRows.toLocaleString('en-US')} rows`;
  let message = `${rows}: row hashes match`;
  if (!d.table.key) message = `${rows}, no key: compared as a whole, ${d.equal ? 'hashes match' : 'hashes differ (no key to find the rows by)'}`;
  else if (red) message = `${rows}: ${missing} missing, ${extra} extra, ${changed} changed${d.incomplete ? ' (stopped at max_keys: there are more)' : ''}`;
  return {
    subject: tableName(d.table),
    verdict: red ? 'red' : 'green',
    message,
    figures: {
      sourceRows: d.sourceRows,
      targetRows: d.targetRows,
      missing,
      extra,
      changed,
      incomplete: d.incomplete,
      queries: d.queries,
      keys: d.differences.slice(0, 50).map((x) => ({ kind: x.kind, key: Object.fromEntries(keyColumns(d.table).map((c, i) => [c.target, x.key[i] ?? null])) })),
      floatColumnsNotHashed: d.table.columns.filter((c) => c.kind === 'float').map((c) => c.target),
    },
  };
}

export function checksumResult(diffs: readonly TableDiff[], at: number, seconds: number): ValidationResult {
  const items = diffs.map(item);
  return { check: 'checksums', verdict: worst(items.map((i) => i.verdict)), items, at, seconds };
}

const cell = (v: string | null | undefined, masked: boolean): string => {
  if (v === undefined) return '(no row)';
  if (v === null) return 'NULL';
  if (masked || SECRET_VALUE.test(v)) return '••••';
  return truncate(JSON.stringify(v).slice(1, -1), 40);
};

/** The rows of one differing key side by side; masked columns say only whether they differ. */
export function sideBySideText(t: TableMapping, key: readonly string[], rows: SideBySide, masked: (t: TableMapping, c: string) => boolean): string {
  const id = keyId(key);
  const s = rows.source.get(id);
  const g = rows.target.get(id);
  const lines = hashedColumns(t).map((c) => {
    const a = s?.[c.source];
    const b = g?.[c.source];
    const hide = masked(t, c.source);
    const mark = s && g && a !== b ? '≠' : ' ';
    return [`${mark} ${c.target}`, cell(s ? a : undefined, hide), cell(g ? b : undefined, hide)];
  });
  const rowsOut = [['  column', 'source', 'target'], ...lines];
  const w = [0, 1].map((i) => Math.max(...rowsOut.map((r) => (r[i] ?? '').length)));
  return rowsOut.map((r) => `${(r[0] ?? '').padEnd(w[0] ?? 0)} | ${(r[1] ?? '').padEnd(w[1] ?? 0)} | ${r[2] ?? ''}`).join('\n');
}

/** Slack mrkdwn: a line per table, then the first differing keys with both rows side by side. */
export function checksumReportText(result: ValidationResult, diffs: readonly TableDiff[], rows: Map<TableMapping, SideBySide>, masked: (t: TableMapping, c: string) => boolean, shown = 5): string {
  const icon = { green: ':large_green_circle:', amber: ':large_orange_circle:', red: ':red_circle:' } as const;
  const out = [`*Row checksums* (${result.items.length} tables, ${result.seconds.toFixed(1)} s): *${result.verdict}*`];
  for (const [i, d] of diffs.entries()) {
    const it = result.items[i];
    if (!it) continue;
    out.push(`${icon[it.verdict]} \`${it.subject}\` ${it.message}`);
    const side = rows.get(d.table);
    for (const x of d.differences.slice(0, shown)) {
      out.push(`• ${x.kind} ${keyText(d.table, x.key)}`);
      if (side) out.push('```\n' + sideBySideText(d.table, x.key, side, masked) + '\n```');
    }
    if (d.differences.length > shown) out.push(`• … and ${d.differences.length - shown} more (keys in the figures)`);
  }
  return out.join('\n');
}
