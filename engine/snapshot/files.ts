import { createHash, randomUUID, type Hash } from 'node:crypto';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';

const NEWLINE = 0x0a;

/** Counts '\n' bytes; in COPY text a raw newline only ever ends a row (newlines in values are escaped). */
export function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/** A pass-through that hashes (sha256), counts bytes and, optionally, COPY lines of what flows by. */
export class HashTap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  lines = 0;

  constructor(private readonly countLines = false) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.countLines) this.lines += countNewlines(chunk);
    cb(null, chunk);
  }

  /** Hex sha256 of everything seen; call once, after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** A unique temporary name next to `final`: never mistaken for a finished file, never shared by two writers. */
export const partialName = (final: string): string => `${final}.partial-${process.pid}-${randomUUID().slice(0, 8)}`;

/** Makes renames durable: without fsync of the directory a crash may forget that the name changed. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `data` under a temporary name, flushes it, then renames it to `file`. */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = partialName(file);
  try {
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(file));
}
