import { applicant, applicationDays } from './applicants.js';
import type { Prng } from './prng.js';
import type { LegacyRow } from './reference-data.js';
import { addDays, datetime2Text, datetimeText, dayBetween, SAMPLE_FIRST_DAY, SAMPLE_TODAY, yearOf } from './values.js';
import { COLONIES, DISTRICTS, EVENT_TEXTS, WISHES } from './vocabulary.js';

export interface ApplicationTables {
  antrag: LegacyRow[];
  verlauf: LegacyRow[];
  aktenzeichen: LegacyRow[];
}

const DAY_MS = 86_400_000;
const NOTES = [
  'Bewerber ruft regelmäßig an',
  'Hat bereits Parzelle in Brandenburg, sucht näher',
  'Schwerbehindert, bevorzugt ebene Parzelle',
  'Bitte nur schriftlich kontaktieren',
  'Interessent auch für Gemeinschaftsgarten',
];

interface Event {
  antrag: number;
  art: string;
  at: string;
  day: number;
  text: string;
}

/**
 * Anträge (applications) with their Verlauf (history) and the Aktenzeichen
 * (file references) created when a plot was offered. Ids follow the order of
 * entry, with the gaps twenty years of deletions leave.
 */
export function applications(rng: Prng, count: number): ApplicationTables {
  const antrag: LegacyRow[] = [];
  const events: Event[] = [];
  const files: Array<{ day: number; bezirk: number; text: string | null; antrag: LegacyRow | null }> = [];
  let id = 0;
  for (const applied of applicationDays(rng, count)) {
    id += rng.chance(0.02) ? rng.int(2, 4) : 1;
    const row = applicationRow(rng, id, applied);
    antrag.push(row);
    const plan = history(rng, id, applied, row);
    events.push(...plan.events);
    if (plan.offered !== null) files.push({ day: plan.offered, bezirk: (row.an_Bezirk as number | null) ?? (id % DISTRICTS.length) + 1, text: plan.offerText, antrag: row });
  }
  // File references opened for leases this system never saw an application for.
  for (let i = 0; i < Math.round(count / 40); i++) files.push({ day: dayBetween(rng, SAMPLE_FIRST_DAY, SAMPLE_TODAY), bezirk: rng.int(1, DISTRICTS.length), text: 'Pachtvertrag (Altbestand)', antrag: null });
  numberWaitingLists(rng, antrag);
  return { antrag, verlauf: numberEvents(rng, events), aktenzeichen: fileReferences(files) };
}

function applicationRow(rng: Prng, id: number, applied: number): LegacyRow {
  const person = applicant(rng, applied);
  return {
    an_ID: id,
    an_Aktenzeichen: null,
    an_WartelistenNr32: null,
    an_WartelistenNr33: null,
    ...person,
    an_Bewerbungsdatum: datetimeText(rng, applied),
    an_Bestaetigungsdatum: null,
    an_AktuellesAngebot: null,
    an_Loeschdatum: null,
    an_Wunsch: rng.chance(0.6) ? (rng.chance(0.5) ? rng.pick(WISHES) : `${rng.pick(COLONIES)} bevorzugt; ${rng.pick(WISHES)}`) : null,
    an_Vermerk: rng.chance(0.2) ? rng.pick(NOTES) : null,
    an_Aktiv: '1',
    an_DeaktiviertAm: null,
    an_Bezirk: rng.chance(0.02) ? null : rng.int(1, DISTRICTS.length),
  };
}

/** Fills the row's dates and returns its history; an offer becomes a file reference. */
function history(rng: Prng, id: number, applied: number, row: LegacyRow): { events: Event[]; offered: number | null; offerText: string | null } {
  const events: Event[] = [];
  const add = (art: string, day: number, text: string, at = datetimeText(rng, day)): string => {
    events.push({ antrag: id, art, at, day, text });
    return at;
  };
  add('EG', applied, rng.pick(EVENT_TEXTS.EG ?? []), String(row.an_Bewerbungsdatum));
  const age = (SAMPLE_TODAY - applied) / (SAMPLE_TODAY - SAMPLE_FIRST_DAY);
  if (rng.chance(0.9)) row.an_Bestaetigungsdatum = add('BS', Math.min(addDays(applied, rng.int(2, 30)), SAMPLE_TODAY), rng.pick(EVENT_TEXTS.BS ?? []));
  let offered: number | null = null;
  let offerText: string | null = null;
  let end = SAMPLE_TODAY;
  if (SAMPLE_TODAY - applied > 400 * DAY_MS && rng.chance(0.35)) {
    offered = dayBetween(rng, addDays(applied, 365), Math.min(addDays(applied, 6 * 365), SAMPLE_TODAY));
    offerText = `Angebot Parzelle ${rng.int(1, 240)} in ${rng.pick(COLONIES)}`;
    row.an_AktuellesAngebot = add('AG', offered, `${offerText} versandt`);
    const answered = Math.min(addDays(offered, rng.int(7, 40)), SAMPLE_TODAY);
    const accepted = rng.chance(0.55);
    add('AB', answered, accepted ? 'Angebot angenommen, Pachtvertrag folgt' : rng.pick((EVENT_TEXTS.AB ?? []).slice(0, 2)));
    if (accepted) end = deactivate(rng, row, answered, 'Antrag deaktiviert: Parzelle vergeben', add);
  }
  if (end === SAMPLE_TODAY && rng.chance(0.12 + 0.35 * age)) {
    end = deactivate(rng, row, dayBetween(rng, addDays(applied, 100), SAMPLE_TODAY), rng.pick((EVENT_TEXTS.DE ?? []).slice(0, 2)), add);
  }
  for (let k = rng.int(0, Math.floor((end - applied) / (3 * 365 * DAY_MS))); k > 0; k--) {
    const art = rng.pick(['AD', 'VM']);
    add(art, dayBetween(rng, addDays(applied, 30), end), rng.pick(EVENT_TEXTS[art] ?? []));
  }
  return { events: events.filter((e) => e.day <= SAMPLE_TODAY), offered, offerText };
}

function deactivate(rng: Prng, row: LegacyRow, day: number, text: string, add: (art: string, day: number, text: string) => string): number {
  const when = Math.min(day, SAMPLE_TODAY);
  row.an_Aktiv = '0';
  row.an_DeaktiviertAm = add('DE', when, text);
  // Some deactivated applications were also marked for deletion; the check wants it after the application date.
  if (rng.chance(0.3)) row.an_Loeschdatum = datetimeText(rng, Math.min(addDays(when, rng.int(1, 200)), SAMPLE_TODAY));
  return when;
}

/** Seed 000's waiting-list query reads these as integers: numbered in order of application, active ones only. */
function numberWaitingLists(rng: Prng, antrag: LegacyRow[]): void {
  let list32 = 0;
  let list33 = 0;
  for (const row of antrag) {
    if (row.an_Aktiv !== '1') continue;
    row.an_WartelistenNr32 = String(++list32);
    if (rng.chance(0.3)) row.an_WartelistenNr33 = String(++list33);
  }
}

function numberEvents(rng: Prng, events: Event[]): LegacyRow[] {
  const sorted = [...events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.antrag - b.antrag));
  return sorted.map((e, i) => ({
    ve_ID: i + 1,
    ve_Antrag: e.antrag,
    ve_Art: e.art,
    ve_Datum: e.at,
    ve_Gelesen: e.day < SAMPLE_TODAY - 14 * DAY_MS || rng.chance(0.3),
    ve_Text: e.text,
  }));
}

function fileReferences(files: Array<{ day: number; bezirk: number; text: string | null; antrag: LegacyRow | null }>): LegacyRow[] {
  const next = new Map<string, number>();
  return [...files]
    .sort((a, b) => a.day - b.day)
    .map((f, i) => {
      const year = yearOf(f.day);
      const key = `${f.bezirk}/${year}`;
      const nummer = (next.get(key) ?? 0) + 1;
      next.set(key, nummer);
      if (f.antrag) f.antrag.an_Aktenzeichen = `B${f.bezirk}-${String(nummer).padStart(4, '0')}/${year}`;
      return { az_ID: i + 1, az_Bezirk: f.bezirk, az_Nummer: nummer, az_Jahr: year, az_Text: f.text };
    });
}

/** Eingangsnummern: numbered incoming post with the fee paid, received at 100 ns precision (datetime2(7)). */
export function eingangsnummern(rng: Prng, count: number): LegacyRow[] {
  const days = Array.from({ length: count }, () => dayBetween(rng, SAMPLE_FIRST_DAY, SAMPLE_TODAY)).sort((a, b) => a - b);
  const perYear = new Map<number, number>();
  return days.map((day, i) => {
    const year = yearOf(day);
    const seq = (perYear.get(year) ?? 0) + 1;
    perYear.set(year, seq);
    // Fees in DM were converted at 1.95583 and kept with four decimals; later ones are round euros.
    const fee = rng.chance(0.55) ? null : year < 2006 && rng.chance(0.5) ? rng.pick(['7.6694', '12.7823', '15.3388']) : rng.pick(['15.0000', '25.0000', '12.5000', '30.0000']);
    return { en_ID: String(1_000_000 + i), en_Nummer: String(year * 1_000_000 + seq), en_Gebuehr: fee, en_Eingang: datetime2Text(rng, day) };
  });
}
