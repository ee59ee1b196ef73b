import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, pipeline, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { CutoverError } from '../../runbook/errors.js';
import type { ChunkSpec, EncodedChunk, EncodedSource, QuarantineRecord, TableMapping } from '../etl/contracts.js';
import type { SchemaModel } from '../schema/model.js';
import { countNewlines, HashTap } from './files.js';
import { duplicateFiles, MANIFEST_FILE, manifestSchema, type ChunkManifestEntry, type Manifest, type TableManifestEntry } from './manifest.js';

/** One file of the snapshot that failed verification, and why, in words fit for the thread. */
export interface VerifyProblem {
  file: string;
  problem: string;
}

/** ok only when every file named by the manifest exists with its recorded size and sha256. */
export interface VerifyReport {
  ok: boolean;
  files: number;
  bytes: number;
  problems: VerifyProblem[];
}

const quarantineLine = z.object({
  key: z.record(z.string(), z.string().nullable()),
  column: z.string().nullable(),
  reason: z.string(),
  sample: z.string(),
});

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const tampered = (file: string, what: string): CutoverError =>
  new CutoverError('snapshot.tampered', `snapshot file ${file} is damaged or was changed: ${what}`);

/**
 * An extract snapshot as an EncodedSource: `load` reads chunks from it through
 * the same COPY path as `etl.copy`. Chunk streams verify the file's sha256
 * and the row hash while streaming and fail before their end on mismatch,
 * so a COPY fed by them never commits damaged data.
 */
export class SnapshotSource implements EncodedSource {
  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
  ) {}

  /** Reads and validates manifest.json; the error names the file and what is wrong in it. */
  static async open(dir: string): Promise<SnapshotSource> {
    const file = path.join(dir, MANIFEST_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new CutoverError('snapshot.manifest-missing', `snapshot manifest ${file} cannot be read (an unfinished extract has none)`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new CutoverError('snapshot.manifest-invalid', `snapshot manifest ${file} is not valid JSON: ${describe(err)}`, { cause: err });
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new CutoverError('snapshot.manifest-invalid', `snapshot manifest ${file} is invalid: ${where.join('; ')}`, { cause: parsed.error });
    }
    const dup = duplicateFiles(parsed.data);
    if (dup.length) throw new CutoverError('snapshot.manifest-invalid', `snapshot manifest ${file} names a file twice: ${dup.join(', ')}`);
    return new SnapshotSource(dir, parsed.data);
  }

  /** The TableMappings the extract used, in manifest order. */
  tables(): TableMapping[] {
    return this.manifest.tables.map((t) => t.mapping);
  }

  /** Rows the extract read from the source for this table (loaded + quarantined must equal it). */
  sourceRows(table: TableMapping): number {
    return this.tableEntry(table).sourceRows;
  }

  async introspect(): Promise<SchemaModel> {
    return this.manifest.schema;
  }

  /** The chunks are fixed by the extract; targetRows cannot change them. */
  async planChunks(table: TableMapping, _targetRows?: number): Promise<ChunkSpec[]> {
    return this.tableEntry(table).chunks.map((c) => c.chunk);
  }

  /**
   * Checks every file's existence, size and sha256 (streamed). With content, also decompresses and checks row hashes and counts.
   * With tables, only their files (a load of one group of tables does not re-read the others').
   */
  async verify(options: { content?: boolean; tables?: TableMapping[] } = {}): Promise<VerifyReport> {
    const report: VerifyReport = { ok: true, files: 0, bytes: 0, problems: [] };
    const entries = options.tables ? options.tables.map((t) => this.tableEntry(t)) : this.manifest.tables;
    for (const c of entries.flatMap((t) => t.chunks)) {
      for (const [file, bytes, sha256] of [
        [c.file, c.bytes, c.sha256],
        [c.quarantineFile, c.quarantineBytes, c.quarantineSha256],
      ] as const) {
        report.files++;
        const problem = await this.checkFile(file, bytes, sha256);
        if (problem) report.problems.push({ file, problem });
        else report.bytes += bytes;
      }
      if (options.content && !report.problems.some((p) => p.file === c.file)) {
        try {
          await finished(this.chunkStream(c).resume());
        } catch (err) {
          report.problems.push({ file: c.file, problem: err instanceof CutoverError ? err.userMessage : describe(err) });
        }
      }
    }
    report.ok = report.problems.length === 0;
    return report;
  }

  /** verify(), throwing snapshot.verify-failed (every damaged file named) unless the report is ok. */
  async verifyOrThrow(options: { content?: boolean } = {}): Promise<VerifyReport> {
    const report = await this.verify(options);
    if (report.ok) return report;
    const list = report.problems.map((p) => `${p.file}: ${p.problem}`).join('; ');
    throw new CutoverError('snapshot.verify-failed', `snapshot ${this.dir} is damaged, refusing to load it: ${list}`);
  }

  async openChunk(table: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Promise<EncodedChunk> {
    const entry = this.tableEntry(table);
    const c = entry.chunks.find((x) => x.chunk.id === chunk.id);
    if (!c) throw new CutoverError('snapshot.unknown-chunk', `the snapshot has no chunk ${chunk.id} of ${entry.mapping.source.schema}.${entry.mapping.source.name}`);
    const quarantined = await this.readQuarantine(c);
    return { stream: addAbortSignal(signal, this.chunkStream(c)), quarantined };
  }

  async close(): Promise<void> {}

  private tableEntry(table: TableMapping): TableManifestEntry {
    const entry = this.manifest.tables.find((t) => t.mapping.source.schema === table.source.schema && t.mapping.source.name === table.source.name);
    const name = `${table.source.schema}.${table.source.name}`;
    if (!entry) throw new CutoverError('snapshot.unknown-table', `the snapshot has no table ${name}`);
    // The COPY text holds the extract's columns in its order; any other order would load values into the wrong columns.
    const want = entry.mapping.columns.map((c) => c.source).join(', ');
    const got = table.columns.map((c) => c.source).join(', ');
    if (want !== got) throw new CutoverError('snapshot.mapping-mismatch', `${name}: the snapshot holds columns (${want}), the load asks for (${got})`);
    return entry;
  }

  private async checkFile(file: string, bytes: number, sha256: string): Promise<string | null> {
    const full = path.join(this.dir, file);
    const size = await stat(full).then((s) => s.size, () => null);
    if (size === null) return 'missing';
    if (size !== bytes) return `size ${size} bytes, the manifest says ${bytes} (truncated or changed)`;
    const hash = createHash('sha256');
    for await (const buf of createReadStream(full)) hash.update(buf as Buffer);
    const got = hash.digest('hex');
    return got === sha256 ? null : `sha256 ${got}, the manifest says ${sha256} (changed)`;
  }

  private async readQuarantine(c: ChunkManifestEntry): Promise<QuarantineRecord[]> {
    const data = await readFile(path.join(this.dir, c.quarantineFile)).catch((err: unknown) => {
      throw new CutoverError('snapshot.missing-file', `snapshot file ${c.quarantineFile} cannot be read: ${describe(err)}`, { cause: err });
    });
    if (data.length !== c.quarantineBytes || createHash('sha256').update(data).digest('hex') !== c.quarantineSha256) {
      throw tampered(c.quarantineFile, 'size or sha256 differs from the manifest');
    }
    const lines = data.toString('utf8').split('\n').filter((l) => l !== '');
    const records = lines.map((l) => quarantineLine.safeParse(parseJson(l)));
    if (records.length !== c.quarantined || records.some((r) => !r.success)) throw tampered(c.quarantineFile, 'records do not match the manifest');
    return records.flatMap((r) => (r.success ? [r.data] : []));
  }

  /**
   * gunzip(file) as COPY text. Checks run as the data flows and at its end,
   * before the stream ends: a mismatch errors the stream instead of ending
   * it, so the COPY consuming it is failed (CopyFail) and rolls back.
   */
  private chunkStream(c: ChunkManifestEntry): Readable {
    const full = path.join(this.dir, c.file);
    async function* verified(): AsyncGenerator<Buffer> {
      const compressed = new HashTap();
      // Errors of any stage surface through the iteration below (pipeline destroys the last stream with them);
      // 64 KB pieces because pg-copy-streams slows down with many small writes (its #127).
      const text = pipeline(createReadStream(full), compressed, createGunzip({ chunkSize: 64 * 1024 }), () => {});
      const hash = createHash('sha256');
      let lines = 0;
      try {
        for await (const buf of text) {
          const b = buf as Buffer;
          hash.update(b);
          lines += countNewlines(b);
          if (lines > c.rows) throw tampered(c.file, `more than the ${c.rows} rows the manifest records`);
          yield b;
        }
      } catch (err) {
        if (err instanceof CutoverError) throw err;
        throw new CutoverError('snapshot.unreadable', `snapshot file ${c.file} cannot be read: ${describe(err)}`, { cause: err });
      } finally {
        text.destroy();
      }
      if (compressed.bytes !== c.bytes || compressed.digest() !== c.sha256) throw tampered(c.file, 'size or sha256 differs from the manifest');
      if (lines !== c.rows || hash.digest('hex') !== c.rowHash) throw tampered(c.file, `row hash or row count (${lines}) differs from the manifest`);
    }
    return Readable.from(verified(), { objectMode: false });
  }
}
