import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../local/free-port.js';

/** A redis-server of the test's own, so a test may stall or kill it without touching the shared one. */
export interface OwnRedis {
  url: string;
  /** SIGSTOP: the server keeps its sockets open and answers nothing, as a hung or swapping Redis does. */
  pause(): void;
  resume(): void;
  /** SIGKILL, then a new server on the same port and data (with `persist`, it reloads its append-only file). */
  restart(): Promise<void>;
  /** SIGKILL only: nothing answers on the port until `start()`. */
  kill(): Promise<void>;
  /** Starts the server again after `kill()`. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** persist: an append-only file fsynced on every write (as production runs it), so a restart keeps every run. */
export async function startOwnRedis(opts: { persist?: boolean } = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = opts.persist ? await mkdtemp(join(tmpdir(), 'own-redis-')) : null;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  args.push(...(dir ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  let exited: Promise<void>;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    const proc = child;
    exited = new Promise<void>((done) => proc.once('exit', () => done()));
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    probe.on('error', () => undefined);
    const until = Date.now() + 10_000;
    for (;;) {
      const pong = await probe.ping().catch(() => null);
      if (pong === 'PONG') break;
      if (Date.now() > until || proc.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
    probe.disconnect();
  };
  const kill = async (): Promise<void> => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async restart() {
      await kill();
      await launch();
    },
    kill,
    start: launch,
    stop: kill,
  };
}
