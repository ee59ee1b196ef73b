import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { CliIo } from '../../cli/output.js';

export const REPO = resolve(import.meta.dirname, '..', '..');

/** Captured output of a `cutover` command run in-process. */
export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
}

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Streams that record what a command printed; `tty` makes them look like a terminal (colour, live progress). */
export function cliIo(env: Record<string, string | undefined> = {}, opts: { tty?: boolean; cwd?: string } = {}): CapturedIo {
  const stdout = new Capture(opts.tty ?? false);
  const stderr = new Capture(opts.tty ?? false);
  return { stdout, stderr, env, cwd: opts.cwd ?? REPO, out: () => stdout.text, err: () => stderr.text };
}
