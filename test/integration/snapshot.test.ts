import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChunkSpec, ColumnMapping, SourceRow, TableMapping } from '../../engine/etl/contracts.js';
import { parseCopyLine } from '../../engine/etl/encoder.js';
import type { SchemaModel, TableModel } from '../../engine/schema/model.js';
import type { Manifest } from '../../engine/snapshot/manifest.js';
import { SnapshotSource } from '../../engine/snapshot/reader.js';
import { SnapshotWriter } from '../../engine/snapshot/writer.js';
import { snapshotVerifyAction } from '../../engine/actions/snapshot-verify.js';
import { snapshotVerifyParams } from '../../runbook/actions/snapshot-verify.js';
import { actionContext, thrown } from '../support/engine-context.js';

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const S = `cutover_snapshot_${process.pid}`;
const ROWS = 6000;
const BAD = new Set([17, 2500, 5999]);

const column = (source: string, kind: ColumnMapping['kind'], targetType: string, over: Partial<ColumnMapping> = {}): ColumnMapping => ({
  source,
  target: source.toLowerCase(),
  sourceType: targetType,
  targetType,
  kind,
  nullable: true,
  maxChars: null,
  ...over,
});

const antrag: TableMapping = {
  source: { schema: 'dbo', name: 'Antrag' },
  target: { schema: S, name: 'antrag' },
  columns: [
    column('ID', 'int', 'integer', { nullable: false }),
    column('Uid', 'uuid', 'uuid'),
    column('Name', 'text', 'varchar(100)', { maxChars: 100 }),
    column('Betrag', 'exact', 'numeric(19,4)'),
    column('Erstellt', 'timestamp', 'timestamp(6)'),
    column('Aktiv', 'bool', 'boolean'),
    column('Anhang', 'bytes', 'bytea'),
  ],
  key: { columns: ['ID'], kind: 'integer' },
  rowCount: ROWS,
};
const lookup: TableMapping = {
  source: { schema: 'dbo', name: 'Lookup' },
  target: { schema: S, name: 'lookup' },
  columns: [column('Code', 'text', 'text'), column('Label', 'text', 'text')],
  key: null,
  rowCount: 3,
};

const tableModel = (m: TableMapping): TableModel => ({
  schema: m.source.schema,
  name: m.source.name,
  columns: m.columns.map((c, i) => ({
    name: c.source, ordinal: i + 1, type: c.sourceType, maxLength: c.maxChars, precision: null, scale: null, nullable: c.nullable,
    identity: null, defaultExpression: null, computed: null, collation: null, isRowVersion: false,
  })),
  primaryKey: m.key ? { name: `PK_${m.source.name}`, columns: m.key.columns } : null,
  uniques: [], indexes: [], foreignKeys: [], checks: [], rowCount: m.rowCount,
});
const schema: SchemaModel = { sourceKind: 'mssql', database: 'KGV', serverVersion: '16.0', collation: 'SQL_Latin1_General_CP1_CI_AS', tables: [tableModel(antrag), tableModel(lookup)], others: [] };

const antragRow = (i: number): SourceRow => [
  i,
  `${i.toString(16).padStart(8, '0')}-AAAA-4BBB-8CCC-${i.toString(16).padStart(12, '0')}`.toUpperCase(),
  BAD.has(i) ? `kaputt\u0000${i}` : i % 10 === 0 ? null : `Müller "${i}"\tÄrger\\ 😀`,
  `${i}.${String(i % 10000).padStart(4, '0')}`,
  `2024-02-29 23:59:${String(i % 60).padStart(2, '0')}.1234567`,
  i % 2 === 0,
  i % 3 === 0 ? null : Buffer.from([0, i & 255, 0]),
];
const ranges: ChunkSpec[] = [0, 1, 2].map((k) => ({ id: `r${k}`, kind: 'range', column: 'ID', from: String(k * 2000), to: String(k * 2000 + 2000), lastInclusive: k === 2 }));
const rowsOf = (chunk: ChunkSpec): Readable => {
  if (chunk.kind !== 'range') throw new Error('range chunks only');
  return Readable.from(Array.from({ length: 2000 }, (_, j) => antragRow(Number(chunk.from) + j)));
};
const lookupRows: SourceRow[] = [['A', 'Alpha'], ['B', ''], ['C', null]];

let pool: pg.Pool;
let dir: string;
let manifest: Manifest;
const controller = new AbortController();

async function writeSnapshot(into: string): Promise<Manifest> {
  const writer = new SnapshotWriter(into);
  // Chunks of one table written concurrently, as the extract does.
  await Promise.all(ranges.map((c) => writer.writeChunk(antrag, c, rowsOf(c), controller.signal)));
  await writer.writeChunk(lookup, { id: 'all', kind: 'all' }, Readable.from(lookupRows), controller.signal);
  return writer.finish(schema, [antrag, lookup]);
}

const fileOf = (chunkId: string): string => manifest.tables[0]?.chunks.find((c) => c.chunk.id === chunkId)?.file ?? 'none';
const full = (name: string): string => path.join(dir, name);

async function loadChunk(source: SnapshotSource, chunk: ChunkSpec): Promise<number> {
  await pool.query(`TRUNCATE "${S}".antrag`);
  const client = await pool.connect();
  try {
    const { stream } = await source.openChunk(antrag, chunk, controller.signal);
    const cols = antrag.columns.map((c) => `"${c.target}"`).join(', ');
    await pipeline(stream, client.query(copyFrom(`COPY "${S}".antrag (${cols}) FROM STDIN`)));
  } finally {
    client.release();
  }
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${S}".antrag`);
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  await pool.query(`DROP SCHEMA IF EXISTS "${S}" CASCADE; CREATE SCHEMA "${S}"`);
  await pool.query(`CREATE TABLE "${S}".antrag (id integer PRIMARY KEY, uid uuid, name varchar(100), betrag numeric(19,4), erstellt timestamp(6), aktiv boolean, anhang bytea)`);
});

afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${S}" CASCADE`);
  await pool.end();
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cutover-snapshot-'));
  manifest = await writeSnapshot(dir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('snapshot writer', () => {
  it('writes every chunk, counts that reconcile, and no partial files', async () => {
    const t = manifest.tables[0];
    expect(t?.chunks.map((c) => [c.chunk.id, c.rows, c.quarantined])).toEqual([['r0', 1999, 1], ['r1', 1999, 1], ['r2', 1999, 1]]);
    expect([t?.sourceRows, t?.rows, t?.quarantined]).toEqual([ROWS, ROWS - 3, 3]);
    expect(manifest.tables[1]?.chunks[0]?.file).toBe('dbo.Lookup.all.copy.gz');
    const files = await readdir(dir);
    expect(files.filter((f) => f.includes('.partial'))).toEqual([]);
    expect(files.sort()).toEqual(['manifest.json', ...manifest.tables.flatMap((x) => x.chunks.flatMap((c) => [c.file, c.quarantineFile]))].sort());
    const rowHash = createHash('sha256').update(gunzipSync(await readFile(full(fileOf('r1'))))).digest('hex');
    expect(rowHash).toBe(t?.chunks[1]?.rowHash);
  });

  it('leaves neither a file nor a partial behind when the rows stream fails mid-chunk', async () => {
    const before = (await readdir(dir)).sort();
    async function* failing(): AsyncGenerator<SourceRow> {
      for (let i = 0; i < 50_000; i++) yield antragRow(10_000 + i);
      throw new Error('source connection lost');
    }
    const writer = new SnapshotWriter(dir);
    const chunk: ChunkSpec = { id: 'r9', kind: 'range', column: 'ID', from: '10000', to: '60000', lastInclusive: true };
    await expect(writer.writeChunk(antrag, chunk, Readable.from(failing()), controller.signal)).rejects.toThrow('source connection lost');
    expect((await readdir(dir)).sort()).toEqual(before);
    await expect(writer.finish(schema, [antrag, lookup])).rejects.toThrow('no chunk was written for dbo.Antrag');
  });
});

describe('snapshot reader', () => {
  it('verifies an intact snapshot, with and without decompressing', async () => {
    const source = await SnapshotSource.open(dir);
    expect(await source.verify()).toMatchObject({ ok: true, files: 8, problems: [] });
    expect((await source.verify({ content: true })).ok).toBe(true);
    expect(await source.introspect()).toEqual(schema);
    expect(await source.planChunks(antrag, 1)).toEqual(ranges);
  });

  it('streams a chunk as COPY text equal to the encoded rows, with its quarantined rows', async () => {
    const source = await SnapshotSource.open(dir);
    const { stream, quarantined } = await source.openChunk(antrag, ranges[1] as ChunkSpec, controller.signal);
    const chunks: Buffer[] = [];
    for await (const b of stream) chunks.push(b as Buffer);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n').slice(0, -1).map(parseCopyLine);
    expect(lines).toHaveLength(1999);
    expect(lines[0]).toEqual(['2000', '000007d0-aaaa-4bbb-8ccc-0000000007d0', null, '2000.2000', '2024-02-29 23:59:20.123457', 't', '\\x00d000']);
    expect(lines[1]).toEqual(['2001', '000007d1-aaaa-4bbb-8ccc-0000000007d1', 'Müller "2001"\tÄrger\\ 😀', '2001.2001', '2024-02-29 23:59:21.123457', 'f', null]);
    expect(quarantined).toEqual([{ key: { ID: '2500' }, column: 'Name', reason: 'NUL byte (0x00) in text: PostgreSQL cannot store it', sample: 'kaputt\\02500' }]);
  });

  it('refuses a chunk file with one flipped byte, naming it', async () => {
    const data = await readFile(full(fileOf('r1')));
    const at = Math.floor(data.length / 2);
    data.writeUInt8(data.readUInt8(at) ^ 0x01, at);
    await writeFile(full(fileOf('r1')), data);
    const report = await (await SnapshotSource.open(dir)).verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ file: fileOf('r1'), problem: expect.stringMatching(/^sha256 [0-9a-f]{64}, the manifest says/) }]);
  });

  it('refuses a truncated file and a removed file, naming each', async () => {
    await truncate(full(fileOf('r0')), 100);
    await unlink(full(manifest.tables[1]?.chunks[0]?.quarantineFile ?? 'none'));
    const report = await (await SnapshotSource.open(dir)).verify();
    expect(report.problems).toEqual([
      { file: fileOf('r0'), problem: expect.stringMatching(/^size 100 bytes, the manifest says \d+ \(truncated or changed\)$/) },
      { file: 'dbo.Lookup.all.quarantine.jsonl', problem: 'missing' },
    ]);
    await expect((await SnapshotSource.open(dir)).verifyOrThrow()).rejects.toThrow(`refusing to load it: ${fileOf('r0')}: size 100 bytes`);
  });

  it('refuses a tampered manifest with the file and the path of what is wrong', async () => {
    const m = path.join(dir, 'manifest.json');
    const good = await readFile(m, 'utf8');
    await writeFile(m, good.replace(/"sha256": "[0-9a-f]{64}"/, '"sha256": "nothex"'));
    await expect(SnapshotSource.open(dir)).rejects.toThrow(`snapshot manifest ${m} is invalid: tables.0.chunks.0.sha256: must be 64 lower-case hex digits`);
    await writeFile(m, good.replace(`"file": "${fileOf('r0')}"`, '"file": "../../etc/passwd"'));
    await expect(SnapshotSource.open(dir)).rejects.toThrow(/tables\.0\.chunks\.0\.file: must be a plain file name/);
    await writeFile(m, good.replace('"rows": 1999', '"rows": 2000'));
    await expect(SnapshotSource.open(dir)).rejects.toThrow(/rows must equal the sum/);
    await writeFile(m, good.slice(0, 200));
    await expect(SnapshotSource.open(dir)).rejects.toThrow(`snapshot manifest ${m} is not valid JSON`);
    await unlink(m);
    await expect(SnapshotSource.open(dir)).rejects.toThrow(/cannot be read \(an unfinished extract has none\)/);
  });
});

describe('snapshot.verify (seed 000 step 2.2)', () => {
  const run = (p: Record<string, unknown> = {}) => snapshotVerifyAction.run(actionContext({ stepId: 'verify-snapshot' }), snapshotVerifyParams.parse({ dir, ...p }));

  it('reports files, rows and what the extract quarantined for an intact snapshot', async () => {
    const result = await run();
    expect(result.summary).toMatch(/^8 files \(.+\) match the manifest of .+; 6,000 rows in 2 tables, row hashes verified; 3 rows were quarantined by the extract, with their reasons\.$/);
    expect(result.details).toMatchObject({ files: 8, rows: 6000, quarantined: 3, counts: { 'dbo.Antrag': 5997, 'dbo.Lookup': 3 } });
  });

  it('fails naming the file whose rows changed under an intact gzip (content), which the sha256 check alone also catches', async () => {
    const file = full(fileOf('r1'));
    const text = gunzipSync(await readFile(file)).toString('utf8').replace('Müller', 'Muller');
    await writeFile(file, gzipSync(Buffer.from(text, 'utf8')));
    for (const content of [true, false]) {
      const err = await thrown(() => run({ content }));
      expect(err.code).toBe('snapshot.verify_failed');
      expect(err.userMessage).toContain(`1 file(s) of the snapshot in ${dir} failed verification: ${fileOf('r1')}: `);
    }
  });
});

describe('loading a snapshot chunk through COPY', () => {
  it('loads the rows with their values', async () => {
    const source = await SnapshotSource.open(dir);
    expect(await loadChunk(source, ranges[2] as ChunkSpec)).toBe(1999);
    const { rows } = await pool.query(`SELECT id, uid::text, name, betrag::text, erstellt::text, aktiv, encode(anhang, 'hex') AS anhang FROM "${S}".antrag WHERE id IN (4001, 5998) ORDER BY id`);
    expect(rows).toEqual([
      { id: 4001, uid: '00000fa1-aaaa-4bbb-8ccc-000000000fa1', name: 'Müller "4001"\tÄrger\\ 😀', betrag: '4001.4001', erstellt: '2024-02-29 23:59:41.123457', aktiv: false, anhang: '00a100' },
      { id: 5998, uid: '0000176e-aaaa-4bbb-8ccc-00000000176e', name: 'Müller "5998"\tÄrger\\ 😀', betrag: '5998.5998', erstellt: '2024-02-29 23:59:58.123457', aktiv: true, anhang: '006e00' },
    ]);
  });

  it('stops the COPY when the signal fires: nothing is committed', async () => {
    const source = await SnapshotSource.open(dir);
    const abort = new AbortController();
    const { stream } = await source.openChunk(antrag, ranges[0] as ChunkSpec, abort.signal);
    await pool.query(`TRUNCATE "${S}".antrag`);
    const client = await pool.connect();
    try {
      const cols = antrag.columns.map((c) => `"${c.target}"`).join(', ');
      const copy = client.query(copyFrom(`COPY "${S}".antrag (${cols}) FROM STDIN`));
      // Abort once rows are already flowing into the COPY.
      copy.once('pipe', () => stream.once('data', () => setImmediate(() => abort.abort(new Error('step timeout')))));
      await expect(pipeline(stream, copy)).rejects.toThrow(/aborted/);
    } finally {
      client.release();
    }
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${S}".antrag`);
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('fails the COPY of a flipped-byte file: nothing is committed', async () => {
    const data = await readFile(full(fileOf('r0')));
    data.writeUInt8(data.readUInt8(data.length - 12) ^ 0xff, data.length - 12);
    await writeFile(full(fileOf('r0')), data);
    const source = await SnapshotSource.open(dir);
    await expect(loadChunk(source, ranges[0] as ChunkSpec)).rejects.toThrow(fileOf('r0'));
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${S}".antrag`);
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('fails the COPY of a valid gzip with changed rows at the end of the stream (sha256), after all rows were sent', async () => {
    const text = gunzipSync(await readFile(full(fileOf('r0')))).toString('utf8');
    await writeFile(full(fileOf('r0')), gzipSync(Buffer.from(text.replace('Müller "1001"', 'Muller "1001"'))));
    const source = await SnapshotSource.open(dir);
    await expect(loadChunk(source, ranges[0] as ChunkSpec)).rejects.toThrow(`snapshot file ${fileOf('r0')} is damaged or was changed: size or sha256 differs`);
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${S}".antrag`);
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('checks the row hash independently of the gzip encoding', async () => {
    const m = path.join(dir, 'manifest.json');
    const text = gunzipSync(await readFile(full(fileOf('r0'))));
    const regzip = (b: Buffer): Promise<void> => writeFile(full(fileOf('r0')), gzipSync(b, { level: 1 }));
    const withSha = async (b: Buffer): Promise<void> => {
      const z = gzipSync(b, { level: 1 });
      const sha = createHash('sha256').update(z).digest('hex');
      const doc = JSON.parse(await readFile(m, 'utf8')) as Manifest;
      const c = doc.tables[0]?.chunks[0];
      if (!c) throw new Error('no chunk');
      Object.assign(c, { sha256: sha, bytes: z.length });
      await writeFile(m, JSON.stringify(doc));
      await regzip(b);
    };
    // Same rows, other compression, manifest sha256 updated: still the same content, it loads.
    await withSha(text);
    expect(await loadChunk(await SnapshotSource.open(dir), ranges[0] as ChunkSpec)).toBe(1999);
    // Changed rows with a matching sha256: the row hash catches it.
    await withSha(Buffer.from(text.toString('utf8').replace('Müller "1001"', 'Muller "1001"')));
    const source = await SnapshotSource.open(dir);
    expect((await source.verify()).ok).toBe(true);
    expect((await source.verify({ content: true })).problems).toEqual([{ file: fileOf('r0'), problem: expect.stringMatching(/row hash or row count \(1999\) differs/) }]);
    await expect(loadChunk(await SnapshotSource.open(dir), ranges[0] as ChunkSpec)).rejects.toThrow(/row hash or row count \(1999\) differs/);
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${S}".antrag`);
    expect(Number(rows[0]?.n)).toBe(0);
  });
});
