import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../local/free-port.js';
import { RedisRunStore } from '../../config/redis-run-store.js';
import type { RunEvent } from '../../runbook/events.js';
import { runEventCodec } from '../../runbook/event-schema.js';
import { fold, type RunState } from '../../runbook/state.js';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const SIGNING_SECRET = 'e2e-signing-secret-0123456789';
export const BOT_TOKEN = 'xoxb-fake';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export { freePort };

/**
 * How long a process may take to say it is ready: tsx compiles the product at
 * start, which on a loaded 2-core machine took over 20 s. A bound, not a wait:
 * it returns as soon as the line appears.
 */
const STARTUP_MS = 90_000;

/** A real `web` or `worker` process of the product, started as the Procfile would. */
export class ProductProcess {
  readonly output: string[] = [];
  private exited: Promise<number | null>;

  constructor(readonly name: string, readonly child: ChildProcess) {
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  static start(name: string, entry: string, env: Record<string, string>, args: string[] = []): ProductProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new ProductProcess(name, child);
  }

  // Generous: on a machine shared by many test runs a process has taken over 20 s to start; a healthy one returns at once.
  async waitForLog(fragment: string, timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.output.some((l) => l.includes(fragment))) return;
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}):\n${this.output.join('\n')}`);
      await sleep(50);
    }
    throw new Error(`${this.name} did not log "${fragment}" within ${timeoutMs} ms:\n${this.output.slice(-30).join('\n')}`);
  }

  /** Resolves with the exit code once the process has ended. */
  exitCode(): Promise<number | null> {
    return this.exited;
  }

  /** SIGKILL: the process gets no chance to clean up, as in a crash or an OOM kill. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null) this.child.kill(signal);
    await this.exited;
  }
}

export interface Installation {
  prefix: string;
  port: number;
  botUrl: string;
  runbooksDir: string;
  env: Record<string, string>;
  redis: Redis;
  store: RedisRunStore<RunEvent>;
  /** `extra` overrides env, e.g. another PORT for a second web process on the same Redis prefix. */
  startWeb(extra?: Record<string, string>): Promise<ProductProcess>;
  startWorker(extra?: Record<string, string>): Promise<ProductProcess>;
  state(runId: string): Promise<RunState | null>;
  events(runId: string): Promise<RunEvent[]>;
  activeRunId(runbook: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** One isolated installation: its own Redis prefix, runbooks directory and port, pointed at a fake Slack (and at another Redis when given). */
export async function createInstallation(slackApiUrl: string, runbooks: Record<string, string>, opts: { redisUrl?: string } = {}): Promise<Installation> {
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const prefix = `e2e-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const runbooksDir = await mkdtemp(join(tmpdir(), 'cutover-runbooks-'));
  for (const [name, text] of Object.entries(runbooks)) await writeFile(join(runbooksDir, `${name}.yaml`), text);
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slackApiUrl,
    PORT: String(port),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    RUNBOOKS_DIR: runbooksDir,
    TEST_DATABASE_URL,
    LOG_LEVEL: 'info',
    RECONCILE_INTERVAL_MS: '1000',
    RENDER_INTERVAL_MS: '100',
    SLACK_POST_INTERVAL_MS: '20',
    WORKER_LOCK_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    // Several workers of one test (and other checkouts' suites) must not contend for the default 9464; metrics tests pass their own.
    WORKER_METRICS_PORT: '0',
  };
  const redis = new Redis(redisUrl);
  // A test that stops its own Redis must not die of an unhandled 'error' event on this connection; commands still fail.
  redis.on('error', () => {});
  const store = new RedisRunStore<RunEvent>(redis, prefix, runEventCodec);
  const processes: ProductProcess[] = [];
  const installation: Installation = {
    prefix,
    port,
    botUrl: `http://127.0.0.1:${port}`,
    runbooksDir,
    env,
    redis,
    store,
    async startWeb(extra = {}) {
      const web = ProductProcess.start('web', 'app/web.ts', { ...env, ...extra });
      processes.push(web);
      await web.waitForLog('web ready', STARTUP_MS);
      return web;
    },
    async startWorker(extra = {}) {
      const worker = ProductProcess.start('worker', 'app/worker.ts', { ...env, ...extra });
      processes.push(worker);
      await worker.waitForLog('worker ready', STARTUP_MS);
      return worker;
    },
    async state(runId) {
      return fold((await store.load(runId)).events);
    },
    async events(runId) {
      return (await store.load(runId)).events;
    },
    async activeRunId(runbook) {
      const found = (await store.active()).find((a) => a.runbook === runbook);
      if (!found) throw new Error(`no active run of ${runbook}`);
      return found.runId;
    },
    async cleanup() {
      await Promise.all(processes.map((p) => p.kill('SIGTERM')));
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
  return installation;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls an async condition (Redis, PostgreSQL) until it holds. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms`, { cause: last });
}
