import { SnapshotSource } from '../../snapshot/reader.js';
import { DEFAULT_SAMPLE_DIR, ensureKgvSample } from './index.js';

/**
 * `npm run sample:kgv [-- <dir>]`: makes sure the KGV sample snapshot is in
 * <dir> (default var/kgv-sample) and prints what it holds.
 */
async function main(): Promise<void> {
  const { dir, created } = await ensureKgvSample(process.argv[2] ?? DEFAULT_SAMPLE_DIR);
  const { manifest } = await SnapshotSource.open(dir);
  const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
  const quarantined = manifest.tables.reduce((n, t) => n + t.quarantined, 0);
  console.log(`KGV sample ${created ? 'written to' : 'already in'} ${dir}`);
  for (const t of manifest.tables) {
    const q = t.quarantined ? ` (+${t.quarantined} quarantined)` : '';
    console.log(`  ${`${t.mapping.source.schema}.${t.mapping.source.name}`.padEnd(30)} ${String(t.rows).padStart(6)} rows in ${t.chunks.length} chunk(s)${q}`);
  }
  console.log(`  ${rows} rows, ${quarantined} quarantined by the extract with their reasons; extract time ${manifest.createdAt}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
