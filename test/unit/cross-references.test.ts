import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadRunbook, type LoadResult } from '../../runbook/load.js';

/**
 * Issue 14: every name a runbook uses for something else in it is checked at
 * load, with the file and the path — one case per kind of reference. Each
 * case breaks one reference of a runbook that loads.
 */
const base = (): Record<string, any> => ({
  title: 'References',
  connections: { source: { kind: 'mssql', url: 'mssql://m@sql/kgv' }, target: { kind: 'postgres', url: 'postgres://m@pg/kgv' } },
  roles: { lead: { title: 'Lead', members: ['ULEAD', 'ULEAD2'] }, dba: { title: 'DBA', members: ['UDBA1', 'UDBA2'] } },
  permissions: { start: ['lead'], rollback: ['lead', 'dba'] },
  contacts: [{ role: 'dba', name: 'Dana' }],
  escalation: { next_tier: ['lead'], go_no_go: 'lead', tiers: [{ after: '30m', notify: ['lead'] }] },
  phases: [
    {
      id: 'load',
      title: 'Load',
      steps: [
        { id: 'pg-backup', title: 'Backup', approve: 'dba', action: 'backup.postgres', params: { connection: 'target', dir: '/backups' } },
        { id: 'extract', title: 'Extract', approve: 'dba', action: 'extract', params: { source: 'source', dir: '/snap' } },
        { id: 'apply', title: 'Tables', approve: 'dba', action: 'schema.apply', params: { snapshot: '/snap', target: 'target', phase: 'pre-load' } },
        { id: 'load-all', title: 'Load', approve: 'dba', action: 'load', params: { dir: '/snap', target: 'target' } },
        { id: 'counts', title: 'Counts', approve: 'dba', action: 'validate.counts', params: { snapshot: '/snap/', target: 'target', load_step: 'load-all' } },
        { id: 'go', title: 'Go live', approve: 'lead', action: 'manual', requires: ['backup.pg-backup'], done_when: { connection: 'target', sql: 'SELECT 1' } },
      ],
    },
  ],
  rollback: {
    'pre-go-live': { title: 'Pre', approve: 'lead', steps: [{ id: 'restore', title: 'Restore', approve: 'dba', action: 'restore.postgres', params: { target: 'target', from: ['backup.pg-backup'] } }] },
  },
});

const load = (change: (doc: Record<string, any>) => void = () => undefined): LoadResult => {
  const doc = base();
  change(doc);
  return loadRunbook({ name: 'refs', file: 'config/runbooks/refs.yaml', text: stringify(doc), env: {} });
};
const problems = (r: LoadResult): string[] => (r.ok ? [] : r.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`));
const steps = (d: Record<string, any>): Array<Record<string, any>> => d.phases[0].steps;
const F = 'config/runbooks/refs.yaml';

describe('cross-references checked at load, with file and path (issue 14)', () => {
  it('the base runbook loads', () => {
    expect(problems(load())).toEqual([]);
  });

  it('validate.counts load_step: a step that exists, loads, and comes before', () => {
    expect(problems(load((d) => (steps(d)[4]!.params.load_step = 'nope')))).toEqual([`${F}: phases[0].steps[4].params.load_step: step "nope" does not exist in this runbook (expected the id of a etl.copy or load step)`]);
    expect(problems(load((d) => (steps(d)[4]!.params.load_step = 'apply')))).toEqual([`${F}: phases[0].steps[4].params.load_step: step "apply" runs schema.apply, expected a etl.copy or load step`]);
    expect(problems(load((d) => steps(d).splice(3, 2, steps(d)[4]!, steps(d)[3]!)))).toEqual([`${F}: phases[0].steps[3].params.load_step: step "load-all" must come before "counts" in the phases`]);
  });

  it('snapshot: the dir of an extract, load or snapshot.verify step, and the same one its load_step loaded', () => {
    expect(problems(load((d) => (steps(d)[2]!.params.snapshot = '/snapp')))).toEqual([
      `${F}: phases[0].steps[2].params.snapshot: snapshot "/snapp" is not the dir of an extract, load or snapshot.verify step of this runbook (expected one of "/snap")`,
    ]);
    const r = problems(load((d) => {
      steps(d).splice(4, 0, { id: 'load-other', title: 'Other', approve: 'dba', action: 'load', params: { dir: '/other', target: 'target' } });
      steps(d)[5]!.params.load_step = 'load-other';
    }));
    expect(r).toEqual([`${F}: phases[0].steps[5].params.load_step: step "load-other" loads snapshot "/other", but this step reads snapshot "/snap/"; name the load of the same snapshot`]);
  });

  it('requires: a backup step before the step', () => {
    expect(problems(load((d) => (steps(d)[5]!.requires = ['backup.extract'])))).toEqual([`${F}: phases[0].steps[5].requires[0]: "backup.extract" names a extract step, not a backup (expected one of backup.pg-backup)`]);
  });

  it('rollback scenario steps: restore from a backup.postgres step of the phases', () => {
    expect(problems(load((d) => (d.rollback['pre-go-live'].steps[0].params.from = ['backup.nope'])))).toEqual([
      `${F}: rollback.pre-go-live.steps[0].params.from[0]: "backup.nope" names no backup.postgres step of this runbook (expected one of backup.pg-backup)`,
    ]);
  });

  it('rollback scenario names are ids (`/migrate rollback <scenario>` must be able to name them)', () => {
    const r = problems(load((d) => (d.rollback = { 'Pre Go Live': d.rollback['pre-go-live'] })));
    expect(r).toContainEqual(expect.stringContaining(`${F}: rollback.Pre Go Live: "Pre Go Live": expected an id of lower-case letters, digits, "-" or "_"`));
  });

  it('connection names: in params and in done_when', () => {
    expect(problems(load((d) => (steps(d)[3]!.params.target = 'tgt')))).toEqual([`${F}: phases[0].steps[3].params.connection: connection "tgt" is not declared under connections (expected one of source, target)`]);
    expect(problems(load((d) => (steps(d)[5]!.done_when.connection = 'tgt')))).toEqual([`${F}: phases[0].steps[5].done_when.connection: connection "tgt" is not declared under connections (expected one of source, target)`]);
  });

  it('roles in the escalation policy, permissions and contacts', () => {
    expect(problems(load((d) => (d.escalation.tiers[0].notify = ['boss'])))).toEqual([`${F}: escalation.tiers[0].notify[0]: role "boss" is not a declared role (expected one of lead, dba)`]);
    expect(problems(load((d) => (d.escalation.next_tier = ['boss'])))).toEqual([`${F}: escalation.next_tier[0]: role "boss" is not a declared role (expected one of lead, dba)`]);
    expect(problems(load((d) => (d.escalation.go_no_go = 'boss')))).toEqual([`${F}: escalation.go_no_go: role "boss" is not a declared role (expected one of lead, dba)`]);
    expect(problems(load((d) => (d.permissions.start = ['boss'])))).toEqual([`${F}: permissions.start[0]: role "boss" is not a declared role (expected one of lead, dba)`]);
    expect(problems(load((d) => (d.contacts[0].role = 'boss')))).toEqual([`${F}: contacts[0].role: role "boss" is not a declared role (expected one of lead, dba)`]);
  });
});
