import { assessHealth } from '../../runbook/health-alert.js';
import type { HealthPolicy } from '../../runbook/health-policy.js';
import { emptyHealth, type DatabaseHealth, type HeadBlocker, type HealthSample, type WaitingSession } from '../../runbook/health-sample.js';

/** Fixture factories for health samples, with overridable defaults. */

export const POLICY: HealthPolicy = { enabled: true, intervalSeconds: 15, blockSeconds: 60, lockWaitSeconds: 60, longStatementSeconds: 600 };

/** Our load (pid 4711) waiting 90 s on a relation lock held by pid 4690. */
export function waiter(overrides: Partial<WaitingSession> = {}): WaitingSession {
  return {
    session: 4711,
    ours: true,
    waitSeconds: 90,
    waitType: 'Lock:relation',
    lockWait: true,
    blockedBy: [4690],
    headBlocker: 4690,
    who: 'cutover · postgres@127.0.0.1',
    statement: 'COPY "kgv"."antrag" FROM STDIN',
    ...overrides,
  };
}

/** pid 4690: psql, idle in its transaction for 5 minutes. */
export function head(overrides: Partial<HeadBlocker> = {}): HeadBlocker {
  return { session: 4690, ours: false, who: 'psql · bob@10.0.0.5', state: 'idle in transaction', xactSeconds: 300, statement: "LOCK TABLE kgv.antrag IN ACCESS EXCLUSIVE MODE", blocking: 1, ...overrides };
}

export function database(overrides: Partial<DatabaseHealth> = {}): DatabaseHealth {
  return { ...emptyHealth('target', 'postgres'), sessions: { total: 4, active: 2, idleInTransaction: 1 }, deadlocks: 0, ...overrides };
}

/** A database where our load is blocked for `seconds` by pid 4690. */
export const blockedFor = (seconds: number, overrides: Partial<DatabaseHealth> = {}): DatabaseHealth =>
  database({ waiting: [waiter({ waitSeconds: seconds })], waitingTotal: 1, heads: [head()], ...overrides });

/** A sample of the given databases, assessed against POLICY as the worker does. */
export function sampleOf(databases: DatabaseHealth[], at = 0, policy: HealthPolicy = POLICY): HealthSample {
  return { at, databases, findings: assessHealth(databases, policy), complete: databases.every((d) => d.error === null) };
}
