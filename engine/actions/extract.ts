import type { ExtractParams } from '../../runbook/actions/extract.js';
import type { ActionImpl } from '../action.js';
import type { ChunkSpec, TableMapping } from '../etl/contracts.js';
import { SnapshotWriter } from '../snapshot/writer.js';
import { withConvertedSource } from './converted-source.js';
import { inParallel, openMssqlSource, type RowSourceFactory } from './etl-sources.js';

/**
 * Seed 000 phases 2–3, first hop: writes a snapshot directory where SQL
 * Server is (manifest with sha256 per file and row hash per chunk, COPY text
 * gzipped per chunk) for `load` to verify and load where PostgreSQL is.
 */
export function extractAction(openSource: RowSourceFactory = openMssqlSource): ActionImpl<ExtractParams> {
  return {
    id: 'extract',
    async run(ctx, params) {
      // Extract has only ever reported its chunks, not the catalog read; kept so its thread reads as before.
      return withConvertedSource(ctx, () => openSource(ctx, params.source), params, { refuse: 'extracted', announce: false }, async ({ source: rows, model, conversion }) => {
        const work: Array<{ table: TableMapping; chunk: ChunkSpec }> = [];
        for (const table of conversion.mappings) {
          for (const chunk of await rows.planChunks(table, params.chunk_rows)) work.push({ table, chunk });
        }
        if (ctx.dryRun) return { summary: `Dry run: would extract ${conversion.mappings.length} tables in ${work.length} chunks to ${params.dir}.` };
        const writer = new SnapshotWriter(params.dir);
        let done = 0;
        let written = 0;
        let quarantined = 0;
        await inParallel(work, params.parallel, async ({ table, chunk }) => {
          const entry = await writer.writeChunk(table, chunk, rows.readChunk(table, chunk, ctx.signal), ctx.signal);
          done++;
          written += entry.rows;
          quarantined += entry.quarantined;
          ctx.progress(`Extracted ${done}/${work.length} chunks, ${written.toLocaleString('en-US')} rows`);
        });
        const manifest = await writer.finish(model, conversion.mappings);
        return {
          summary: `Extracted ${written.toLocaleString('en-US')} rows of ${conversion.mappings.length} tables into ${work.length} verified files in ${params.dir}${quarantined ? `; ${quarantined} rows quarantined` : ''}.`,
          details: { dir: params.dir, rows: written, quarantined, chunks: work.length, createdAt: manifest.createdAt },
        };
      });
    },
  };
}
