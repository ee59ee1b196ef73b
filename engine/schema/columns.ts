import type { ValueKind } from '../etl/contracts.js';
import { translateDefault } from './defaults.js';
import { translateExpression, type ExprColumn } from './expression.js';
import type { ColumnModel, SchemaModel, TableModel } from './model.js';
import { quoteIdent, quoteQualified, type Namer } from './naming.js';
import type { ConversionReport } from './report.js';
import { mapColumnType, parseOverrideType, type TimezoneRule } from './type-map.js';

/** What every part of one conversion shares (internal to engine/schema). */
export interface ConvertContext {
  model: SchemaModel;
  schema: string;
  namer: Namer;
  timezone: TimezoneRule;
  postgis: boolean;
  caseInsensitive: 'citext' | 'icu' | null;
  /** Quoted, schema-qualified ICU collation when caseInsensitive is 'icu'. */
  icuCollation: string;
  /** Override types by lower-case `schema.table.column`. */
  overrides: Map<string, string>;
  /** Columns given case-insensitive semantics, as `columnKey()`. */
  ciColumns: Set<string>;
  report: ConversionReport;
}

export interface PlannedColumn {
  source: ColumnModel;
  target: string;
  targetType: string;
  kind: ValueKind;
  maxChars: number | null;
  /** Case-insensitive collation in the source. */
  ci: boolean;
  /** Set when the column became an identity column (its sequence is synced after the load). */
  identity: { seed: string; increment: string } | null;
  ddl: string;
}

export interface PlannedTable {
  model: TableModel;
  /** Source `schema.name`. */
  key: string;
  target: string;
  /** Quoted `"schema"."table"` in the target. */
  qualified: string;
  /** Columns that exist in the target (copied and generated), in source order. */
  columns: PlannedColumn[];
  /** Source column name (lower case) → column in the target. */
  byName: Map<string, PlannedColumn>;
}

const TEXT_SOURCE = new Set(['char', 'nchar', 'varchar', 'nvarchar', 'text', 'ntext', 'sysname']);

export const columnKey = (table: { schema: string; name: string }, column: string): string =>
  `${table.schema}.${table.name}.${column}`.toLowerCase();

/** A text column whose collation (or the database default) compares case-insensitively. */
export function isCaseInsensitive(col: ColumnModel, databaseCollation: string | null): boolean {
  const collation = col.collation ?? databaseCollation ?? '';
  return TEXT_SOURCE.has(col.type.toLowerCase()) && /_CI(_|$)/i.test(collation);
}

export function planTable(ctx: ConvertContext, table: TableModel): PlannedTable {
  const target = ctx.namer.table(table);
  const plan: PlannedTable = {
    model: table,
    key: `${table.schema}.${table.name}`,
    target,
    qualified: quoteQualified(ctx.schema, target),
    columns: [],
    byName: new Map(),
  };
  const ordered = [...table.columns].sort((a, b) => a.ordinal - b.ordinal);
  for (const col of ordered.filter((c) => !c.computed)) add(plan, plainColumn(ctx, plan, col));
  // Computed columns last in planning (they refer to the others), first-class in source order in the DDL.
  for (const col of ordered.filter((c) => c.computed)) {
    const planned = computedColumn(ctx, plan, col);
    if (planned) add(plan, planned);
  }
  plan.columns.sort((a, b) => a.source.ordinal - b.source.ordinal);
  return plan;
}

function add(plan: PlannedTable, col: PlannedColumn): void {
  plan.columns.push(col);
  plan.byName.set(col.source.name.toLowerCase(), col);
}

export function createTableSql(plan: PlannedTable): string {
  return `CREATE TABLE ${plan.qualified} (\n${plan.columns.map((c) => `  ${c.ddl}`).join(',\n')}\n)`;
}

interface Typed {
  targetType: string;
  kind: ValueKind;
  maxChars: number | null;
  collate: string;
  checks: string[];
}

/** Mapping, then an override, then case-insensitive treatment: the DDL type of one column. */
function typeOf(ctx: ConvertContext, table: TableModel, col: ColumnModel): Typed {
  const where = { table: `${table.schema}.${table.name}`, column: col.name };
  const override = ctx.overrides.get(columnKey(table, col.name));
  const parsed = override === undefined ? null : parseOverrideType(override);
  const mapped = mapColumnType(col, { timezone: ctx.timezone, postgis: ctx.postgis });
  const name = quoteIdent(ctx.namer.column(table, col.name));
  const typed: Typed = parsed
    ? { ...parsed, collate: '', checks: [] }
    : { ...mapped, collate: '', checks: mapped.range ? [`CHECK (${name} BETWEEN ${mapped.range.min} AND ${mapped.range.max})`] : [] };
  if (!parsed) for (const message of mapped.warnings) ctx.report.warnings.push({ ...where, message });
  if (!ctx.ciColumns.has(columnKey(table, col.name)) || typed.kind !== 'text') return typed;
  if (ctx.caseInsensitive === 'icu') return { ...typed, collate: ` COLLATE ${ctx.icuCollation}` };
  if (['char', 'nchar'].includes(col.type.toLowerCase())) {
    ctx.report.warnings.push({ ...where, message: 'char(n) as citext: trailing-space padding is not kept' });
  }
  // citext has no length; the CHECK keeps the limit so maxChars stays true.
  const limit = typed.maxChars === null ? [] : [`CHECK (char_length(${name}) <= ${typed.maxChars})`];
  return { ...typed, targetType: 'citext', checks: [...typed.checks, ...limit] };
}

function plainColumn(ctx: ConvertContext, plan: PlannedTable, col: ColumnModel): PlannedColumn {
  const table = plan.model;
  const target = ctx.namer.column(table, col.name);
  const typed = typeOf(ctx, table, col);
  const parts = [`${quoteIdent(target)} ${typed.targetType}${typed.collate}`];
  const identity = col.identity ? identityClause(ctx, plan, col, typed.targetType) : [];
  parts.push(...identity);
  if (!col.identity) if (col.defaultExpression !== null) parts.push(...defaultClause(ctx, plan, col, typed));
  if (!col.nullable) parts.push('NOT NULL');
  parts.push(...typed.checks);
  return {
    source: col,
    target,
    targetType: typed.targetType,
    kind: typed.kind,
    maxChars: typed.maxChars,
    ci: isCaseInsensitive(col, ctx.model.collation),
    identity: identity.length > 0 ? col.identity : null,
    ddl: parts.join(' '),
  };
}

const INTEGER_BOUNDS: Record<string, [string, string]> = {
  smallint: ['-32768', '32767'],
  integer: ['-2147483648', '2147483647'],
  bigint: ['-9223372036854775808', '9223372036854775807'],
};

function identityClause(ctx: ConvertContext, plan: PlannedTable, col: ColumnModel, targetType: string): string[] {
  const bounds = INTEGER_BOUNDS[targetType.toLowerCase()];
  const { seed, increment } = col.identity ?? { seed: '', increment: '' };
  const object = `${plan.key}.${col.name}`;
  if (!bounds || !/^-?\d+$/.test(seed) || !/^-?[1-9]\d*$/.test(increment)) {
    const why = bounds ? `seed ${seed} / increment ${increment} not whole numbers` : `identity on ${targetType}`;
    ctx.report.notConverted.push({ object, kind: 'identity', reason: `${why}: the column gets no identity; override it to bigint` });
    return [];
  }
  // PostgreSQL's defaults (MINVALUE 1, or MAXVALUE -1 when descending) would reject other seeds.
  const wide = BigInt(seed) < 1n || BigInt(increment) < 0n ? ` MINVALUE ${bounds[0]} MAXVALUE ${bounds[1]}` : '';
  return [`GENERATED BY DEFAULT AS IDENTITY (START WITH ${seed} INCREMENT BY ${increment}${wide})`];
}

function defaultClause(ctx: ConvertContext, plan: PlannedTable, col: ColumnModel, typed: Typed): string[] {
  const t = translateDefault(col.defaultExpression ?? '', { kind: typed.kind, targetType: typed.targetType });
  const object = `${plan.key}.${col.name}`;
  if (!t.ok) {
    ctx.report.notConverted.push({ object, kind: 'default', reason: `${t.reason}; the column has no default` });
    return [];
  }
  if (t.note) ctx.report.warnings.push({ table: plan.key, column: col.name, message: t.note });
  return [`DEFAULT ${t.sql}`];
}

/** The columns of a table as an expression sees them. */
export function exprColumns(plan: PlannedTable): { column(name: string): ExprColumn | null } {
  return {
    column: (name) => {
      const c = plan.byName.get(name.toLowerCase());
      if (!c) return null;
      const type = c.source.type.toLowerCase();
      return { target: c.target, kind: c.kind, fixedChar: type === 'char' || type === 'nchar', caseInsensitive: c.ci, computed: c.source.computed !== null };
    },
  };
}

function computedColumn(ctx: ConvertContext, plan: PlannedTable, col: ColumnModel): PlannedColumn | null {
  const definition = col.computed?.definition ?? '';
  const t = translateExpression(definition, exprColumns(plan), 'value');
  if (!t.ok) {
    const reason = `${definition}: ${t.reason}; the column is left out`;
    ctx.report.notConverted.push({ object: `${plan.key}.${col.name}`, kind: 'computed column', reason });
    return null;
  }
  const typed = typeOf(ctx, plan.model, col);
  const target = ctx.namer.column(plan.model, col.name);
  const ddl = `${quoteIdent(target)} ${typed.targetType}${typed.collate} GENERATED ALWAYS AS (${t.sql}) STORED`;
  return { source: col, target, targetType: typed.targetType, kind: typed.kind, maxChars: typed.maxChars, ci: false, identity: null, ddl };
}
