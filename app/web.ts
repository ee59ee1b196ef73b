import type { StateBackend } from '../config/backend.js';
import { EnvError, loadEnv } from '../config/env.js';
import { CutoverError } from '../runbook/errors.js';
import { createLogger } from '../config/logger.js';
import { openRedisBackend } from '../config/redis-backend.js';
import { createActions } from '../engine/actions/index.js';
import { openConnections } from '../engine/connections.js';
import { startWorker, type WorkerProcess } from '../engine/worker.js';
import { startWeb } from '../bot/web.js';

/**
 * Entry of `web` (Procfile). With --with-worker (`npm start`) it also runs the
 * worker in the same process, for a laptop; production runs them apart so a
 * deploy of web never kills a running step. `npm start` without any Slack
 * credential starts the local rehearsal workspace instead (local/).
 */
const log = createLogger('web');
const withWorker = process.argv.includes('--with-worker');
const slackConfigured = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'].some((name) => Boolean(process.env[name]));

let stoppingSince: number | null = null;
function onSignals(stop: () => Promise<void>): void {
  const handle = (signal: string) => {
    if (stoppingSince !== null) {
      // One Ctrl-C reaches this process more than once (the terminal's process group, then npm and tsx relaying it).
      if (Date.now() - stoppingSince < 2000) return;
      // A Ctrl-C seconds later means "now": exit without waiting (an embedded PostgreSQL still gets its fast shutdown on exit).
      log.warn({ signal }, 'stopping at once');
      process.exit(130);
    }
    stoppingSince = Date.now();
    log.info({ signal }, 'stopping');
    void stop().then(
      () => {
        log.info({ signal }, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handle('SIGTERM'));
  process.on('SIGINT', () => handle('SIGINT'));
}

try {
  if (withWorker && !slackConfigured) {
    // Loaded only here, so production never imports the local workspace or the embedded PostgreSQL.
    const { startLocal } = await import('../local/start-local.js');
    const local = await startLocal(log);
    onSignals(() => local.stop());
  } else {
    const env = loadEnv();
    const backends: StateBackend[] = [];
    let worker: WorkerProcess | null = null;
    if (withWorker) {
      const workerBackend = openRedisBackend(env, 'worker', log.child({ process: 'worker' }));
      backends.push(workerBackend);
      // Together they are one process with one metrics registry: web serves it all on PORT, the worker opens no port of its own.
      worker = await startWorker(env, log.child({ process: 'worker' }), workerBackend, createActions({ connections: openConnections }), { metricsServer: false });
    }
    const webBackend = openRedisBackend(env, 'web', log);
    backends.push(webBackend);
    const web = await startWeb(env, log, webBackend);
    onSignals(async () => {
      await Promise.all([web.stop(), worker?.stop()]);
      await Promise.all(backends.map((b) => b.close()));
    });
  }
} catch (err) {
  if (err instanceof EnvError) {
    log.fatal(err.message);
    process.exit(2);
  }
  if (err instanceof CutoverError) {
    // A start that cannot happen (the embedded PostgreSQL, a port in use): the sentence and what to do, not a stack trace.
    log.fatal({ code: err.code, err: err.cause }, err.message);
    process.stderr.write(`\n${err.message}\n\n`);
    process.exit(1);
  }
  throw err;
}
