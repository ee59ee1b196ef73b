import { createInstallation, type Installation, type ProductProcess } from './cutover-processes.js';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from './fake-slack.js';

/** What an e2e file runs against: a fake Slack, one installation pointed at it, and the processes started for it. */
export interface E2E<W extends ProductProcess | null = ProductProcess> {
  fake: FakeSlack;
  inst: Installation;
  web: ProductProcess;
  /** Null when the file starts its workers itself (`worker: false`). */
  worker: W;
}

export interface E2EOptions {
  runbooks: Record<string, string>;
  slack?: FakeSlackOptions;
  /** Added to the installation's environment before any process starts (every process of the file sees it). */
  env?: Record<string, string>;
  /** Another Redis (a test that stops its own). */
  redisUrl?: string;
  /** Extra environment of the first web process. */
  webEnv?: Record<string, string>;
  /** Extra environment of the first worker, or false for none (the file starts its own). */
  worker?: Record<string, string> | false;
}

/**
 * The set-up every e2e file shares (kysely's test-setup is the model): start
 * a fake Slack, create an installation with the file's runbooks, start web and
 * a worker and wait until each says it is ready. If any of it fails, what was
 * started is stopped before the error is rethrown, so a failed beforeAll
 * leaves no process behind to disturb the next file.
 */
export function startE2E(options: E2EOptions & { worker: false }): Promise<E2E<null>>;
export function startE2E(options: E2EOptions & { worker?: Record<string, string> }): Promise<E2E>;
export async function startE2E(options: E2EOptions): Promise<E2E<ProductProcess | null>> {
  const fake = await startFakeSlack(options.slack);
  let inst: Installation | undefined;
  try {
    inst = await createInstallation(fake.apiUrl, options.runbooks, options.redisUrl ? { redisUrl: options.redisUrl } : {});
    Object.assign(inst.env, options.env ?? {});
    const web = await inst.startWeb(options.webEnv);
    const worker = options.worker === false ? null : await inst.startWorker(options.worker);
    return { fake, inst, web, worker };
  } catch (err) {
    await stopE2E({ fake, inst });
    throw err;
  }
}

/** Stops every process of the installation, removes its Redis keys and closes the fake Slack; safe on a half-started or missing E2E. */
export async function stopE2E(e2e: { fake?: FakeSlack | undefined; inst?: Installation | undefined } | undefined): Promise<void> {
  await e2e?.inst?.cleanup();
  await e2e?.fake?.close();
}
