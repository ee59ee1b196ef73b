/**
 * The runbook's time zone for files (the report, the timeline PNG): the team
 * reads them after the night, away from Slack's per-reader date tokens, in
 * the zone their window and plan are written in. Intl only: no I/O.
 */

/** Whether `zone` is an IANA time zone this runtime knows ("Europe/Berlin", "UTC"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

function partsIn(at: number, zone: string): Record<string, string> {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
    });
    formats.set(zone, format);
  }
  return Object.fromEntries(format.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
}

/** "2024-03-09 23:55:00 CET" (or "… GMT+1" where the zone has no abbreviation in English). */
export function zonedStamp(at: number, zone: string): string {
  const p = partsIn(at, zone);
  return `${p['year']}-${p['month']}-${p['day']} ${p['hour']}:${p['minute']}:${p['second']} ${zone === 'UTC' ? 'UTC' : p['timeZoneName']}`;
}

/** "23:55" in the zone, for a chart's axis. */
export function zonedClock(at: number, zone: string): string {
  const p = partsIn(at, zone);
  return `${p['hour']}:${p['minute']}`;
}
