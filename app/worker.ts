import { EnvError, loadWorkerEnv } from '../config/env.js';
import { createLogger } from '../config/logger.js';
import { openRedisBackend } from '../config/redis-backend.js';
import { createActions } from '../engine/actions/index.js';
import { openConnections } from '../engine/connections.js';
import { startWorker } from '../engine/worker.js';

const log = createLogger('worker');
try {
  const env = loadWorkerEnv();
  const backend = openRedisBackend(env, 'worker', log);
  const worker = await startWorker(env, log, backend, createActions({ connections: openConnections }));
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping worker');
    void worker
      .stop()
      .then(() => backend.close())
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (err) {
  if (err instanceof EnvError) {
    log.fatal(err.message);
    process.exit(2);
  }
  throw err;
}
