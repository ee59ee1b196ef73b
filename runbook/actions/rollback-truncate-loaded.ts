import { z } from 'zod';
import { connectionName } from './common-params.js';
import { defineAction, type CrashRecovery } from './spec.js';

export const truncateLoadedParams = z
  .object({
    target: connectionName,
    /** Schema of the ETL bookkeeping (cutover_etl.chunks) on the target. */
    etl_schema: z.string().min(1).default('cutover_etl'),
  })
  .strict();
export type TruncateLoadedParams = z.infer<typeof truncateLoadedParams>;

export const rollbackTruncateLoadedSpec = defineAction({
  id: 'rollback.truncate_loaded',
  summary: 'pre-go-live rollback: truncate exactly the tables this run loaded, keeping the schema',
  params: truncateLoadedParams,
  recovery: (p: TruncateLoadedParams): CrashRecovery => ({ kind: 'ledger', connection: p.target }),
  connections: (p: TruncateLoadedParams) => [p.target],
});
