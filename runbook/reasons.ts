/**
 * The written reason every destructive command needs (abort, a gate override,
 * skip, a rollback request and its cancel), checked the same way wherever it
 * comes from: the slash command, a modal, the core itself. No imports, so the
 * core's deciders and the bot can all use it without a cycle.
 */
export type DestructiveKind = 'abort' | 'override' | 'skip' | 'rollback' | 'rollback-cancel';

export const DESTRUCTIVE_KINDS: readonly DestructiveKind[] = ['abort', 'override', 'skip', 'rollback', 'rollback-cancel'];

/** Long enough for a sentence and a ticket number; short enough for a button value, a thread line and the report. */
export const REASON_MAX_CHARS = 500;

/** The placeholder older versions recorded when nobody gave a reason; it is no reason. */
const NO_REASON = 'no reason given';

export const USAGE: Record<DestructiveKind, string> = {
  abort: '`/migrate abort [run] <reason>`, e.g. `/migrate abort the source backup failed verification`',
  override: '`/migrate override <step> <reason>`, e.g. `/migrate override go-live row 4711 is a known test record`',
  skip: '`/migrate skip <step> <reason>`, e.g. `/migrate skip smoke-test checked by hand, see INC-4711`',
  rollback: '`/migrate rollback [run] [scenario] <reason>`, e.g. `/migrate rollback pre-go-live totals differ from the source`',
  'rollback-cancel': '`/migrate rollback cancel <reason>`, e.g. `/migrate rollback cancel the counts matched after a re-run`',
};

const VERB: Record<DestructiveKind, string> = {
  abort: 'An abort',
  override: 'An override',
  skip: 'A skip',
  rollback: 'A rollback request',
  'rollback-cancel': 'Cancelling a rollback request',
};

/** Null when the reason will do, else the sentence (with the usage) that refuses it. */
export function reasonProblem(kind: DestructiveKind, reason: string): string | null {
  const text = reason.trim();
  if (text === '' || text.toLowerCase() === NO_REASON) return `${VERB[kind]} needs a written reason, recorded in the thread and the report. Usage: ${USAGE[kind]}`;
  if (text.length > REASON_MAX_CHARS) return `That reason is ${text.length} characters; keep it under ${REASON_MAX_CHARS} (link a ticket for the details). Usage: ${USAGE[kind]}`;
  return null;
}

