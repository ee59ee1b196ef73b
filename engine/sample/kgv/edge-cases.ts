import type { ApplicationTables } from './applications.js';
import type { LegacyRow } from './reference-data.js';
import { CutoverError } from '../../../runbook/errors.js';

/**
 * Rows the engine must carry through unchanged, or refuse with a reason —
 * what twenty years of a VB desktop application leave in a database. Applied
 * to chosen rows after generation, and listed so tests and the README can
 * name them. Umlauts and ß are everywhere already (names, streets).
 */
export interface EdgeCase {
  table: string;
  /** The row's key, by source column name. */
  key: Record<string, string>;
  column: string;
  what: string;
  /** The extract refuses the row: it is quarantined with this reason, not loaded. */
  quarantined?: string;
}

const byId = (rows: LegacyRow[], column: string, id: number): LegacyRow => {
  const row = rows.find((r) => r[column] === id);
  if (!row) throw new CutoverError('sample.inconsistent', `the sample has no row with ${column} = ${id}`);
  return row;
};

/** Applies the edge cases to the generated tables (in place) and describes them. */
export function applyEdgeCases(t: ApplicationTables & { eingangsnummer: LegacyRow[] }): EdgeCase[] {
  const cases: EdgeCase[] = [];
  const antrag = (index: number): LegacyRow => t.antrag[index] as LegacyRow;
  const set = (table: string, row: LegacyRow, keyColumn: string, column: string, value: string, what: string, quarantined?: string): void => {
    row[column] = value;
    cases.push({ table, key: { [keyColumn]: String(row[keyColumn]) }, column, what, ...(quarantined ? { quarantined } : {}) });
  };

  // A date PostgreSQL refuses. SQL Server cannot hold year 0 either: the row stands in for the undecodable values other
  // tools silently turn into NULL (migration notes #6), so the rehearsal shows one quarantined with its reason. It is an
  // application from 2004 with no history, so no Verlauf row loses its application.
  const undated = antrag(1);
  t.verlauf = t.verlauf.filter((v) => v.ve_Antrag !== undated.an_ID);
  set('dbo.Antrag', undated, 'an_ID', 'an_Geburtstag', '0000-00-00', 'a date PostgreSQL cannot store (year 0)', 'year 0 outside 1..9999');

  const note = t.verlauf.find((v) => v.ve_Art === 'VM') as LegacyRow;
  set('dbo.Verlauf', note, 've_ID', 've_Text', 'Scan-Import Seite 1\u0000Seite 2', 'a NUL byte (0x00) in text, from a scanned letter', 'NUL byte (0x00) in text: PostgreSQL cannot store it');

  set('dbo.Antrag', antrag(2), 'an_ID', 'an_Vermerk', 'Sagt: "Garten ist \'dringend\'" \u2013 Scan unter C:\\Scans\\2004\\antrag.tif', 'double and single quotes, backslashes');
  set('dbo.Antrag', antrag(3), 'an_ID', 'an_Vermerk', 'Telefonat 12.03.:\nwill nur Pankow\r\n\tRückruf nach 18 Uhr', 'newline, CR LF and a tab inside text');
  set('dbo.Antrag', antrag(4), 'an_ID', 'an_Nachname', 'Schmidt ', 'a trailing blank in nvarchar (SQL Server ignores it in comparisons, PostgreSQL does not)');
  set('dbo.Antrag', antrag(5), 'an_ID', 'an_EMail', '', 'an empty string where other rows have NULL');
  set('dbo.Antrag', antrag(6), 'an_ID', 'an_Wunsch', 'Sonnenblumen-Parzelle 🌻 bitte', 'a character outside the BMP (UTF-16 surrogate pair)');
  set('dbo.Antrag', antrag(7), 'an_ID', 'an_Nachname', '𠮷田', 'a CJK Extension B name (outside the BMP)');
  set('dbo.Antrag', antrag(8), 'an_ID', 'an_Nachname', 'Weißenböck-Strauß', 'umlaut, ß and a hyphen in one name');
  const late = antrag(9);
  set('dbo.Antrag', late, 'an_ID', 'an_Bewerbungsdatum', `${String(late.an_Bewerbungsdatum).slice(0, 10)} 23:59:59.997`, 'datetime at the last 1/300 s tick of its day');

  const arten = t.verlauf.find((v) => v.ve_Art === 'BS') as LegacyRow;
  set('dbo.Verlauf', arten, 've_ID', 've_Art', 'B ', 'char(2) holding a one-letter code with its trailing blank');

  const en = (index: number): LegacyRow => t.eingangsnummer[index] as LegacyRow;
  const enKey = (row: LegacyRow, column: string, value: string, what: string): void => {
    row[column] = value;
    cases.push({ table: 'dbo.Eingangsnummer', key: { en_ID: String(row.en_ID) }, column, what });
  };
  enKey(en(10), 'en_Nummer', '999999999999999999', 'decimal(18,0) at its 18 digits');
  enKey(en(11), 'en_Gebuehr', '922337203685477.5807', 'the largest money value (15 + 4 digits; a float would lose it)');
  enKey(en(12), 'en_Eingang', '2004-12-31 23:59:59.9999995', 'datetime2(7) whose 7th digit rounds into the next year');
  enKey(en(13), 'en_Eingang', '2004-02-29 08:15:00.0000001', 'a leap day at 100 ns past the minute');
  return cases;
}
