import type { ChunkResult } from './copy-chunk.js';
import { CutoverError } from '../../runbook/errors.js';

/** One table's outcome in this run (chunks booked by an earlier attempt count as skipped). */
export interface TableLoadReport {
  /** Target table as booked: schema.name. */
  table: string;
  chunksTotal: number;
  chunksLoaded: number;
  chunksSkipped: number;
  /** Rows committed by this run. */
  rows: number;
  /** Rows of chunks an earlier attempt of the same load had committed. */
  rowsBefore: number;
  /** Rows quarantined by this run (encoder refusals and rows PostgreSQL refused). */
  quarantined: number;
  /** Rows quarantined by the chunks counted in rowsBefore. */
  quarantinedBefore: number;
  bytes: number;
  /** From the start of the table's first chunk to the end of its last, in this run. */
  seconds: number;
  rowsPerSecond: number;
  /** Set when the table stopped on its own problem (too many refused rows); the other tables went on. */
  error: string | null;
}

export interface LoadReport {
  /** True when every chunk of every table is committed. */
  ok: boolean;
  /** The infrastructure error (or cancel) that stopped the load, if any. */
  error: CutoverError | null;
  tables: TableLoadReport[];
  totals: Omit<TableLoadReport, 'table' | 'error'>;
}

export interface ProgressFigures {
  /** Rows in the target by now, including earlier attempts and chunks still in flight. */
  rows: number;
  /** The source's estimate, or rows so far when that is higher. */
  expectedRows: number;
  rowsPerSecond: number;
  etaSeconds: number | null;
  chunksDone: number;
  chunksTotal: number;
}

export interface LoadProgress {
  elapsedSeconds: number;
  overall: ProgressFigures;
  tables: Array<ProgressFigures & { table: string }>;
}

interface TableState extends TableLoadReport {
  expectedRows: number;
  inFlight: Map<string, number>;
  firstStart: number | null;
  lastEnd: number | null;
}

const rate = (rows: number, seconds: number): number => (seconds > 0 ? rows / seconds : 0);

/** The running account of a load: fed by the chunk pool, read as progress and as the final report. */
export class LoadTally {
  private readonly tables = new Map<string, TableState>();
  private readonly t0 = performance.now();
  private version = 0;
  private seen = 0;

  constructor(tables: Array<{ table: string; expectedRows: number }>) {
    for (const { table, expectedRows } of tables) {
      this.tables.set(table, {
        table, expectedRows, chunksTotal: 0, chunksLoaded: 0, chunksSkipped: 0, rows: 0, rowsBefore: 0,
        quarantined: 0, quarantinedBefore: 0, bytes: 0, seconds: 0, rowsPerSecond: 0, error: null, inFlight: new Map(), firstStart: null, lastEnd: null,
      });
    }
  }

  table(name: string): TableState {
    const t = this.tables.get(name);
    if (!t) throw new CutoverError('etl.unknown_table', `no table ${name} in this load`);
    return t;
  }

  private touch(): void {
    this.version++;
  }

  planned(name: string, chunks: number): void {
    this.table(name).chunksTotal = chunks;
  }

  skipped(name: string, booked: { rows: number; quarantined: number }): void {
    const t = this.table(name);
    t.chunksSkipped++;
    t.rowsBefore += booked.rows;
    t.quarantinedBefore += booked.quarantined;
  }

  started(name: string): void {
    const t = this.table(name);
    t.firstStart ??= performance.now();
  }

  streaming(name: string, chunkId: string, rows: number): void {
    this.table(name).inFlight.set(chunkId, rows);
    this.touch();
  }

  finished(name: string, chunkId: string, r: ChunkResult): void {
    const t = this.table(name);
    t.inFlight.delete(chunkId);
    if (r.status === 'skipped') {
      // Booked meanwhile by another worker of the same load.
      this.skipped(name, r);
    } else {
      t.chunksLoaded++;
      t.rows += r.rows;
      t.quarantined += r.quarantined;
      t.bytes += r.bytes;
    }
    t.lastEnd = performance.now();
    this.touch();
  }

  /** Rows this run committed into the table per second, from its first chunk's start to its latest commit. */
  rowsPerSecond(name: string): number {
    const t = this.table(name);
    return t.firstStart !== null && t.lastEnd !== null ? rate(t.rows, (t.lastEnd - t.firstStart) / 1000) : 0;
  }

  failed(name: string, message: string): void {
    this.table(name).error ??= message;
    this.touch();
  }

  /** True once after each change: progress is only worth sending when something moved. */
  changed(): boolean {
    const moved = this.version !== this.seen;
    this.seen = this.version;
    return moved;
  }

  progress(): LoadProgress {
    const elapsedSeconds = (performance.now() - this.t0) / 1000;
    const figures = (t: TableState): ProgressFigures => {
      const flying = [...t.inFlight.values()].reduce((a, b) => a + b, 0);
      const rows = t.rowsBefore + t.rows + flying;
      const since = t.firstStart === null ? 0 : (performance.now() - t.firstStart) / 1000;
      const rowsPerSecond = rate(t.rows + flying, since);
      const expectedRows = Math.max(t.expectedRows, rows);
      return { rows, expectedRows, rowsPerSecond, etaSeconds: eta(expectedRows - rows, rowsPerSecond), chunksDone: t.chunksLoaded + t.chunksSkipped, chunksTotal: t.chunksTotal };
    };
    const tables = [...this.tables.values()].map((t) => ({ table: t.table, ...figures(t) }));
    const sum = (k: 'rows' | 'expectedRows' | 'chunksDone' | 'chunksTotal'): number => tables.reduce((a, t) => a + t[k], 0);
    const before = [...this.tables.values()].reduce((a, t) => a + t.rowsBefore, 0);
    const rowsPerSecond = rate(sum('rows') - before, elapsedSeconds);
    const overall: ProgressFigures = {
      rows: sum('rows'), expectedRows: sum('expectedRows'), rowsPerSecond,
      etaSeconds: eta(sum('expectedRows') - sum('rows'), rowsPerSecond), chunksDone: sum('chunksDone'), chunksTotal: sum('chunksTotal'),
    };
    return { elapsedSeconds, overall, tables };
  }

  report(error: CutoverError | null): LoadReport {
    const tables: TableLoadReport[] = [...this.tables.values()].map((t) => {
      const seconds = t.firstStart !== null && t.lastEnd !== null ? (t.lastEnd - t.firstStart) / 1000 : 0;
      const { table, chunksTotal, chunksLoaded, chunksSkipped, rows, rowsBefore, quarantined, quarantinedBefore, bytes } = t;
      return { table, chunksTotal, chunksLoaded, chunksSkipped, rows, rowsBefore, quarantined, quarantinedBefore, bytes, seconds, rowsPerSecond: rate(rows, seconds), error: t.error };
    });
    const sum = (k: 'chunksTotal' | 'chunksLoaded' | 'chunksSkipped' | 'rows' | 'rowsBefore' | 'quarantined' | 'quarantinedBefore' | 'bytes'): number =>
      tables.reduce((a, t) => a + t[k], 0);
    const seconds = (performance.now() - this.t0) / 1000;
    const totals = {
      chunksTotal: sum('chunksTotal'), chunksLoaded: sum('chunksLoaded'), chunksSkipped: sum('chunksSkipped'), rows: sum('rows'),
      rowsBefore: sum('rowsBefore'), quarantined: sum('quarantined'), quarantinedBefore: sum('quarantinedBefore'), bytes: sum('bytes'), seconds, rowsPerSecond: rate(sum('rows'), seconds),
    };
    const ok = error === null && tables.every((t) => t.error === null && t.chunksLoaded + t.chunksSkipped === t.chunksTotal);
    return { ok, error, tables, totals };
  }
}

const eta = (remaining: number, perSecond: number): number | null => (perSecond > 0 ? Math.max(0, remaining) / perSecond : null);
