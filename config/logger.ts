import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Names of fields whose value is a secret, whatever the prefix: signingSecret, SLACK_BOT_TOKEN, db_password… */
const SECRET_KEY = '[A-Za-z_]*(?:secret|password|passwd|pwd|token)';
const KEY_EQUALS = new RegExp(`\\b(${SECRET_KEY})=[^;&\\s"\\\\]+`, 'gi');
const JSON_FIELD = new RegExp(`("${SECRET_KEY}":)"(?:[^"\\\\]|\\\\.)*"`, 'gi');
/** The same field JSON-encoded inside a string, e.g. a message made with JSON.stringify: {\"token\":\"…\"}. */
const ESCAPED_JSON_FIELD = new RegExp(`(\\\\"${SECRET_KEY}\\\\":)\\\\"[^"\\\\]*\\\\"`, 'gi');

/**
 * Replaces the password of any URL-shaped credential (postgres://u:p@h, redis://:p@h, mssql://…),
 * Slack tokens, `password=…`-style pairs and secret-named fields at any depth (redact paths reach
 * only one level). Works on plain text and on a serialised JSON log line.
 */
export function redactSecrets(text: string): string {
  // Character classes stop at `"` and `/`: a JSON log line has no spaces, and a password-less URL
  // (redis://host:6379) must not swallow everything up to the next "@" in the line.
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s"]*:)[^@\s/?#"]+@/gi, '$1***@')
    .replace(/\bxox[abposr]-[A-Za-z0-9-]+/g, 'xox?-***')
    .replace(/\bxapp-[A-Za-z0-9-]+/g, 'xapp-***')
    .replace(KEY_EQUALS, '$1=***')
    .replace(JSON_FIELD, '$1"***"')
    .replace(ESCAPED_JSON_FIELD, '$1\\"***\\"');
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
