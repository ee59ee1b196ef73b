import type { SourceValue } from '../../etl/contracts.js';
import type { Prng } from './prng.js';
import { asciiName } from './values.js';
import { DISTRICTS } from './vocabulary.js';

/** One legacy row by SQL Server column name; projected onto the mapping's column order when written. */
export type LegacyRow = Record<string, SourceValue>;

/**
 * The small tables: Bezirk (Berlin's twelve districts, ids 1–12 as the
 * legacy application numbered them), Katasterbezirk (Ortsteile, numbered
 * per district), their junction table, the clerks (Personen), their login
 * identifiers (Kennungen, case-sensitive) and the mail-merge fields
 * (Mischenfelder).
 */
export function bezirke(): LegacyRow[] {
  return DISTRICTS.map((d, i) => ({ bez_ID: i + 1, bez_Name: d.name }));
}

export function katasterbezirke(): { kataster: LegacyRow[]; junction: LegacyRow[] } {
  const kataster: LegacyRow[] = [];
  const junction: LegacyRow[] = [];
  DISTRICTS.forEach((d, i) => {
    d.ortsteile.forEach((name, j) => {
      const id = kataster.length + 1;
      // Some Katasterbezirke lost their district when districts merged in 2001 (the FK sets NULL): only the junction table knows it.
      const orphaned = j === d.ortsteile.length - 1 && i % 4 === 1;
      kataster.push({ kb_ID: id, kb_Bezirk: orphaned ? null : i + 1, kb_Nummer: `${String(i + 1).padStart(2, '0')}${String(j + 1).padStart(2, '0')}`, kb_Name: name });
      junction.push({ bk_Bezirk: i + 1, bk_Katasterbezirk: id });
    });
  });
  return { kataster, junction };
}

const CLERKS: Array<[string, string]> = [
  ['Sabine', 'Krüger'], ['Thomas', 'Weißenborn'], ['Ayşe', 'Yılmaz'], ['Jürgen', 'Lehmann'], ['Katrin', 'Schulze-Delitzsch'],
  ['Piotr', 'Nowak'], ['Monika', 'Großmann'], ['Detlef', 'Brandt'], ['Franziska', 'Öztürk'], ['Uwe', 'Meißner'],
];

export function personen(rng: Prng): LegacyRow[] {
  const rows: LegacyRow[] = CLERKS.map(([first, last], i) => ({
    pe_ID: rng.guid(),
    pe_Login: `${asciiName(first).slice(0, 1)}${asciiName(last)}`.slice(0, 20),
    pe_Name: `${first} ${last}`,
    // A few clerks have a photo: a JPEG's first bytes and some noise are enough for a bytea round trip.
    pe_Foto: i % 3 === 0 ? Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(rng.hex64() + rng.hex64(), 'hex')]) : null,
    pe_Version: Buffer.from((2000 + i * 17).toString(16).padStart(16, '0'), 'hex'),
  }));
  rows.push(
    { pe_ID: rng.guid(), pe_Login: 'admin', pe_Name: 'Administrator', pe_Foto: null, pe_Version: Buffer.from('00000000000009C4', 'hex') },
    // NULL against empty: a service login with no name at all, and one whose name was blanked.
    { pe_ID: rng.guid(), pe_Login: 'import', pe_Name: null, pe_Foto: null, pe_Version: Buffer.from('00000000000009C5', 'hex') },
    { pe_ID: rng.guid(), pe_Login: 'gast', pe_Name: '', pe_Foto: Buffer.alloc(0), pe_Version: Buffer.from('00000000000009C6', 'hex') },
  );
  return rows;
}

export function kennungen(people: LegacyRow[]): LegacyRow[] {
  const logins = people.map((p) => String(p.pe_Login));
  const rows: LegacyRow[] = logins.map((login, i) => ({ ke_ID: i + 1, ke_Kennung: login.toUpperCase(), ke_Aktiv: i % 5 !== 4 }));
  // The legacy collation is case-sensitive here: 'ADMIN' and 'admin' are two identifiers.
  rows.push({ ke_ID: rows.length + 1, ke_Kennung: 'admin', ke_Aktiv: false });
  rows.push({ ke_ID: rows.length + 1, ke_Kennung: 'BA-PANKOW', ke_Aktiv: true });
  rows.push({ ke_ID: rows.length + 1, ke_Kennung: 'BA-MITTE', ke_Aktiv: true });
  return rows;
}

/** Mail-merge fields of the letters; values hold the awkward characters Word templates accumulate. */
export function mischenfelder(): LegacyRow[] {
  const fields: Array<[string, string | null]> = [
    ['Anrede', '«an_Anrede»'],
    ['Briefanrede', '«an_Briefanrede»'],
    ['Name', '«an_Titel» «an_Vorname» «an_Nachname»'],
    ['Strasse', '«an_Strasse»'],
    ['PLZOrt', '«an_PLZ» «an_Ort»'],
    ['Aktenzeichen', 'Unser Zeichen: «an_Aktenzeichen»'],
    ['Datum', 'Berlin, den «Heute»'],
    ['Betreff', 'Ihr Antrag auf einen Kleingarten vom «an_Bewerbungsdatum»'],
    ['Gruss', 'Mit freundlichen Grüßen\r\nIm Auftrag'],
    ['Absender', 'Bezirksamt «bez_Name» von Berlin\nAbt. Stadtentwicklung\tFB Grünflächen'],
    ['Vorlage', 'C:\\Vorlagen\\KGV\\Angebot.dot'],
    ['VorlageAbsage', '\\\\fileserver\\kgv$\\Vorlagen\\Absage.dot'],
    ['Zitat', 'Betreff: "Ihr Antrag" – bitte \'Aktenzeichen\' angeben'],
    ['Sachbearbeiter', '«pe_Name»'],
    ['Telefon', 'Tel. +49 30 90295-«Durchwahl»'],
    ['Fusszeile', 'Sprechzeiten: Di 9–12 Uhr, Do 13–18 Uhr'],
    ['Leer', ''],
    ['Unbelegt', null],
    ['Hinweis', '  Bitte Rückseite beachten  '],
    ['Emoji', 'Viel Freude im Garten 🌻🌱'],
  ];
  return fields.map(([mf_Feld, mf_Wert]) => ({ mf_Feld, mf_Wert }));
}
