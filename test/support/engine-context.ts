import { pino } from 'pino';
import type { ActionContext } from '../../engine/action.js';
import { ConnectionRegistry, type ConnectionSpec } from '../../engine/connections.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The test database URL with a password in it; trust auth ignores it, so it connects and can leak. */
export function urlWithPassword(password: string, base = TEST_DATABASE_URL): string {
  const u = new URL(base);
  u.password = password;
  return u.toString();
}

export interface TestContext extends ActionContext {
  progressed: Array<{ message: string; data?: Record<string, unknown> }>;
  controller: AbortController;
}

/** An ActionContext with overridable defaults; progress messages are collected for assertions. */
export function actionContext(overrides: Partial<ActionContext> & { connectionSpecs?: Record<string, ConnectionSpec> } = {}): TestContext {
  const { connectionSpecs, ...rest } = overrides;
  const controller = new AbortController();
  const progressed: TestContext['progressed'] = [];
  return {
    runId: 'run-test',
    stepId: 'step-test',
    attempt: 1,
    dryRun: false,
    connections: new ConnectionRegistry(connectionSpecs ?? { target: { kind: 'postgres', url: TEST_DATABASE_URL } }),
    sqlDir: '/nonexistent-sql-dir',
    signal: controller.signal,
    progress: (message, data) => progressed.push({ message, data }),
    stepRecord: () => null,
    log: pino({ level: 'silent' }),
    ...rest,
    effectKey: rest.effectKey ?? null,
    progressed,
    controller,
  };
}

/** Runs fn and returns what it threw (failing when it did not throw), for asserting on codes and sentences. */
export async function thrown(fn: () => Promise<unknown>): Promise<Error & { code?: string; userMessage?: string; details?: Record<string, unknown> }> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`expected an Error, got ${String(err)}`);
  }
  throw new Error('expected the call to throw, it resolved');
}
