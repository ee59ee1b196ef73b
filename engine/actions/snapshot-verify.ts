import type { SnapshotVerifyParams } from '../../runbook/actions/snapshot-verify.js';
import { formatBytes } from '../../runbook/backups.js';
import { ActionError, type ActionImpl } from '../action.js';
import { SnapshotSource } from '../snapshot/reader.js';

/**
 * snapshot.verify (seed 000 step 2.2, "md5sum -c; wc -l"): every file the
 * manifest names must exist with its size and sha256, and — with content —
 * decompress to the recorded row count and row hash. Reads only.
 */
export const snapshotVerifyAction: ActionImpl<SnapshotVerifyParams> = {
  id: 'snapshot.verify',
  async run(ctx, params) {
    const snapshot = await SnapshotSource.open(params.dir);
    ctx.progress(`verifying ${params.dir}${params.content ? ' (files and row hashes)' : ''}…`);
    const report = await snapshot.verify({ content: params.content });
    const problems = report.problems.map((p) => `${p.file}: ${p.problem}`);
    if (!report.ok) {
      throw new ActionError('snapshot.verify_failed', `${problems.length} file(s) of the snapshot in ${params.dir} failed verification: ${problems.slice(0, 3).join('; ')}`, { details: { problems } });
    }
    const tables = snapshot.manifest.tables;
    const rows = tables.reduce((n, t) => n + t.rows, 0);
    const quarantined = tables.reduce((n, t) => n + t.quarantined, 0);
    const counts = Object.fromEntries(tables.map((t) => [`${t.mapping.source.schema}.${t.mapping.source.name}`, t.rows]));
    const q = quarantined ? `; ${quarantined} rows were quarantined by the extract, with their reasons` : '';
    return {
      summary: `${report.files} files (${formatBytes(report.bytes)}) match the manifest of ${snapshot.manifest.sourceDatabase} extracted ${snapshot.manifest.createdAt}${params.content ? `; ${rows.toLocaleString('en-US')} rows in ${tables.length} tables, row hashes verified` : ''}${q}.`,
      details: { dir: params.dir, files: report.files, bytes: report.bytes, rows, quarantined, counts },
    };
  },
};
