import { z } from 'zod';
import { defineAction, rerun } from './spec.js';

export const manualParams = z
  .object({ checklist: z.array(z.string()).optional() })
  .strict()
  .default({});
export type ManualParams = z.infer<typeof manualParams>;

export const manualSpec = defineAction({
  id: 'manual',
  summary: 'a checklist item: its approval is its completion',
  params: manualParams,
  recovery: rerun('a checklist item has no effect of its own'),
  connections: () => [],
});
