import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollbackExportAction, TSQL_FILE } from '../../engine/actions/rollback-export.js';
import { rollbackVerifySourceAction } from '../../engine/actions/rollback-verify-source.js';
import type { StepRecord } from '../../engine/action.js';
import { switchAction } from '../../engine/actions/switch.js';
import { effectKeyOf } from '../../engine/ledger/effect-key.js';
import { pgDialect } from '../../engine/rollback/replay-script.js';
import { switchParams } from '../../runbook/actions/switch.js';
import { verifySourceParams } from '../../runbook/actions/rollback-verify-source.js';
import { actionContext, TEST_DATABASE_URL, thrown } from '../support/engine-context.js';
import { APP, cleanUp, exportParams, goLive, model, RUN, SRC, TGT } from '../support/replay-fixture.js';

/**
 * The post-go-live replay, executed: a PostgreSQL copy of the source schema
 * (SRC, the source's names, IDENTITY columns and foreign keys), the target
 * the conversion makes from it (TGT) plus a table a transform built (APP),
 * the switch starting the tracking of deletions, the application writing
 * after go-live, then the export's script — the same plan the T-SQL carries,
 * in its PostgreSQL form — run against SRC. Afterwards SRC equals the target.
 */
let admin: pg.Pool;
let tmp: string;

const rows = async (sql: string): Promise<string> => JSON.stringify((await admin.query(sql)).rows.map((r: Record<string, unknown>) => Object.values(r)));
const sourceEqualsTarget = async (): Promise<void> => {
  expect(await rows(`SELECT * FROM ${SRC}."Bezirk" ORDER BY 1`)).toBe(await rows(`SELECT * FROM ${TGT}.bezirk ORDER BY 1`));
  const antrag = (t: string) => `SELECT an_id, an_bezirk, an_name, an_betrag, an_foto, an_aktiv, an_datum, an_tag, an_zeit, an_guid, an_stempel, an_geaendert FROM ${t} ORDER BY 1`;
  expect(await rows(antrag(`(SELECT "an_ID" AS an_id, "an_Bezirk" AS an_bezirk, "an_Name" AS an_name, "an_Betrag" AS an_betrag, "an_Foto" AS an_foto, "an_Aktiv" AS an_aktiv, "an_Datum" AS an_datum, "an_Tag" AS an_tag, "an_Zeit" AS an_zeit, "an_Guid" AS an_guid, "an_Stempel" AS an_stempel, "an_Geaendert" AS an_geaendert FROM ${SRC}."Antrag") s`)))
    .toBe(await rows(antrag(`${TGT}.antrag`)));
  // Rows with a legacy id come back under it; the one without got the source's next IDENTITY value.
  expect(await rows(`SELECT "ve_ID", "ve_Antrag", "ve_Text", "ve_Gelesen" FROM ${SRC}."Verlauf" WHERE "ve_ID" <= 50 ORDER BY 1`))
    .toBe(await rows(`SELECT legacy_id, antrag_id, note, coalesce(is_read, false) FROM ${APP}.history WHERE legacy_id IS NOT NULL ORDER BY 1`));
  expect(await rows(`SELECT "ve_Antrag", "ve_Text", "ve_Gelesen" FROM ${SRC}."Verlauf" WHERE "ve_ID" > 50`)).toBe(await rows(`SELECT antrag_id, note, is_read FROM ${APP}.history WHERE legacy_id IS NULL`));
};

let goLiveAt: string;
let script: string;
let exported: Record<string, unknown> | undefined;

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  admin.on('error', () => undefined);
  tmp = await mkdtemp(path.join(tmpdir(), 'cutover-replay-'));
  goLiveAt = await goLive(admin);
}, 60_000);

afterAll(async () => {
  await cleanUp(admin);
  await admin.end();
  await rm(tmp, { recursive: true, force: true });
});

async function exportWith(dialect: typeof pgDialect | undefined, dir: string, params = exportParams(dir)) {
  const ctx = actionContext({ runId: RUN, stepId: 'export' });
  try {
    return await rollbackExportAction({ sourceModel: async () => model, goLiveAt: async () => goLiveAt, ...(dialect ? { dialect } : {}) }).run(ctx, params);
  } finally {
    await ctx.connections.close();
  }
}

describe('the post-go-live replay, run against a PostgreSQL copy of the source', () => {
  it('keeps the keys deleted since go-live, and forgets a row inserted and deleted after it', async () => {
    const gone = await rows(`SELECT table_name, key, born_after_golive, gone FROM cutover.deleted_since_golive WHERE table_name LIKE '${TGT}.%' ORDER BY 1, length(key::text), key::text`);
    expect(gone).toBe(JSON.stringify([
      [`${TGT}.antrag`, { an_id: 3 }, false, true],
      [`${TGT}.antrag`, { an_id: 100 }, true, false],
      [`${TGT}.antrag`, { an_id: 101 }, true, true],
      [`${TGT}.bezirk`, { bez_id: 2 }, false, true],
      [`${TGT}.bezirk`, { bez_id: 10 }, true, false],
    ]));
  });

  it('keeps them when the switch runs again in the same run: the flip and the tracking come from the ledger together', async () => {
    const kept = () => rows(`SELECT table_name, key, born_after_golive, gone FROM cutover.deleted_since_golive WHERE table_name LIKE '%\\_${process.pid}.%' ORDER BY 1, length(key::text), key::text`);
    const before = await kept();
    const ctx = actionContext({ runId: RUN, stepId: 'switch', attempt: 2, effectKey: effectKeyOf(RUN, 'switch', 2) });
    try {
      const again = await switchAction().run(ctx, switchParams.parse({
        flip: { action: 'sql', params: { connection: 'target', sql: 'SELECT 1', expect: { rows: 1 } } },
        track_deletes: { connection: 'target', tables: [`${TGT}.bezirk`, `${TGT}.antrag`, `${APP}.history`] },
      }));
      // The ledger's time is the flip's COMMIT, a moment before the first run's clock read.
      expect(Math.abs(Date.parse(String(again.details?.goLiveAt)) - Date.parse(goLiveAt))).toBeLessThan(5000);
      expect(again.summary).toContain('taken from the effect ledger, not run again');
    } finally {
      await ctx.connections.close();
    }
    expect(await kept()).toBe(before);
  });

  it('writes the plan, runs it in one transaction, and leaves the source equal to the target', async () => {
    const result = await exportWith(pgDialect, path.join(tmp, 'pg'));
    expect(result.details?.order).toEqual([`${SRC}.Bezirk`, `${SRC}.Antrag`, `${SRC}.Verlauf`]);
    expect(result.details?.counts).toEqual({
      [`${APP}.history`]: { source: `${SRC}.Verlauf`, upserts: 3, deletes: 2, rowsAfter: 3, checked: true },
      [`${TGT}.antrag`]: { source: `${SRC}.Antrag`, upserts: 3, deletes: 1, rowsAfter: 4, checked: true },
      [`${TGT}.bezirk`]: { source: `${SRC}.Bezirk`, upserts: 1, deletes: 1, rowsAfter: 2, checked: true },
    });
    exported = result.details;
    script = await readFile(path.join(tmp, 'pg', pgDialect.file), 'utf8');
    expect(script).not.toContain('Eintagsfliege');
    await admin.query(script);
    await sourceEqualsTarget();
  });

  it('rolls everything back when the source is not what the target was at go-live', async () => {
    // A second run of the same script: the deletes find nothing to delete, and the check stops it.
    const before = await rows(`SELECT * FROM ${SRC}."Verlauf" ORDER BY 1`);
    await expect(admin.query(script)).rejects.toThrow(/delete: expected 1 row\(s\), 0 affected|delete: expected 2 row\(s\), 0 affected/);
    expect(await rows(`SELECT * FROM ${SRC}."Verlauf" ORDER BY 1`)).toBe(before);
  });

  it('lets the verify step compare the source with the rows the export saw, and fail naming the table that differs', async () => {
    const record = (details: Record<string, unknown> | undefined): StepRecord => ({ id: 'export', action: 'rollback.export_since_golive', params: {}, status: 'succeeded', attempt: 1, startedAt: 1, ...(details ? { details } : {}) });
    const verify = async (details: Record<string, unknown> | undefined) => {
      const ctx = actionContext({ runId: RUN, stepId: 'verify', stepRecord: () => record(details) });
      try {
        return await rollbackVerifySourceAction.run(ctx, verifySourceParams.parse({ source: 'target', export_step: 'export' }));
      } finally {
        await ctx.connections.close();
      }
    };
    expect((await verify(exported)).summary).toContain(`the replay of step "export" took: ${SRC}.Bezirk 2 rows, ${SRC}.Antrag 4 rows, ${SRC}.Verlauf 3 rows`);
    const counts = exported?.['counts'] as Record<string, { rowsAfter: number }>;
    const off = { ...exported, counts: { ...counts, [`${TGT}.antrag`]: { ...counts[`${TGT}.antrag`], rowsAfter: 5 } } };
    const err = await thrown(() => verify(off));
    expect(err.code).toBe('rollback.replay_mismatch');
    expect(err.message).toContain(`${SRC}.Antrag holds 4 rows, PostgreSQL held 5`);
    expect((await thrown(() => verify(undefined))).code).toBe('rollback.no_export');
  });

  it('writes the same plan as one T-SQL transaction: parents first for upserts, children first for deletes', async () => {
    await exportWith(undefined, path.join(tmp, 'tsql'));
    const tsql = await readFile(path.join(tmp, 'tsql', TSQL_FILE), 'utf8');
    const at = (s: string) => {
      const i = tsql.indexOf(s);
      expect(i, s).toBeGreaterThanOrEqual(0);
      return i;
    };
    const [bez, ant, ver] = ['Bezirk', 'Antrag', 'Verlauf'].map((t) => `[${SRC}].[${t}]`);
    expect(at(`MERGE ${bez}`)).toBeLessThan(at(`MERGE ${ant}`));
    expect(at(`MERGE ${ant}`)).toBeLessThan(at(`MERGE ${ver}`));
    expect(at(`DELETE t FROM ${ver}`)).toBeLessThan(at(`DELETE t FROM ${ant}`));
    expect(at(`DELETE t FROM ${ant}`)).toBeLessThan(at(`DELETE t FROM ${bez}`));
    expect(at(`SET IDENTITY_INSERT ${ant} ON;`)).toBeLessThan(at(`MERGE ${ant}`));
    expect(tsql).toContain(
      `  (100, 10, N'O''Brien "zitiert" 🌱\nZeile 2', 12345678901234.5678, 0x00FF, CAST(1 AS bit), CONVERT(datetime2(7), '9999-12-31 23:59:59.999999', 121), CONVERT(date, '0001-01-01', 121), CONVERT(time(7), '23:59:59.999999', 121), CONVERT(uniqueidentifier, '2f1e0c4a-8b9d-4e6f-a1b2-c3d4e5f60718'), CAST('2026-03-01 06:30:00.123456 +00:00' AS datetimeoffset(7)), CONVERT(datetime2(7), '`,
    );
    expect(tsql).toContain(`  (2, 1, CAST(NULL AS nvarchar(max)), CAST(NULL AS decimal(19,4)), CAST(NULL AS varbinary(max)), CAST(1 AS bit), CAST(NULL AS datetime2(6))`);
    expect(tsql).toContain(`INSERT INTO ${ver} ([ve_Antrag], [ve_Text], [ve_Gelesen]) VALUES\n  (100, N'ohne Altschlüssel', CAST(0 AS bit));`);
    expect(tsql).toContain(`JOIN (VALUES\n  (2),\n  (3)\n) AS s ([ve_ID]) ON t.[ve_ID] = s.[ve_ID];`);
    expect(tsql).not.toContain('an_Version');
    expect(tsql).not.toContain('(101,');
    expect(tsql.startsWith('-- Rows written in PostgreSQL since go-live')).toBe(true);
    expect(tsql).toContain('SET XACT_ABORT ON;\nSET NOCOUNT ON;\nBEGIN TRANSACTION;');
    expect(tsql).toContain(`IF (SELECT COUNT_BIG(*) FROM ${ant}) <> 4 THROW 50003`);
    expect(tsql.split('COMMIT TRANSACTION;').length).toBe(2);
  });

  it('writes a CSV per source table under the source column names, and in a dry run only counts', async () => {
    const csv = await readFile(path.join(tmp, 'tsql', `${SRC}.Verlauf.csv`), 'utf8');
    expect(csv.split('\r\n')[0]).toBe('ve_ID,ve_Antrag,ve_Text,ve_Gelesen');
    expect(csv).toContain(',100,ohne Altschlüssel,false\r\n');
    const ctx = actionContext({ runId: RUN, stepId: 'export', dryRun: true });
    try {
      const dry = await rollbackExportAction({ sourceModel: async () => model, goLiveAt: async () => goLiveAt }).run(ctx, exportParams(path.join(tmp, 'dry')));
      expect(dry.summary).toMatch(/^dry run: 11 rows in 3 tables since .* would be replayed \(nothing written\)$/);
    } finally {
      await ctx.connections.close();
    }
    await expect(readFile(path.join(tmp, 'dry', TSQL_FILE))).rejects.toThrow(/ENOENT/);
  });

  it('refuses a table whose deletions nobody tracked instead of leaving its deletions out', async () => {
    await admin.query(`CREATE TABLE ${APP}.untracked (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now())`);
    const params = exportParams(path.join(tmp, 'x'), [{ table: `${APP}.untracked`, changed_column: 'updated_at', source_table: `${SRC}.Bezirk`, columns: { bez_ID: 'id' } }]);
    const err = await thrown(() => exportWith(pgDialect, path.join(tmp, 'x'), params));
    expect(err.code).toBe('rollback.untracked');
    expect(err.message).toContain(`${APP}.untracked: its deletions are not tracked`);
  });
});
