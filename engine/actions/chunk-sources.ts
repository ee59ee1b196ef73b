import type pg from 'pg';
import { etlCopyParams } from '../../runbook/actions/etl-copy.js';
import { loadParams } from '../../runbook/actions/load.js';
import type { ActionContext } from '../action.js';
import type { EncodedSource } from '../etl/contracts.js';
import { EncodingSource } from '../etl/encoding-source.js';
import { SnapshotSource } from '../snapshot/reader.js';
import { openMssqlSource, type RowSourceFactory } from './etl-sources.js';

/** What a chunk worker loads a fanned-out step's chunks from and into; closed when the step's chunks stop coming. */
export interface ChunkSource {
  source: EncodedSource;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Opens, for a step whose action fans its chunks out, the same source and target the step job planned with. */
export type ChunkSourceOpener = (ctx: ActionContext, params: unknown) => Promise<ChunkSource>;

/**
 * One opener per action that fans out: etl.copy reads SQL Server (encode
 * threads as the step asks), load reads the snapshot directory (verified by
 * the step job before it added any chunk). A factory, so tests hand etl.copy
 * another row source.
 */
export function chunkSourceOpeners(openRows: RowSourceFactory = openMssqlSource): Record<string, ChunkSourceOpener> {
  return {
    'etl.copy': async (ctx, raw) => {
      const params = etlCopyParams.parse(raw);
      const rows = await openRows(ctx, params.source);
      const encoded = new EncodingSource(rows, { threads: params.threads ?? params.parallel });
      return {
        source: encoded,
        pool: ctx.connections.postgres(params.target),
        close: async () => {
          await encoded.closeThreads();
          await rows.close();
        },
      };
    },
    load: async (ctx, raw) => {
      const params = loadParams.parse(raw);
      const snapshot = await SnapshotSource.open(params.dir);
      return { source: snapshot, pool: ctx.connections.postgres(params.target), close: () => snapshot.close() };
    },
  };
}
