import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseMigrateText } from '../../bot/command-text.js';
import { renderBackups } from '../../bot/render/backups-text.js';
import { decide } from '../../runbook/decide.js';
import { backupCatalogue, backupRefusal, formatBytes, readBackup } from '../../runbook/backups.js';
import { loadRunbook, type LoadResult } from '../../runbook/load.js';
import { at, cmd, planOfSteps, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';

const { lead, dba1, owner } = USERS;
const SHA = 'a'.repeat(64);

/** A backup record as backup.postgres reports it; override any field. */
const backupDetails = (overrides: Record<string, unknown> = {}) => ({
  backup: { id: 'pg-backup', kind: 'postgres', file: '/backups/run-demo-1-pg-backup-20240309T220400Z.dump', bytes: 5 * 1024 * 1024, sha256: SHA, verified: true, tables: 3, startedAt: at(3), seconds: 4.2, walLsn: '0/3000028', ...overrides },
});

/** pg-backup (backup.postgres, dba, skippable by lead) → golive (sql, owner, requires backup.pg-backup). */
const plan = () =>
  planOfSteps([
    { id: 'pg-backup', title: 'Back up the target', action: 'backup.postgres', skippableBy: ['lead'] },
    { id: 'golive', title: 'Switch to PostgreSQL', action: 'sql', approve: 'owner', requires: ['backup.pg-backup'] },
  ]);

/** The run after the backup step reported success with these details. */
const afterBackup = (details: Record<string, unknown> | undefined, dryRun = false) =>
  stateAfter([startCommand({ plan: plan(), dryRun }), cmd.approve('pg-backup', dba1), cmd.started('pg-backup'), cmd.succeeded('pg-backup', { details })]);

describe('backup catalogue per run (issue 5)', () => {
  it('lists every succeeded step whose result carries a backup record, with the step finish time', () => {
    expect(backupCatalogue(afterBackup(backupDetails()))).toEqual([
      { id: 'pg-backup', kind: 'postgres', file: '/backups/run-demo-1-pg-backup-20240309T220400Z.dump', bytes: 5 * 1024 * 1024, sha256: SHA, verified: true, at: at(4) },
    ]);
  });

  it('ignores results without a well-formed backup record', () => {
    expect(backupCatalogue(afterBackup({ rowCount: 3 }))).toEqual([]);
    expect(backupCatalogue(afterBackup(backupDetails({ sha256: 'not-a-hash' })))).toEqual([]);
    expect(readBackup({ backup: { ...backupDetails().backup, kind: 'oracle' } })).toBeNull();
    expect(readBackup(undefined)).toBeNull();
  });

  it('takes an mssql backup without sha256 (the file is on the database host)', () => {
    const state = afterBackup(backupDetails({ kind: 'mssql', sha256: null, file: 'D:\\Backups\\kgv.bak' }));
    expect(backupCatalogue(state)).toMatchObject([{ id: 'pg-backup', kind: 'mssql', sha256: null, verified: true }]);
  });

  it('renders /migrate backups lines with size, checksum and verification', () => {
    const text = renderBackups(afterBackup(backupDetails()));
    expect(text).toContain('`pg-backup` · postgres · `/backups/run-demo-1-pg-backup-20240309T220400Z.dump` · 5.0 MB · sha256 `aaaaaaaaaaaa…` · ✅ verified · <!date^1710021840^{date_short_pretty} {time}|2024-03-09 22:04 UTC>');
    expect(renderBackups(afterBackup(undefined))).toContain('No backup has been made in this run yet.');
    expect(formatBytes(900)).toBe('900 B');
    expect(formatBytes(1536 * 1024 * 1024)).toBe('1.5 GB');
  });

  it('parses `/migrate backups`', () => {
    expect(parseMigrateText('backups')).toEqual({ kind: 'backups' });
  });
});

describe('requires: backup.<id> guards approval (issue 5)', () => {
  it('lets the step be approved once the required backup exists and is verified', () => {
    const decision = decide(afterBackup(backupDetails()), cmd.approve('golive', owner, { at: at(5) }));
    expect(decision).toMatchObject({ ok: true, events: [{ type: 'step.approved', stepId: 'golive' }, { type: 'step.queued', stepId: 'golive' }] });
  });

  it('refuses approval when the backup step was skipped, with a sentence naming the step', () => {
    const skipped = stateAfter([startCommand({ plan: plan() }), cmd.skip('pg-backup', lead, 'no time')]);
    expect(skipped.steps.golive?.status).toBe('awaiting_approval');
    expect(decide(skipped, cmd.approve('golive', owner, { at: at(5) }))).toEqual({
      ok: false,
      code: 'backup.required',
      message: '"Switch to PostgreSQL" needs a verified backup from step "Back up the target" (`pg-backup`) first.',
    });
  });

  it('refuses approval when the backup was not verified or left no record', () => {
    expect(decide(afterBackup(backupDetails({ verified: false })), cmd.approve('golive', owner))).toMatchObject({ ok: false, code: 'backup.required' });
    expect(decide(afterBackup({ summary: 'something else' }), cmd.approve('golive', owner))).toMatchObject({ ok: false, code: 'backup.required' });
  });

  it('accepts the rehearsal of the backup in a dry run, which writes no file', () => {
    expect(decide(afterBackup({ dryRun: true }, true), cmd.approve('golive', owner))).toMatchObject({ ok: true });
    expect(decide(afterBackup({ dryRun: true }, false), cmd.approve('golive', owner))).toMatchObject({ ok: false });
  });

  it('is a no-op for steps that require nothing, also for plans stored before `requires` existed', () => {
    const state = afterBackup(undefined);
    const { requires: _dropped, ...legacy } = state.plan.phases[0]!.steps[1]!;
    expect(backupRefusal(state, legacy)).toBeNull();
    expect(backupRefusal(state, { ...legacy, requires: ['backup.pg-backup'] })).not.toBeNull();
  });
});

describe('requires at load time (issue 5)', () => {
  const doc = (requires: unknown, backupAction = 'backup.postgres') => ({
    title: 'Backed-up cutover',
    connections: { target: { kind: 'postgres', url: 'postgres://app@db.internal/app' } },
    roles: { dba: { title: 'DBA', members: ['UDBA1', 'UDBA2'] } },
    phases: [
      {
        id: 'go',
        title: 'Go',
        steps: [
          { id: 'ready', title: 'Ready', approve: 'dba', action: 'manual' },
          { id: 'pg-before-switch', title: 'Backup', approve: 'dba', action: backupAction, params: backupAction === 'manual' ? undefined : { connection: 'target', dir: '/backups' } },
          { id: 'switch', title: 'Switch', approve: 'dba', action: 'manual', requires },
        ],
      },
    ],
  });
  const load = (d: unknown): LoadResult => loadRunbook({ name: 'b', file: 'config/runbooks/b.yaml', text: stringify(d), env: {} });
  const problems = (r: LoadResult) => (r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`));

  it('loads a step requiring an earlier backup step, as a list or a single entry, into the plan', () => {
    for (const requires of [['backup.pg-before-switch'], 'backup.pg-before-switch']) {
      const r = load(doc(requires));
      expect(problems(r)).toEqual([]);
      expect(r.ok && r.runbook.plan.phases[0]?.steps[2]?.requires).toEqual(['backup.pg-before-switch']);
    }
  });

  it('names the path of an unknown backup step id', () => {
    expect(problems(load(doc(['backup.pg-befor-switch'])))).toEqual([
      'phases[0].steps[2].requires[0]: "backup.pg-befor-switch" names no step of this runbook (expected one of backup.pg-before-switch)',
    ]);
  });

  it('refuses a requirement on a step that is no backup, or that comes later', () => {
    expect(problems(load(doc(['backup.ready'])))).toEqual([
      'phases[0].steps[2].requires[0]: "backup.ready" names a manual step, not a backup (expected one of backup.pg-before-switch)',
    ]);
    const later = doc(undefined);
    later.phases[0]!.steps[0] = { ...later.phases[0]!.steps[0]!, requires: ['backup.pg-before-switch'] } as never;
    expect(problems(load(later))).toEqual([
      'phases[0].steps[0].requires[0]: "backup.pg-before-switch" comes at or after this step, so it could never be approved; move the backup before it',
    ]);
  });

  it('refuses entries that are not backup.<id>', () => {
    expect(problems(load(doc(['pg-before-switch'])))[0]).toContain('phases[0].steps[2].requires[0]: expected "backup.<id of a backup step>"');
  });
});

describe('restore.postgres from: backup.<step> at load time', () => {
  const doc = (restore: Record<string, unknown>) => ({
    title: 'Emergency restore',
    connections: { target: { kind: 'postgres', url: 'postgres://app@db.internal/app' } },
    roles: { dba: { title: 'DBA', members: ['UDBA1', 'UDBA2'] } },
    phases: [
      {
        id: 'go',
        title: 'Go',
        steps: [
          { id: 'pg-before', title: 'Backup', approve: 'dba', action: 'backup.postgres', params: { connection: 'target', dir: 'var/backups' } },
          { id: 'ready', title: 'Ready', approve: 'dba', action: 'manual' },
        ],
      },
    ],
    rollback: { emergency: { title: 'Emergency', approve: 'dba', steps: [{ id: 'restore', title: 'Restore', approve: 'dba', action: 'restore.postgres', params: { target: 'target', ...restore } }] } },
  });
  const problems = (d: unknown): string[] => {
    const r = loadRunbook({ name: 'r', file: 'config/runbooks/r.yaml', text: stringify(d), env: {} });
    return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it('loads a restore from a backup.postgres step, as one entry or in order of preference', () => {
    expect(problems(doc({ from: 'backup.pg-before' }))).toEqual([]);
    expect(problems(doc({ from: ['backup.pg-before', 'backup.pg-before'] }))).toEqual([]);
  });

  it('names a from entry that is no backup.postgres step', () => {
    expect(problems(doc({ from: ['backup.pg-before', 'backup.ready'] }))).toEqual([
      'rollback.emergency.steps[0].params.from[1]: "backup.ready" names no backup.postgres step of this runbook (expected one of backup.pg-before)',
    ]);
  });

  it('wants either a file with its sha256 or from, not both and not half of one', () => {
    const either = 'expected either "file" with its "sha256", or "from: backup.<step id>" (a backup this run makes)';
    expect(problems(doc({ file: '/backups/x.dump' }))).toEqual([`rollback.emergency.steps[0].params: ${either}`]);
    expect(problems(doc({ file: '/backups/x.dump', sha256: SHA, from: 'backup.pg-before' }))).toEqual([`rollback.emergency.steps[0].params: ${either}`]);
    expect(problems(doc({}))).toEqual([`rollback.emergency.steps[0].params: ${either}`]);
    expect(problems(doc({ file: '/backups/x.dump', sha256: SHA }))).toEqual([]);
  });
});
