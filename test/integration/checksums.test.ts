import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableMapping } from '../../engine/etl/contracts.js';
import { extractAction } from '../../engine/actions/extract.js';
import { validateChecksumsAction } from '../../engine/actions/validate-checksums.js';
import { conversionOptions } from '../../engine/etl/conversion-options.js';
import { convertSchema } from '../../engine/schema/convert.js';
import { canonicalRow, canonicalValue, hashedColumns, rowHash } from '../../engine/validate/canonical.js';
import { pgCanonicalValue, pgRowHash, pgTable } from '../../engine/validate/canonical-pg.js';
import { PgChecksumSource } from '../../engine/validate/pg-checksum-source.js';
import type { ValidationResult } from '../../engine/validate/contracts.js';
import { checksumParams } from '../../runbook/actions/validate-checksums.js';
import { extractParams } from '../../runbook/actions/extract.js';
import { loadParams } from '../../runbook/actions/load.js';
import { schemaApplyParams } from '../../runbook/actions/schema-apply.js';
import { loadAction } from '../../engine/actions/load.js';
import { schemaApplyAction } from '../../engine/actions/schema-apply.js';
import { SnapshotSource } from '../../engine/snapshot/reader.js';
import { column, kgvSchema, table } from '../support/fixtures/kgv-schema.js';
import { loadProbe, probeModel, probeRows } from '../support/checksum-fixture.js';
import { MemoryRowSource } from '../support/memory-row-source.js';
import { actionContext, TEST_DATABASE_URL, thrown } from '../support/engine-context.js';

/**
 * validate.checksums against real PostgreSQL. The source side is a
 * PostgreSQL stand-in (a second schema loaded through the same ETL), since
 * SQL Server cannot run here; the SQL Server expressions are checked in
 * mssql-source.test.ts when MSSQL_URL is set.
 */
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });
const SRC = `ck_src_${process.pid}`;
const TGT = `ck_tgt_${process.pid}`;
const ROWS = 3000;
const model = probeModel(ROWS);
const data = { Probe: probeRows(ROWS, 'int'), ProbeG: probeRows(ROWS, 'guid') };
const mappings = (schema: string): TableMapping[] => convertSchema(model, conversionOptions(checksumParams.parse({ target: 't', source: 's', target_schema: schema }))).mappings;
const mappingOf = (name: string): TableMapping => mappings(TGT).find((m) => m.source.name === name) as TableMapping;

const run = (extra: Record<string, unknown> = {}) =>
  validateChecksumsAction(async () => ({ source: new PgChecksumSource(db, { schema: SRC }), tables: mappings(TGT) })).run(
    actionContext({ runId: 'ck', stepId: 'validate' }),
    checksumParams.parse({ source: 'src', target: 'target', target_schema: TGT, segment_rows: 1000, personal: ['dbo.Probe.p_EMail', 'ProbeG.p_EMail'], ...extra }),
  );

beforeAll(async () => {
  await loadProbe(SRC, model, data, db);
  await loadProbe(TGT, model, data, db);
}, 120_000);

afterAll(async () => {
  for (const s of [SRC, TGT]) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await db.end();
});

describe('canonical text in PostgreSQL equals the JS reference', () => {
  it('gives the same hash and per-column text for the golden edge rows loaded through the ETL encoder', async () => {
    const t = mappingOf('Probe');
    const cols = hashedColumns(t);
    const sql = `SELECT p_id, encode(${pgRowHash(cols)}, 'hex') AS h, ${cols.map((c, i) => `${pgCanonicalValue(c)} AS c${i}`).join(', ')} FROM ${pgTable(t.target)} WHERE p_id <= 8 ORDER BY p_id`;
    const rows = (await db.query<Record<string, string | null>>(sql)).rows;
    expect(rows).toHaveLength(8);
    for (const row of rows) {
      const src = data.Probe[Number(row['p_id']) - 1] ?? {};
      const values = t.columns.map((c) => src[c.source] ?? null);
      const texts = Object.fromEntries(cols.map((c, i) => [c.source, row[`c${i}`]]));
      expect(texts).toEqual(Object.fromEntries(cols.map((c) => [c.source, canonicalValue(src[c.source] ?? null, c)])));
      expect(row['h']).toBe(rowHash(canonicalRow(values, t.columns)));
    }
  });
});

describe('validate.checksums finds injected differences', () => {
  it('is green when both sides hold the same rows', async () => {
    const r = await run();
    const v = r.details?.['validation'] as ValidationResult;
    expect(v.verdict).toBe('green');
    expect(v.items.map((i) => i.subject).sort()).toEqual([`${TGT}.probe`, `${TGT}.probeg`]);
    expect(v.items[0]?.figures?.['sourceRows']).toBe(ROWS);
  });

  it('reports a changed value, a missing row, an extra row and a swapped NULL/empty, by key and nothing else (integer and GUID keys)', async () => {
    const guid = (i: number) => String(data.ProbeG[i - 1]?.['g_ID']).toLowerCase();
    await db.query(`UPDATE "${TGT}".probe SET p_text = 'Müler 1500' WHERE p_id = 1501`);
    await db.query(`DELETE FROM "${TGT}".probe WHERE p_id = 2222`);
    await db.query(`INSERT INTO "${TGT}".probe (p_id, p_text, p_char, p_bit) VALUES (99999, 'new', 'x', true)`);
    await db.query(`UPDATE "${TGT}".probe SET p_text = NULL WHERE p_id = 4`); // source has ''
    await db.query(`UPDATE "${TGT}".probeg SET p_dec = p_dec + 0.0001 WHERE g_id = $1`, [guid(700)]);
    await db.query(`DELETE FROM "${TGT}".probeg WHERE g_id = $1`, [guid(1234)]);
    await db.query(`UPDATE "${TGT}".probeg SET p_text = '' WHERE g_id = $1`, [guid(5)]); // source has NULL
    await db.query(`UPDATE "${TGT}".probeg SET p_email = 'leaked@example.org', p_password = 'hunter22' WHERE g_id = $1`, [guid(9)]);
    try {
      const err = await thrown(() => run());
      expect(err.code).toBe('validate.checksums_differ');
      const v = err.details?.['validation'] as ValidationResult;
      expect(v.verdict).toBe('red');
      const keys = (subject: string) => (v.items.find((i) => i.subject === subject)?.figures?.['keys'] as Array<{ kind: string; key: Record<string, string> }>).map((k) => `${k.kind}:${Object.values(k.key).join()}`).sort();
      expect(keys(`${TGT}.probe`)).toEqual(['changed:1501', 'changed:4', 'extra:99999', 'missing:2222']);
      expect(keys(`${TGT}.probeg`)).toEqual([`changed:${guid(5)}`, `changed:${guid(700)}`, `changed:${guid(9)}`, `missing:${guid(1234)}`].sort());
      const report = String(err.details?.['report']);
      expect(report).toContain('Müler 1500');
      expect(report).toContain('Müller 1500');
      expect(report).not.toContain('leaked@example.org');
      expect(report).not.toContain('person9@example.org');
      expect(report).not.toContain('hunter22');
      expect(report).toMatch(/≠ p_email\s+\| •••• +\| ••••/);
    } finally {
      await loadProbe(TGT, model, data, db);
    }
  }, 60_000);

  it('stops at max_keys and says there are more', async () => {
    await db.query(`UPDATE "${TGT}".probe SET p_bit = NOT p_bit WHERE p_id % 100 = 0`);
    try {
      const err = await thrown(() => run({ max_keys: 5 }));
      const item = (err.details?.['validation'] as ValidationResult).items.find((i) => i.subject === `${TGT}.probe`);
      expect(item?.figures).toMatchObject({ changed: 5, incomplete: true });
      expect(item?.message).toContain('there are more');
    } finally {
      await loadProbe(TGT, model, data, db);
    }
  }, 60_000);
});

describe('validate.checksums against an extract snapshot', () => {
  it('is green on the loaded target and bisects a changed target row against the snapshot lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cutover-ck-snap-'));
    const ctx = (step: string) => actionContext({ runId: 'ck-snap', stepId: step });
    try {
      await extractAction(async () => new MemoryRowSource(model, data)).run(ctx('extract'), extractParams.parse({ source: 's', dir, chunk_rows: 1000, target_schema: TGT }));
      const check = () => validateChecksumsAction().run(ctx('validate'), checksumParams.parse({ snapshot: dir, target: 'target', target_schema: TGT, segment_rows: 1000 }));
      const ok = await check();
      expect((ok.details?.['validation'] as ValidationResult).verdict).toBe('green');
      await db.query(`UPDATE "${TGT}".probe SET p_dt2 = p_dt2 + interval '1 microsecond' WHERE p_id = 2500`);
      const err = await thrown(check);
      const items = (err.details?.['validation'] as ValidationResult).items;
      expect(items.filter((i) => i.verdict === 'red').map((i) => [i.subject, i.figures?.['keys']])).toEqual([[`${TGT}.probe`, [{ kind: 'changed', key: { p_id: '2500' } }]]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await loadProbe(TGT, model, data, db);
    }
  }, 60_000);

  it('reads a multi-byte character that straddles two 64 KB buffers of a chunk (the KGV sample found it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cutover-ck-utf8-'));
    const schema = `ck_utf8_${process.pid}`;
    const notes = kgvSchema({
      tables: [table('Notes', [column('n_ID', { nullable: false }), column('n_Text', { type: 'nvarchar', maxLength: -1 })], { primaryKey: { name: 'PK_Notes', columns: ['n_ID'] } })],
      others: [],
    });
    // Three-byte characters: a buffer boundary almost never falls between two of them.
    const rows = { Notes: Array.from({ length: 400 }, (_, i) => ({ n_ID: i + 1, n_Text: `${'€'.repeat(300 + (i % 7))} ${i}` })) };
    const ctx = (step: string) => actionContext({ runId: 'ck-utf8', stepId: step });
    try {
      await extractAction(async () => new MemoryRowSource(notes, rows)).run(ctx('extract'), extractParams.parse({ source: 's', dir, chunk_rows: 100_000, target_schema: schema }));
      const snapshot = await SnapshotSource.open(dir);
      const parts: Buffer[] = [];
      const chunk = await snapshot.openChunk(snapshot.tables()[0] as TableMapping, { id: 'all', kind: 'all' }, new AbortController().signal);
      for await (const b of chunk.stream as AsyncIterable<Buffer>) parts.push(b);
      const text = Buffer.concat(parts);
      const splits = Array.from({ length: Math.floor(text.length / 65536) }, (_, k) => (k + 1) * 65536).filter((at) => ((text[at] ?? 0) & 0xc0) === 0x80);
      expect(splits.length, 'a 64 KB boundary falls inside a character').toBeGreaterThan(0);
      await schemaApplyAction().run(ctx('apply'), schemaApplyParams.parse({ snapshot: dir, target: 'target', target_schema: schema, phase: 'pre-load' }));
      await loadAction.run(ctx('load'), loadParams.parse({ dir, target: 'target' }));
      const ok = await validateChecksumsAction().run(ctx('validate'), checksumParams.parse({ snapshot: dir, target: 'target', target_schema: schema }));
      expect((ok.details?.['validation'] as ValidationResult).verdict).toBe('green');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.query(`DELETE FROM cutover_etl.chunks WHERE load_id = 'ck-utf8/load'`);
      await db.query(`DELETE FROM cutover_etl.quarantine WHERE load_id = 'ck-utf8/load'`);
    }
  }, 60_000);
});
