import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { sibling, startThread } from '../../config/thread-boot.js';
import type { Comparison } from '../../runbook/compare.js';
import { CutoverError } from '../../runbook/errors.js';
import type { RunEvent } from '../../runbook/events.js';
import type { LoadInput, LoadResult } from '../../runbook/load.js';
import type { Names } from '../../runbook/report/index.js';
import type { RunState } from '../../runbook/state.js';
import type { ReportFiles } from '../report/report-service.js';
import type { HeavyReply, HeavyRequest } from './heavy-protocol.js';

/** What web needs done off its event loop: pure, CPU-bound work whose cost grows with a runbook's size. */
export interface HeavyWork {
  reportFiles(state: RunState, events: readonly RunEvent[], now: number, comparison: Comparison | null, names: Names): Promise<ReportFiles>;
  loadRunbook(input: Omit<LoadInput, 'actions'>): Promise<LoadResult>;
  stop(): Promise<void>;
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/**
 * One worker thread for web's heavy work (issue 14): a 3,000-step run's
 * report and timeline took web's event loop for 13–30 s, and parsing a
 * 0.8 MB runbook over a second, during which Slack's requests and /healthz
 * waited. Requests queue on the thread in order. A thread that dies fails
 * what it held and is started afresh for the next request.
 * Work that failed there (a thread out of memory on a huge render) is failed,
 * never retried on web's own thread, where it would stall everything else.
 */
export class ThreadHeavyWork implements HeavyWork {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly log: Logger) {}

  async reportFiles(state: RunState, events: readonly RunEvent[], now: number, comparison: Comparison | null, names: Names): Promise<ReportFiles> {
    // Structured cloning hands the PNG back as a plain Uint8Array.
    const files = (await this.ask({ task: 'report-files', args: { state, events, now, comparison, names } })) as Omit<ReportFiles, 'png'> & { png: Uint8Array };
    return { ...files, png: Buffer.from(files.png.buffer, files.png.byteOffset, files.png.byteLength) };
  }

  async loadRunbook(input: Omit<LoadInput, 'actions'>): Promise<LoadResult> {
    // The env is cloned as a plain object: only what interpolation reads is needed.
    return (await this.ask({ task: 'load-runbook', args: { ...input, env: { ...input.env } } })) as LoadResult;
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  /** The reply is what heavy-thread.ts computed with the same functions, so it has the type the task names. */
  private ask(request: Omit<HeavyRequest, 'id'>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread().postMessage({ ...request, id });
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startThread(sibling('heavy-thread', import.meta.url), null);
    // An idle thread must not keep web alive at shutdown.
    worker.unref();
    worker.on('message', (reply: HeavyReply | { ready: true }) => {
      if (!('id' in reply)) return;
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (!waiting) return;
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(Object.assign(new CutoverError('internal.unexpected', reply.message), { stack: reply.stack }));
    });
    worker.on('error', (err) => this.failAll(worker, err));
    worker.on('exit', (code) => this.failAll(worker, new CutoverError('internal.unexpected', `the heavy-work thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.log.error({ err }, 'heavy-work thread failed; the next request starts a new one');
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      waiting.reject(err);
    }
  }
}
