import type { Prng } from './prng.js';
import type { LegacyRow } from './reference-data.js';
import { addDays, asciiName, dateText, dayBetween, dayOfYear, SAMPLE_FIRST_DAY, SAMPLE_TODAY } from './values.js';
import { DISTRICTS, FEMALE, LAST_NAMES, MAIL_DOMAINS, MALE, STREETS, TITLES } from './vocabulary.js';

/** One applicant (an_* person and address columns) as the clerks typed them in over twenty years. */
export function applicant(rng: Prng, applied: number): LegacyRow {
  const female = rng.chance(0.52);
  const first = rng.pick(female ? FEMALE : MALE);
  const last = rng.pick(LAST_NAMES);
  const titel = rng.chance(0.06) ? rng.pick(TITLES) : rng.chance(0.02) ? '' : null;
  const anrede = rng.chance(0.03) ? null : female ? 'Frau' : 'Herr';
  const partner = rng.chance(0.3) ? partnerOf(rng, female, last) : null;
  const home = rng.int(0, DISTRICTS.length - 1);
  const district = DISTRICTS[home] as (typeof DISTRICTS)[number];
  const recent = applied >= dayOfYear(2009, 1, 1);
  // Applicants are adults: born 18 to 85 years before they applied.
  const born = (): string => dateText(dayBetween(rng, addDays(applied, -85 * 365), addDays(applied, -18 * 366)));
  return {
    an_Anrede: anrede,
    an_Titel: titel,
    an_Vorname: rng.chance(0.01) ? null : first,
    an_Nachname: last,
    an_Anrede2: partner?.anrede ?? null,
    an_Titel2: partner && rng.chance(0.05) ? rng.pick(TITLES) : null,
    an_Vorname2: partner?.first ?? null,
    an_Nachname2: partner?.last ?? null,
    an_Briefanrede: letterSalutation(anrede, titel, last, partner),
    an_Strasse: `${rng.pick(STREETS)} ${rng.int(1, 180)}${rng.chance(0.12) ? rng.pick(['a', 'b', 'c']) : ''}`,
    an_PLZ: rng.pick(district.postalCodes),
    an_Ort: 'Berlin',
    an_Telefon: rng.chance(0.75) ? landline(rng) : null,
    an_MobilTelefon: rng.chance(recent ? 0.6 : 0.25) ? mobile(rng) : null,
    an_GeschTelefon: rng.chance(0.1) ? `030 ${rng.int(2000, 9999)}${rng.digits(1)}-${rng.digits(3)}` : null,
    an_MobilTelefon2: partner && rng.chance(0.5) ? mobile(rng) : null,
    an_EMail: rng.chance(recent ? 0.6 : 0.15) ? email(rng, first, last) : null,
    an_Geburtstag: rng.chance(0.85) ? born() : null,
    an_Geburtstag2: partner && rng.chance(0.7) ? born() : null,
  };
}

interface Partner {
  anrede: string;
  first: string;
  last: string;
}

function partnerOf(rng: Prng, applicantFemale: boolean, last: string): Partner {
  const female = rng.chance(0.85) ? !applicantFemale : applicantFemale;
  return { anrede: female ? 'Frau' : 'Herr', first: rng.pick(female ? FEMALE : MALE), last: rng.chance(0.6) ? last : rng.pick(LAST_NAMES) };
}

function letterSalutation(anrede: string | null, titel: string | null, last: string, partner: Partner | null): string {
  const one = (a: string | null, t: string | null, n: string): string =>
    a === 'Frau' ? `sehr geehrte Frau ${t ? `${t} ` : ''}${n}` : a === 'Herr' ? `sehr geehrter Herr ${t ? `${t} ` : ''}${n}` : 'sehr geehrte Damen und Herren';
  const text = partner ? `${one(anrede, titel, last)}, ${one(partner.anrede, null, partner.last)},` : `${one(anrede, titel, last)},`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Berlin landlines as people write them: with slashes, brackets, dashes, country code, or no area code at all. */
function landline(rng: Prng): string {
  const n = `${rng.int(2, 9)}${rng.digits(rng.pick([6, 7]))}`;
  switch (rng.int(0, 6)) {
    case 0:
      return `030/${n}`;
    case 1:
      return `(030) ${n.slice(0, 3)} ${n.slice(3, 5)} ${n.slice(5)}`;
    case 2:
      return `030-${n}`;
    case 3:
      return `+49 30 ${n}`;
    case 4:
      return n;
    default:
      return `030 ${n}`;
  }
}

function mobile(rng: Prng): string {
  const prefix = rng.pick(['0151', '0152', '0160', '0162', '0170', '0171', '0172', '0173', '0175', '0176', '0177', '0179']);
  const n = rng.digits(rng.pick([7, 8]));
  return rng.pick([`${prefix} ${n}`, `${prefix}-${n}`, `${prefix}/${n}`, `+49 ${prefix.slice(1)} ${n}`]);
}

function email(rng: Prng, first: string, last: string): string {
  const local = rng.pick([`${asciiName(first)}.${asciiName(last)}`, `${asciiName(first).slice(0, 1)}.${asciiName(last)}`, `${asciiName(last)}${rng.int(1, 99)}`]);
  const address = `${local}@${rng.pick(MAIL_DOMAINS)}`;
  // The old form accepted anything: some were typed in capitals or with a trailing blank.
  return rng.chance(0.03) ? address.toUpperCase() : rng.chance(0.02) ? `${address} ` : address;
}

/** Application days from 2004 on, more of them in later years (waiting lists grew after 2015). */
export function applicationDays(rng: Prng, count: number): number[] {
  const days: number[] = [];
  while (days.length < count) {
    const day = dayBetween(rng, SAMPLE_FIRST_DAY, SAMPLE_TODAY);
    const age = (SAMPLE_TODAY - day) / (SAMPLE_TODAY - SAMPLE_FIRST_DAY);
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    if (rng.next() < 1 - 0.6 * age) days.push(day);
  }
  return days.sort((a, b) => a - b);
}
