import { describe, expect, it } from 'vitest';
import { EnvError, loadEnv, loadWorkerEnv } from '../../config/env.js';
import { createLogger, redactSecrets } from '../../config/logger.js';

function envError(f: () => unknown): EnvError {
  try {
    f();
  } catch (err) {
    if (err instanceof EnvError) return err;
    throw err;
  }
  throw new Error('expected an EnvError');
}

const HTTP_MODE = { SLACK_BOT_TOKEN: 'xoxb-1-abc', SLACK_SIGNING_SECRET: 'signing-secret-123' };

describe('loadEnv (web process)', () => {
  it('with nothing set, lists every missing Slack variable in one EnvError', () => {
    const err = envError(() => loadEnv({}));
    expect(err.name).toBe('EnvError');
    expect(err.problems).toEqual([
      'SLACK_BOT_TOKEN is required (the bot token, xoxb-…)',
      'SLACK_SIGNING_SECRET is required in HTTP mode (set SLACK_APP_TOKEN for Socket Mode instead)',
    ]);
    expect(err.message).toContain('SLACK_BOT_TOKEN');
    expect(err.message).toContain('SLACK_SIGNING_SECRET');
  });

  it('names a bad PORT and a bad REDIS_URL together with the missing Slack variables', () => {
    const err = envError(() => loadEnv({ PORT: 'eighty', REDIS_URL: 'http://cache:6379' }));
    const named = err.problems.map((p) => p.split(' ')[0]);
    expect(named).toEqual(expect.arrayContaining(['PORT', 'REDIS_URL', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET']));
    expect(err.problems).toContain('REDIS_URL expected a redis:// or rediss:// URL');
  });

  it('refuses a PORT out of range', () => {
    expect(envError(() => loadEnv({ ...HTTP_MODE, PORT: '70000' })).problems).toEqual([expect.stringMatching(/^PORT /)]);
  });

  it('refuses a bot token that is not a bot token, naming the variable', () => {
    expect(envError(() => loadEnv({ ...HTTP_MODE, SLACK_BOT_TOKEN: 'xapp-1-abc' })).problems).toEqual([
      'SLACK_BOT_TOKEN expected a bot token starting with xoxb-',
    ]);
  });

  it('applies the documented defaults in HTTP mode', () => {
    expect(loadEnv(HTTP_MODE)).toMatchObject({
      PORT: 3000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      SLACK_API_URL: 'https://slack.com/api/',
      RUNBOOKS_DIR: 'config/runbooks',
      LOG_LEVEL: 'info',
    });
    expect(loadEnv({ ...HTTP_MODE, PORT: '8080', REDIS_URL: 'rediss://r:6380' })).toMatchObject({ PORT: 8080, REDIS_URL: 'rediss://r:6380' });
  });

  it('treats an empty variable as unset (PORT= does not mean port 0)', () => {
    expect(loadEnv({ ...HTTP_MODE, PORT: '', SLACK_APP_TOKEN: '' }).PORT).toBe(3000);
    expect(envError(() => loadEnv({ SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: 'signing-secret-123' })).problems).toEqual([
      'SLACK_BOT_TOKEN is required (the bot token, xoxb-…)',
    ]);
  });

  it('needs no signing secret in Socket Mode (SLACK_APP_TOKEN set)', () => {
    const env = loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1-abc', SLACK_APP_TOKEN: 'xapp-1-abc' });
    expect(env.SLACK_APP_TOKEN).toBe('xapp-1-abc');
    expect(env.SLACK_SIGNING_SECRET).toBeUndefined();
  });
});

describe('loadWorkerEnv', () => {
  it('needs no Slack variables at all', () => {
    expect(loadWorkerEnv({})).toEqual({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'cutover',
      RUNBOOKS_DIR: 'config/runbooks',
      SQL_DIR: 'sql',
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: 2,
      WORKER_CHUNK_CONCURRENCY: 2,
      WORKER_LOCK_MS: 30_000,
      WORKER_STALLED_INTERVAL_MS: 30_000,
      WORKER_MAX_STALLED_COUNT: 1,
      WORKER_METRICS_PORT: 9464,
    });
  });

  it('takes WORKER_METRICS_PORT 0 as "no metrics server" and refuses a short METRICS_TOKEN', () => {
    expect(loadWorkerEnv({ WORKER_METRICS_PORT: '0' }).WORKER_METRICS_PORT).toBe(0);
    const err = envError(() => loadWorkerEnv({ WORKER_METRICS_PORT: '70000', METRICS_TOKEN: 'short' }));
    expect(err.problems.map((p) => p.split(' ')[0]).sort()).toEqual(['METRICS_TOKEN', 'WORKER_METRICS_PORT']);
  });

  it('ignores Slack variables, even malformed ones, and keeps none of them', () => {
    const env = loadWorkerEnv({ SLACK_BOT_TOKEN: 'garbage', SLACK_SIGNING_SECRET: 'x' });
    expect(env).not.toHaveProperty('SLACK_BOT_TOKEN');
    expect(env).not.toHaveProperty('SLACK_SIGNING_SECRET');
  });

  it('names a bad REDIS_URL and WORKER_CONCURRENCY', () => {
    const err = envError(() => loadWorkerEnv({ REDIS_URL: 'localhost:6379', WORKER_CONCURRENCY: '0' }));
    expect(err.problems.map((p) => p.split(' ')[0]).sort()).toEqual(['REDIS_URL', 'WORKER_CONCURRENCY']);
  });
});

/** A logger writing into an array, so a test reads exactly what would reach stdout. */
function capture(options: Parameters<typeof createLogger>[1] = {}) {
  const lines: string[] = [];
  const log = createLogger('test', { level: 'info', ...options }, { write: (line: string) => void lines.push(line) });
  return { log, lines, text: () => lines.join('') };
}

// Shaped like real tokens, which redaction must recognise, but assembled here so no token-like literal is committed.
const BOT_TOKEN = ['xoxb', '1234567890', '0987654321', 'AbCdEfGhIjKlMnOp'].join('-');
const APP_TOKEN = ['xapp', '1', 'A0123456789', '1234567890', 'abcdef0123456789'].join('-');
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DB_PASSWORD = 'Tr0ub4dor3';
const PG_URL = `postgres://cutover:${DB_PASSWORD}@pg.prod.internal:5432/app`;

describe('createLogger never writes a secret', () => {
  it('scrubs tokens and URL passwords inside the message string', () => {
    const { log, text } = capture();
    log.info(`connecting to ${PG_URL} with ${BOT_TOKEN} and ${APP_TOKEN}`);
    expect(text()).not.toContain(DB_PASSWORD);
    expect(text()).not.toContain(BOT_TOKEN.slice(5));
    expect(text()).not.toContain(APP_TOKEN.slice(5));
    expect(text()).toContain('postgres://cutover:***@pg.prod.internal:5432/app');
  });

  it('scrubs tokens and URL passwords in object fields, however deep', () => {
    const { log, text } = capture();
    log.info({ target: { url: PG_URL }, slack: { client: { authHeader: `Bearer ${BOT_TOKEN}`, socket: APP_TOKEN } } }, 'config');
    for (const secret of [DB_PASSWORD, BOT_TOKEN, APP_TOKEN]) expect(text()).not.toContain(secret);
  });

  it('redacts signing-secret and token fields at the top level, one level down and deeper', () => {
    const { log, text } = capture();
    log.info({ signingSecret: SIGNING_SECRET }, 'top');
    log.info({ slack: { signingSecret: SIGNING_SECRET } }, 'one level');
    log.info({ env: { SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'not-a-token-shape' } }, 'the loaded env');
    log.info({ a: { b: { c: { signing_secret: SIGNING_SECRET, password: DB_PASSWORD } } } }, 'deep');
    expect(text()).not.toContain(SIGNING_SECRET);
    expect(text()).not.toContain(DB_PASSWORD);
    expect(text()).not.toContain('not-a-token-shape');
  });

  it('scrubs a signing secret or password written into a message as key=value or as JSON', () => {
    const { log, text } = capture();
    log.info(`booting with SLACK_SIGNING_SECRET=${SIGNING_SECRET} and Server=sql1;Password=${DB_PASSWORD};Encrypt=true`);
    log.warn(`bolt options ${JSON.stringify({ signingSecret: SIGNING_SECRET, clientOptions: { slackApiUrl: 'http://127.0.0.1/api/' } })}`);
    expect(text()).not.toContain(SIGNING_SECRET);
    expect(text()).not.toContain(DB_PASSWORD);
    expect(text()).toContain('Encrypt=true');
  });

  it('scrubs the password from an error’s message and stack', () => {
    const { log, text } = capture();
    log.error({ err: new Error(`connect ECONNREFUSED ${PG_URL}`) }, 'target unreachable');
    expect(text()).not.toContain(DB_PASSWORD);
    expect(text()).toContain('ECONNREFUSED');
  });

  it('keeps every line valid JSON and leaves URLs without a password and Slack mentions intact', () => {
    const { log, lines } = capture();
    log.info({ redis: 'redis://127.0.0.1:6379', approver: '<@U0DEMODBA>', conn: 'Server=x;Password=abc' }, 'ready for <@U0DEMOLEAD>');
    log.info({ url: PG_URL, note: 'mail dba@example.org' }, 'mixed');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toMatchObject({ redis: 'redis://127.0.0.1:6379', approver: '<@U0DEMODBA>', conn: 'Server=x;Password=***', msg: 'ready for <@U0DEMOLEAD>' });
    expect(parsed[1]).toMatchObject({ url: 'postgres://cutover:***@pg.prod.internal:5432/app', note: 'mail dba@example.org' });
  });

  it('keeps scrubbing when the caller passes its own hooks and redact paths', () => {
    const { log, text } = capture({ redact: ['customer.iban'], hooks: { streamWrite: (s: string) => s.replace('hello', 'HELLO') } });
    log.info({ customer: { iban: 'DE89370400440532013000' }, token: BOT_TOKEN }, `hello ${PG_URL}`);
    expect(text()).not.toContain('DE89370400440532013000');
    expect(text()).not.toContain(BOT_TOKEN);
    expect(text()).not.toContain(DB_PASSWORD);
    expect(text()).toContain('HELLO');
  });

  it('honours the level and names the process', () => {
    const { log, lines } = capture({ level: 'warn' });
    log.info('quiet');
    log.warn('loud');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ name: 'test', msg: 'loud' });
  });
});

describe('redactSecrets', () => {
  it('hides the password of postgres, mssql and redis URLs but keeps user, host and port', () => {
    expect(redactSecrets('postgres://u:p@h:5432/db')).toBe('postgres://u:***@h:5432/db');
    expect(redactSecrets('mssql://sa:Secret!1@legacy:1433/erp')).toBe('mssql://sa:***@legacy:1433/erp');
    expect(redactSecrets('redis://:pw@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redactSecrets('redis://cache:6379 for <@U1>')).toBe('redis://cache:6379 for <@U1>');
  });
});
