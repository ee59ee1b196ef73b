import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CutoverError } from '../../runbook/errors.js';
import type { ColumnMapping, QuarantineRecord, TableMapping } from './contracts.js';
import { parseCopyLine, sampleOf } from './encoder.js';

/**
 * The rare path of a chunk: PostgreSQL refused one of its rows. The chunk's
 * lines are buffered (bounded by the chunk size) and COPYed in pieces inside
 * savepoints; a failing piece is split until single lines remain, and those go
 * to quarantine with PostgreSQL's own message. Runs inside the caller's open
 * transaction; the caller commits it together with the checkpoint.
 */

/** A COPY error about a row's data (class 22 data exception, 23 integrity), as opposed to the connection, a cancel or a permission. */
export function isRowError(err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError && typeof err.code === 'string' && /^2[23]/.test(err.code);
}

const BATCH_BYTES = 256 * 1024;

/** Sends lines[lo, hi) as one COPY; large writes, since pg-copy-streams slows down with many tiny ones. */
export async function copyLines(client: pg.PoolClient, sql: string, lines: readonly Buffer[], lo: number, hi: number, signal: AbortSignal): Promise<number> {
  function* batches(): Generator<Buffer> {
    let batch: Buffer[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const line = lines[i] as Buffer;
      batch.push(line);
      size += line.length;
      if (size >= BATCH_BYTES) {
        yield Buffer.concat(batch, size);
        batch = [];
        size = 0;
      }
    }
    if (size > 0) yield Buffer.concat(batch, size);
  }
  const copy = client.query(copyFrom(sql));
  await pipeline(Readable.from(batches(), { objectMode: false }), copy, { signal });
  return copy.rowCount;
}

/** Splits a COPY text stream into lines, each with its '\n' (escaped data never holds a raw newline). */
export async function readLines(stream: Readable): Promise<{ lines: Buffer[]; bytes: number }> {
  const lines: Buffer[] = [];
  let carry: Buffer | null = null;
  let bytes = 0;
  for await (const piece of stream) {
    let buf: Buffer = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : (piece as Buffer);
    bytes += buf.length;
    if (carry) {
      buf = Buffer.concat([carry, buf]);
      carry = null;
    }
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      // Copied so a line does not pin its whole source buffer beyond this chunk.
      lines.push(Buffer.from(buf.subarray(start, nl + 1)));
      start = nl + 1;
    }
    if (start < buf.length) carry = buf.subarray(start);
  }
  if (carry && carry.length > 0) lines.push(Buffer.concat([carry, Buffer.from('\n')]));
  return { lines, bytes };
}

/** "COPY t, line 3, column v: "abcdef"" → line 3, column v. */
export function whereOf(err: pg.DatabaseError): { line: number | null; column: string | null } {
  const m = /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(err.where ?? '');
  return { line: m?.[1] ? Number(m[1]) : null, column: m?.[2] ?? null };
}

/** The quarantine record of one refused line: key values parsed from the line, PostgreSQL's message as reason. */
export function refusedLine(mapping: TableMapping, line: Buffer, err: pg.DatabaseError): QuarantineRecord {
  const fields = parseCopyLine(line.toString('utf8'));
  const names = mapping.columns.map((c) => c.source);
  const keyNames = mapping.key?.columns ?? names;
  const key: Record<string, string | null> = {};
  for (const k of keyNames) {
    const v = fields[names.indexOf(k)];
    key[k] = v === undefined || v === null ? null : sampleOf(v, 200);
  }
  const { column } = whereOf(err);
  const idx = column === null ? -1 : mapping.columns.findIndex((c) => c.target === column);
  const col: ColumnMapping | undefined = mapping.columns[idx];
  const value = idx >= 0 ? fields[idx] : undefined;
  const reason = err.detail ? `${err.message} (${err.detail})` : err.message;
  return {
    key,
    column: col ? col.source : null,
    reason: `${err.code}: ${reason}`,
    sample: value !== undefined ? sampleOf(value) : sampleOf(line.toString('utf8').replace(/\n$/, '')),
  };
}

export interface BisectResult {
  rows: number;
  quarantined: QuarantineRecord[];
}

/**
 * Loads every line PostgreSQL accepts and returns the refused ones. Uses the
 * line number of PostgreSQL's error as a hint (prefix, the line alone, rest),
 * else halves; every piece is tried in its own savepoint, so a wrong hint
 * costs time, never correctness.
 */
export async function bisectLines(
  client: pg.PoolClient,
  sql: string,
  mapping: TableMapping,
  lines: readonly Buffer[],
  signal: AbortSignal,
  maxRefused: number,
): Promise<BisectResult> {
  const quarantined: QuarantineRecord[] = [];
  let rows = 0;
  const todo: Array<[number, number]> = [[0, lines.length]];
  while (todo.length > 0) {
    const [lo, hi] = todo.pop() as [number, number];
    if (lo >= hi) continue;
    await client.query('SAVEPOINT cutover_piece');
    try {
      rows += await copyLines(client, sql, lines, lo, hi, signal);
      await client.query('RELEASE SAVEPOINT cutover_piece');
      continue;
    } catch (err) {
      if (!isRowError(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT cutover_piece');
      if (hi - lo === 1) {
        quarantined.push(refusedLine(mapping, lines[lo] as Buffer, err));
        if (quarantined.length > maxRefused) {
          throw new CutoverError(
            'etl.too-many-rejected',
            `PostgreSQL refused more than ${maxRefused} rows of one chunk of ${mapping.target.schema}.${mapping.target.name} (last: ${err.message}); the mapping is probably wrong`,
            { cause: err },
          );
        }
        continue;
      }
      const { line } = whereOf(err);
      if (line !== null && line >= 1 && line <= hi - lo) {
        const at = lo + line - 1;
        // LIFO: the prefix runs first, then the suspect line alone, then the rest.
        todo.push([at + 1, hi], [at, at + 1], [lo, at]);
      } else {
        const mid = lo + Math.floor((hi - lo) / 2);
        todo.push([mid, hi], [lo, mid]);
      }
    }
  }
  return { rows, quarantined };
}
