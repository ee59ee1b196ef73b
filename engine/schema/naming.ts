import { createHash } from 'node:crypto';

/**
 * Identifier policy for the target: 'lower' (default; `an_ID` → `an_id`),
 * 'exact' (source spelling, quoted), or rename maps on top of either.
 * Map keys are source names, case-insensitive: tables as `dbo.Antrag` or
 * `Antrag`, columns as `dbo.Antrag.an_ID` or `Antrag.an_ID`.
 */
export type NamingOption =
  | 'lower'
  | 'exact'
  | { base?: 'lower' | 'exact'; tables?: Record<string, string>; columns?: Record<string, string> };

export interface SourceTableRef {
  schema: string;
  name: string;
}

/** Turns source names into target names; pure and deterministic. */
export interface Namer {
  table(t: SourceTableRef): string;
  column(t: SourceTableRef, column: string): string;
  /** Constraint and index names follow the base policy (rename maps do not cover them). */
  object(name: string): string;
}

/** Two or more source names that end up as one target name. */
export interface NameCollision {
  /** 'table' collisions are within the target schema; 'column' within one table (`scope` names it). */
  kind: 'table' | 'column';
  scope: string;
  target: string;
  sources: string[];
}

/** PostgreSQL silently truncates longer identifiers (NAMEDATALEN - 1 bytes). */
export const MAX_IDENTIFIER_BYTES = 63;

/** Always quoted, so case, spaces and reserved words survive; `"` is doubled. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export const quoteQualified = (schema: string, name: string): string => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/** A standard-conforming string literal (backslashes are literal in PostgreSQL's default mode). */
export const quoteLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`;

export const identifierBytes = (name: string): number => Buffer.byteLength(name, 'utf8');

export function createNamer(option: NamingOption = 'lower'): Namer {
  const base = typeof option === 'string' ? option : (option.base ?? 'lower');
  const tables = lowerKeys(typeof option === 'string' ? {} : (option.tables ?? {}));
  const columns = lowerKeys(typeof option === 'string' ? {} : (option.columns ?? {}));
  const apply = (name: string): string => (base === 'lower' ? name.toLowerCase() : name);
  const lookup = (map: Map<string, string>, qualified: string, short: string): string | undefined =>
    map.get(qualified.toLowerCase()) ?? map.get(short.toLowerCase());
  return {
    table: (t) => lookup(tables, `${t.schema}.${t.name}`, t.name) ?? apply(t.name),
    column: (t, c) => lookup(columns, `${t.schema}.${t.name}.${c}`, `${t.name}.${c}`) ?? apply(c),
    object: apply,
  };
}

function lowerKeys(map: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * Table collisions across source schemas (they all land in one target
 * schema) and column collisions within each table. The target comparison is
 * exact: quoted identifiers are case-sensitive in PostgreSQL.
 */
export function findCollisions(
  tables: Array<SourceTableRef & { columns: Array<{ name: string }> }>,
  namer: Namer,
): NameCollision[] {
  const out: NameCollision[] = [];
  const byTarget = group(tables.map((t) => [namer.table(t), `${t.schema}.${t.name}`]));
  for (const [target, sources] of byTarget) if (sources.length > 1) out.push({ kind: 'table', scope: 'schema', target, sources });
  for (const t of tables) {
    const cols = group(t.columns.map((c) => [namer.column(t, c.name), c.name]));
    for (const [target, sources] of cols) {
      if (sources.length > 1) out.push({ kind: 'column', scope: `${t.schema}.${t.name}`, target, sources });
    }
  }
  return out;
}

function group(pairs: Array<[string, string]>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [k, v] of pairs) m.set(k, [...(m.get(k) ?? []), v]);
  return m;
}

/**
 * Hands out names unique within one namespace. PostgreSQL keeps tables,
 * indexes and the indexes behind PRIMARY KEY/UNIQUE in one namespace per
 * schema, while SQL Server index names are only unique per table, so
 * `IX_Datum` on two tables must not reach PostgreSQL twice.
 */
export class NameAllocator {
  private readonly taken = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.taken.add(r);
  }

  /** Returns `wanted` when free, else `prefix_wanted`, else a numbered variant; all within 63 bytes. */
  allocate(wanted: string, prefix: string): string {
    const candidates = [wanted, `${prefix}_${wanted}`];
    for (const c of candidates) {
      const fitted = fitIdentifier(c);
      if (!this.taken.has(fitted)) return this.take(fitted);
    }
    for (let i = 2; ; i++) {
      const fitted = fitIdentifier(`${prefix}_${wanted}_${i}`);
      if (!this.taken.has(fitted)) return this.take(fitted);
    }
  }

  private take(name: string): string {
    this.taken.add(name);
    return name;
  }
}

/** Shortens an over-long identifier with a hash suffix, so two long names sharing a prefix stay distinct. */
export function fitIdentifier(name: string): string {
  if (identifierBytes(name) <= MAX_IDENTIFIER_BYTES) return name;
  const suffix = `_${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  const chars = Array.from(name);
  while (identifierBytes(chars.join('')) + suffix.length > MAX_IDENTIFIER_BYTES) chars.pop();
  return chars.join('') + suffix;
}
