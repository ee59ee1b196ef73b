import { describe, expect, it } from 'vitest';
import { HELP_TEXT, parseMigrateText } from '../../bot/command-text.js';

describe('parseMigrateText: contacts, schedule, unschedule (issue 6)', () => {
  it('parses contacts with or without a runbook', () => {
    expect(parseMigrateText('contacts')).toEqual({ kind: 'contacts', runbook: null });
    expect(parseMigrateText('contacts kgv')).toEqual({ kind: 'contacts', runbook: 'kgv' });
    expect(parseMigrateText('contacts kgv demo').kind).toBe('help');
  });

  it('parses schedule <runbook> <time>, leaving the time to the handler', () => {
    expect(parseMigrateText('schedule kgv 2024-03-09T22:00:00+01:00')).toEqual({ kind: 'schedule', runbook: 'kgv', at: '2024-03-09T22:00:00+01:00' });
    const missing = parseMigrateText('schedule kgv');
    expect(missing).toMatchObject({ kind: 'help' });
    expect(missing.kind === 'help' && missing.problem).toContain('ISO time');
  });

  it('parses unschedule <runbook|id>', () => {
    expect(parseMigrateText('unschedule kgv-20240309-2100')).toEqual({ kind: 'unschedule', target: 'kgv-20240309-2100' });
    expect(parseMigrateText('unschedule').kind).toBe('help');
  });

  it('lists the new subcommands in the help', () => {
    for (const sub of ['/migrate contacts', '/migrate schedule', '/migrate unschedule']) expect(HELP_TEXT).toContain(sub);
  });
});
