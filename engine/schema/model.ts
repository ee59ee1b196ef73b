/**
 * The neutral schema model: what the catalog of a source database says about
 * its tables, independent of driver and of the target. Produced by
 * engine/mssql/catalog.ts (live) or read back from a snapshot manifest;
 * consumed by schema conversion and the ETL. Names are as in the source.
 */
export interface ColumnModel {
  name: string;
  /** 1-based position in the table. */
  ordinal: number;
  /** Source type name, lower case: int, decimal, nvarchar, datetime2, uniqueidentifier, … */
  type: string;
  /** Characters for char types, bytes for binary types; -1 means (max). null when not applicable. */
  maxLength: number | null;
  precision: number | null;
  scale: number | null;
  nullable: boolean;
  identity: { seed: string; increment: string } | null;
  /** Default expression exactly as the catalog holds it, e.g. "(getdate())" or "((0))". */
  defaultExpression: string | null;
  /** Definition of a computed column, e.g. "([a]+[b])"; computed columns are not copied. */
  computed: { definition: string; persisted: boolean } | null;
  collation: string | null;
  /** rowversion/timestamp columns: kept for incremental sync. */
  isRowVersion: boolean;
}

export interface KeyModel {
  name: string;
  columns: string[];
}

export interface IndexModel {
  name: string;
  columns: Array<{ name: string; descending: boolean }>;
  /** Non-key columns of INCLUDE (). */
  include: string[];
  unique: boolean;
  /** Filter predicate of a filtered index, as the catalog holds it. */
  where: string | null;
}

export interface ForeignKeyModel {
  name: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
  onDelete: 'NO ACTION' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT';
  onUpdate: 'NO ACTION' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT';
  /** WITH NOCHECK / disabled constraints are not trusted in the source either. */
  trusted: boolean;
}

export interface CheckModel {
  name: string;
  definition: string;
  /** Column-level check (for reporting only). */
  column: string | null;
}

export interface TableModel {
  schema: string;
  name: string;
  columns: ColumnModel[];
  primaryKey: KeyModel | null;
  uniques: KeyModel[];
  indexes: IndexModel[];
  foreignKeys: ForeignKeyModel[];
  checks: CheckModel[];
  /** From sys.partitions: an estimate, exact after a quiesced source. */
  rowCount: number;
}

/** Things the ETL does not convert automatically; listed in the conversion report, never dropped silently. */
export interface OtherObjectModel {
  schema: string;
  name: string;
  kind: 'view' | 'procedure' | 'function' | 'trigger' | 'sequence' | 'synonym' | 'type';
  /** Parent table of a trigger. */
  parent: string | null;
}

export interface SchemaModel {
  sourceKind: 'mssql';
  database: string;
  /** Server version string, for the report. */
  serverVersion: string | null;
  /** Database default collation, e.g. SQL_Latin1_General_CP1_CI_AS. */
  collation: string | null;
  tables: TableModel[];
  others: OtherObjectModel[];
}
