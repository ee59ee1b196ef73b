/**
 * The KGV sample: the legacy database of seed 000/001 as a deterministic
 * extract snapshot, for rehearsals (`config/runbooks/kgv-local.yaml`) and tests.
 */
export { ensureKgvSample, isKgvSample, fingerprintOf, SAMPLE_FINGERPRINT, STAMP_FILE } from './ensure.js';
export { generateKgvSample, type KgvSampleData } from './generate.js';
export { writeKgvSnapshot, SAMPLE_CONVERSION } from './write-snapshot.js';
export type { EdgeCase } from './edge-cases.js';

/** Where `npm run sample:kgv` and kgv-local.yaml look when KGV_SAMPLE_DIR is not set (relative to the working directory). */
export const DEFAULT_SAMPLE_DIR = 'var/kgv-sample';
