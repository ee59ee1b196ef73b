import { stat } from 'node:fs/promises';
import { CutoverError } from '../../runbook/errors.js';
import { listDump, sha256File } from './pg-tools.js';

export interface BackupCheck {
  ok: boolean;
  /** Why the file must not be used, as a sentence; absent when ok. */
  problem?: string;
  /** TABLE DATA entries listed by pg_restore (when it could read the file). */
  tables?: number;
}

/**
 * Whether a PostgreSQL custom-format dump is still the file that was backed
 * up: same sha256, readable by `pg_restore --list`, with table data in it.
 * Run before a restore uses it as a source. Never throws.
 */
export async function verifyBackup(file: string, sha256: string, signal: AbortSignal = new AbortController().signal): Promise<BackupCheck> {
  try {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return { ok: false, problem: `backup file ${file} does not exist on the worker` };
    const actual = await sha256File(file);
    if (actual !== sha256.toLowerCase()) {
      return { ok: false, problem: `backup file ${file} has changed since it was made: sha256 ${actual.slice(0, 12)}… ≠ recorded ${sha256.slice(0, 12)}…` };
    }
    const listing = await listDump(file, signal);
    if (listing.tables === 0) return { ok: false, problem: `backup file ${file} holds no table data`, tables: 0 };
    return { ok: true, tables: listing.tables };
  } catch (err) {
    const why = err instanceof CutoverError ? err.userMessage : err instanceof Error ? err.message : String(err);
    return { ok: false, problem: why };
  }
}
