import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Replaces the password of any URL-shaped credential (postgres://u:p@h, redis://:p@h, mssql://…). */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+@/gi, '$1***@')
    .replace(/\bxox[abposr]-[A-Za-z0-9-]+/g, 'xox?-***')
    .replace(/\bxapp-[A-Za-z0-9-]+/g, 'xapp-***')
    .replace(/(password|pwd)=([^;&\s]+)/gi, '$1=***');
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
  const base: LoggerOptions = {
    name,
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '***' },
    // Strings anywhere in a log line can carry a URL with a password: scrub the serialised message too.
    hooks: {
      streamWrite: (line: string) => redactSecrets(line),
    },
    ...options,
  };
  return destination ? pino(base, destination) : pino(base);
}
