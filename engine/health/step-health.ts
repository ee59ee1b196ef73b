import type mssql from 'mssql';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ActionSpec } from '../../runbook/action-catalog.js';
import type { HealthPolicy } from '../../runbook/health-policy.js';
import type { HealthSample } from '../../runbook/health-sample.js';
import type { ConnectionRegistry } from '../connections.js';
import { diskProbeFor } from './disk.js';
import { MssqlHealth } from './mssql-health.js';
import { HEALTH_PROGRAM } from './mssql-health-sql.js';
import { HEALTH_APP } from './pg-health-sql.js';
import { PostgresHealth } from './pg-health.js';
import { watchHealth, type DatabaseProbe } from './sampler.js';

export interface StepHealthInput {
  spec: Pick<ActionSpec<unknown>, 'watchHealth' | 'connections'>;
  params: unknown;
  /** The runbook's `health:` block. */
  policy: HealthPolicy;
  connections: ConnectionRegistry;
  /** The step's signal: the watch stops with the step whatever ends it. */
  signal: AbortSignal;
  report: (sample: HealthSample) => Promise<void>;
  log: Logger;
  heartbeatMs?: number;
}

export interface StepHealthWatch {
  /** Stops sampling and closes the watch's own connections; resolves when both are done. Never rejects. */
  stop(): Promise<void>;
}

const idle: StepHealthWatch = { stop: async () => undefined };

/**
 * Starts the health watch of one step when its action is long database work
 * (the catalog's `watchHealth`) and the runbook has not switched it off. It
 * samples the connections the step's params name, on connections of its own
 * (application_name / program_name "cutover-health"), so a load holding
 * every pooled connection cannot starve it and it never shows up as a waiter.
 */
export function startStepHealth(input: StepHealthInput): StepHealthWatch {
  if (!input.spec.watchHealth || !input.policy.enabled) return idle;
  const names = [...new Set(input.spec.connections(input.params))];
  if (names.length === 0) return idle;
  const stopper = new AbortController();
  const onStepEnd = () => stopper.abort();
  input.signal.addEventListener('abort', onStepEnd, { once: true });
  const probes = names.map((name) => (input.connections.kind(name) === 'postgres' ? postgresProbe(input, name) : mssqlProbe(input, name)));
  const done = watchHealth({
    probes,
    policy: input.policy,
    report: input.report,
    signal: stopper.signal,
    redact: (text) => input.connections.redact(text),
    log: input.log.child({ component: 'health' }),
    ...(input.heartbeatMs !== undefined ? { heartbeatMs: input.heartbeatMs } : {}),
  });
  return {
    async stop() {
      stopper.abort();
      input.signal.removeEventListener('abort', onStepEnd);
      await done;
    },
  };
}

/** A statement of the watch never runs longer than this: it is a glance, not work. */
const STATEMENT_TIMEOUT_MS = 10_000;

function postgresProbe(input: StepHealthInput, name: string): DatabaseProbe {
  let client: pg.Client | null = null;
  const port = {
    async query<R extends object>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> {
      if (!client) {
        const fresh = input.connections.postgresClient(name, { application_name: HEALTH_APP, statement_timeout: STATEMENT_TIMEOUT_MS });
        fresh.on('error', () => undefined);
        client = fresh;
        await fresh.connect();
      }
      const result = await client.query(sql, params);
      return { rows: result.rows as R[] };
    },
  };
  const health = new PostgresHealth(port, { connection: name, longStatementSeconds: input.policy.longStatementSeconds, disk: diskProbeFor(input.connections.describe(name)) });
  return {
    connection: name,
    kind: 'postgres',
    sample: () => health.sample(),
    async reset() {
      const old = client;
      client = null;
      await old?.end().catch(() => undefined);
    },
  };
}

function mssqlProbe(input: StepHealthInput, name: string): DatabaseProbe {
  let session: Promise<mssql.ConnectionPool> | null = null;
  const port = {
    async query(sql: string, inputs: Record<string, number> = {}) {
      session ??= input.connections.mssqlSession(name, { appName: HEALTH_PROGRAM, requestTimeout: STATEMENT_TIMEOUT_MS });
      const request = (await session).request();
      for (const [key, value] of Object.entries(inputs)) request.input(key, value);
      const result = await request.query(sql);
      const sets = result.recordsets as unknown as Array<Array<Record<string, unknown>>>;
      return Array.isArray(sets) ? sets : [];
    },
  };
  const health = new MssqlHealth(port, { connection: name, longStatementSeconds: input.policy.longStatementSeconds });
  return {
    connection: name,
    kind: 'mssql',
    sample: () => health.sample(),
    async reset() {
      const old = session;
      session = null;
      await old?.then((p) => p.close()).catch(() => undefined);
    },
  };
}
