import type { Comparison } from '../../runbook/compare.js';
import type { RunEvent } from '../../runbook/events.js';
import type { LoadInput } from '../../runbook/load.js';
import type { Names } from '../../runbook/report/index.js';
import type { RunState } from '../../runbook/state.js';

/** What web asks its heavy-work thread, and what comes back (structured-cloned both ways). */
export type HeavyRequest =
  | { id: number; task: 'report-files'; args: { state: RunState; events: readonly RunEvent[]; now: number; comparison: Comparison | null; names: Names } }
  /** Without `actions`: the thread validates against the built-in catalogue. */
  | { id: number; task: 'load-runbook'; args: Omit<LoadInput, 'actions'> };

export type HeavyReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string; stack: string | undefined };
