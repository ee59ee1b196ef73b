import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { CutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, QuarantineRecord, TableMapping } from '../etl/contracts.js';
import { createEncoder } from '../etl/encoder.js';
import type { SchemaModel } from '../schema/model.js';
import { HashTap, partialName, syncDir, writeFileAtomic } from './files.js';
import {
  chunkFileStem,
  FORMAT,
  FORMAT_VERSION,
  MANIFEST_FILE,
  type ChunkManifestEntry,
  type Manifest,
  type TableManifestEntry,
} from './manifest.js';

const tableKey = (t: TableMapping): string => JSON.stringify([t.source.schema, t.source.name]);

/**
 * Writes an extract snapshot (format in manifest.ts). Each chunk streams
 * SourceRows → encoder → gzip → file through one pipeline, hashing on the
 * way, so memory stays flat. Every file appears under its final name only
 * once complete; manifest.json is written last, so a crash leaves at most
 * unreferenced `.partial-*` files and no manifest claiming them.
 */
export class SnapshotWriter {
  /** Per table, chunk id → entry with the order writeChunk was called in (chunks finish out of order). */
  private readonly written = new Map<string, { name: string; chunks: Map<string, { order: number; entry: ChunkManifestEntry }> }>();
  private calls = 0;

  constructor(readonly dir: string) {}

  /** Streams one chunk's rows into its files and returns its manifest entry. A retried chunk replaces the earlier one. */
  async writeChunk(table: TableMapping, chunk: ChunkSpec, rows: Readable, signal: AbortSignal): Promise<ChunkManifestEntry> {
    const order = this.calls++;
    await mkdir(this.dir, { recursive: true });
    const stem = chunkFileStem(table, chunk);
    const file = `${stem}.copy.gz`;
    const quarantineFile = `${stem}.quarantine.jsonl`;
    const quarantine: QuarantineRecord[] = [];
    const content = new HashTap(true);
    const compressed = new HashTap();
    const tmp = partialName(path.join(this.dir, file));
    try {
      await pipeline(rows, createEncoder(table, quarantine), content, createGzip(), compressed, createWriteStream(tmp, { flush: true }), {
        signal,
      });
      const jsonl = Buffer.from(quarantine.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
      await writeFileAtomic(path.join(this.dir, quarantineFile), jsonl);
      await rename(tmp, path.join(this.dir, file));
      await syncDir(this.dir);
      const entry: ChunkManifestEntry = {
        chunk,
        file,
        rows: content.lines,
        bytes: compressed.bytes,
        sha256: compressed.digest(),
        rowHash: content.digest(),
        quarantineFile,
        quarantined: quarantine.length,
        quarantineBytes: jsonl.length,
        quarantineSha256: createHash('sha256').update(jsonl).digest('hex'),
      };
      const done = this.written.get(tableKey(table)) ?? { name: `${table.source.schema}.${table.source.name}`, chunks: new Map() };
      done.chunks.set(chunk.id, { order, entry });
      this.written.set(tableKey(table), done);
      return entry;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Writes manifest.json (atomically, last). Refuses when a listed table has
   * no chunk or a chunk was written for a table not listed: a snapshot must
   * never look complete while missing data. `createdAt` defaults to now; a
   * generated snapshot passes a fixed time so its manifest is byte-for-byte reproducible.
   */
  async finish(schema: SchemaModel, tables: TableMapping[], options: { createdAt?: Date } = {}): Promise<Manifest> {
    const listed = new Set(tables.map(tableKey));
    const stray = [...this.written].filter(([k]) => !listed.has(k)).map(([, t]) => t.name);
    if (stray.length) {
      throw new CutoverError('snapshot.incomplete', `chunks were written for tables not in the snapshot: ${stray.join(', ')}`);
    }
    const entries = tables.map((mapping): TableManifestEntry => {
      const chunks = [...(this.written.get(tableKey(mapping))?.chunks.values() ?? [])].sort((a, b) => a.order - b.order).map((c) => c.entry);
      if (!chunks.length) {
        throw new CutoverError('snapshot.incomplete', `no chunk was written for ${mapping.source.schema}.${mapping.source.name}`);
      }
      const rows = chunks.reduce((n, c) => n + c.rows, 0);
      const quarantined = chunks.reduce((n, c) => n + c.quarantined, 0);
      // How the live source was read (sourcePrecision, sourceScale) is no part of a snapshot: its COPY text already holds the exact values.
      const columns = mapping.columns.map(({ sourcePrecision: _read, sourceScale: _scale, ...column }) => column);
      return { mapping: { ...mapping, columns }, sourceRows: rows + quarantined, rows, quarantined, chunks };
    });
    const manifest: Manifest = {
      format: FORMAT,
      version: FORMAT_VERSION,
      createdAt: (options.createdAt ?? new Date()).toISOString(),
      sourceDatabase: schema.database,
      schema,
      tables: entries,
    };
    await writeFileAtomic(path.join(this.dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }
}
