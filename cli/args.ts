import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CutoverError } from '../runbook/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
} as const satisfies Options;

/** A command called wrongly: the message says what, and main prints the command's usage after it (exit 2). */
export const usageError = (message: string): CutoverError => new CutoverError('cli.usage', message);

/** node:util parseArgs, strict, with its errors as usage errors in our words. */
export function parseCommandArgs<O extends Options>(args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : String(err);
    throw usageError(message);
  }
}
/** "4h", "90m", "1h30m" → seconds; a usage error otherwise. */
export function durationArg(name: string, value: string, parse: (text: string) => number | null): number {
  const seconds = parse(value);
  if (seconds === null || seconds <= 0) throw usageError(`--${name} expects a duration such as 4h, 90m or 1h30m, got ${JSON.stringify(value)}`);
  return seconds;
}

/** "a,b, c" → ["a", "b", "c"]; repeated options are joined. */
export const listArg = (values: string | string[] | undefined): string[] =>
  (Array.isArray(values) ? values : values === undefined ? [] : [values])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
