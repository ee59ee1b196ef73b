import type { ErrorCode } from './error-codes.js';

/**
 * The one error class of the project: a namespaced code for machines, a
 * sentence for people (fit for Slack), and the original cause kept.
 */
export class CutoverError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: string;

  constructor(code: ErrorCode, userMessage: string, options: { cause?: unknown; detail?: string } = {}) {
    super(options.detail ? `${userMessage} (${options.detail})` : userMessage, { cause: options.cause });
    this.name = 'CutoverError';
    this.code = code;
    this.userMessage = userMessage;
  }
}

/** Wraps anything thrown into a CutoverError, keeping the original as cause. */
export function asCutoverError(err: unknown, code: ErrorCode = 'internal.unexpected'): CutoverError {
  if (err instanceof CutoverError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CutoverError(code, message, { cause: err });
}
