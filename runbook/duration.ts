import { z } from 'zod';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** A duration is a few characters ("1h30m"); anything longer is refused before it is scanned. */
export const MAX_DURATION_CHARS = 32;
/** One "<number><unit>" part, matched only where the previous part ended (sticky): one pass over the text. */
const PART = /(\d+(?:\.\d+)?)\s*([smhdw])\s*/y;

/** Parses "90s", "5m", "1h30m", "7d", "1w" or a bare number of minutes into seconds; null if malformed. */
export function parseDuration(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input * 60) : null;
  const text = input.trim();
  if (text.length === 0 || text.length > MAX_DURATION_CHARS) return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 60);
  let seconds = 0;
  for (let at = 0; at < text.length; at = PART.lastIndex) {
    PART.lastIndex = at;
    const part = PART.exec(text);
    if (!part) return null;
    seconds += Number(part[1]) * (UNIT_SECONDS[part[2] ?? 's'] ?? 0);
  }
  return Math.round(seconds);
}

/** A runbook duration: accepts "30m", "1h30m", "45s" or minutes as a number; yields seconds. */
export const durationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const seconds = parseDuration(value);
  if (seconds === null) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like "30s", "5m" or "1h30m", got ${quoted(value)}` });
    return z.NEVER;
  }
  return seconds;
});

/** The value as the problem quotes it: a hostile 1 MB value must not become a 1 MB message. */
const quoted = (value: string | number): string => (typeof value === 'string' && value.length > MAX_DURATION_CHARS ? `${JSON.stringify(value.slice(0, MAX_DURATION_CHARS))}… (${value.length} characters; at most ${MAX_DURATION_CHARS})` : JSON.stringify(value));

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  return rest > 0 ? `${m}m ${rest}s` : `${m}m`;
}

/** Like formatDuration, in days and hours once a span reaches a day (follow-ups are due days or weeks ahead). */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 86400) return formatDuration(s);
  const d = Math.floor(s / 86400);
  const h = Math.round((s % 86400) / 3600);
  if (h === 24) return `${d + 1}d`;
  return h > 0 ? `${d}d ${h}h` : `${d}d`;
}
