/**
 * The fold's cost on a long run (issue 12, part 5; goal: a click costs under
 * 5 ms of folding). A run of 10,000 events (a long load's progress reports)
 * is read from the in-memory store — each event parsed against the schema,
 * as both backends do — and folded: in full (what every read cost before the
 * fold cache) and through RunService's FoldCache after one more event (what a
 * read costs now). A click is one command decided and appended, then read
 * back twice (the renderer, the sweep): three reads, as web makes them. The
 * same click through a service whose cache keeps nothing is the "before".
 * Prints medians and the ratio.
 *
 *   npm run bench:fold [-- events]   (default 10000)
 */
import { MemoryRunStore } from '../config/memory/run-store.js';
import { runEventCodec } from '../runbook/event-schema.js';
import type { RunEvent } from '../runbook/events.js';
import type { Plan, PlanStep } from '../runbook/plan.js';
import type { JobQueue } from '../runbook/ports.js';
import { RunService } from '../runbook/run-service.js';
import { fold } from '../runbook/state.js';

const EVENTS = Number(process.argv[2] ?? 10_000);
const GOAL_MS = 5;
const ROUNDS = 15;
const RUN = 'bench-fold';

const step = (id: string): PlanStep => ({
  id,
  title: `Step ${id}`,
  phaseId: 'load',
  approve: 'dba',
  action: 'load',
  manual: false,
  plannedSeconds: 600,
  timeoutSeconds: null,
  confirm: null,
  skippableBy: [],
  description: null,
  gate: null,
});
const plan: Plan = {
  runbook: 'bench',
  title: 'Fold bench',
  roles: { dba: { id: 'dba', title: 'DBA', members: ['U1'], usergroups: [], minApprovals: 1, requesterMayApprove: true } },
  phases: [{ id: 'load', title: 'Load', plannedSeconds: null, steps: ['a', 'b', 'c', 'd'].map(step) }],
  permissions: { start: null, pause: null, resume: null, abort: null, rollback: null },
  rollbackScenarios: [],
};

const head: RunEvent[] = [
  { type: 'run.started', at: 1, runId: RUN, by: 'U1', channel: 'C1', dryRun: false, plan, runbookFile: 'bench.yaml', runbookText: 'title: Fold bench\n' },
  { type: 'step.approval_requested', at: 2, stepId: 'a', attempt: 1 },
  { type: 'step.approved', at: 3, stepId: 'a', attempt: 1, by: 'U1' },
  { type: 'step.queued', at: 4, stepId: 'a', attempt: 1, jobId: `${RUN}__a__1` },
  { type: 'step.started', at: 5, stepId: 'a', attempt: 1, resumed: false },
];
const progress = (i: number): RunEvent => ({
  type: 'step.progress',
  at: 10 + i,
  stepId: 'a',
  attempt: 1,
  message: `antrag: ${i * 1000} of 10000000 rows`,
  data: { table: 'antrag', rows: i * 1000, total: 10_000_000 },
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ms = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

const store = new MemoryRunStore<RunEvent>(Date.now, runEventCodec);
await store.create(RUN, 'bench', head);
await store.append(RUN, head.length, Array.from({ length: EVENTS - head.length }, (_, i) => progress(i)));
const queue: JobQueue = { enqueue: async () => undefined, state: async () => ({ state: 'missing' }) };
const updates = { publish: async () => undefined };
const cached = new RunService({ store, queue, updates });
const uncached = new RunService({ store, queue, updates, foldCacheSize: 0 });
let at = EVENTS + 100;
const click = async (service: RunService): Promise<void> => {
  const outcome = await service.execute(RUN, { type: 'report.progress', at: at++, stepId: 'a', attempt: 1, message: 'one more chunk' });
  if (!outcome.ok) throw new Error(outcome.message);
  await service.load(RUN);
  await service.load(RUN);
};

await cached.load(RUN); // the first read folds everything once
const parsed = (await store.load(RUN)).events;
const foldOnly: number[] = [];
const full: number[] = [];
const incremental: number[] = [];
const before: number[] = [];
const after: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  foldOnly.push(await ms(async () => fold(parsed)));
  full.push(await ms(async () => fold((await store.load(RUN)).events)));
  await store.append(RUN, (await store.load(RUN)).version, [progress(EVENTS + round)]);
  incremental.push(await ms(() => cached.load(RUN)));
  before.push(await ms(() => click(uncached)));
  const foldedBefore = cached.folds.folded;
  after.push(await ms(() => click(cached)));
  if (cached.folds.folded - foldedBefore > 3) throw new Error(`a cached click folded ${cached.folds.folded - foldedBefore} events`);
}

const line = (label: string, value: number) => console.log(`${label.padEnd(52)} ${value.toFixed(2).padStart(9)} ms`);
console.log(`fold of a ${EVENTS}-event run (median of ${ROUNDS}; each read parses what it folds)`);
line('full fold of events already parsed', median(foldOnly));
line('read + full fold (every read, before)', median(full));
line('read + cached fold after one new event (now)', median(incremental));
line('one click, 3 reads, full folds (before)', median(before));
line('one click, 3 reads, cached folds (now)', median(after));
console.log(`ratio: a click folds ${(median(before) / median(after)).toFixed(0)}× cheaper (${median(before).toFixed(1)} ms → ${median(after).toFixed(2)} ms); goal under ${GOAL_MS} ms: ${median(after) < GOAL_MS ? 'met' : 'NOT met'}`);
