import { describe, expect, it } from 'vitest';
import { catalogRowsToModel } from '../../engine/mssql/catalog.js';
import type { CatalogRowsInput } from '../../engine/mssql/catalog-rows.js';
import type { TableModel } from '../../engine/schema/model.js';
import { columnRow, KGV_CATALOG_ROWS } from '../../engine/sample/kgv/catalog-rows.js';

const model = catalogRowsToModel(KGV_CATALOG_ROWS);
const table = (name: string): TableModel => {
  const t = model.tables.find((x) => x.name === name);
  if (!t) throw new Error(`no table ${name} in the model`);
  return t;
};
const column = (tableName: string, name: string) => {
  const c = table(tableName).columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${tableName}.${name} in the model`);
  return c;
};
const withRows = (patch: Partial<CatalogRowsInput>): CatalogRowsInput => ({ ...KGV_CATALOG_ROWS, ...patch });

describe('catalogRowsToModel: the KGV legacy schema (seed 000)', () => {
  it('lists the ten legacy tables with database, collation and version', () => {
    expect(model).toMatchObject({ sourceKind: 'mssql', database: 'kgv', collation: 'Latin1_General_CI_AS' });
    expect(model.serverVersion).toContain('SQL Server 2012');
    expect(model.tables.map((t) => t.name)).toEqual([
      'Aktenzeichen', 'Antrag', 'Bezirk', 'Bezirke_Katasterbezirke', 'Eingangsnummer',
      'Katasterbezirk', 'Kennungen', 'Mischenfelder', 'Personen', 'Verlauf',
    ]);
    expect(model.tables.every((t) => t.schema === 'dbo')).toBe(true);
  });

  it('keeps the Antrag columns of seed 000 step 3.1 in order', () => {
    const names = table('Antrag').columns.map((c) => c.name);
    expect(names.slice(0, 8)).toEqual([
      'an_ID', 'an_Aktenzeichen', 'an_WartelistenNr32', 'an_WartelistenNr33', 'an_Anrede', 'an_Titel', 'an_Vorname', 'an_Nachname',
    ]);
    expect(names).toContain('an_Bewerbungsdatum');
    expect(names).toContain('an_EMail');
    expect(table('Antrag').columns.map((c) => c.ordinal)).toEqual(names.map((_, i) => i + 1));
  });

  it('maps the identity primary key an_ID', () => {
    expect(column('Antrag', 'an_ID')).toEqual({
      name: 'an_ID', ordinal: 1, type: 'int', maxLength: null, precision: null, scale: null, nullable: false,
      identity: { seed: '1', increment: '1' }, defaultExpression: null, computed: null, collation: null, isRowVersion: false,
    });
    expect(table('Antrag').primaryKey).toEqual({ name: 'PK_Antrag', columns: ['an_ID'] });
    expect(column('Eingangsnummer', 'en_ID')).toMatchObject({ type: 'bigint', identity: { seed: '1000000', increment: '1' } });
  });

  it('keeps defaults exactly as the catalog holds them', () => {
    expect(column('Antrag', 'an_Bewerbungsdatum')).toMatchObject({ type: 'datetime', precision: 23, scale: 3, nullable: false, defaultExpression: '(getdate())' });
    expect(column('Verlauf', 've_Gelesen')).toMatchObject({ type: 'bit', defaultExpression: '((0))' });
    expect(column('Antrag', 'an_Aktiv')).toMatchObject({ type: 'char', maxLength: 1, defaultExpression: "('1')" });
    expect(column('Personen', 'pe_ID').defaultExpression).toBe('(newid())');
  });

  it('counts nvarchar lengths in characters, not the bytes sys.columns holds; (max) and LOBs as -1', () => {
    expect(column('Antrag', 'an_Nachname')).toMatchObject({ type: 'nvarchar', maxLength: 50, collation: 'Latin1_General_CI_AS' });
    expect(column('Antrag', 'an_PLZ')).toMatchObject({ type: 'char', maxLength: 5 });
    expect(column('Katasterbezirk', 'kb_Nummer')).toMatchObject({ type: 'varchar', maxLength: 10 });
    expect(column('Antrag', 'an_Vermerk').maxLength).toBe(-1);
    expect(column('Mischenfelder', 'mf_Wert')).toMatchObject({ type: 'ntext', maxLength: -1 });
    expect(column('Personen', 'pe_Foto')).toMatchObject({ type: 'varbinary', maxLength: -1 });
    expect(column('Personen', 'pe_ID')).toMatchObject({ type: 'uniqueidentifier', maxLength: null, precision: null });
  });

  it('keeps precision and scale where they matter, and the base type of an alias type', () => {
    expect(column('Eingangsnummer', 'en_Nummer')).toMatchObject({ type: 'decimal', precision: 18, scale: 0 });
    expect(column('Eingangsnummer', 'en_Gebuehr')).toMatchObject({ type: 'money', precision: 19, scale: 4 });
    expect(column('Eingangsnummer', 'en_Eingang')).toMatchObject({ type: 'datetime2', scale: 7 });
    expect(column('Aktenzeichen', 'az_Jahr')).toMatchObject({ type: 'smallint', precision: null, scale: null });
    expect(column('Antrag', 'an_Telefon')).toMatchObject({ type: 'nvarchar', maxLength: 30 });
  });

  it('numbers columns by position even where a dropped column left a gap in column_id', () => {
    expect(column('Aktenzeichen', 'az_Text').ordinal).toBe(5);
  });

  it('marks the old timestamp type as rowversion, kept for incremental sync', () => {
    expect(column('Personen', 'pe_Version')).toMatchObject({ type: 'rowversion', isRowVersion: true, maxLength: 8 });
    expect(column('Personen', 'pe_Login').isRowVersion).toBe(false);
  });

  it('takes a computed column with its definition', () => {
    expect(column('Antrag', 'an_Name').computed).toEqual({
      definition: "((isnull([an_Nachname],N'')+N', ')+isnull([an_Vorname],N''))",
      persisted: false,
    });
    expect(column('Antrag', 'an_Nachname').computed).toBeNull();
  });

  it('separates the primary key, unique constraints and other indexes (INCLUDE, descending, filtered)', () => {
    const antrag = table('Antrag');
    expect(antrag.uniques).toEqual([]);
    expect(antrag.indexes).toEqual([
      {
        name: 'IX_Antrag_Name',
        columns: [{ name: 'an_Nachname', descending: false }, { name: 'an_Vorname', descending: false }],
        include: ['an_Ort'],
        unique: false,
        where: null,
      },
      { name: 'IX_Antrag_Bewerbung_Aktiv', columns: [{ name: 'an_Bewerbungsdatum', descending: true }], include: [], unique: false, where: "([an_Aktiv]='1')" },
      { name: 'UX_Antrag_Aktenzeichen', columns: [{ name: 'an_Aktenzeichen', descending: false }], include: [], unique: true, where: '([an_Aktenzeichen] IS NOT NULL)' },
    ]);
    expect(table('Personen').uniques).toEqual([{ name: 'UQ_Personen_Login', columns: ['pe_Login'] }]);
    expect(table('Personen').indexes).toEqual([]);
  });

  it('orders composite key columns by key_ordinal, not by row order', () => {
    expect(table('Bezirke_Katasterbezirke').primaryKey).toEqual({ name: 'PK_Bezirke_Katasterbezirke', columns: ['bk_Bezirk', 'bk_Katasterbezirk'] });
    expect(table('Mischenfelder').primaryKey).toBeNull();
  });

  it('maps foreign keys with their actions and whether the source trusts them', () => {
    expect(table('Antrag').foreignKeys).toEqual([
      { name: 'FK_Antrag_Bezirk', columns: ['an_Bezirk'], refSchema: 'dbo', refTable: 'Bezirk', refColumns: ['bez_ID'], onDelete: 'NO ACTION', onUpdate: 'NO ACTION', trusted: true },
    ]);
    expect(table('Verlauf').foreignKeys[0]).toMatchObject({ refTable: 'Antrag', onDelete: 'CASCADE', trusted: true });
    expect(table('Katasterbezirk').foreignKeys[0]).toMatchObject({ onUpdate: 'SET NULL', trusted: false });
    expect(table('Bezirke_Katasterbezirke').foreignKeys.map((f) => [f.name, f.trusted])).toEqual([
      ['FK_BK_Bezirk', false],
      ['FK_BK_Katasterbezirk', true],
    ]);
  });

  it('keeps check constraints, column-level and table-level', () => {
    expect(table('Antrag').checks).toEqual([
      { name: 'CK_Antrag_Aktiv', definition: "([an_Aktiv]='0' OR [an_Aktiv]='1')", column: 'an_Aktiv' },
      { name: 'CK_Antrag_Loeschdatum', definition: '([an_Loeschdatum] IS NULL OR [an_Loeschdatum]>=[an_Bewerbungsdatum])', column: null },
    ]);
  });

  it('takes row counts from sys.partitions as numbers', () => {
    expect(table('Antrag').rowCount).toBe(12000);
    expect(table('Verlauf').rowCount).toBe(25000);
    expect(table('Kennungen').rowCount).toBe(0);
  });

  it('lists trigger, view, procedure, function, sequence and type in others, a trigger with its table', () => {
    expect(model.others).toEqual([
      { schema: 'dbo', name: 'sp_Wartelistenplatz', kind: 'procedure', parent: null },
      { schema: 'dbo', name: 'Telefon', kind: 'type', parent: null },
      { schema: 'dbo', name: 'fn_Aktenzeichen', kind: 'function', parent: null },
      { schema: 'dbo', name: 'seq_Eingangsnummer', kind: 'sequence', parent: null },
      { schema: 'dbo', name: 'trg_Antrag_Verlauf', kind: 'trigger', parent: 'Antrag' },
      { schema: 'dbo', name: 'vw_AktiveAntraege', kind: 'view', parent: null },
    ]);
  });
});

describe('catalogRowsToModel: rows it cannot read', () => {
  it('accepts bits sent as 0/1 as well as booleans', () => {
    const rows = withRows({ columns: [columnRow('Bezirk', 1, 'bez_ID', { is_identity: 1, is_nullable: 0, identity_seed: '5', identity_increment: '2' })] });
    expect(catalogRowsToModel(rows).tables.find((t) => t.name === 'Bezirk')?.columns[0]).toMatchObject({
      nullable: false,
      identity: { seed: '5', increment: '2' },
    });
  });

  it('refuses an unexpected row shape with a coded error naming the field', () => {
    const rows = withRows({ tables: [{ object_id: 1, schema_name: 'dbo', table_name: 'T', row_count: 'many' }] });
    expect(() => catalogRowsToModel(rows)).toThrow(expect.objectContaining({ code: 'mssql.catalog_unexpected', message: expect.stringContaining('tables.0.row_count') }));
  });

  it('refuses a computed column whose definition the catalog did not give', () => {
    expect(() => catalogRowsToModel(withRows({ computedColumns: [] }))).toThrow(
      expect.objectContaining({ code: 'mssql.catalog_unexpected', message: expect.stringContaining('an_Name') }),
    );
  });

  it('refuses an object type it does not know instead of dropping it from the report', () => {
    const rows = withRows({ others: [{ schema_name: 'dbo', object_name: 'q', object_type: 'SQ', parent_name: null }] });
    expect(() => catalogRowsToModel(rows)).toThrow(expect.objectContaining({ code: 'mssql.catalog_unexpected' }));
  });
});
