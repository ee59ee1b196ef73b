import type { z } from 'zod';
import { connectionName, snapshotDir } from './common-params.js';
import { conversionOptionsSchema, loadOptions } from './conversion-params.js';
import { defineAction, holdsSnapshot, rerun } from './spec.js';

export const extractParams = conversionOptionsSchema
  .extend({ source: connectionName, dir: snapshotDir, chunk_rows: loadOptions.chunk_rows, parallel: loadOptions.parallel })
  .strict();
export type ExtractParams = z.infer<typeof extractParams>;

export const extractSpec = defineAction({
  id: 'extract',
  watchHealth: true,
  summary: 'write a verified snapshot of SQL Server tables to a directory (first hop of a two-hop load)',
  params: extractParams,
  recovery: rerun('it only reads the source; each snapshot file is written under a temporary name and renamed once complete'),
  connections: (p: ExtractParams) => [p.source],
  snapshot: holdsSnapshot,
});
