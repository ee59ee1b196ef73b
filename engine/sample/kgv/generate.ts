import { catalogRowsToModel } from '../../mssql/catalog.js';
import type { SchemaModel } from '../../schema/model.js';
import { applications, eingangsnummern } from './applications.js';
import { KGV_CATALOG_ROWS } from './catalog-rows.js';
import { applyEdgeCases, type EdgeCase } from './edge-cases.js';
import { Prng } from './prng.js';
import { bezirke, katasterbezirke, kennungen, mischenfelder, personen, type LegacyRow } from './reference-data.js';

/** Fixed seed: the sample is a pure function of this code. */
export const SAMPLE_SEED = 0x4b475630;
export const SAMPLE_APPLICATIONS = 4000;
export const SAMPLE_ENTRY_NUMBERS = 3000;

export interface KgvSampleData {
  /** The legacy database's schema, as the mssql catalog queries would describe it. */
  model: SchemaModel;
  /** Rows per source table name (Antrag, Verlauf, …), by SQL Server column name. */
  rows: Record<string, LegacyRow[]>;
  edgeCases: EdgeCase[];
}

/** One generator per table, seeded from the table's name, so changing one table never shifts another's rows. */
function streamFor(table: string): Prng {
  let h = SAMPLE_SEED;
  for (const c of table) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return new Prng(h);
}

/**
 * The KGV legacy database of seed 000/001: Berlin's districts, a few thousand
 * applications since 2004 with their history, file references, incoming post,
 * clerks, their identifiers and mail-merge fields — plus the edge cases.
 */
export function generateKgvSample(): KgvSampleData {
  const apps = applications(streamFor('Antrag'), SAMPLE_APPLICATIONS);
  const eingang = eingangsnummern(streamFor('Eingangsnummer'), SAMPLE_ENTRY_NUMBERS);
  const tables = { ...apps, eingangsnummer: eingang };
  const edgeCases = applyEdgeCases(tables);
  const { kataster, junction } = katasterbezirke();
  const people = personen(streamFor('Personen'));
  const rows: Record<string, LegacyRow[]> = {
    Aktenzeichen: tables.aktenzeichen,
    Antrag: tables.antrag,
    Bezirk: bezirke(),
    Bezirke_Katasterbezirke: junction,
    Eingangsnummer: tables.eingangsnummer,
    Katasterbezirk: kataster,
    Kennungen: kennungen(people),
    Mischenfelder: mischenfelder(),
    Personen: people,
    Verlauf: tables.verlauf,
  };
  // The catalog as SQL Server would report it for this data: sys.partitions row counts included.
  const model = catalogRowsToModel({
    ...KGV_CATALOG_ROWS,
    tables: KGV_CATALOG_ROWS.tables.map((t) => ({ ...t, row_count: String(rows[t.table_name]?.length ?? 0) })),
  });
  return { model, rows, edgeCases };
}
