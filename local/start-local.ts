import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { StateBackend } from '../config/backend.js';
import { loadEnv, type Env } from '../config/env.js';
import { redactRedisUrl } from '../config/job-queue.js';
import { redactSecrets } from '../config/logger.js';
import { openMemoryBackend } from '../config/memory/backend.js';
import { openRedisBackend } from '../config/redis-backend.js';
import { RunbookFiles } from '../config/runbook-files.js';
import { startWeb, type WebProcess } from '../bot/web.js';
import { DEFAULT_SAMPLE_DIR, ensureKgvSample } from '../engine/sample/kgv/index.js';
import { createActions } from '../engine/actions/index.js';
import { openConnections } from '../engine/connections.js';
import { startWorker, type WorkerProcess } from '../engine/worker.js';
import type { Runbook } from '../runbook/load.js';
import { startLocalWorkspace, type LocalWorkspace } from '../workspace/local-workspace.js';
import { startEmbeddedPostgres, type LocalPostgres } from './embedded-postgres.js';
import { peopleFromRunbooks } from './people.js';
import { redisAnswers } from './redis-probe.js';
import { CutoverError } from '../runbook/errors.js';

export interface LocalProcess {
  readonly url: string;
  readonly backend: StateBackend;
  /** Stops in order: the page, web, worker (waiting for running steps), the backend, the embedded PostgreSQL. */
  stop(): Promise<void>;
}

/**
 * Unless told otherwise: the local workspace has no rate limits, so render and post faster than Slack
 * allows; and rehearsal runs on a shared Redis keep apart from a real installation's keys.
 */
const LOCAL_DEFAULTS: Record<string, string> = { RENDER_INTERVAL_MS: '250', SLACK_POST_INTERVAL_MS: '50', REDIS_PREFIX: 'cutover-local' };

/**
 * `npm start` without Slack credentials: web + worker + the local rehearsal
 * workspace in one process, with the KGV sample that kgv-local.yaml rehearses
 * against in KGV_SAMPLE_DIR (default var/kgv-sample). PostgreSQL: DATABASE_URL if set, else the
 * embedded one under LOCAL_DATA_DIR (default var/local); DATABASE_URL is set
 * in this process's environment before any runbook is read, so runbooks name
 * it as `${DATABASE_URL}`. State: Redis when one answers at REDIS_URL, else
 * in this process (not durable, and the page says so). The bot and worker
 * are the production ones, talking to the workspace as they would to Slack.
 */
export async function startLocal(log: Logger, source: NodeJS.ProcessEnv = process.env): Promise<LocalProcess> {
  const token = `xoxb-local-${randomBytes(12).toString('hex')}`;
  const signingSecret = randomBytes(24).toString('hex');
  const withDefaults = { ...LOCAL_DEFAULTS, ...source, SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: signingSecret, SLACK_APP_TOKEN: '' };
  const configured = loadEnv(withDefaults); // every bad variable reported before anything starts
  const started: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of started.reverse()) await stop().catch((err: unknown) => log.error({ err }, 'stopping a local part failed'));
  };
  try {
    const database = await localDatabase(source, log);
    if (database.embedded) started.push(() => database.embedded?.stop() ?? Promise.resolve());
    const backend = await localBackend(configured, log);
    started.push(() => backend.close());
    await kgvSample(source, log);
    const runbooks = await loadableRunbooks(configured.RUNBOOKS_DIR, log);
    const { people, usergroups } = peopleFromRunbooks(runbooks);
    const workspace: LocalWorkspace = await startLocalWorkspace({
      port: configured.PORT,
      token,
      people,
      usergroups,
      about: {
        durable: backend.durable,
        state: backend.kind === 'redis' ? `Redis at ${redactRedisUrl(configured.REDIS_URL)} (prefix ${configured.REDIS_PREFIX})` : 'in-process memory',
        database: database.description,
        runbooks: runbooks.map((r) => r.name),
      },
      // With runs kept in Redis, the messages they refer to must outlive a restart too.
      ...(backend.durable ? { storeDir: resolve(source.LOCAL_DATA_DIR || 'var/local', `workspace-${configured.REDIS_PREFIX}`) } : {}),
      onError: (err) => log.error({ err }, 'local workspace: handler failed'),
    });
    started.push(() => workspace.close());
    const env: Env = { ...configured, SLACK_API_URL: workspace.apiUrl, PORT: 0 };
    // One process, one metrics registry: the bot serves it (on its private port), the worker opens none.
    const worker: WorkerProcess = await startWorker(env, log.child({ process: 'worker' }), backend, createActions({ connections: openConnections }), { metricsServer: false });
    started.push(() => worker.stop());
    const web: WebProcess = await startWeb(env, log, backend, { host: '127.0.0.1' }); // only the workspace talks to it
    started.push(() => web.stop());
    if (web.port === null) throw new CutoverError('local.no_http_port', 'the bot did not open an HTTP port');
    workspace.connectBot({ url: `http://127.0.0.1:${web.port}`, signingSecret });
    const url = `http://localhost:${workspace.port}`;
    log.info({ url, state: backend.kind, durable: backend.durable, people: people.length }, 'local workspace ready');
    printBanner(url, backend, database.description, people.length);
    return { url, backend, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function localDatabase(source: NodeJS.ProcessEnv, log: Logger): Promise<{ description: string; embedded: LocalPostgres | null }> {
  if (source.DATABASE_URL) return { description: `DATABASE_URL (${redactSecrets(source.DATABASE_URL)})`, embedded: null };
  const dataDir = resolve(source.LOCAL_DATA_DIR || 'var/local', 'postgres');
  const embedded = await startEmbeddedPostgres({
    dataDir,
    log: log.child({ component: 'embedded-postgres' }),
    ...(source.LOCAL_SHARED_DIR ? { sharedDir: resolve(source.LOCAL_SHARED_DIR) } : {}),
  });
  // Runbooks read it through ${DATABASE_URL}; set before the first runbook is loaded.
  process.env.DATABASE_URL = embedded.url;
  return { description: `embedded PostgreSQL in ${embedded.dataDir} (${redactSecrets(embedded.url)})`, embedded };
}

/** kgv-local.yaml rehearses against the KGV sample: make sure it is there (generated once, verified on every start). */
async function kgvSample(source: NodeJS.ProcessEnv, log: Logger): Promise<void> {
  const sample = await ensureKgvSample(source.KGV_SAMPLE_DIR || DEFAULT_SAMPLE_DIR);
  log.info({ dir: sample.dir, created: sample.created }, sample.created ? 'KGV sample generated' : 'KGV sample in place');
}

/** Redis when one answers at REDIS_URL (asked once), else this process's memory: shared by local mode and `cutover rehearse`. */
export async function localBackend(env: Pick<Env, 'REDIS_URL' | 'REDIS_PREFIX'>, log: Logger): Promise<StateBackend> {
  if (await redisAnswers(env.REDIS_URL)) {
    log.info({ redis: redactRedisUrl(env.REDIS_URL), prefix: env.REDIS_PREFIX }, 'local mode keeps runs in Redis');
    return openRedisBackend(env, 'local', log);
  }
  log.warn({ redis: redactRedisUrl(env.REDIS_URL) }, 'no Redis answers: local mode keeps runs in this process only (not durable)');
  return openMemoryBackend();
}

async function loadableRunbooks(dir: string, log: Logger): Promise<Runbook[]> {
  const entries = await new RunbookFiles(dir).list();
  const runbooks: Runbook[] = [];
  for (const entry of entries) {
    if (entry.result.ok) runbooks.push(entry.result.runbook);
    // kgv.yaml needs the real night's connections and people; it is listed by /migrate runbooks with its problems.
    else log.info({ runbook: entry.name, problem: entry.result.problems[0]?.message }, 'runbook not usable here; its people are left out');
  }
  return runbooks;
}

function printBanner(url: string, backend: StateBackend, database: string, people: number): void {
  const lines = [
    '',
    `  cutover local rehearsal workspace: ${url}`,
    `  state:      ${backend.durable ? 'Redis (durable)' : 'in this process only: NOT durable, a restart loses every run'}`,
    `  PostgreSQL: ${database}`,
    `  people:     ${people} (pick who you are at the top of the page)`,
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
