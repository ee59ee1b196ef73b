import { z } from 'zod';
import { snapshotDir } from './common-params.js';
import { defineAction, holdsSnapshot, READS_ONLY } from './spec.js';

/** Seed 000 step 2.2: check a transferred snapshot before the window relies on it. */
export const snapshotVerifyParams = z
  .object({
    dir: snapshotDir,
    /** Also decompress every chunk and check its row count and row hash (not only the files' sha256). */
    content: z.boolean().default(true),
  })
  .strict();
export type SnapshotVerifyParams = z.infer<typeof snapshotVerifyParams>;

export const snapshotVerifySpec = defineAction({
  id: 'snapshot.verify',
  summary: 'check every file of a snapshot directory against its manifest (sha256, and row counts and row hashes)',
  params: snapshotVerifyParams,
  recovery: READS_ONLY,
  connections: () => [],
  snapshot: holdsSnapshot,
});
