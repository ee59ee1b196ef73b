import type { Readable } from 'node:stream';
import type { SchemaModel, TableModel } from '../schema/model.js';

/**
 * How a value travels from the source to the encoder. The mssql adapter
 * selects every column in a form that keeps its exact value (see
 * engine/mssql/select-list.ts); the encoder turns it into PostgreSQL COPY
 * text for the target type.
 *
 *   int      JS number (tinyint, smallint, int)
 *   exact    string with the exact decimal text (bigint, decimal, numeric, money, smallmoney)
 *   float    JS number (float, real)
 *   bool     boolean (bit)
 *   text     string (char, varchar, nchar, nvarchar, text, ntext, xml, hierarchyid as ToString(), sql_variant as text, spatial as WKT)
 *   bytes    Buffer (binary, varbinary, image, rowversion)
 *   date     string 'YYYY-MM-DD'
 *   time     string 'hh:mm:ss[.fffffff]'
 *   timestamp   string 'YYYY-MM-DD hh:mm:ss[.fffffff]' (wall-clock, no zone)
 *   timestamptz string 'YYYY-MM-DD hh:mm:ss[.fffffff] +hh:mm'
 *   uuid     string, 36 characters, any case
 */
export type ValueKind = 'int' | 'exact' | 'float' | 'bool' | 'text' | 'bytes' | 'date' | 'time' | 'timestamp' | 'timestamptz' | 'uuid';

export type SourceValue = string | number | boolean | Buffer | null;
export type SourceRow = SourceValue[];

/** One column as the ETL moves it. */
export interface ColumnMapping {
  source: string;
  target: string;
  sourceType: string;
  /**
   * decimal/numeric precision at the source, when the catalog gave it: up to
   * 15 digits the driver's number is exact and the mssql adapter reads the
   * column natively; unknown or larger, SQL Server converts it to text.
   */
  sourcePrecision?: number | null;
  /**
   * decimal/numeric scale at the source, when the catalog gave it: with it, a
   * decimal wider than 15 digits is read natively too, and SQL Server converts
   * to text only its values beyond 15 significant digits.
   */
  sourceScale?: number | null;
  /** PostgreSQL type as written in DDL, e.g. "numeric(19,4)", "timestamp(6)", "varchar(50)". */
  targetType: string;
  kind: ValueKind;
  nullable: boolean;
  /** PostgreSQL rejects this column's value when it is longer (characters); null: no limit. */
  maxChars: number | null;
}

/** One table as the ETL moves it: which columns, in which order, keyed how. */
export interface TableMapping {
  source: { schema: string; name: string };
  target: { schema: string; name: string };
  /** Copied columns, in COPY order (computed columns excluded). */
  columns: ColumnMapping[];
  /** Primary key (or best unique key) columns, by source name; null: none, the table is copied as one chunk. */
  key: { columns: string[]; kind: 'integer' | 'other' } | null;
  rowCount: number;
}

/**
 * A slice of a table that loads in one PostgreSQL transaction together with
 * its checkpoint row. Integer keys split by range; GUID and text keys by a
 * hash of the key (their sort orders differ between the engines).
 */
export type ChunkSpec =
  | { id: string; kind: 'all' }
  | { id: string; kind: 'range'; column: string; from: string; to: string; lastInclusive: boolean }
  | { id: string; kind: 'hash'; columns: string[]; buckets: number; bucket: number };

/** A source of rows: the live SQL Server, or an extract snapshot. */
export interface SourceAdapter {
  introspect(): Promise<SchemaModel>;
  /** Splits a table into chunks of about `targetRows` rows. */
  planChunks(table: TableMapping, targetRows: number): Promise<ChunkSpec[]>;
  /**
   * Rows of one chunk as an object-mode Readable of SourceRows or RowBatches
   * (row-batch.ts; eachRow reads either), in the mapping's column order,
   * honouring backpressure (the mssql request is paused while the consumer is
   * full). Destroying the stream cancels the query.
   */
  readChunk(table: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Readable;
  /** Exact row count of a chunk, computed by the source. */
  countChunk(table: TableMapping, chunk: ChunkSpec): Promise<number>;
  /**
   * How a worker thread opens the same rows itself, so reading and encoding
   * a chunk can run on another core (engine/etl/threads/); absent or null:
   * this source is read on the calling thread only.
   */
  threadRecipe?(): RowSourceRecipe | null;
  close(): Promise<void>;
}

/**
 * A row source a worker thread can open: `module` (a file URL) exports
 * `openRowSource(options): Promise<SourceAdapter>`, and `options` survive
 * structured cloning (no functions, no class instances).
 */
export interface RowSourceRecipe {
  module: string;
  options: unknown;
}

export type { SchemaModel };

/** A row PostgreSQL cannot take, kept with its key and the reason instead of being dropped or coerced. */
export interface QuarantineRecord {
  /** Key column values by source column name (all columns when the table has no key). */
  key: Record<string, string | null>;
  /** Source column at fault, when known. */
  column: string | null;
  reason: string;
  /** The offending value or line, truncated, with NUL bytes shown as \0; never used to load. */
  sample: string;
}

/**
 * One chunk as COPY text (PostgreSQL text format: tab-separated, \N for NULL,
 * backslash escapes, one row per line), plus the rows the encoder refused.
 * The mssql path produces it by encoding SourceRows; a snapshot already holds it.
 * `quarantined` is complete once `stream` has ended.
 */
export interface EncodedChunk {
  stream: Readable;
  quarantined: QuarantineRecord[];
}

/** What etl.copy and load read from: chunks already in COPY text. */
export interface EncodedSource {
  introspect(): Promise<SchemaModel>;
  planChunks(table: TableMapping, targetRows: number): Promise<ChunkSpec[]>;
  openChunk(table: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Promise<EncodedChunk>;
  close(): Promise<void>;
}
