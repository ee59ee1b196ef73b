import { pino } from 'pino';
import type { ActionContext } from '../engine/action.js';
import { ConnectionRegistry, type ConnectionSpec } from '../engine/connections.js';

/** The PostgreSQL the benchmarks load into, as the test suite names it. */
export const BENCH_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** An ActionContext for running one action outside a worker: silent log, no progress, never aborted. */
export function benchContext(runId: string, stepId: string, specs: Record<string, ConnectionSpec> = { target: { kind: 'postgres', url: BENCH_DATABASE_URL } }): ActionContext {
  return {
    runId,
    stepId,
    attempt: 1,
    dryRun: false,
    effectKey: null,
    connections: new ConnectionRegistry(specs),
    sqlDir: '',
    signal: new AbortController().signal,
    progress: () => {},
    stepRecord: () => null,
    log: pino({ level: 'silent' }),
  };
}
