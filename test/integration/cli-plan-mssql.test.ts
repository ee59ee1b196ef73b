import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mssql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { main } from '../../cli/main.js';
import { mssqlConfigFromUrl } from '../../engine/connections.js';
import { quoteIdent } from '../../engine/mssql/select-list.js';
import { loadRunbook } from '../../runbook/load.js';
import { cliIo } from '../support/cli-io.js';
import { TEST_DATABASE_URL } from '../support/engine-context.js';
import { KGV_LEGACY_BATCHES, KGV_LEGACY_DATA } from '../support/fixtures/kgv-legacy-ddl.js';

/**
 * `cutover plan --source mssql://…` against a real SQL Server (or Babelfish):
 * the catalog, row counts and sizes read live, a runbook with the freeze, the
 * SQL Server backup and etl.copy groups. Creates its own database with the
 * KGV legacy schema and drops it. Skipped, saying so, without MSSQL_URL.
 */
const URL = process.env.MSSQL_URL;
const suiteName = `cutover plan against SQL Server${URL ? '' : ' (skipped: set MSSQL_URL to run against SQL Server)'}`;

describe.skipIf(!URL)(suiteName, () => {
  const database = `cutover_plan_${randomBytes(3).toString('hex')}`;
  let admin: mssql.ConnectionPool;
  let work: string;
  let sourceUrl: string;

  beforeAll(async () => {
    const config = mssqlConfigFromUrl(URL ?? '');
    admin = await new mssql.ConnectionPool({ ...config, database: 'master' }).connect();
    await admin.request().batch(`CREATE DATABASE ${quoteIdent(database)}`);
    const setup = await new mssql.ConnectionPool({ ...config, database, pool: { max: 1 } }).connect();
    try {
      const babelfish = /babelfish/i.test(String((await setup.request().query('SELECT @@VERSION AS v')).recordset[0]?.v));
      if (babelfish) {
        await setup.request().batch("EXEC sp_babelfish_configure 'escape_hatch_rowversion', 'ignore'");
        await setup.request().batch("EXEC sp_babelfish_configure 'escape_hatch_nocheck_add_constraint', 'ignore'");
      }
      for (const batch of [...KGV_LEGACY_BATCHES, ...KGV_LEGACY_DATA]) await setup.request().batch(batch);
      // Babelfish's sys.partitions.rows is PostgreSQL's estimate, 0 until analysed (B13 in mssql-source.test.ts).
      if (babelfish) await setup.request().batch('EXEC sp_updatestats');
    } finally {
      await setup.close();
    }
    const u = new globalThis.URL(URL ?? '');
    u.pathname = `/${database}`;
    sourceUrl = u.toString();
    work = await mkdtemp(join(tmpdir(), 'cutover-plan-mssql-'));
  }, 180_000);

  afterAll(async () => {
    await admin?.request().batch(`DROP DATABASE ${quoteIdent(database)}`).catch(() => undefined);
    await admin?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('plans from the live catalog: freeze and SQL Server backup first, etl.copy, totals computed on SQL Server; no password written', async () => {
    const out = join(work, 'legacy.yaml');
    const io = cliIo(process.env);
    const code = await main(['plan', '--source', sourceUrl, '--target', TEST_DATABASE_URL, '--name', 'legacy', '--out', out], io);
    expect(io.err()).not.toContain('cutover plan:');
    expect(code).toBe(0);
    const text = await readFile(out, 'utf8');
    const password = new globalThis.URL(sourceUrl).password;
    if (password) expect(text + io.out() + io.err()).not.toContain(decodeURIComponent(password));
    const env = { LEGACY_TARGET_URL: TEST_DATABASE_URL, LEGACY_SOURCE_URL: sourceUrl, LEGACY_MSSQL_BACKUP_DIR: '/var/opt/mssql/backup' };
    const loaded = loadRunbook({ name: 'legacy', file: out, text, env });
    expect(loaded.ok ? [] : loaded.problems.filter((p) => !p.message.startsWith('placeholder not filled in'))).toEqual([]);

    const raw = parseDocument(text, { merge: true }).toJS() as { phases: Array<{ steps: Array<Record<string, any>> }> };
    const steps = raw.phases.flatMap((p) => p.steps);
    expect(steps.map((s) => s.action)).toEqual(expect.arrayContaining(['backup.mssql', 'freeze.source', 'schema.convert', 'etl.copy', 'validate.counts', 'validate.checksums']));
    expect(steps.findIndex((s) => s.action === 'freeze.source')).toBeLessThan(steps.findIndex((s) => s.action === 'etl.copy'));
    const totals = steps.find((s) => s.id === 'totals')?.params.totals as Array<{ name: string; source_sql: string }> | undefined;
    for (const t of totals ?? []) expect(t.source_sql).toMatch(/^SELECT CONVERT\(varchar\(50\), SUM\(CONVERT\(decimal\(38, \d+\), \[/);
    // Names compared case-insensitively: Babelfish gives sys.* names lower-cased (B8).
    const report = (await readFile(join(work, 'legacy.conversion.md'), 'utf8')).toLowerCase();
    const antrag = /\| `dbo\.antrag` \| `public\.antrag` \| ([\d,]+) \|/.exec(report);
    expect(Number(antrag?.[1]?.replaceAll(',', ''))).toBeGreaterThan(0);
  }, 120_000);
});
