import { columnKey, isCaseInsensitive, type ConvertContext } from './columns.js';
import type { TableModel } from './model.js';

/**
 * Keys on text that SQL Server enforces case-insensitively. Without an
 * option they are risks; with one, their columns (and the foreign-key columns
 * pointing at them, which must compare the same way) get the treatment.
 */
export function caseInsensitiveKeys(ctx: ConvertContext, tables: TableModel[]): Set<string> {
  const out = new Set<string>();
  const db = ctx.model.collation;
  if (db && /_CI(_|$)/i.test(db)) {
    const message = `database collation ${db} is case-insensitive: text comparisons in application queries become case-sensitive in PostgreSQL`;
    ctx.report.risks.push({ table: '(database)', message });
  }
  for (const t of tables) {
    const keys = [
      ...(t.primaryKey ? [{ kind: 'primary key', ...t.primaryKey }] : []),
      ...t.uniques.map((u) => ({ kind: 'unique key', ...u })),
      ...t.indexes.filter((i) => i.unique).map((i) => ({ kind: 'unique index', name: i.name, columns: i.columns.map((c) => c.name) })),
    ];
    for (const k of keys) {
      const ci = k.columns.filter((name) => {
        const col = t.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
        return col !== undefined && isCaseInsensitive(col, db);
      });
      if (ci.length === 0) continue;
      const table = `${t.schema}.${t.name}`;
      const what = `${k.kind} ${k.name} (${ci.join(', ')}) is unique only case-insensitively in SQL Server`;
      if (!ctx.caseInsensitive) {
        const message = `${what}: PostgreSQL would accept 'abc' next to 'ABC'; options: caseInsensitive 'citext', or 'icu' (a nondeterministic ICU collation)`;
        ctx.report.risks.push({ table, message });
        continue;
      }
      for (const c of ci) out.add(columnKey(t, c));
      const icuNote = ctx.caseInsensitive === 'icu' ? '; LIKE is not supported on it before PostgreSQL 18' : '';
      ctx.report.warnings.push({ table, message: `${what}: kept with ${ctx.caseInsensitive}${icuNote}` });
    }
  }
  return propagateThroughForeignKeys(tables, out);
}

function propagateThroughForeignKeys(tables: TableModel[], ci: Set<string>): Set<string> {
  for (let changed = ci.size > 0; changed; ) {
    changed = false;
    for (const t of tables) {
      for (const fk of t.foreignKeys) {
        fk.refColumns.forEach((rc, i) => {
          const child = fk.columns[i];
          if (child === undefined || !ci.has(columnKey({ schema: fk.refSchema, name: fk.refTable }, rc))) return;
          if (ci.has(columnKey(t, child))) return;
          ci.add(columnKey(t, child));
          changed = true;
        });
      }
    }
  }
  return ci;
}
