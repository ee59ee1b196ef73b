import type { Redis } from 'ioredis';
import { CutoverError } from '../runbook/errors.js';
import { unreadableEvent } from '../runbook/event-schema.js';
import type { AppendResult, EventCodec, RunStore } from '../runbook/ports.js';

// Version = XLEN. That holds because entries are only ever added, never
// XDEL'd or trimmed; anything that trims a run stream breaks concurrency.
const APPEND_LUA = `
local len = redis.call('XLEN', KEYS[1])
if len ~= tonumber(ARGV[1]) then return {0, len} end
for i = 2, #ARGV do redis.call('XADD', KEYS[1], '*', 'e', ARGV[i]) end
return {1, len + #ARGV - 1}
`;

// One script so the slot claim, the first events and the index can never be
// half-written: a crash between them would leave a slot held by no run.
// TIME is allowed before writes since Redis 5 (effect replication).
const CREATE_LUA = `
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if holder then return {0, holder} end
if redis.call('XLEN', KEYS[2]) ~= 0 then return {-1, ''} end
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
for i = 3, #ARGV do redis.call('XADD', KEYS[2], '*', 'e', ARGV[i]) end
redis.call('ZADD', KEYS[3], ms, ARGV[2])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[1])
return {1, ''}
`;

const RELEASE_LUA = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

// Events read (and decoded, synchronously) per round trip. A page of 1,000 of a 3,000-step run's events
// held web's event loop 100-500 ms in bench:web; between pages the loop serves /healthz and Slack.
const PAGE = 250;

/**
 * RunStore on Redis: one stream per run, the expected-version check and every
 * multi-key write done inside Lua so concurrent writers serialize in Redis.
 */
export class RedisRunStore<E extends { type: string }> implements RunStore<E> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'cutover',
    /** How events are written and checked when read (runEventCodec for RunEvent); the default checks only the envelope. */
    private readonly codec: EventCodec<E> = envelopeCodec<E>(),
  ) {}

  private streamKey(runId: string): string {
    return `${this.prefix}:run:${runId}:events`;
  }

  async load(runId: string): Promise<{ events: E[]; version: number }> {
    const read = await this.loadAfter(runId, { version: 0, cursor: null });
    return { events: read?.events ?? [], version: read?.version ?? 0 };
  }

  async loadAfter(runId: string, known: { version: number; cursor: string | null }): Promise<{ events: E[]; version: number; cursor: string | null } | null> {
    const key = this.streamKey(runId);
    // Without a cursor the only way to skip entries is to read them; callers pass one whenever version > 0.
    if (known.version > 0 && known.cursor === null) {
      const all = await this.loadAfter(runId, { version: 0, cursor: null });
      return all && all.version >= known.version ? { ...all, events: all.events.slice(known.version) } : null;
    }
    const events: E[] = [];
    let start = known.cursor === null ? '-' : `(${known.cursor}`; // exclusive start (Redis ≥ 6.2): the known entry is not read twice
    let cursor = known.cursor;
    let first = true;
    for (;;) {
      // XLEN with the first page in one round trip: a stream shorter than the caller's version was not its history.
      const replies = (await this.redis.multi().xlen(key).xrange(key, start, '+', 'COUNT', PAGE).exec()) ?? [];
      const failed = replies.find(([err]) => err)?.[0];
      if (failed) throw failed;
      const length = Number(replies[0]?.[1] ?? 0);
      const page = (replies[1]?.[1] ?? []) as Array<[string, string[]]>;
      if (first && length < known.version + page.length) return null;
      first = false;
      for (const [id, fields] of page) events.push(this.decode(runId, known.version + events.length + 1, id, fields));
      const last = page[page.length - 1];
      if (last) cursor = last[0];
      if (page.length < PAGE || !last) break;
      start = `(${last[0]}`;
    }
    return { events, version: known.version + events.length, cursor };
  }

  async append(runId: string, expectedVersion: number, events: E[]): Promise<AppendResult> {
    const [won, version] = (await this.redis.eval(
      APPEND_LUA,
      1,
      this.streamKey(runId),
      String(expectedVersion),
      ...events.map((e) => this.codec.encode(e)),
    )) as [number, number];
    return won === 1 ? { ok: true, version } : { ok: false, reason: 'conflict', actualVersion: version };
  }

  async create(runId: string, runbook: string, events: E[]): Promise<{ ok: true } | { ok: false; activeRunId: string }> {
    if (events.length === 0) {
      throw new CutoverError('run.create_empty', 'A run cannot start without events.', { detail: `run ${runId}` });
    }
    const keys = [`${this.prefix}:active`, this.streamKey(runId), `${this.prefix}:runs`, `${this.prefix}:run-runbook`];
    const [status, holder] = (await this.redis.eval(
      CREATE_LUA,
      keys.length,
      ...keys,
      runbook,
      runId,
      ...events.map((e) => this.codec.encode(e)),
    )) as [number, string];
    if (status === 1) return { ok: true };
    if (status === 0) return { ok: false, activeRunId: holder };
    // A reused run id is a bug in the caller (ids are generated), not a race to report.
    throw new CutoverError('run.id_taken', 'Could not start the run: its id is already in use.', { detail: `run ${runId}` });
  }

  async release(runbook: string, runId: string): Promise<void> {
    await this.redis.eval(RELEASE_LUA, 1, `${this.prefix}:active`, runbook, runId);
  }

  async active(): Promise<Array<{ runbook: string; runId: string }>> {
    const slots = await this.redis.hgetall(`${this.prefix}:active`);
    return Object.entries(slots)
      .map(([runbook, runId]) => ({ runbook, runId }))
      .sort((a, b) => a.runbook.localeCompare(b.runbook));
  }

  async recent(limit: number): Promise<Array<{ runId: string; runbook: string; startedAt: number }>> {
    if (limit <= 0) return [];
    const flat = await this.redis.zrevrange(`${this.prefix}:runs`, 0, limit - 1, 'WITHSCORES');
    const rows: Array<{ runId: string; startedAt: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) rows.push({ runId: flat[i] ?? '', startedAt: Number(flat[i + 1]) });
    if (rows.length === 0) return [];
    const runbooks = await this.redis.hmget(`${this.prefix}:run-runbook`, ...rows.map((r) => r.runId));
    return rows.map((r, i) => ({ runId: r.runId, runbook: runbooks[i] ?? '', startedAt: r.startedAt }));
  }

  private decode(runId: string, position: number, entryId: string, fields: string[]): E {
    let json: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'e') json = fields[i + 1];
    try {
      if (json === undefined) throw new CutoverError('run.corrupt_event', 'entry has no field "e"');
      return this.codec.decode(JSON.parse(json));
    } catch (cause) {
      // Skipping would fold a different history than the one recorded: refuse instead.
      throw unreadableEvent(runId, position, `${entryId} in ${this.streamKey(runId)}`, cause);
    }
  }
}

/** Without a schema the store can only check the envelope: a JSON object with a string `type`. */
function envelopeCodec<E extends { type: string }>(): EventCodec<E> {
  return {
    encode: (event) => JSON.stringify(event),
    decode(raw) {
      if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') {
        throw new CutoverError('run.corrupt_event', 'not an object with a string "type"');
      }
      return raw as E;
    },
  };
}
