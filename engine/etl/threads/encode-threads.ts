import { Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { toErrorCode } from '../../../runbook/error-codes.js';
import { CutoverError } from '../../../runbook/errors.js';
import type { ChunkSpec, EncodedChunk, QuarantineRecord, RowSourceRecipe, TableMapping } from '../contracts.js';
import { sibling, startThread } from '../../../config/thread-boot.js';
import type { FromThread, ToThread } from './protocol.js';

/**
 * A small pool of encode threads (encode-thread.ts), one chunk per thread at
 * a time: openChunk gives the loader the chunk's COPY text as a Readable fed
 * by the thread, so the COPY stream and the checkpoint transaction stay on
 * the loader's thread exactly as with an in-thread source. A thread that dies
 * (a crash, out of memory) fails only its chunk, with etl.thread-died, and is
 * replaced for the next one; the chunk's transaction rolls back and a retry
 * loads it again.
 */
interface Task {
  id: number;
  stream: Readable;
  quarantined: QuarantineRecord[];
  /** Batches pushed while the stream was full, acknowledged when it is read again. */
  owed: number;
  settled: boolean;
}

interface Thread {
  worker: Worker;
  /** Settles when the thread has loaded its code (or died trying). */
  started: Promise<void>;
  /** Handed to a caller (set before its task exists, so no second caller takes it meanwhile). */
  busy: boolean;
  task: Task | null;
  dead: boolean;
}

const ENTRY = sibling('encode-thread', import.meta.url);
const closedError = (): CutoverError => new CutoverError('etl.threads-closed', 'the encode threads are closed');
const CLOSE_WAIT_MS = 5000;

export class EncodeThreads {
  private readonly threads: Thread[] = [];
  private readonly waiting: Array<{ resolve: (t: Thread) => void; reject: (err: CutoverError) => void }> = [];
  private nextTask = 1;
  private closed = false;

  constructor(private readonly size: number) {}

  /** Opens a chunk on a free thread (waiting for one while all are busy). */
  async openChunk(recipe: RowSourceRecipe, table: TableMapping, chunk: ChunkSpec, signal: AbortSignal): Promise<EncodedChunk> {
    const thread = await this.acquire();
    const task: Task = { id: this.nextTask++, stream: new Readable(), quarantined: [], owed: 0, settled: false };
    const send = (m: ToThread): void => {
      if (!thread.dead) thread.worker.postMessage(m);
    };
    const onAbort = (): void => {
      task.stream.destroy(new CutoverError('etl.cancelled', `reading chunk ${chunk.id} was cancelled`, { cause: signal.reason }));
    };
    task.stream = new Readable({
      // About two of the encoder's batches; beyond that a batch is acknowledged only once it is read.
      highWaterMark: 512 * 1024,
      read() {
        for (; task.owed > 0; task.owed--) send({ type: 'ack', task: task.id });
      },
      destroy(err, callback) {
        signal.removeEventListener('abort', onAbort);
        // The thread stops reading and answers with 'error'; only then does it take another chunk.
        if (!task.settled) send({ type: 'cancel', task: task.id });
        callback(err);
      },
    });
    thread.task = task;
    thread.worker.ref();
    if (signal.aborted) process.nextTick(onAbort);
    else signal.addEventListener('abort', onAbort, { once: true });
    send({ type: 'open', task: task.id, recipe, table, chunk });
    return { stream: task.stream, quarantined: task.quarantined };
  }

  /**
   * Starts every thread now and waits until each has loaded its code and,
   * given a recipe, that recipe's module and source (its connection), so a
   * load does not pay the start-up inside its first chunks: under tsx, with
   * the mssql driver, 0.7–0.9 CPU-seconds a thread. A thread that fails to start fails
   * here with etl.thread-died; a source that fails to open fails the first
   * chunk that needs it, with its own error.
   */
  async start(recipe?: RowSourceRecipe): Promise<void> {
    while (this.threads.length < this.size) this.spawn();
    await Promise.all(this.threads.map((t) => t.started));
    if (recipe) await Promise.all(this.threads.map((t) => this.warm(t, recipe)));
  }

  private warm(t: Thread, recipe: RowSourceRecipe): Promise<void> {
    if (t.dead) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        t.worker.off('message', onMessage);
        t.worker.off('exit', done);
        resolve();
      };
      const onMessage = (m: FromThread): void => {
        if (m.type === 'warmed') done();
      };
      t.worker.on('message', onMessage);
      t.worker.once('exit', done);
      t.worker.postMessage({ type: 'warm', recipe } satisfies ToThread);
    });
  }

  /** Asks every thread to close its sources, then ends it; never throws. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(closedError());
    await Promise.allSettled(this.threads.splice(0).map((t) => this.end(t)));
  }

  private async end(t: Thread): Promise<void> {
    if (t.dead) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      t.worker.once('exit', () => resolve());
      t.worker.on('message', (m: FromThread) => {
        if (m.type !== 'closed') return;
        clearTimeout(timer);
        resolve();
      });
      t.worker.postMessage({ type: 'close' } satisfies ToThread);
    });
    t.dead = true;
    await t.worker.terminate();
  }

  private acquire(): Promise<Thread> {
    if (this.closed) return Promise.reject(closedError());
    const idle = this.threads.find((t) => !t.busy && !t.dead) ?? (this.threads.length < this.size ? this.spawn() : undefined);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private spawn(): Thread {
    const worker = startThread(ENTRY, null);
    let started = (_err?: CutoverError): void => undefined;
    const thread: Thread = {
      worker,
      started: new Promise<void>((resolve, reject) => (started = (err) => (err ? reject(err) : resolve()))),
      busy: false,
      task: null,
      dead: false,
    };
    // Only start() awaits this; a thread that dies also fails its chunk, which is where the loader hears of it.
    thread.started.catch(() => undefined);
    worker.unref();
    worker.on('message', (m: FromThread) => (m.type === 'ready' ? started() : this.onMessage(thread, m)));
    const died = (why: string): void => {
      started(new CutoverError('etl.thread-died', `an encode thread stopped: ${why}`));
      if (thread.dead) return;
      thread.dead = true;
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      const task = thread.task;
      thread.task = null;
      if (task && !task.settled) {
        task.settled = true;
        task.stream.destroy(new CutoverError('etl.thread-died', `the encode thread reading this chunk stopped: ${why}`));
      }
      // A caller waiting for a thread gets a fresh one in place of the dead.
      const next = this.closed ? undefined : this.waiting.shift();
      if (next) {
        const fresh = this.spawn();
        fresh.busy = true;
        next.resolve(fresh);
      }
    };
    thread.worker.on('error', (err) => died(err.message));
    thread.worker.on('exit', (code) => died(`it exited with code ${code}`));
    this.threads.push(thread);
    return thread;
  }

  private onMessage(thread: Thread, m: FromThread): void {
    const task = thread.task;
    if (m.type === 'closed' || m.type === 'ready' || m.type === 'warmed' || !task || m.task !== task.id) return;
    switch (m.type) {
      case 'data': {
        if (task.stream.destroyed) return;
        if (task.stream.push(Buffer.from(m.bytes, 0, m.length))) thread.worker.postMessage({ type: 'ack', task: task.id } satisfies ToThread);
        else task.owed++;
        return;
      }
      case 'end':
        task.quarantined.push(...m.quarantined);
        task.settled = true;
        task.stream.push(null);
        this.release(thread);
        return;
      case 'error':
        task.settled = true;
        task.stream.destroy(new CutoverError(toErrorCode(m.code, 'etl.load-failed'), m.message));
        this.release(thread);
        return;
    }
  }

  private release(thread: Thread): void {
    thread.task = null;
    thread.worker.unref();
    const next = this.waiting.shift();
    thread.busy = next !== undefined;
    next?.resolve(thread);
  }
}
