import { pipeline } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { CutoverError } from '../../../runbook/errors.js';
import type { QuarantineRecord, RowSourceRecipe, SourceAdapter } from '../contracts.js';
import { createEncoder } from '../encoder.js';
import { WINDOW, type FromThread, type ToThread } from './protocol.js';

/**
 * An encode thread (started by encode-threads.ts): reads a chunk from its own
 * connection to the source, encodes it to COPY text and hands the batches to
 * the loader, so the driver's parsing and the encoder run on this core while
 * the loader's thread only moves bytes into COPY. Sources are opened once per
 * recipe and kept until the pool closes the thread.
 */
const port = parentPort;
if (!port) throw new CutoverError('etl.thread-misused', 'encode-thread.ts runs only as a worker thread');

const post = (m: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const sources = new Map<string, Promise<SourceAdapter>>();

interface Running {
  task: number;
  abort: AbortController;
  unacked: number;
  wake: (() => void) | null;
}
let running: Running | null = null;

function sourceFor(recipe: RowSourceRecipe): Promise<SourceAdapter> {
  const key = JSON.stringify(recipe);
  let source = sources.get(key);
  if (!source) {
    source = import(recipe.module).then((m: { openRowSource?: (options: unknown) => Promise<SourceAdapter> }) => {
      if (typeof m.openRowSource !== 'function') throw new CutoverError('etl.thread-recipe', `${recipe.module} exports no openRowSource`);
      return m.openRowSource(recipe.options);
    });
    // A failed open is forgotten, so the next chunk tries again rather than replaying the failure.
    source.catch(() => sources.delete(key));
    sources.set(key, source);
  }
  return source;
}

/** The bytes of a batch as a transferable buffer of their own (the encoder allocates each batch, so normally no copy). */
function ownBuffer(buf: Buffer): ArrayBuffer {
  const whole = buf.buffer;
  if (whole instanceof ArrayBuffer && buf.byteOffset === 0 && whole.byteLength >= 4096 && whole.byteLength <= buf.length * 4) return whole;
  const copy = new ArrayBuffer(buf.length);
  new Uint8Array(copy).set(buf);
  return copy;
}

async function run(m: Extract<ToThread, { type: 'open' }>): Promise<void> {
  const me: Running = { task: m.task, abort: new AbortController(), unacked: 0, wake: null };
  running = me;
  try {
    const rows = await sourceFor(m.recipe);
    const quarantined: QuarantineRecord[] = [];
    const encoder = createEncoder(m.table, quarantined);
    // As in EncodingSource: errors surface on the encoder; destroying it cancels the source's query.
    pipeline(rows.readChunk(m.table, m.chunk, me.abort.signal), encoder, () => undefined);
    for await (const batch of encoder as AsyncIterable<Buffer>) {
      if (me.abort.signal.aborted) break;
      const bytes = ownBuffer(batch);
      post({ type: 'data', task: m.task, bytes, length: batch.length }, [bytes]);
      me.unacked++;
      while (me.unacked >= WINDOW && !me.abort.signal.aborted) await new Promise<void>((resolve) => (me.wake = resolve));
    }
    encoder.destroy();
    if (me.abort.signal.aborted) post({ type: 'error', task: m.task, code: 'etl.cancelled', message: 'the chunk was cancelled' });
    else post({ type: 'end', task: m.task, quarantined });
  } catch (err) {
    const code = err instanceof CutoverError ? err.code : 'etl.thread-failed';
    const message = err instanceof CutoverError ? err.userMessage : err instanceof Error ? err.message : String(err);
    post({ type: 'error', task: m.task, code, message });
  } finally {
    running = null;
  }
}

async function close(): Promise<void> {
  const all = [...sources.values()];
  sources.clear();
  await Promise.allSettled(all.map(async (s) => (await s).close()));
  post({ type: 'closed' });
}

port.on('message', (m: ToThread) => {
  switch (m.type) {
    case 'open':
      void run(m);
      return;
    case 'ack':
    case 'cancel': {
      const r = running;
      if (!r || r.task !== m.task) return;
      if (m.type === 'ack') r.unacked--;
      else r.abort.abort(new CutoverError('etl.cancelled', 'the loader cancelled the chunk'));
      const wake = r.wake;
      r.wake = null;
      wake?.();
      return;
    }
    case 'warm':
      sourceFor(m.recipe).then(
        () => post({ type: 'warmed' }),
        () => post({ type: 'warmed' }),
      );
      return;
    case 'close':
      void close();
      return;
  }
});
post({ type: 'ready' });
