/**
 * The load's quarantined rows are shown to whoever approves: the first few
 * with key, column and reason in the load's message, where all of them are,
 * and the count per table with the first rows at the gate (issue 16: the gate asked the lead to
 * confirm rows nobody was shown). The details are the shape
 * engine/actions/etl-load-common.ts records (the sample's two rows, as in e2e kgv-local).
 */
import { describe, expect, it } from 'vitest';
import { quarantineGateLines, quarantineSection } from '../../bot/render/quarantine-lines.js';
import { renderStep } from '../../bot/render/step-blocks.js';
import { loadRunbook } from '../../runbook/load.js';
import { allSteps } from '../../runbook/plan.js';
import type { RunState } from '../../runbook/state.js';
import { startedRun } from '../support/runbook-factory.js';

const ALL = `SELECT * FROM "cutover_etl".quarantine WHERE load_id = 'r1/load' ORDER BY id`;
const loadDetails = (quarantined: number, rows = 2) => ({
  report: '*Load*',
  rows: 23_853,
  quarantined,
  rowsPerSecond: 9000,
  tables: [
    { table: 'migration_staging.antrag', rows: 3999, quarantined: 1, rowsPerSecond: 8000, error: null },
    { table: 'migration_staging.verlauf', rows: 9000, quarantined: quarantined - 1, rowsPerSecond: 9000, error: null },
    { table: 'migration_staging.bezirk', rows: 12, quarantined: 0, rowsPerSecond: 12, error: null },
  ],
  quarantine: {
    rows: [
      { table: 'migration_staging.verlauf', key: { ID: '2500' }, column: 'Name', reason: 'NUL byte (0x00) in text: PostgreSQL cannot store it' },
      { table: 'migration_staging.antrag', key: { ID: '17', Jahr: null }, column: 'Datum', reason: 'year 0 outside 1..9999' },
    ].slice(0, rows),
    all: ALL,
  },
});

describe('the load\'s message on quarantined rows', () => {
  it('lists each row with table, key, column and reason, and where all of them are', () => {
    const text = quarantineSection(loadDetails(2)) ?? '';
    expect(text.split('\n')).toEqual([
      '*Quarantined rows* (2, kept aside with their reasons; review them before the gate):',
      '• `migration_staging.verlauf` ID=2500, column `Name`: NUL byte (0x00) in text: PostgreSQL cannot store it',
      '• `migration_staging.antrag` ID=17, Jahr=NULL, column `Datum`: year 0 outside 1..9999',
      `All of them: \`${ALL}\``,
    ]);
  });

  it('counts the rows it does not list', () => {
    expect(quarantineSection(loadDetails(1_234))).toContain('\n… 1,232 more\n');
  });

  it('is absent when nothing was quarantined, or for a step that is not a load', () => {
    expect(quarantineSection({ ...loadDetails(2), quarantined: 0 })).toBeNull();
    expect(quarantineSection({ rowCount: 3 })).toBeNull();
    expect(quarantineSection(undefined)).toBeNull();
  });
});

describe('the gate on quarantined rows', () => {
  const text = `title: Q
roles: { lead: { title: Lead, members: [ULEAD, ULEAD2] } }
phases:
  - id: p
    title: P
    steps:
      - { id: load, title: Load, approve: lead, action: manual }
      - { id: go, title: Go/no-go, approve: lead, action: manual, gate: validation }
`;
  const loaded = loadRunbook({ name: 'q', file: 'q.yaml', text, env: {} });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const plan = loaded.runbook.plan;
  const withLoad = (quarantined: number): RunState => {
    const state = startedRun({ plan });
    const load = state.steps['load'];
    if (!load) throw new Error('no load step');
    return { ...state, steps: { ...state.steps, load: { ...load, status: 'succeeded', result: { summary: 'Loaded', details: loadDetails(quarantined) } } } };
  };

  it('summarises the count per table, largest first, naming the load step, then lists the rows with key, column and reason', () => {
    expect(quarantineGateLines(withLoad(3))).toEqual([
      'Quarantined: 3 rows by `load` (migration_staging.verlauf 2, migration_staging.antrag 1) — review them before approving:',
      '• `migration_staging.verlauf` ID=2500, column `Name`: NUL byte (0x00) in text: PostgreSQL cannot store it',
      '• `migration_staging.antrag` ID=17, Jahr=NULL, column `Datum`: year 0 outside 1..9999',
      '… 1 more, listed with the query for all of them in the load\'s message',
    ]);
    expect(quarantineGateLines(withLoad(0))).toEqual([]);
  });

  it('counts the rows of loads only: an extract or snapshot check that counted the same rows earlier is left out', () => {
    const state = withLoad(2);
    const go = state.steps['go'];
    if (!go) throw new Error('no go step');
    const verify = { ...go, id: 'verify', status: 'succeeded' as const, result: { summary: 'Verified', details: { dir: 'snap', rows: 23_855, quarantined: 2 } } };
    expect(quarantineGateLines({ ...state, steps: { verify, ...state.steps } })[0]).toBe('Quarantined: 2 rows by `load` (migration_staging.antrag 1, migration_staging.verlauf 1) — review them before approving:');
  });

  it('is in the gated step\'s message while it waits, and the load\'s rows are in the load\'s message', () => {
    const state = withLoad(2);
    const [loadStep, goStep] = allSteps(plan);
    const go = state.steps['go'];
    const load = state.steps['load'];
    if (!loadStep || !goStep || !go || !load) throw new Error('no steps');
    const gate = JSON.stringify(renderStep(state, goStep, { ...go, status: 'awaiting_approval' }, state.startedAt).blocks);
    expect(gate).toContain('Quarantined: 2 rows by `load` (migration_staging.antrag 1, migration_staging.verlauf 1)');
    const loadMessage = JSON.stringify(renderStep(state, loadStep, load, state.startedAt).blocks);
    expect(loadMessage).toContain('column `Datum`: year 0 outside 1..9999');
  });
});
