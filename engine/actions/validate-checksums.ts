import type { ChecksumParams } from '../../runbook/actions/validate-checksums.js';
import { CutoverError } from '../../runbook/errors.js';
import { ActionError, cancelledError, type ActionContext, type ActionImpl } from '../action.js';
import type { TableMapping } from '../etl/contracts.js';
import { conversionOptions } from '../etl/conversion-options.js';
import { MssqlSource } from '../mssql/source.js';
import { convertSchema } from '../schema/convert.js';
import { SnapshotSource } from '../snapshot/reader.js';
import { diffTable, type TableDiff } from '../validate/checksum-diff.js';
import { checksumReportText, checksumResult, maskerFor, type SideBySide } from '../validate/checksum-report.js';
import type { ChecksumSource } from '../validate/checksum-source.js';
import { MssqlChecksumSource } from '../validate/mssql-checksum-source.js';
import { PgChecksumSource } from '../validate/pg-checksum-source.js';
import { SnapshotChecksumSource } from '../validate/snapshot-checksum-source.js';

/** The source side and the table mappings to compare. A factory, so tests can hand in a PostgreSQL stand-in. */
export type ChecksumSourceFactory = (ctx: ActionContext, params: ChecksumParams) => Promise<{ source: ChecksumSource; tables: TableMapping[] }>;

export const openChecksumSource: ChecksumSourceFactory = async (ctx, params) => {
  if (params.snapshot !== undefined) {
    const snap = await SnapshotSource.open(params.snapshot);
    const wanted = params.tables?.map((t) => t.toLowerCase());
    const tables = snap.tables().filter((t) => !wanted || wanted.includes(t.source.name.toLowerCase()) || wanted.includes(`${t.source.schema}.${t.source.name}`.toLowerCase()));
    return { source: new SnapshotChecksumSource(snap), tables };
  }
  const name = params.source ?? '';
  if (ctx.connections.kind(name) !== 'mssql') throw new CutoverError('validate.source_kind', `Connection "${name}" is not a SQL Server connection (kind: mssql).`);
  const pool = await ctx.connections.mssql(name);
  const conversion = convertSchema(await new MssqlSource(pool).introspect(), conversionOptions(params));
  const hashing = params.mssql_hashing === 'auto' ? await MssqlChecksumSource.detectHashing(pool) : params.mssql_hashing;
  return { source: new MssqlChecksumSource(pool, hashing), tables: conversion.mappings };
};

/**
 * validate.checksums: a row hash over canonical text (engine/validate/canonical.ts),
 * aggregated per segment in both databases and bisected where they differ,
 * down to the differing keys; the report shows those rows side by side with
 * personal and secret-looking columns masked. Fails (red) on any difference.
 */
export function validateChecksumsAction(open: ChecksumSourceFactory = openChecksumSource): ActionImpl<ChecksumParams> {
  return {
    id: 'validate.checksums',
    async run(ctx, params) {
      const started = Date.now();
      const { source, tables } = await open(ctx, params);
      const zone = params.timezone === 'wall-clock' ? null : params.timezone.zone;
      const target = new PgChecksumSource(ctx.connections.postgres(params.target), { zone });
      const diffs: TableDiff[] = [];
      const rows = new Map<TableMapping, SideBySide>();
      try {
        for (const table of tables) {
          if (ctx.signal.aborted) throw cancelledError('validate', ctx.signal, 'validate.checksums');
          ctx.progress(`Checksums: ${table.target.schema}.${table.target.name} (${diffs.length + 1}/${tables.length})…`);
          const d = await diffTable(source, target, table, { segmentRows: params.segment_rows, maxKeys: params.max_keys, parallel: params.parallel, signal: ctx.signal });
          diffs.push(d);
          // Full rows only for the few keys the report shows.
          const keys = d.differences.slice(0, 5).map((x) => x.key);
          if (keys.length > 0) rows.set(table, { source: await source.rows(table, keys), target: await target.rows(table, keys) });
        }
      } catch (err) {
        if (ctx.signal.aborted) throw cancelledError('validate', ctx.signal, 'validate.checksums');
        throw err;
      } finally {
        await source.close();
      }
      const validation = checksumResult(diffs, started, (Date.now() - started) / 1000);
      const report = checksumReportText(validation, diffs, rows, maskerFor(params.personal));
      const details = { validation, report };
      const red = validation.items.filter((i) => i.verdict === 'red');
      if (red.length > 0) {
        throw new ActionError('validate.checksums_differ', `Row checksums differ in ${red.length} of ${tables.length} tables (${red.slice(0, 3).map((i) => `${i.subject}: ${i.message}`).join('; ')}).`, { details });
      }
      const total = diffs.reduce((n, d) => n + d.sourceRows, 0);
      return { summary: `Row checksums match: ${tables.length} tables, ${total.toLocaleString('en-US')} rows.`, details };
    },
  };
}
