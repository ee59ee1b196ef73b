import { spawn, type ChildProcess } from 'node:child_process';
import type { Runner } from './postgres-runner.js';
import { CutoverError } from '../runbook/errors.js';

/**
 * Spawning PostgreSQL's programs with every failure a rejected promise:
 * a spawn error (EACCES, ENOENT) arrives as the child's 'error' event, which
 * would end the process as an unhandled event if nobody listened.
 */

// initdb and postgres print in English only under the C locale for messages; we wait for a sentence of theirs.
const ENV_OVERRIDES = { LC_MESSAGES: 'C', LC_ALL: '', LANG: 'C' };

function spawnAs(file: string, args: string[], runner: Runner | null): ChildProcess {
  return spawn(file, args, {
    ...(runner ? { uid: runner.uid, gid: runner.gid } : {}),
    env: { ...process.env, ...ENV_OVERRIDES },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a program to completion; rejects with its last output when it cannot start or exits non-zero. */
export function runToEnd(file: string, args: string[], runner: Runner | null, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnAs(file, args, runner);
    forwardLines(child, onLine);
    child.on('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new CutoverError('local.postgres_failed', `${file} exited with ${signal ?? `code ${code}`}`));
    });
  });
}

export interface RunningServer {
  readonly child: ChildProcess;
  /** Resolves when the server has exited (at once if it already has). */
  readonly exited: Promise<void>;
}

/** Starts postgres and resolves once it accepts connections; rejects when it cannot start or exits first. */
export function startServer(file: string, args: string[], runner: Runner | null, onLine: (line: string) => void): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const child = spawnAs(file, args, runner);
    const exited = new Promise<void>((done) => child.once('close', () => done()));
    child.on('error', reject); // kept for the child's life: a later 'error' (a failed kill) lands on the settled promise, harmless
    forwardLines(child, (line) => {
      onLine(line);
      if (line.includes('database system is ready to accept connections')) resolve({ child, exited });
    });
    void exited.then(() => reject(new CutoverError('local.postgres_failed', `postgres exited before it was ready (${child.signalCode ?? `code ${child.exitCode}`})`)));
  });
}

function forwardLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    });
    stream?.on('end', () => rest.trim() && onLine(rest));
  }
}
