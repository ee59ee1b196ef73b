import { z } from 'zod';
import type { ChunkSpec, ColumnMapping, TableMapping } from '../etl/contracts.js';
import type { SchemaModel } from '../schema/model.js';

/**
 * The two-hop extract snapshot (seed 000 phases 2–3): a directory holding
 * manifest.json and, per chunk, `<schema>.<table>.<chunkId>.copy.gz` (gzip of
 * PostgreSQL COPY text) and `….quarantine.jsonl` (the rows the encoder
 * refused, one QuarantineRecord per line). The manifest is written last, so
 * a directory without one is an unfinished extract.
 *
 * rowHash: hex sha256 of the chunk's COPY text lines in order, each with its
 * terminating '\n' — i.e. of the uncompressed file's bytes. It proves the
 * content independently of the gzip encoding.
 */
export const MANIFEST_FILE = 'manifest.json';
export const FORMAT = 'cutover-snapshot';
export const FORMAT_VERSION = 1;

export interface ChunkManifestEntry {
  chunk: ChunkSpec;
  /** Data file name inside the snapshot directory. */
  file: string;
  /** Rows in the data file (COPY lines). */
  rows: number;
  /** Compressed size in bytes and hex sha256 of the compressed file. */
  bytes: number;
  sha256: string;
  rowHash: string;
  quarantineFile: string;
  quarantined: number;
  quarantineBytes: number;
  quarantineSha256: string;
}

export interface TableManifestEntry {
  mapping: TableMapping;
  /** Rows read from the source: rows + quarantined, summed over chunks. */
  sourceRows: number;
  rows: number;
  quarantined: number;
  chunks: ChunkManifestEntry[];
}

export interface Manifest {
  format: typeof FORMAT;
  version: typeof FORMAT_VERSION;
  createdAt: string;
  sourceDatabase: string;
  schema: SchemaModel;
  tables: TableManifestEntry[];
}

/** Plain file names only: a manifest must never point outside its directory. */
const fileName = z
  .string()
  .min(1)
  .refine((s) => !/[/\\]/.test(s) && s !== '.' && s !== '..', 'must be a plain file name inside the snapshot directory');
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const count = z.number().int().nonnegative();
const action = z.enum(['NO ACTION', 'CASCADE', 'SET NULL', 'SET DEFAULT']);
const key = z.object({ name: z.string(), columns: z.array(z.string()) });

const column = z.object({
  name: z.string(),
  ordinal: z.number().int(),
  type: z.string(),
  maxLength: z.number().int().nullable(),
  precision: z.number().int().nullable(),
  scale: z.number().int().nullable(),
  nullable: z.boolean(),
  identity: z.object({ seed: z.string(), increment: z.string() }).nullable(),
  defaultExpression: z.string().nullable(),
  computed: z.object({ definition: z.string(), persisted: z.boolean() }).nullable(),
  collation: z.string().nullable(),
  isRowVersion: z.boolean(),
});

const schemaModel: z.ZodType<SchemaModel> = z.object({
  sourceKind: z.literal('mssql'),
  database: z.string(),
  serverVersion: z.string().nullable(),
  collation: z.string().nullable(),
  tables: z.array(
    z.object({
      schema: z.string(),
      name: z.string(),
      columns: z.array(column),
      primaryKey: key.nullable(),
      uniques: z.array(key),
      indexes: z.array(
        z.object({
          name: z.string(),
          columns: z.array(z.object({ name: z.string(), descending: z.boolean() })),
          include: z.array(z.string()),
          unique: z.boolean(),
          where: z.string().nullable(),
        }),
      ),
      foreignKeys: z.array(
        z.object({
          name: z.string(),
          columns: z.array(z.string()),
          refSchema: z.string(),
          refTable: z.string(),
          refColumns: z.array(z.string()),
          onDelete: action,
          onUpdate: action,
          trusted: z.boolean(),
        }),
      ),
      checks: z.array(z.object({ name: z.string(), definition: z.string(), column: z.string().nullable() })),
      rowCount: z.number(),
    }),
  ),
  others: z.array(
    z.object({
      schema: z.string(),
      name: z.string(),
      kind: z.enum(['view', 'procedure', 'function', 'trigger', 'sequence', 'synonym', 'type']),
      parent: z.string().nullable(),
    }),
  ),
});

const columnMapping: z.ZodType<ColumnMapping> = z.object({
  source: z.string(),
  target: z.string(),
  sourceType: z.string(),
  targetType: z.string(),
  kind: z.enum(['int', 'exact', 'float', 'bool', 'text', 'bytes', 'date', 'time', 'timestamp', 'timestamptz', 'uuid']),
  nullable: z.boolean(),
  maxChars: z.number().int().positive().nullable(),
});

const qualified = z.object({ schema: z.string(), name: z.string() });
const tableMapping: z.ZodType<TableMapping> = z.object({
  source: qualified,
  target: qualified,
  columns: z.array(columnMapping).min(1),
  key: z.object({ columns: z.array(z.string()).min(1), kind: z.enum(['integer', 'other']) }).nullable(),
  rowCount: z.number(),
});

const chunkSpec: z.ZodType<ChunkSpec> = z.discriminatedUnion('kind', [
  z.object({ id: z.string().min(1), kind: z.literal('all') }),
  z.object({ id: z.string().min(1), kind: z.literal('range'), column: z.string(), from: z.string(), to: z.string(), lastInclusive: z.boolean() }),
  z.object({ id: z.string().min(1), kind: z.literal('hash'), columns: z.array(z.string()), buckets: z.number().int().positive(), bucket: z.number().int().nonnegative() }),
]);

const chunkEntry: z.ZodType<ChunkManifestEntry> = z.object({
  chunk: chunkSpec,
  file: fileName,
  rows: count,
  bytes: count,
  sha256: hex64,
  rowHash: hex64,
  quarantineFile: fileName,
  quarantined: count,
  quarantineBytes: count,
  quarantineSha256: hex64,
});

const tableEntry: z.ZodType<TableManifestEntry> = z
  .object({ mapping: tableMapping, sourceRows: count, rows: count, quarantined: count, chunks: z.array(chunkEntry).min(1) })
  .refine((t) => t.rows === t.chunks.reduce((n, c) => n + c.rows, 0), 'rows must equal the sum of its chunks’ rows')
  .refine((t) => t.quarantined === t.chunks.reduce((n, c) => n + c.quarantined, 0), 'quarantined must equal the sum of its chunks’ quarantined')
  .refine((t) => t.sourceRows === t.rows + t.quarantined, 'sourceRows must equal rows + quarantined');

export const manifestSchema: z.ZodType<Manifest> = z.object({
  format: z.literal(FORMAT),
  version: z.literal(FORMAT_VERSION),
  createdAt: z.iso.datetime(),
  sourceDatabase: z.string(),
  schema: schemaModel,
  tables: z.array(tableEntry),
});

/** Files named in a manifest must be distinct (two entries sharing one file would verify each other's content). */
export function duplicateFiles(m: Manifest): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const c of m.tables.flatMap((t) => t.chunks)) {
    for (const f of [c.file, c.quarantineFile]) (seen.has(f) ? dup : (seen.add(f), [])).push(f);
  }
  return dup;
}

/** File stem for a chunk; characters unsafe in file names are percent-encoded so names stay unique and plain. */
export function chunkFileStem(table: TableMapping, chunk: ChunkSpec): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_\-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${safe(table.source.schema)}.${safe(table.source.name)}.${safe(chunk.id)}`;
}
