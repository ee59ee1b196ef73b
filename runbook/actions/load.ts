import { z } from 'zod';
import { connectionName, snapshotDir } from './common-params.js';
import { conversionOptionsSchema, loadOptions } from './conversion-params.js';
import { defineAction, holdsSnapshot } from './spec.js';

export const loadParams = z
  .object({
    dir: snapshotDir,
    target: connectionName,
    /** Only these of the snapshot's tables (source name, "dbo.Antrag" or "Antrag", case-insensitive): one group of a load split over steps. */
    tables: conversionOptionsSchema.shape.tables,
    parallel: loadOptions.parallel,
    bookkeeping_schema: loadOptions.bookkeeping_schema,
    fan_out: loadOptions.fan_out,
    /** Must match the extract's conversion: wall-clock times read as instants in this zone. */
    timezone: conversionOptionsSchema.shape.timezone,
  })
  .strict();
export type LoadParams = z.infer<typeof loadParams>;

export const loadSpec = defineAction({
  id: 'load',
  watchHealth: true,
  summary: 'verify a snapshot directory and load it into PostgreSQL, checkpointed per chunk',
  params: loadParams,
  recovery: () => ({ kind: 'resumes', why: 'each chunk commits with its checkpoint; a re-run skips the booked chunks' }),
  connections: (p: LoadParams) => [p.target],
  snapshot: holdsSnapshot,
});
