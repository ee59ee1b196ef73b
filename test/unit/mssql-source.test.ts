import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type mssql from 'mssql';
import { describe, expect, it } from 'vitest';
import type { ColumnMapping, SourceRow, TableMapping } from '../../engine/etl/contracts.js';
import { planRanges } from '../../engine/mssql/chunk-plan.js';
import { MssqlSource, type MssqlPool } from '../../engine/mssql/source.js';
import { RowBatch } from '../../engine/etl/row-batch.js';

/**
 * A stand-in for an mssql Request in stream mode, shaped like tedious: rows
 * come in packets, and a pause takes effect only after the packet being
 * parsed (so rows keep arriving for a moment after pause()).
 */
class FakeRequest extends EventEmitter {
  stream = false;
  arrayRowMode = false;
  paused = false;
  pauses = 0;
  cancels = 0;
  inputs: Array<[string, unknown]> = [];
  text = '';
  private next = 0;
  private ended = false;

  constructor(
    private readonly rows: unknown[][],
    private readonly packet = 37,
    private readonly fail?: Error,
  ) {
    super();
  }

  input(name: string, _type: unknown, value: unknown): this {
    this.inputs.push([name, value]);
    return this;
  }

  query(text: string): Promise<{ recordset: unknown[] }> {
    this.text = text;
    if (!this.stream) return Promise.resolve({ recordset: this.rows.map((r) => ({ lo: r[0], hi: r[1], n: r[0] })) });
    setImmediate(() => this.pump());
    return Promise.resolve({ recordset: [] });
  }

  pause(): boolean {
    this.paused = true;
    this.pauses++;
    return true;
  }

  resume(): boolean {
    if (!this.paused) return true;
    this.paused = false;
    setImmediate(() => this.pump());
    return true;
  }

  cancel(): void {
    this.cancels++;
    this.finish(Object.assign(new Error('Canceled.'), { code: 'ECANCEL' }));
  }

  private pump(): void {
    while (!this.ended && !this.paused) {
      const end = Math.min(this.next + this.packet, this.rows.length);
      for (; this.next < end; this.next++) this.emit('row', this.rows[this.next]);
      if (this.fail && this.next >= this.rows.length / 2) return this.finish(this.fail);
      if (this.next >= this.rows.length) return this.finish();
    }
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (err) this.emit('error', err);
    this.emit('done', {});
  }
}

const fakePool = (...requests: FakeRequest[]): MssqlPool => ({
  // A test double: the source only uses the members FakeRequest implements.
  request: () => requests.shift() as unknown as mssql.Request,
  close: () => Promise.resolve(),
});

const column = (source: string, sourceType: string, kind: ColumnMapping['kind']): ColumnMapping => ({
  source, target: source, sourceType, targetType: 'text', kind, nullable: true, maxChars: null,
});

const antrag = (overrides: Partial<TableMapping> = {}): TableMapping => ({
  source: { schema: 'dbo', name: 'Antrag' },
  target: { schema: 'public', name: 'antrag' },
  columns: [column('an_ID', 'int', 'int'), column('an_Nachname', 'nvarchar(50)', 'text')],
  key: { columns: ['an_ID'], kind: 'integer' },
  rowCount: 20_000,
  ...overrides,
});

const rowsOf = (n: number): unknown[][] => Array.from({ length: n }, (_, i) => [i + 1, `Müller ${i + 1}`]);

/** A consumer that takes a batch at a time and yields to the event loop every `every` batches. */
function slowSink(seen: SourceRow[], every = 2, batches: number[] = []): Writable {
  let n = 0;
  return new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(batch: unknown, _enc, done) {
      if (!(batch instanceof RowBatch)) return done(new Error('the source handed over something other than a RowBatch'));
      seen.push(...batch.rows);
      batches.push(batch.rows.length);
      if (++n % every === 0) setTimeout(done, 1);
      else done();
    },
  });
}

describe('MssqlSource.readChunk', () => {
  it('loses no row over 20,000 rows to a slow consumer, in batches, pausing the request (node-mssql #789, #832)', async () => {
    const request = new FakeRequest(rowsOf(20_000));
    const source = new MssqlSource(fakePool(request), { highWaterMark: 100 });
    const stream = source.readChunk(antrag(), { id: 'all', kind: 'all' }, new AbortController().signal);
    let maxBuffered = 0;
    stream.on('data', () => (maxBuffered = Math.max(maxBuffered, stream.readableLength)));
    const seen: SourceRow[] = [];
    const batches: number[] = [];
    await pipeline(stream, slowSink(seen, 2, batches));
    expect(seen).toHaveLength(20_000);
    expect(seen.map((r) => r[0])).toEqual(rowsOf(20_000).map((r) => r[0]));
    expect(request.pauses).toBeGreaterThan(10);
    // Flat memory: batches of at most the high-water mark's rows, at most one batch waiting in the stream.
    expect(Math.max(...batches)).toBe(100);
    expect(batches.slice(0, -1).every((n) => n === 100)).toBe(true);
    expect(maxBuffered).toBeLessThanOrEqual(1);
    expect(request.cancels).toBe(0);
    expect(request).toMatchObject({ stream: true, arrayRowMode: true });
  });

  it('hands over the rows of a chunk smaller than a batch, and a last partial batch, when the request is done', async () => {
    const seen: SourceRow[] = [];
    const batches: number[] = [];
    await pipeline(new MssqlSource(fakePool(new FakeRequest(rowsOf(3))))
      .readChunk(antrag(), { id: 'all', kind: 'all' }, new AbortController().signal), slowSink(seen, 2, batches));
    expect(seen.map((r) => r[0])).toEqual([1, 2, 3]);
    expect(batches).toEqual([3]);
    const more: number[] = [];
    await pipeline(new MssqlSource(fakePool(new FakeRequest(rowsOf(600)))).readChunk(antrag(), { id: 'all', kind: 'all' }, new AbortController().signal), slowSink([], 2, more));
    expect(more).toEqual([256, 256, 88]);
  });

  it('binds range bounds as parameters', async () => {
    const request = new FakeRequest(rowsOf(3));
    const source = new MssqlSource(fakePool(request));
    const chunk = { id: 'r', kind: 'range', column: 'an_ID', from: '9007199254740993', to: '9007199254741000', lastInclusive: true } as const;
    await pipeline(source.readChunk(antrag(), chunk, new AbortController().signal), slowSink([]));
    expect(request.inputs).toEqual([['from', '9007199254740993'], ['to', '9007199254741000']]);
    expect(request.text).toContain('[an_ID] >= @from AND [an_ID] <= @to ORDER BY [an_ID]');
  });

  it('cancels the request when the consumer destroys the stream', async () => {
    const request = new FakeRequest(rowsOf(20_000));
    const stream = new MssqlSource(fakePool(request), { highWaterMark: 10 }).readChunk(antrag(), { id: 'all', kind: 'all' }, new AbortController().signal);
    await new Promise<void>((resolve) => stream.once('readable', resolve));
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    expect(request.cancels).toBe(1);
  });

  it('cancels the request and fails the stream when the signal aborts', async () => {
    const request = new FakeRequest(rowsOf(20_000));
    const abort = new AbortController();
    const stream = new MssqlSource(fakePool(request), { highWaterMark: 10 }).readChunk(antrag(), { id: 'all', kind: 'all' }, abort.signal);
    const seen: SourceRow[] = [];
    const done = pipeline(stream, slowSink(seen));
    setTimeout(() => abort.abort(new Error('step timed out')), 5);
    await expect(done).rejects.toMatchObject({ code: 'mssql.cancelled' });
    expect(request.cancels).toBe(1);
    expect(seen.length).toBeLessThan(20_000);
  });

  it('passes a server error on to the stream, coded, and does not cancel a finished request', async () => {
    const fail = Object.assign(new Error('Arithmetic overflow error converting expression to data type int.'), { number: 8115 });
    const request = new FakeRequest(rowsOf(1000), 37, fail);
    const stream = new MssqlSource(fakePool(request)).readChunk(antrag(), { id: 'all', kind: 'all' }, new AbortController().signal);
    await expect(pipeline(stream, slowSink([]))).rejects.toMatchObject({
      code: 'mssql.read_failed',
      message: expect.stringContaining('dbo.Antrag chunk all'),
    });
    expect(request.cancels).toBe(0);
  });

  it('refuses a value that did not arrive in its text form (a Date would have lost precision)', async () => {
    const request = new FakeRequest([[1, new Date(0)]]);
    const stream = new MssqlSource(fakePool(request)).readChunk(antrag(), { id: 'all', kind: 'all' }, new AbortController().signal);
    await expect(pipeline(stream, slowSink([]))).rejects.toMatchObject({ code: 'mssql.bad_row', message: expect.stringContaining('a Date') });
  });
});

describe('MssqlSource.planChunks', () => {
  it('splits an integer key into equal-width ranges from MIN/MAX, the last inclusive', async () => {
    const request = new FakeRequest([['1', '20000']]);
    const chunks = await new MssqlSource(fakePool(request)).planChunks(antrag(), 5_000);
    expect(request.text).toContain('MIN([an_ID])');
    expect(chunks).toEqual([
      { id: 'range_1_5001', kind: 'range', column: 'an_ID', from: '1', to: '5001', lastInclusive: false },
      { id: 'range_5001_10001', kind: 'range', column: 'an_ID', from: '5001', to: '10001', lastInclusive: false },
      { id: 'range_10001_15001', kind: 'range', column: 'an_ID', from: '10001', to: '15001', lastInclusive: false },
      { id: 'range_15001_20000_incl', kind: 'range', column: 'an_ID', from: '15001', to: '20000', lastInclusive: true },
    ]);
  });

  it('splits GUID and composite keys by hash buckets', async () => {
    const guid = antrag({ key: { columns: ['pe_ID'], kind: 'other' }, rowCount: 10_001 });
    const chunks = await new MssqlSource(fakePool()).planChunks(guid, 5_000);
    expect(chunks.map((c) => c.id)).toEqual(['hash_0_of_3', 'hash_1_of_3', 'hash_2_of_3']);
    expect(chunks[1]).toEqual({ id: 'hash_1_of_3', kind: 'hash', columns: ['pe_ID'], buckets: 3, bucket: 1 });
    const composite = antrag({ key: { columns: ['bk_Bezirk', 'bk_Katasterbezirk'], kind: 'integer' } });
    expect((await new MssqlSource(fakePool()).planChunks(composite, 10_000))[0]).toMatchObject({ kind: 'hash', buckets: 2 });
  });

  it('reads a table without key, a small table and an empty one as one chunk', async () => {
    const source = new MssqlSource(fakePool(new FakeRequest([[null, null]])));
    expect(await source.planChunks(antrag({ key: null }), 10)).toEqual([{ id: 'all', kind: 'all' }]);
    expect(await source.planChunks(antrag({ rowCount: 5_000 }), 5_000)).toEqual([{ id: 'all', kind: 'all' }]);
    expect(await source.planChunks(antrag(), 10)).toEqual([{ id: 'all', kind: 'all' }]);
  });

  it('refuses a chunk size that is not a positive number of rows', async () => {
    await expect(new MssqlSource(fakePool()).planChunks(antrag(), 0)).rejects.toMatchObject({ code: 'etl.bad_chunk_size' });
  });

  it('counts a chunk from COUNT_BIG text', async () => {
    const request = new FakeRequest([['12345']]);
    expect(await new MssqlSource(fakePool(request)).countChunk(antrag(), { id: 'all', kind: 'all' })).toBe(12_345);
  });
});

describe('planRanges', () => {
  it('covers bigint keys beyond 2^53 exactly, without gaps or overlaps', () => {
    const lo = 2n ** 53n - 3n;
    const hi = 2n ** 63n - 1n;
    const chunks = planRanges('id', lo, hi, 7);
    expect(chunks).toHaveLength(7);
    expect(chunks[0]).toMatchObject({ from: String(lo) });
    expect(chunks.at(-1)).toMatchObject({ to: String(hi), lastInclusive: true });
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1];
      const cur = chunks[i];
      expect(prev?.kind === 'range' && cur?.kind === 'range' && prev.to === cur.from && !prev.lastInclusive).toBe(true);
    }
  });

  it('makes fewer chunks than asked when the key span is smaller, and one inclusive chunk for a single key', () => {
    expect(planRanges('id', 1n, 3n, 10).map((c) => c.id)).toEqual(['range_1_2', 'range_2_3', 'range_3_3_incl']);
    expect(planRanges('id', -5n, -5n, 4)).toEqual([{ id: 'range_-5_-5_incl', kind: 'range', column: 'id', from: '-5', to: '-5', lastInclusive: true }]);
  });
});
