import { z } from 'zod';
import { defineAction, type CrashRecovery } from './spec.js';

export const shellParams = z
  .object({
    argv: z.array(z.string()).min(1, 'expected an argv array with at least the program'),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    ok_exit_codes: z.array(z.number().int()).default([0]),
    /** Mark true only when running the command twice is harmless. */
    idempotent: z.boolean().default(false),
  })
  .strict();
export type ShellParams = z.infer<typeof shellParams>;

export const shellSpec = defineAction({
  id: 'shell',
  summary: 'run a program with arguments from the runbook (never from chat)',
  params: shellParams,
  recovery: (p: ShellParams): CrashRecovery =>
    p.idempotent ? { kind: 'rerun', why: 'the runbook marks the command idempotent' } : { kind: 'ask', why: 'a command may have taken effect before the worker stopped, and it is not marked idempotent' },
  connections: () => [],
});
