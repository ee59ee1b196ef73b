import type { EtlCopyParams } from '../../runbook/actions/etl-copy.js';
import { formatDuration } from '../../runbook/duration.js';
import type { ActionContext, ActionImpl, ActionResult } from '../action.js';
import type { SourceAdapter, TableMapping } from '../etl/contracts.js';
import { sessionZone } from '../etl/conversion-options.js';
import { EncodingSource } from '../etl/encoding-source.js';
import { withConvertedSource } from './converted-source.js';
import { loadAndReconcile } from './etl-load-common.js';
import { openMssqlSource, type RowSourceFactory } from './etl-sources.js';

const ALL = { id: 'all', kind: 'all' } as const;

/**
 * Streams every mapped table from SQL Server into PostgreSQL: source →
 * encoder → COPY, chunks in parallel, each committed with its checkpoint, so
 * a retry after a crash resumes where it stopped. Expects schema.apply
 * pre-load to have created the tables.
 */
export function etlCopyAction(openSource: RowSourceFactory = openMssqlSource): ActionImpl<EtlCopyParams> {
  return {
    id: 'etl.copy',
    async run(ctx, params) {
      const threads = params.threads ?? params.parallel;
      let encoded = null as EncodingSource | null;
      const open = async (): Promise<SourceAdapter> => {
        const rows = await openSource(ctx, params.source);
        // Where the load certainly runs in this process, the encode threads start while the catalog is read:
        // booting a thread under tsx, loading the driver in it and connecting cost 0.7–0.9 CPU-seconds a thread, and
        // the catalog read of a large database (or of Babelfish: 1.2 s) leaves a core free meanwhile.
        if (!ctx.dryRun && (!ctx.fanOut || params.fan_out === 'never')) {
          encoded = new EncodingSource(rows, { threads });
          encoded.startThreads().catch(() => undefined);
        }
        return rows;
      };
      try {
        return await withConvertedSource(ctx, open, params, { refuse: 'copied' }, async ({ source: rows, conversion }) => {
          if (ctx.dryRun) return estimate(ctx, rows, conversion.mappings);
          encoded ??= new EncodingSource(rows, { threads });
          return await loadAndReconcile(ctx, {
            pool: ctx.connections.postgres(params.target),
            source: encoded,
            tables: conversion.mappings,
            chunkRows: params.chunk_rows,
            parallel: params.parallel,
            bookkeepingSchema: params.bookkeeping_schema,
            sessionTimeZone: sessionZone(params),
            sourceCounts: (t) => rows.countChunk(t, ALL),
            fanOut: params.fan_out,
          });
        });
      } finally {
        await encoded?.closeThreads();
      }
    },
  };
}

/**
 * --dry-run: introspect, convert and count, then time a sample read through
 * the encoder (the SQL Server side is normally the slower one) and
 * extrapolate. Nothing is written to the target.
 */
async function estimate(ctx: ActionContext, rows: SourceAdapter, tables: TableMapping[]): Promise<ActionResult> {
  const total = tables.reduce((sum, t) => sum + t.rowCount, 0);
  const biggest = [...tables].sort((a, b) => b.rowCount - a.rowCount)[0];
  const sample = biggest && biggest.rowCount > 0 ? await sampleRate(rows, biggest, ctx.signal) : null;
  const eta = sample && sample.rowsPerSecond > 0 ? formatDuration(total / sample.rowsPerSecond) : 'unknown (no rows to sample)';
  const how = sample ? ` from ${sample.rows.toLocaleString('en-US')} rows of ${biggest?.source.name} read and encoded at ${Math.round(sample.rowsPerSecond).toLocaleString('en-US')} rows/s` : '';
  return {
    summary: `Dry run: ${tables.length} tables, about ${total.toLocaleString('en-US')} rows; estimated copy time ${eta}${how}. Nothing was written.`,
    details: { tables: tables.map((t) => ({ table: `${t.source.schema}.${t.source.name}`, rows: t.rowCount })), sample },
  };
}

/** Reads up to 3 s or 50,000 rows of one table through the encoder and measures rows per second. */
async function sampleRate(rows: SourceAdapter, table: TableMapping, signal: AbortSignal): Promise<{ rows: number; seconds: number; rowsPerSecond: number }> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  let lines = 0;
  const chunk = await new EncodingSource(rows).openChunk(table, ALL, stop.signal);
  try {
    for await (const buf of chunk.stream as AsyncIterable<Buffer>) {
      for (const byte of buf) if (byte === 0x0a) lines++;
      if (lines >= 50_000 || performance.now() - started > 3000) break;
    }
  } finally {
    stop.abort();
    chunk.stream.destroy();
    signal.removeEventListener('abort', onAbort);
  }
  const seconds = (performance.now() - started) / 1000;
  return { rows: lines, seconds, rowsPerSecond: seconds > 0 ? lines / seconds : 0 };
}
