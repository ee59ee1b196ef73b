import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Every pattern below runs over outside text (a slash command's words, a driver's error, a whole
 * log line), so each must cost time linear in the text. A pattern whose leading run (scheme
 * letters, a key name) is tried from every position inside a long run rescans that run from each
 * start: quadratic (issue 14: one 64 KB word held web for 8 s). So each pattern may only start
 * where its run starts — a lookbehind or `\b` refuses every position inside a run in O(1) — and
 * every later part stops at a character its run cannot contain, so the runs scanned from two
 * starts never overlap. test/unit/linear-time.test.ts holds the inputs that were quadratic.
 */

/** Names of fields whose value is a secret, whatever the prefix: signingSecret, SLACK_BOT_TOKEN, db_password… */
const SECRET_KEY = '[A-Za-z_]*(?:secret|password|passwd|pwd|token)';
/** `scheme://user:password@` — starts only where a run of scheme characters starts. */
const URL_PASSWORD = /(?<![a-z0-9+.-])([a-z0-9+.-]+:\/\/[^:/@\s"]*:)[^@\s/?#"]+@/gi;
const BOT_TOKEN = /(?<![A-Za-z0-9-])xox[abposr]-[A-Za-z0-9-]+/g;
const APP_TOKEN = /(?<![A-Za-z0-9-])xapp-[A-Za-z0-9-]+/g;
const KEY_EQUALS = new RegExp(`(?<![A-Za-z_])(${SECRET_KEY})=[^;&\\s"\\\\]+`, 'gi');
/**
 * The string value is matched atomically: a lookahead captures it (unrolled, `[^"\\]*(?:\\.[^"\\]*)*`) and a
 * backreference consumes it, so an unclosed value fails once instead of giving back one character at a time.
 */
const JSON_FIELD = new RegExp(`("${SECRET_KEY}":)"(?=([^"\\\\]*(?:\\\\.[^"\\\\]*)*))\\2"`, 'gi');
/** The same field JSON-encoded inside a string, e.g. a message made with JSON.stringify: {\"token\":\"…\"}. */
const ESCAPED_JSON_FIELD = new RegExp(`(\\\\"${SECRET_KEY}\\\\":)\\\\"[^"\\\\]*\\\\"`, 'gi');

/**
 * Replaces the password of any URL-shaped credential (postgres://u:p@h, redis://:p@h, mssql://…),
 * Slack tokens, `password=…`-style pairs and secret-named fields at any depth (redact paths reach
 * only one level). Works on plain text and on a serialised JSON log line, in time linear in its length.
 */
export function redactSecrets(text: string): string {
  // Character classes stop at `"` and `/`: a JSON log line has no spaces, and a password-less URL
  // (redis://host:6379) must not swallow everything up to the next "@" in the line.
  // A pattern runs only when the text holds the literal it cannot match without (most log lines hold none).
  let out = text;
  if (out.includes('://')) out = out.replace(URL_PASSWORD, '$1***@');
  if (out.includes('xox')) out = out.replace(BOT_TOKEN, 'xox?-***');
  if (out.includes('xapp-')) out = out.replace(APP_TOKEN, 'xapp-***');
  if (out.includes('=')) out = out.replace(KEY_EQUALS, '$1=***');
  if (out.includes('":')) out = out.replace(JSON_FIELD, '$1"***"');
  if (out.includes('\\":')) out = out.replace(ESCAPED_JSON_FIELD, '$1\\"***\\"');
  return out;
}

const REDACT_PATHS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'password',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  '*.token',
  '*.password',
  '*.signingSecret',
  'headers.authorization',
  'req.headers.authorization',
  '*.headers.authorization',
];

/** A pino logger that never writes a token, signing secret or connection-URL password. */
export function createLogger(name: string, options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const extraPaths = Array.isArray(options.redact) ? options.redact : (options.redact?.paths ?? []);
  // Caller options come first: they may add redact paths and hooks but never switch the scrubbing off.
  const base: LoggerOptions = {
    ...options,
    name,
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: [...REDACT_PATHS, ...extraPaths], censor: '***' },
    // Strings anywhere in a log line can carry a URL with a password: scrub the serialised message too.
    hooks: {
      ...options.hooks,
      streamWrite: (line: string) => redactSecrets(options.hooks?.streamWrite ? options.hooks.streamWrite(line) : line),
    },
  };
  return destination ? pino(base, destination) : pino(base);
}
