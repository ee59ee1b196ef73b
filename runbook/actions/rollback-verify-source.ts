import { z } from 'zod';
import { connectionName } from './common-params.js';
import { defineAction, READS_ONLY } from './spec.js';

export const verifySourceParams = z
  .object({
    source: connectionName,
    sql: z.string().min(1).default('SELECT 1'),
    /**
     * A rollback.export_since_golive step whose replay script was run on the source: each of its tables must
     * now hold the rows the target held (the script's own "rows after" figures).
     */
    export_step: z.string().min(1, 'expected the id of the rollback.export_since_golive step').optional(),
  })
  .strict();
export type VerifySourceParams = z.infer<typeof verifySourceParams>;

export const rollbackVerifySourceSpec = defineAction({
  id: 'rollback.verify_source',
  summary: 'check that the source database still answers a query (and, after a replay, holds the rows the target held)',
  params: verifySourceParams,
  recovery: READS_ONLY,
  connections: (p: VerifySourceParams) => [p.source],
  stepRefs: (p: VerifySourceParams) => (p.export_step ? [{ field: 'export_step', stepId: p.export_step, actions: ['rollback.export_since_golive'], earlier: false, inScenario: true }] : []),
});
