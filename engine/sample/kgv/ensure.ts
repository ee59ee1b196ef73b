import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CutoverError } from '../../../runbook/errors.js';
import { MANIFEST_FILE, type Manifest } from '../../snapshot/manifest.js';
import { SnapshotSource } from '../../snapshot/reader.js';
import { writeFileAtomic } from '../../snapshot/files.js';
import { writeKgvSnapshot } from './write-snapshot.js';

/**
 * What the sample's content hashes to: its schema model and, per chunk, the
 * row count, row hash and quarantine file hash — everything but the gzip
 * bytes, which depend on the zlib build. A test regenerates the sample and
 * compares, so a change to the generator must change this constant, and an
 * existing sample directory is then regenerated rather than silently stale.
 */
export const SAMPLE_FINGERPRINT = 'd3a214d2e18ca2527ca8867bf8bb45e0d033a2c080ff904ad3f56a3fc20d5805';

/** Written next to the manifest: which generator made the directory, and the manifest it made. */
export const STAMP_FILE = 'kgv-sample.json';
const stampSchema = z.object({ generator: z.literal('cutover kgv sample'), fingerprint: z.string(), manifestSha256: z.string() });

/** Files a sample directory may hold: anything else means the directory is someone else's, and is left alone. */
const SNAPSHOT_FILE = /^(manifest\.json|kgv-sample\.json|.+\.copy\.gz|.+\.quarantine\.jsonl)(\.partial-.+)?$/;

export function fingerprintOf(manifest: Manifest): string {
  const hash = createHash('sha256').update(JSON.stringify(manifest.schema));
  for (const t of manifest.tables) {
    hash.update(JSON.stringify(t.mapping));
    for (const c of t.chunks) hash.update(`${c.chunk.id}\t${c.file}\t${c.rows}\t${c.rowHash}\t${c.quarantined}\t${c.quarantineSha256}\n`);
  }
  return hash.digest('hex');
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** True when dir holds this generator's sample, unchanged: the stamp matches, and every file its manifest names verifies. */
export async function isKgvSample(dir: string): Promise<boolean> {
  try {
    const stamp = stampSchema.safeParse(JSON.parse(await readFile(path.join(dir, STAMP_FILE), 'utf8')));
    if (!stamp.success || stamp.data.fingerprint !== SAMPLE_FINGERPRINT) return false;
    if (sha256(await readFile(path.join(dir, MANIFEST_FILE))) !== stamp.data.manifestSha256) return false;
    const snapshot = await SnapshotSource.open(dir);
    return fingerprintOf(snapshot.manifest) === SAMPLE_FINGERPRINT && (await snapshot.verify()).ok;
  } catch {
    return false;
  }
}

/**
 * Makes sure `dir` holds the KGV sample snapshot: generates it when it is
 * missing, damaged or from another version of the generator. It is written
 * next to `dir` and renamed into place, so a crash never leaves a
 * half-written sample that looks complete. A `dir` holding files that are not
 * a snapshot's is refused, never emptied.
 */
export async function ensureKgvSample(dir: string): Promise<{ dir: string; created: boolean }> {
  const target = path.resolve(dir);
  if (await isKgvSample(target)) return { dir: target, created: false };
  const scratch = `${target}.partial-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    const manifest = await writeKgvSnapshot(scratch);
    const manifestSha256 = sha256(await readFile(path.join(scratch, MANIFEST_FILE)));
    await writeFileAtomic(path.join(scratch, STAMP_FILE), `${JSON.stringify({ generator: 'cutover kgv sample', fingerprint: fingerprintOf(manifest), manifestSha256 }, null, 2)}\n`);
    // Another process may have finished the same work meanwhile: its sample is as good as ours.
    if (await isKgvSample(target)) return { dir: target, created: false };
    await clearOldSample(target);
    await rename(scratch, target);
    return { dir: target, created: true };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function clearOldSample(dir: string): Promise<void> {
  const exists = await stat(dir).then((s) => s.isDirectory(), () => null);
  if (exists === null) return;
  if (!exists) throw new CutoverError('sample.not_a_directory', `${dir} exists and is not a directory; choose another place for the KGV sample (KGV_SAMPLE_DIR)`);
  const foreign = (await readdir(dir)).filter((f) => !SNAPSHOT_FILE.test(f));
  if (foreign.length > 0) {
    throw new CutoverError('sample.dir_in_use', `${dir} holds files that are not a snapshot's (${foreign.slice(0, 3).join(', ')}); the KGV sample will not overwrite them — choose an empty directory (KGV_SAMPLE_DIR)`);
  }
  await rm(dir, { recursive: true, force: true });
}
