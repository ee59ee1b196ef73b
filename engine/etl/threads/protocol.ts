import type { ChunkSpec, QuarantineRecord, RowSourceRecipe, TableMapping } from '../contracts.js';

/**
 * Messages between the loader (main thread) and an encode thread. One chunk
 * (a task) at a time per thread; every task ends with exactly one `end` or
 * `error`, after which the thread takes the next one. COPY text moves as
 * transferred ArrayBuffers, at most WINDOW of them unacknowledged, so a slow
 * COPY pauses the thread's read of SQL Server instead of filling memory.
 */
export const WINDOW = 4;

export type ToThread =
  | { type: 'open'; task: number; recipe: RowSourceRecipe; table: TableMapping; chunk: ChunkSpec }
  | { type: 'ack'; task: number }
  | { type: 'cancel'; task: number }
  /** Load the recipe's module and open its source now, so the first chunk does not wait for them. */
  | { type: 'warm'; recipe: RowSourceRecipe }
  | { type: 'close' };

export type FromThread =
  | { type: 'ready' }
  /** Answers 'warm', whether the source opened or not (a chunk that needs it reports the failure). */
  | { type: 'warmed' }
  | { type: 'data'; task: number; bytes: ArrayBuffer; length: number }
  | { type: 'end'; task: number; quarantined: QuarantineRecord[] }
  | { type: 'error'; task: number; code: string; message: string }
  | { type: 'closed' };
