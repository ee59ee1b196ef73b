import { z } from 'zod';
import { connectionName, oneSource, snapshotDir } from './common-params.js';
import { conversionOptionsSchema } from './conversion-params.js';
import { defineAction, readsSnapshot, type CrashRecovery } from './spec.js';

export const schemaApplyParams = conversionOptionsSchema
  .extend({
    /** Read the schema from a live source connection or from a snapshot's manifest. */
    source: connectionName.optional(),
    snapshot: snapshotDir.optional(),
    target: connectionName,
    /** pre-load: bare tables; post-load: keys, indexes, checks, foreign keys, identity sequences. */
    phase: z.enum(['pre-load', 'post-load']),
    /** pre-load only: drop target tables that already exist (a rehearsal's leftovers) instead of refusing. */
    replace: z.boolean().default(false),
  })
  .strict()
  .refine((p) => (p.source === undefined) !== (p.snapshot === undefined), oneSource);
export type SchemaApplyParams = z.infer<typeof schemaApplyParams>;

export const schemaApplySpec = defineAction({
  id: 'schema.apply',
  summary: 'create the converted tables (pre-load) or their keys, indexes, checks and foreign keys (post-load)',
  params: schemaApplyParams,
  // pre-load commits in one transaction (with its ledger row); post-load builds indexes on several connections, each statement committing alone.
  recovery: (p: SchemaApplyParams): CrashRecovery =>
    p.phase === 'pre-load'
      ? { kind: 'ledger', connection: p.target }
      : { kind: 'ask', why: 'post-load statements commit one by one on several connections, so a re-run would meet the keys and indexes the first run built' },
  connections: (p: SchemaApplyParams) => [p.target, ...(p.source ? [p.source] : [])],
  snapshot: readsSnapshot,
});
