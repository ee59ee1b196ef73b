import { spawn } from 'node:child_process';

export const TAIL_BYTES = 4096;
const KILL_AFTER_MS = 5_000;
/** After the program exits, how long to wait for background children that still hold its stdout/stderr. */
const DRAIN_AFTER_EXIT_MS = 2_000;

/** Keeps only the last TAIL_BYTES of a stream, so a chatty program cannot fill the worker's memory. */
export class Tail {
  private buf = Buffer.alloc(0);
  total = 0;

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const joined = Buffer.concat([this.buf, chunk]);
    this.buf = joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
  }

  text(): string {
    return this.buf.toString('utf8');
  }
}

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Tail;
  stderr: Tail;
  durationMs: number;
  /** Set when ctx.signal stopped the program: which signals its process group got. */
  stoppedWith?: Array<'SIGTERM' | 'SIGKILL'>;
}

export interface ProcessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onOutput?: (line: string) => void;
  /** Called once the program runs, with its process group id. */
  onSpawn?: (group: number) => void;
}

/**
 * Spawns argv without a shell in its own process group and resolves when it
 * ends; on abort the whole group gets SIGTERM, then SIGKILL 5 s later, so
 * children (pg_dump under a wrapper script) die with it. Rejects only when
 * the program cannot be started.
 */
export function runProcess(argv: readonly string[], opts: ProcessOptions): Promise<ProcessOutcome> {
  const [program = '', ...args] = argv;
  const started = Date.now();
  const stdout = new Tail();
  const stderr = new Tail();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stoppedWith: Array<'SIGTERM' | 'SIGKILL'> = [];
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let done = false;
    const killGroup = (sig: 'SIGTERM' | 'SIGKILL'): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
        stoppedWith.push(sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const onAbort = (): void => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_AFTER_MS);
    };
    const finish = (exitCode: number | null, sig: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      opts.signal.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      const outcome: ProcessOutcome = { exitCode, signal: sig, stdout, stderr, durationMs: Date.now() - started };
      if (stoppedWith.length > 0) outcome.stoppedWith = stoppedWith;
      resolve(outcome);
    };
    const forward = (tail: Tail) => (chunk: Buffer) => {
      tail.push(chunk);
      const line = chunk.toString('utf8').trimEnd().split('\n').pop();
      if (line) opts.onOutput?.(line);
    };
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    child.stdout?.on('data', forward(stdout));
    child.stderr?.on('data', forward(stderr));
    child.once('error', (err) => {
      if (child.pid === undefined) {
        done = true;
        opts.signal.removeEventListener('abort', onAbort);
        reject(err);
      }
    });
    child.once('exit', (code, sig) => {
      drainTimer = setTimeout(() => finish(code, sig), DRAIN_AFTER_EXIT_MS);
    });
    child.once('close', (code: number | null, sig: NodeJS.Signals | null) => finish(code, sig));
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  });
}
