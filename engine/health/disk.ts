import { stat, statfs } from 'node:fs/promises';

/** Free space of the filesystem holding a path, as the worker's host sees it. */
export interface DiskProbe {
  /** device: the filesystem's id (st_dev), so tablespaces on one volume are counted once. */
  volume(path: string): Promise<{ device: number; freeBytes: number; totalBytes: number }>;
}

/** statvfs through Node: bavail (what a non-root process may still write) × block size. */
export const localDisk: DiskProbe = {
  async volume(path) {
    const [st, fs] = await Promise.all([stat(path), statfs(path)]);
    return { device: st.dev, freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize };
  },
};

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * The disk probe for a PostgreSQL connection URL, or why there is none:
 * free space is read only when the server runs on the worker's own host
 * (a loopback address or a Unix socket), never guessed.
 */
export function diskProbeFor(url: string): DiskProbe | string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'the connection is not a URL, so its host is unknown';
  }
  const socket = u.searchParams.get('host');
  const host = socket ?? decodeURIComponent(u.hostname);
  if (host === '' || host.startsWith('/') || LOOPBACK.has(host)) return localDisk;
  return `the server (${host}) is not on the worker's host`;
}
