import { EnvError, loadEnv } from '../config/env.js';
import { createLogger } from '../config/logger.js';
import { startWorker, type WorkerProcess } from '../engine/worker.js';
import { startWeb } from './web.js';

/**
 * Entry of `web` (Procfile). With --with-worker it also runs the worker in
 * the same process, for a laptop; production runs them apart so a deploy of
 * web never kills a running step.
 */
const log = createLogger('web');
try {
  const env = loadEnv();
  // Together they are one process with one metrics registry: web serves it all on PORT, the worker opens no port of its own.
  const worker: WorkerProcess | null = process.argv.includes('--with-worker')
    ? await startWorker(env, log.child({ process: 'worker' }), { metricsServer: false })
    : null;
  const web = await startWeb(env, log);
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping');
    void Promise.all([web.stop(), worker?.stop()]).then(() => process.exit(0));
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
