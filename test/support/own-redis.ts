import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../local/free-port.js';

/** A redis-server of the test's own (no persistence), so a test may stall or kill it without touching the shared one. */
export interface OwnRedis {
  url: string;
  /** SIGSTOP: the server keeps its sockets open and answers nothing, as a hung or swapping Redis does. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  probe.on('error', () => undefined);
  const until = Date.now() + 10_000;
  for (;;) {
    const pong = await probe.ping().catch(() => null);
    if (pong === 'PONG') break;
    if (Date.now() > until || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  probe.disconnect();
  return {
    url,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
