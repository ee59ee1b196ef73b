import type { ConvertContext, PlannedTable } from './columns.js';
import { exprColumns } from './columns.js';
import { translateExpression } from './expression.js';
import type { ForeignKeyModel, IndexModel, KeyModel } from './model.js';
import { quoteIdent, type NameAllocator } from './naming.js';

/**
 * What is built after the load: keys and indexes (parallel, on separate
 * connections), checks, then foreign keys added NOT VALID and validated
 * separately, so adding them takes no long lock and a violation is reported
 * on its own statement.
 */
export interface PostLoadStatements {
  primaryKeys: string[];
  uniques: string[];
  indexes: string[];
  checks: string[];
  /** ADD CONSTRAINT … NOT VALID. */
  foreignKeys: string[];
  /** VALIDATE CONSTRAINT for every foreign key the source trusted. */
  validations: string[];
}

export function postLoadStatements(
  ctx: ConvertContext,
  plans: Map<string, PlannedTable>,
  names: NameAllocator,
): PostLoadStatements {
  const out: PostLoadStatements = { primaryKeys: [], uniques: [], indexes: [], checks: [], foreignKeys: [], validations: [] };
  for (const plan of plans.values()) {
    const name = (source: string, kind: string): string => allocate(ctx, plan, names, source, kind);
    const pk = plan.model.primaryKey;
    if (pk) keyStatement(ctx, plan, pk, 'primary key', name, out.primaryKeys);
    for (const uq of plan.model.uniques) keyStatement(ctx, plan, uq, 'unique', name, out.uniques);
    for (const ix of plan.model.indexes) if (!backsAKey(plan, ix)) indexStatement(ctx, plan, ix, name, out.indexes);
    for (const ck of plan.model.checks) {
      const t = translateExpression(ck.definition, exprColumns(plan), 'predicate');
      const object = `${plan.key}.${ck.name}`;
      if (!t.ok) {
        ctx.report.notConverted.push({ object, kind: 'check', reason: `${ck.definition}: ${t.reason}` });
        continue;
      }
      if (t.comparesCaseInsensitiveText) ctx.report.risks.push({ table: plan.key, message: caseRisk('check', ck.name) });
      out.checks.push(`ALTER TABLE ${plan.qualified} ADD CONSTRAINT ${quoteIdent(name(ck.name, 'check'))} CHECK (${t.sql})`);
    }
    for (const fk of plan.model.foreignKeys) foreignKey(ctx, plans, plan, fk, name, out);
  }
  return out;
}

const caseRisk = (kind: string, name: string): string =>
  `${kind} ${name} compares text, case-insensitively in SQL Server but case-sensitively in PostgreSQL: rows valid at the source may fail it`;

/** Quoted target columns, or the first source column that does not exist in the target. */
function targetColumns(plan: PlannedTable, names: string[]): { ok: true; cols: string[] } | { ok: false; missing: string } {
  const cols: string[] = [];
  for (const n of names) {
    const c = plan.byName.get(n.toLowerCase());
    if (!c) return { ok: false, missing: n };
    cols.push(quoteIdent(c.target));
  }
  return { ok: true, cols };
}

function allocate(ctx: ConvertContext, plan: PlannedTable, names: NameAllocator, source: string, kind: string): string {
  const wanted = ctx.namer.object(source);
  const got = names.allocate(wanted, plan.target);
  if (got !== wanted) {
    ctx.report.warnings.push({ table: plan.key, message: `${kind} ${source} is named ${got} (name taken in the schema or too long)` });
  }
  return got;
}

function keyStatement(
  ctx: ConvertContext,
  plan: PlannedTable,
  key: KeyModel,
  kind: 'primary key' | 'unique',
  name: (source: string, kind: string) => string,
  out: string[],
): void {
  const cols = targetColumns(plan, key.columns);
  if (!cols.ok) {
    const reason = `column ${cols.missing} is not in the target`;
    ctx.report.notConverted.push({ object: `${plan.key}.${key.name}`, kind, reason });
    return;
  }
  const clause = kind === 'primary key' ? 'PRIMARY KEY' : `UNIQUE${nullsNotDistinct(plan, key.columns)}`;
  out.push(`ALTER TABLE ${plan.qualified} ADD CONSTRAINT ${quoteIdent(name(key.name, kind))} ${clause} (${cols.cols.join(', ')})`);
}

/** SQL Server lets a unique key hold one NULL; PostgreSQL (15+) does the same only with NULLS NOT DISTINCT. */
function nullsNotDistinct(plan: PlannedTable, columns: string[]): string {
  const nullable = columns.some((c) => plan.byName.get(c.toLowerCase())?.source.nullable);
  return nullable ? ' NULLS NOT DISTINCT' : '';
}

/** The catalog may list the indexes behind PRIMARY KEY and UNIQUE constraints; those are built by the constraint. */
function backsAKey(plan: PlannedTable, ix: IndexModel): boolean {
  const keys = [plan.model.primaryKey, ...plan.model.uniques].filter((k): k is KeyModel => k !== null);
  const same = (k: KeyModel): boolean =>
    k.name.toLowerCase() === ix.name.toLowerCase() ||
    (ix.unique && ix.where === null && ix.include.length === 0 &&
      k.columns.map((c) => c.toLowerCase()).join() === ix.columns.map((c) => c.name.toLowerCase()).join());
  return keys.some(same);
}

function indexStatement(
  ctx: ConvertContext,
  plan: PlannedTable,
  ix: IndexModel,
  name: (source: string, kind: string) => string,
  out: string[],
): void {
  const object = `${plan.key}.${ix.name}`;
  const keyCols = targetColumns(plan, ix.columns.map((c) => c.name));
  const include = targetColumns(plan, ix.include);
  if (!keyCols.ok || !include.ok) {
    const missing = keyCols.ok ? (include.ok ? '' : include.missing) : keyCols.missing;
    ctx.report.notConverted.push({ object, kind: 'index', reason: `column ${missing} is not in the target; index skipped` });
    return;
  }
  let where = '';
  if (ix.where !== null) {
    const t = translateExpression(ix.where, exprColumns(plan), 'predicate');
    if (!t.ok) {
      // Without its filter the index would be a different one (and a unique one could fail): skip it.
      ctx.report.notConverted.push({ object, kind: 'index', reason: `filter ${ix.where}: ${t.reason}; index skipped` });
      return;
    }
    if (t.comparesCaseInsensitiveText) ctx.report.risks.push({ table: plan.key, message: caseRisk('filtered index', ix.name) });
    where = ` WHERE ${t.sql}`;
  }
  const cols = ix.columns.map((c, i) => `${keyCols.cols[i]}${c.descending ? ' DESC' : ''}`).join(', ');
  const inc = include.cols.length > 0 ? ` INCLUDE (${include.cols.join(', ')})` : '';
  const nulls = ix.unique && ix.where === null ? nullsNotDistinct(plan, ix.columns.map((c) => c.name)) : '';
  const unique = ix.unique ? 'UNIQUE ' : '';
  out.push(`CREATE ${unique}INDEX ${quoteIdent(name(ix.name, 'index'))} ON ${plan.qualified} (${cols})${inc}${nulls}${where}`);
}

const ACTIONS = ['CASCADE', 'SET NULL', 'SET DEFAULT'];

function foreignKey(
  ctx: ConvertContext,
  plans: Map<string, PlannedTable>,
  plan: PlannedTable,
  fk: ForeignKeyModel,
  name: (source: string, kind: string) => string,
  out: PostLoadStatements,
): void {
  const object = `${plan.key}.${fk.name}`;
  const refKey = `${fk.refSchema}.${fk.refTable}`;
  const ref = plans.get(refKey.toLowerCase());
  const cols = targetColumns(plan, fk.columns);
  const refCols = ref ? targetColumns(ref, fk.refColumns) : null;
  if (!ref || !refCols?.ok || !cols.ok) {
    const reason = !ref ? `references ${refKey}, which is not converted` : 'a key column is not in the target';
    ctx.report.notConverted.push({ object, kind: 'foreign key', reason });
    return;
  }
  const target = quoteIdent(name(fk.name, 'foreign key'));
  const actions = [
    ACTIONS.includes(fk.onDelete) ? ` ON DELETE ${fk.onDelete}` : '',
    ACTIONS.includes(fk.onUpdate) ? ` ON UPDATE ${fk.onUpdate}` : '',
  ].join('');
  out.foreignKeys.push(
    `ALTER TABLE ${plan.qualified} ADD CONSTRAINT ${target} FOREIGN KEY (${cols.cols.join(', ')}) REFERENCES ${ref.qualified} (${refCols.cols.join(', ')})${actions} NOT VALID`,
  );
  if (fk.trusted) out.validations.push(`ALTER TABLE ${plan.qualified} VALIDATE CONSTRAINT ${target}`);
  else {
    const message = `foreign key ${fk.name} is not trusted in SQL Server (WITH NOCHECK or disabled): added NOT VALID and not validated; clean the data, then VALIDATE it`;
    ctx.report.risks.push({ table: plan.key, message });
  }
}
