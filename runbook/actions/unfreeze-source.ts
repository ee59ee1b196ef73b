import { z } from 'zod';
import { defineAction, rerun } from './spec.js';

const stepId = z.string().min(1, 'expected the id of a step of this runbook');

export const unfreezeSourceParams = z
  .object({
    /** The freeze.source step to undo; its connection, database, roles and undo statements are used. */
    freeze_step: stepId,
  })
  .strict();
export type UnfreezeSourceParams = z.infer<typeof unfreezeSourceParams>;

export const unfreezeSourceSpec = defineAction({
  id: 'unfreeze.source',
  summary: 'undo a freeze.source step: the source database read-write and its application logins enabled again, proven by a write probe',
  params: unfreezeSourceParams,
  // A rollback must get the source back without waiting for a person; the runbook's undo statements are therefore required to bear a second run (docs/crash-recovery.md).
  recovery: rerun('a re-run puts the source back in service again: the built-in undo sets the same settings again, the runbook\'s undo statements run again, and the result is proven again'),
  // The connection is the freeze step's, checked there.
  connections: () => [],
  stepRefs: (p: UnfreezeSourceParams) => [{ field: 'freeze_step', stepId: p.freeze_step, actions: ['freeze.source'], earlier: false }],
});
