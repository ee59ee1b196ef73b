/**
 * The KGV sample: the legacy database of seed 000/001 as a deterministic
 * extract snapshot, for rehearsals (`config/runbooks/kgv-local.yaml`) and tests.
 */
export { ensureKgvSample, fingerprintOf, SAMPLE_FINGERPRINT } from './ensure.js';
export { generateKgvSample } from './generate.js';
export { writeKgvSnapshot } from './write-snapshot.js';

/** Where `npm run sample:kgv` and kgv-local.yaml look when KGV_SAMPLE_DIR is not set (relative to the working directory). */
export const DEFAULT_SAMPLE_DIR = 'var/kgv-sample';
