import { relative } from 'node:path';
import type { Writable } from 'node:stream';
import { redactSecrets } from '../config/logger.js';

/** What a command is given: its streams and environment (the process's, or a test's). */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM by the bin; a long command (rehearse) stops cleanly on it. */
  interrupt?: AbortSignal;
}

interface Paint {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

/**
 * Everything a command prints goes through here: secrets are scrubbed from
 * every line (a driver message may carry a connection URL), colour only on a
 * terminal and never with NO_COLOR set, and --quiet keeps only results and errors.
 */
export class Output {
  readonly paint: Paint;
  /** True when stderr is a terminal: progress is redrawn in place there, printed as plain lines elsewhere. */
  readonly live: boolean;
  private statusShown = false;

  constructor(
    private readonly io: CliIo,
    readonly quiet: boolean,
  ) {
    const noColor = (io.env.NO_COLOR ?? '') !== '';
    const code = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
    const plain = (text: string) => text;
    const colour = !noColor && io.stdout.isTTY === true;
    this.paint = colour
      ? { green: code(32, 39), red: code(31, 39), yellow: code(33, 39), bold: code(1, 22), dim: code(2, 22) }
      : { green: plain, red: plain, yellow: plain, bold: plain, dim: plain };
    this.live = io.stderr.isTTY === true;
  }

  /** A result line on stdout (kept under --quiet). */
  result(text: string): void {
    this.clearStatus();
    this.io.stdout.write(`${redactSecrets(text)}\n`);
  }

  /** Commentary on stderr (dropped under --quiet). */
  note(text: string): void {
    if (this.quiet) return;
    this.clearStatus();
    this.io.stderr.write(`${redactSecrets(text)}\n`);
  }

  /** An error on stderr (always shown). */
  error(text: string): void {
    this.clearStatus();
    this.io.stderr.write(`${redactSecrets(text)}\n`);
  }

  /** A status line redrawn in place on a terminal (a progress bar); nothing elsewhere or under --quiet. */
  status(text: string): void {
    if (this.quiet || !this.live) return;
    const width = Math.max(20, (this.io.stderr.columns ?? 100) - 1);
    this.io.stderr.write(`\r\u001b[2K${redactSecrets(text).slice(0, width)}`);
    this.statusShown = true;
  }

  clearStatus(): void {
    if (!this.statusShown) return;
    this.io.stderr.write('\r\u001b[2K');
    this.statusShown = false;
  }
}

/** A path as people paste it back: relative under the working directory, absolute elsewhere. */
export const shownPath = (cwd: string, file: string): string => {
  const rel = relative(cwd, file);
  return rel.startsWith('..') ? file : rel || '.';
};
