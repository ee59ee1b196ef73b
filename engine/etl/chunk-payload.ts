import { z } from 'zod';
import type { ChunkSpec, TableMapping } from './contracts.js';

/**
 * What a chunk job carries from the step job that planned it to whichever
 * worker loads it: the step's plan is the only one (a worker never re-plans,
 * so every worker loads the same key ranges under the same chunk ids). Read
 * back from Redis, so validated here.
 */
const column = z.object({
  source: z.string(),
  target: z.string(),
  sourceType: z.string(),
  sourcePrecision: z.number().nullable().optional(),
  sourceScale: z.number().nullable().optional(),
  targetType: z.string(),
  kind: z.enum(['int', 'exact', 'float', 'bool', 'text', 'bytes', 'date', 'time', 'timestamp', 'timestamptz', 'uuid']),
  nullable: z.boolean(),
  maxChars: z.number().nullable(),
});
const name = z.object({ schema: z.string(), name: z.string() });
const tableMapping = z.object({
  source: name,
  target: name,
  columns: z.array(column).min(1),
  key: z.object({ columns: z.array(z.string()), kind: z.enum(['integer', 'other']) }).nullable(),
  rowCount: z.number(),
});
const chunkSpec = z.discriminatedUnion('kind', [
  z.object({ id: z.string(), kind: z.literal('all') }),
  z.object({ id: z.string(), kind: z.literal('range'), column: z.string(), from: z.string(), to: z.string(), lastInclusive: z.boolean() }),
  z.object({ id: z.string(), kind: z.literal('hash'), columns: z.array(z.string()), buckets: z.number().int(), bucket: z.number().int() }),
]);

export const chunkPayloadSchema = z.object({
  loadId: z.string().min(1),
  /** Bookkeeping schema (cutover_etl). */
  schema: z.string().min(1),
  table: tableMapping,
  chunk: chunkSpec,
  /** A one-chunk table: truncated and COPY FREEZEd in the chunk's own transaction. */
  truncateIfFresh: z.boolean(),
  maxRejectedRows: z.number().int().positive().optional(),
  sessionTimeZone: z.string().nullable(),
});

export interface ChunkPayload {
  loadId: string;
  schema: string;
  table: TableMapping;
  chunk: ChunkSpec;
  truncateIfFresh: boolean;
  maxRejectedRows?: number;
  sessionTimeZone: string | null;
}

/** The payload of a chunk job read back from the queue, or the problem with it. */
export function parseChunkPayload(raw: unknown): { ok: true; payload: ChunkPayload } | { ok: false; problem: string } {
  const parsed = chunkPayloadSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problem: parsed.error.message };
  const { maxRejectedRows, ...rest } = parsed.data;
  return { ok: true, payload: { ...rest, ...(maxRejectedRows !== undefined ? { maxRejectedRows } : {}) } };
}
