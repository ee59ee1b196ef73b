import { z } from 'zod';
import { connectionName } from './common-params.js';
import { conversionOptionsSchema, loadOptions } from './conversion-params.js';
import { defineAction } from './spec.js';

export const etlCopyParams = conversionOptionsSchema
  .extend({
    source: connectionName,
    target: connectionName,
    ...loadOptions,
    /** Threads that read and encode chunks (default: as many as `parallel`); 0 does it all on the worker's own thread. */
    threads: z.number().int().min(0).max(16).optional(),
  })
  .strict();
export type EtlCopyParams = z.infer<typeof etlCopyParams>;

export const etlCopySpec = defineAction({
  id: 'etl.copy',
  watchHealth: true,
  summary: 'stream tables from SQL Server into PostgreSQL with COPY, checkpointed per chunk',
  params: etlCopyParams,
  recovery: () => ({ kind: 'resumes', why: 'each chunk commits with its checkpoint; a re-run skips the booked chunks' }),
  connections: (p: EtlCopyParams) => [p.source, p.target],
});
