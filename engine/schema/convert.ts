import type { ColumnMapping, TableMapping } from '../etl/contracts.js';
import { caseInsensitiveKeys } from './collation.js';
import { columnKey, createTableSql, planTable, type ConvertContext, type PlannedTable } from './columns.js';
import { postLoadStatements, type PostLoadStatements } from './constraints.js';
import type { SchemaModel, TableModel } from './model.js';
import {
  createNamer,
  findCollisions,
  identifierBytes,
  MAX_IDENTIFIER_BYTES,
  NameAllocator,
  quoteIdent,
  quoteLiteral,
  quoteQualified,
  type NamingOption,
} from './naming.js';
import { emptyReport, type ConversionReport } from './report.js';
import { isValidTimeZone, parseOverrideType, type TimezoneRule } from './type-map.js';

export type { PostLoadStatements } from './constraints.js';
export type { ConversionReport } from './report.js';
export { renderConversionReport } from './report.js';

/** Conversion settings, as a runbook step gives them. */
export interface ConversionOptions {
  /** Default 'public'. */
  targetSchema?: string;
  /** Default 'lower'. */
  naming?: NamingOption;
  /** PostgreSQL type by source column, `schema.table.column` or `table.column`: `{ "dbo.Antrag.an_PLZ": "varchar(10)" }`. */
  overrides?: Record<string, string>;
  /** Default 'wall-clock'. */
  timezone?: TimezoneRule;
  postgis?: boolean;
  /** Subset by source name (`Antrag` or `dbo.Antrag`), case-insensitive; default all tables. */
  tables?: string[];
  /** Keep case-insensitive uniqueness of keys on text: citext columns, or a nondeterministic ICU collation. */
  caseInsensitive?: 'citext' | 'icu';
}

export interface SchemaConversion {
  mappings: TableMapping[];
  /** One transaction before the load: schema, extension/collation, bare tables. */
  preLoad: string[];
  postLoad: PostLoadStatements;
  /** After the load: identity sequences set past the loaded values. */
  identitySync: string[];
  report: ConversionReport;
}

/** The ICU collation created for caseInsensitive: 'icu' (case-insensitive, accent-sensitive like `_CI_AS`). */
export const ICU_COLLATION = 'case_insensitive';

/** Pure: the target DDL and the ETL's table mappings; problems go into the report, it never throws. */
export function convertSchema(model: SchemaModel, options: ConversionOptions = {}): SchemaConversion {
  const schema = options.targetSchema ?? 'public';
  const report = emptyReport(schema);
  const namer = createNamer(options.naming);
  const tables = selectTables(model, options.tables, report);
  const ctx: ConvertContext = {
    model,
    schema,
    namer,
    timezone: checkTimezone(options.timezone, report),
    postgis: options.postgis ?? false,
    caseInsensitive: options.caseInsensitive ?? null,
    icuCollation: quoteQualified(schema, ICU_COLLATION),
    overrides: checkOverrides(model, options.overrides ?? {}, report),
    ciColumns: new Set(),
    report,
  };
  checkNames(ctx, tables);
  ctx.ciColumns = caseInsensitiveKeys(ctx, tables);
  const plans = new Map(tables.map((t) => [`${t.schema}.${t.name}`.toLowerCase(), planTable(ctx, t)]));
  const postLoad = postLoadStatements(ctx, plans, new NameAllocator([...plans.values()].map((p) => p.target)));
  const preLoad = [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`];
  if (ctx.ciColumns.size > 0 && ctx.caseInsensitive === 'citext') preLoad.push('CREATE EXTENSION IF NOT EXISTS citext');
  if (ctx.ciColumns.size > 0 && ctx.caseInsensitive === 'icu') {
    preLoad.push(`CREATE COLLATION IF NOT EXISTS ${ctx.icuCollation} (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`);
  }
  preLoad.push(...[...plans.values()].map(createTableSql));
  reportOthers(ctx, tables);
  report.tables = plans.size;
  report.columns = [...plans.values()].reduce((n, p) => n + p.columns.length, 0);
  return { mappings: [...plans.values()].map((p) => mapping(ctx, p)), preLoad, postLoad, identitySync: identitySync(plans), report };
}

function selectTables(model: SchemaModel, wanted: string[] | undefined, report: ConversionReport): TableModel[] {
  if (!wanted) return model.tables;
  const names = new Set(wanted.map((w) => w.toLowerCase()));
  const hit = (t: TableModel): boolean => names.has(`${t.schema}.${t.name}`.toLowerCase()) || names.has(t.name.toLowerCase());
  for (const w of wanted) {
    if (!model.tables.some((t) => [`${t.schema}.${t.name}`, t.name].some((n) => n.toLowerCase() === w.toLowerCase()))) {
      report.errors.push({ table: w, message: 'listed in tables but not in the source' });
    }
  }
  return model.tables.filter(hit);
}

function checkTimezone(rule: TimezoneRule | undefined, report: ConversionReport): TimezoneRule {
  if (rule === undefined || rule === 'wall-clock') return 'wall-clock';
  if (isValidTimeZone(rule.zone)) return rule;
  report.errors.push({ table: '(options)', message: `timezone ${rule.zone} is not an IANA time zone` });
  return 'wall-clock';
}

/** Normalises keys to `schema.table.column`; a key matching no column or an unreadable type is an error, not ignored. */
function checkOverrides(model: SchemaModel, overrides: Record<string, string>, report: ConversionReport): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, type] of Object.entries(overrides)) {
    const k = key.toLowerCase();
    const hits = model.tables.flatMap((t) =>
      t.columns.filter((c) => [columnKey(t, c.name), `${t.name}.${c.name}`.toLowerCase()].includes(k)).map((c) => columnKey(t, c.name)),
    );
    if (hits.length !== 1) report.errors.push({ table: '(options)', message: `override ${key} matches ${hits.length} columns, not 1` });
    else if (!parseOverrideType(type)) report.errors.push({ table: '(options)', message: `override ${key}: "${type}" is not a PostgreSQL type name` });
    else out.set(hits[0] ?? k, type);
  }
  return out;
}

function checkNames(ctx: ConvertContext, tables: TableModel[]): void {
  for (const c of findCollisions(tables, ctx.namer)) {
    const where = c.kind === 'table' ? `schema ${ctx.schema}` : c.scope;
    const message = `${c.sources.join(' and ')} would all become ${c.kind} "${c.target}" in ${where}; add a rename`;
    ctx.report.errors.push({ table: c.kind === 'table' ? '(tables)' : c.scope, message });
  }
  const long = (name: string): boolean => identifierBytes(name) > MAX_IDENTIFIER_BYTES;
  for (const t of tables) {
    const table = `${t.schema}.${t.name}`;
    const message = (n: string): string => `"${n}" is longer than ${MAX_IDENTIFIER_BYTES} bytes: PostgreSQL would truncate it; add a rename`;
    if (long(ctx.namer.table(t))) ctx.report.errors.push({ table, message: message(ctx.namer.table(t)) });
    for (const c of t.columns) {
      const target = ctx.namer.column(t, c.name);
      if (long(target)) ctx.report.errors.push({ table, column: c.name, message: message(target) });
    }
  }
}

function reportOthers(ctx: ConvertContext, tables: TableModel[]): void {
  const selected = new Set(tables.flatMap((t) => [t.name.toLowerCase(), `${t.schema}.${t.name}`.toLowerCase()]));
  for (const o of ctx.model.others) {
    // A trigger of a table left out of this conversion is not this conversion's business.
    if (o.kind === 'trigger' && o.parent && !selected.has(o.parent.toLowerCase())) continue;
    const on = o.parent ? ` (fires on ${o.parent})` : '';
    ctx.report.notConverted.push({ object: `${o.schema}.${o.name}`, kind: o.kind, reason: `port by hand${on}` });
  }
}

const INTEGER_SOURCE = new Set(['tinyint', 'smallint', 'int', 'bigint']);
const DECIMAL_SOURCE = new Set(['decimal', 'numeric']);

function mapping(ctx: ConvertContext, plan: PlannedTable): TableMapping {
  const copied = plan.columns.filter((c) => c.source.computed === null);
  const columns: ColumnMapping[] = copied.map((c) => ({
    source: c.source.name,
    target: c.target,
    sourceType: c.source.type,
    // Only where it decides something: whether the driver reads the decimal exactly (engine/mssql/select-list.ts).
    ...(DECIMAL_SOURCE.has(c.source.type) && c.source.precision !== null ? { sourcePrecision: c.source.precision } : {}),
    ...(DECIMAL_SOURCE.has(c.source.type) && c.source.scale !== null ? { sourceScale: c.source.scale } : {}),
    targetType: c.targetType,
    kind: c.kind,
    nullable: c.source.nullable,
    maxChars: c.maxChars,
  }));
  return {
    source: { schema: plan.model.schema, name: plan.model.name },
    target: { schema: ctx.schema, name: plan.target },
    columns,
    key: chunkKey(plan),
    rowCount: plan.model.rowCount,
  };
}

/**
 * The primary key, else the first unique key whose columns are all NOT NULL
 * and copied: a range or hash over a nullable key would miss its NULL rows.
 */
function chunkKey(plan: PlannedTable): TableMapping['key'] {
  const usable = (cols: string[]): boolean =>
    cols.length > 0 && cols.every((n) => {
      const c = plan.byName.get(n.toLowerCase());
      return c !== undefined && c.source.computed === null && !c.source.nullable;
    });
  const t = plan.model;
  const candidates = [
    ...(t.primaryKey ? [t.primaryKey.columns] : []),
    ...t.uniques.map((u) => u.columns),
    ...t.indexes.filter((i) => i.unique && i.where === null).map((i) => i.columns.map((c) => c.name)),
  ];
  const cols = candidates.find(usable);
  if (!cols) return null;
  const only = cols.length === 1 ? plan.byName.get((cols[0] ?? '').toLowerCase()) : undefined;
  const integer = only !== undefined && INTEGER_SOURCE.has(only.source.type.toLowerCase());
  return { columns: cols.map((n) => plan.byName.get(n.toLowerCase())?.source.name ?? n), kind: integer ? 'integer' : 'other' };
}

/**
 * setval past the loaded values (or back to the seed on an empty table, with
 * is_called false so the seed itself comes next). Descending identities use
 * the minimum.
 */
function identitySync(plans: Map<string, PlannedTable>): string[] {
  const out: string[] = [];
  for (const plan of plans.values()) {
    for (const c of plan.columns) {
      if (!c.identity) continue;
      const col = quoteIdent(c.target);
      const seq = `pg_get_serial_sequence(${quoteLiteral(plan.qualified)}, ${quoteLiteral(c.target)})`;
      const [pick, agg, cmp] = c.identity.increment.startsWith('-') ? ['LEAST', 'min', '<='] : ['GREATEST', 'max', '>='];
      const seed = c.identity.seed;
      out.push(`SELECT setval(${seq}, ${pick}(${agg}(${col}), ${seed}), coalesce(${agg}(${col}) ${cmp} ${seed}, false)) FROM ${plan.qualified}`);
    }
  }
  return out;
}
