import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { stringify } from 'yaml';
import { formatDuration, parseDuration } from '../../runbook/duration.js';
import { interpolateString, interpolateTree } from '../../runbook/interpolate.js';
import { formatPath, loadRunbook, type LoadResult, type RunbookProblem } from '../../runbook/load.js';

const DEMO_FILE = 'config/runbooks/demo.yaml';
const demoText = readFileSync(new URL('../../config/runbooks/demo.yaml', import.meta.url), 'utf8');
const FILE = 'config/runbooks/bad.yaml';

function loaded(result: LoadResult) {
  if (!result.ok) throw new Error(`expected the runbook to load, got:\n${result.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  return result.runbook;
}

function problemsOf(result: LoadResult): RunbookProblem[] {
  if (result.ok) throw new Error('expected problems, but the runbook loaded');
  return result.problems;
}

const load = (text: string, env: Record<string, string | undefined> = {}): LoadResult => loadRunbook({ name: 'bad', file: FILE, text, env });

/** A small valid runbook as data; each malformed case changes one thing in it. */
interface Doc {
  [key: string]: any;
}
const base = (): Doc => ({
  title: 'Tiny cutover',
  connections: { target: { kind: 'postgres', url: 'postgres://app@db.internal/app' } },
  roles: {
    lead: { title: 'Lead', members: ['ULEAD'] },
    dba: { title: 'DBA', members: ['UDBA1', 'UDBA2'] },
  },
  contacts: [{ role: 'lead', name: 'Lead person', slack: 'ULEAD', phone: '+49 30 1' }],
  phases: [
    { id: 'prep', title: 'Prep', steps: [{ id: 'ready', title: 'Ready', approve: 'lead', action: 'manual' }] },
    {
      id: 'load',
      title: 'Load',
      steps: [{ id: 'schema', title: 'Schema', approve: 'dba', action: 'sql', params: { connection: 'target', sql: 'SELECT 1' } }],
    },
  ],
});
const variant = (change: (doc: Doc) => void): string => {
  const doc = base();
  change(doc);
  return stringify(doc);
};
/** The step the cases below break: phases[1].steps[0]. */
const step = (doc: Doc): Doc => doc.phases[1].steps[0];

describe('loadRunbook: the demo runbook', () => {
  it('loads with an empty environment, using every ${VAR:-default}', () => {
    const rb = loaded(loadRunbook({ name: 'demo', file: DEMO_FILE, text: demoText, env: {} }));
    expect(rb.name).toBe('demo');
    expect(rb.file).toBe(DEMO_FILE);
    expect(rb.doc.connections.target?.url).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(rb.plan.roles.lead?.members).toEqual(['U0DEMOLEAD']);
    expect(rb.plan.roles.owner).toMatchObject({ requesterMayApprove: true, minApprovals: 1 });
    expect(rb.plan.permissions).toEqual({ start: ['lead', 'dba'], pause: null, resume: null, abort: ['lead'], rollback: null });
    expect(rb.plan.phases.map((p) => p.id)).toEqual(['prepare', 'load', 'verify']);
    expect(rb.plan.phases.flatMap((p) => p.steps.map((s) => s.id))).toEqual([
      'team-ready', 'disk-space', 'create-schema', 'load-districts', 'count-districts', 'health', 'go-live',
    ]);
    expect(rb.plan.rollbackScenarios).toEqual([
      {
        id: 'pre-go-live',
        title: 'Pre-go-live rollback (truncate the demo data)',
        approve: 'lead',
        plannedSeconds: null,
        // Rollback steps are plan steps of their own phase, run once the rollback is approved.
        steps: [expect.objectContaining({ id: 'rollback-truncate', phaseId: 'rollback:pre-go-live', approve: 'lead', action: 'sql', manual: false })],
      },
    ]);
  });

  it('turns durations into seconds and fills action defaults', () => {
    const rb = loaded(loadRunbook({ name: 'demo', file: DEMO_FILE, text: demoText, env: {} }));
    const steps = Object.fromEntries(rb.plan.phases.flatMap((p) => p.steps).map((s) => [s.id, s]));
    expect(steps['team-ready']).toMatchObject({ manual: true, plannedSeconds: 120, timeoutSeconds: null });
    expect(steps['load-districts']).toMatchObject({ plannedSeconds: 120, timeoutSeconds: 300, skippableBy: ['lead'], confirm: 'This writes into the target database. Continue?' });
    expect(rb.plan.phases[0]?.plannedSeconds).toBe(180);
    expect(rb.params['create-schema']).toMatchObject({ connection: 'target', transaction: true });
    expect(rb.params['health']).toMatchObject({ method: 'GET', expect_status: 200, url: 'http://127.0.0.1:3000/healthz' });
    expect(rb.params['disk-space']).toEqual({ argv: ['df', '-h', '.'], idempotent: true, ok_exit_codes: [0] });
  });

  it('takes user ids and URLs from the environment when set', () => {
    const env = {
      DEMO_LEAD: 'U0REALLEAD',
      DEMO_DBA: 'U0REALDBA',
      DEMO_TARGET_URL: 'postgres://cutover:s3cret@pg.prod:5432/app',
      DEMO_HEALTH_URL: 'https://bot.example.org/healthz',
    };
    const rb = loaded(loadRunbook({ name: 'demo', file: DEMO_FILE, text: demoText, env }));
    expect(rb.plan.roles.lead?.members).toEqual(['U0REALLEAD']);
    expect(rb.plan.roles.dba?.members).toEqual(['U0REALDBA', 'U0DEMODBA2']);
    expect(rb.doc.contacts[0]?.slack).toBe('U0REALLEAD');
    expect(rb.doc.connections.target?.url).toBe('postgres://cutover:s3cret@pg.prod:5432/app');
    expect(rb.params['health']).toMatchObject({ url: 'https://bot.example.org/healthz' });
    // The plan is stored in the run's events: it must not carry the interpolated secret.
    expect(JSON.stringify(rb.plan)).not.toContain('s3cret');
  });

  it('rejects the demo when an overriding user id is not a Slack id', () => {
    const problems = problemsOf(loadRunbook({ name: 'demo', file: DEMO_FILE, text: demoText, env: { DEMO_OWNER: 'owner@example.org' } }));
    expect(problems).toContainEqual({ file: DEMO_FILE, path: 'roles.owner.members[0]', message: 'expected a Slack user id such as U024BE7LH' });
  });
});

describe('loadRunbook: malformed runbooks name the file, the path and what was expected', () => {
  it('accepts the unbroken base document (so each case below fails for its own reason)', () => {
    expect(loaded(load(variant(() => {}))).plan.phases).toHaveLength(2);
  });

  const cases: Array<{ name: string; text: string; path: string; message: string | RegExp }> = [
    {
      name: 'YAML syntax error, with line and column',
      text: 'title: Tiny\nroles:\n  lead: [ULEAD, UDBA\nphases: []\n',
      path: 'line 4, column 1',
      message: /^expected valid YAML: Flow sequence/,
    },
    {
      name: 'duplicate YAML key',
      text: 'title: One\nroles: {}\ntitle: Two\n',
      path: 'line 3, column 1',
      message: 'expected valid YAML: Map keys must be unique',
    },
    {
      name: 'a document that is not a mapping',
      text: '- just\n- a list\n',
      path: '(top level)',
      message: 'expected a YAML mapping with title, roles and phases',
    },
    { name: 'missing title', text: variant((d) => delete d.title), path: 'title', message: 'expected string, received undefined' },
    { name: 'unknown top-level field (typo)', text: variant((d) => (d.phasess = [])), path: 'phasess', message: 'unknown field (check its spelling against the runbook format in docs/runbooks.md)' },
    {
      name: 'misspelt step field',
      text: variant((d) => {
        step(d).aprove = step(d).approve;
        delete step(d).approve;
      }),
      path: 'phases[1].steps[0].aprove',
      message: 'unknown field (check its spelling against the runbook format in docs/runbooks.md)',
    },
    {
      name: 'step approved by an unknown role',
      text: variant((d) => (step(d).approve = 'dbas')),
      path: 'phases[1].steps[0].approve',
      message: 'approving role "dbas" is not a declared role (expected one of lead, dba)',
    },
    {
      name: 'unknown action',
      text: variant((d) => (step(d).action = 'psql')),
      path: 'phases[1].steps[0].action',
      message: `unknown action "psql" (expected one of ${Object.keys(ACTIONS).join(', ')})`,
    },
    {
      name: 'sql step with neither sql nor file',
      text: variant((d) => (step(d).params = { connection: 'target' })),
      path: 'phases[1].steps[0].params',
      message: 'expected exactly one of "sql" or "file"',
    },
    {
      name: 'shell step with an empty argv',
      text: variant((d) => Object.assign(step(d), { action: 'shell', params: { argv: [] } })),
      path: 'phases[1].steps[0].params.argv',
      message: 'expected an argv array with at least the program',
    },
    {
      name: 'http step with a relative URL',
      text: variant((d) => Object.assign(step(d), { action: 'http', params: { url: '/healthz' } })),
      path: 'phases[1].steps[0].params.url',
      message: 'expected an absolute http(s) URL',
    },
    {
      name: 'unknown connection name in params',
      text: variant((d) => (step(d).params.connection = 'source')),
      path: 'phases[1].steps[0].params.connection',
      message: 'connection "source" is not declared under connections (expected one of target)',
    },
    {
      name: 'unknown connection in done_when',
      text: variant((d) => (step(d).done_when = { connection: 'legacy', sql: 'SELECT 1' })),
      path: 'phases[1].steps[0].done_when.connection',
      message: /^connection "legacy" is not declared/,
    },
    {
      name: 'duration written in words',
      text: variant((d) => (step(d).planned = '5 minutes')),
      path: 'phases[1].steps[0].planned',
      message: 'expected a duration like "30s", "5m" or "1h30m", got "5 minutes"',
    },
    {
      name: 'Slack user id that is an e-mail address',
      text: variant((d) => (d.roles.lead.members = ['lead@example.org'])),
      path: 'roles.lead.members[0]',
      message: 'expected a Slack user id such as U024BE7LH',
    },
    {
      name: 'min_approvals larger than the members',
      text: variant((d) => (d.roles.dba.min_approvals = 3)),
      path: 'roles.dba.min_approvals',
      message: 'min_approvals is larger than the number of members',
    },
    {
      name: 'duplicate step id, naming where it was first used',
      text: variant((d) => (step(d).id = 'ready')),
      path: 'phases[1].steps[0].id',
      message: 'step id "ready" is already used at phases[0].steps[0]; step ids must be unique',
    },
    {
      name: 'duplicate phase id',
      text: variant((d) => (d.phases[1].id = 'prep')),
      path: 'phases[1].id',
      message: 'phase id "prep" is used twice; phase ids must be unique',
    },
    {
      name: '${VAR} with no value and no default, at the path of the string',
      text: variant((d) => (d.connections.target.url = 'postgres://app:${TARGET_PASSWORD}@db/app')),
      path: 'connections.target.url',
      message: 'environment variable TARGET_PASSWORD is not set and has no default (write ${TARGET_PASSWORD:-default})',
    },
    {
      name: 'skippable_by an unknown role',
      text: variant((d) => (step(d).skippable_by = ['lead', 'boss'])),
      path: 'phases[1].steps[0].skippable_by[1]',
      message: 'role "boss" is not a declared role (expected one of lead, dba)',
    },
    {
      name: 'confirm text over 300 characters',
      text: variant((d) => (step(d).confirm = 'Sure? '.repeat(51))),
      path: 'phases[1].steps[0].confirm',
      message: 'expected at most 300 characters (Slack confirm dialog limit)',
    },
    {
      name: 'sql file outside sql/ (../etc/passwd)',
      text: variant((d) => (step(d).params = { connection: 'target', file: '../etc/passwd' })),
      path: 'phases[1].steps[0].params.file',
      message: 'expected a .sql file name relative to sql/',
    },
    {
      name: 'sql file escaping sql/ even with a .sql name',
      text: variant((d) => (step(d).params = { connection: 'target', file: '../../etc/passwd.sql' })),
      path: 'phases[1].steps[0].params.file',
      message: 'expected a path inside sql/, without ".."',
    },
    {
      name: 'contact with an unknown role',
      text: variant((d) => (d.contacts[0].role = 'ceo')),
      path: 'contacts[0].role',
      message: 'role "ceo" is not a declared role (expected one of lead, dba)',
    },
    {
      name: 'permission naming an unknown role',
      text: variant((d) => (d.permissions = { abort: ['boss'] })),
      path: 'permissions.abort[0]',
      message: /^role "boss" is not a declared role/,
    },
    {
      name: 'rollback scenario approved by an unknown role',
      text: variant((d) => (d.rollback = { emergency: { title: 'Emergency', approve: 'cto' } })),
      path: 'rollback.emergency.approve',
      message: /^approving role "cto" is not a declared role/,
    },
    {
      name: 'step id with spaces and capitals',
      text: variant((d) => (step(d).id = 'Create Schema')),
      path: 'phases[1].steps[0].id',
      message: 'expected an id of lower-case letters, digits, "-" or "_"',
    },
    {
      name: 'role with neither members nor usergroups',
      text: variant((d) => (d.roles.dba = { title: 'DBA' })),
      path: 'roles.dba',
      message: 'expected at least one member or usergroup',
    },
  ];

  it.each(cases)('$name', ({ text, path, message }) => {
    const problems = problemsOf(load(text));
    expect(problems).toContainEqual({ file: FILE, path, message: typeof message === 'string' ? message : expect.stringMatching(message) });
  });

  it('reports every problem of a file at once, not just the first', () => {
    const problems = problemsOf(
      load(
        variant((d) => {
          step(d).approve = 'dbas';
          d.phases[0].steps[0].action = 'checklist';
          d.contacts[0].role = 'ceo';
        }),
      ),
    );
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['phases[1].steps[0].approve', 'phases[0].steps[0].action', 'contacts[0].role']));
  });

  it('reports a missing variable even when the rest of the runbook is valid', () => {
    const problems = problemsOf(load(variant((d) => (d.roles.lead.title = 'Lead (${LEAD_NAME})'))));
    expect(problems).toEqual([
      { file: FILE, path: 'roles.lead.title', message: expect.stringContaining('LEAD_NAME is not set') },
    ]);
  });
});

describe('formatPath', () => {
  it('writes keys with dots and indexes in brackets', () => {
    expect(formatPath(['phases', 2, 'steps', 0, 'approve'])).toBe('phases[2].steps[0].approve');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath([])).toBe('(top level)');
  });
});

describe('interpolation', () => {
  it('replaces ${A} with the variable', () => {
    expect(interpolateString('postgres://${USER}@${HOST}/db', { USER: 'app', HOST: 'pg' })).toEqual({ value: 'postgres://app@pg/db', missing: [] });
  });

  it('uses the default of ${A:-x} when A is unset, and the value when set', () => {
    expect(interpolateString('${A:-fallback}', {}).value).toBe('fallback');
    expect(interpolateString('${A:-fallback}', { A: 'given' }).value).toBe('given');
    expect(interpolateString('${A:-}', {}).value).toBe('');
  });

  it('uses the default when the variable is set but empty', () => {
    expect(interpolateString('${A:-x}', { A: '' }).value).toBe('x');
  });

  it('reports a variable without value or default, and an empty one counts as missing', () => {
    expect(interpolateString('a ${A} b ${B}', { B: '' })).toEqual({ value: 'a ${A} b ${B}', missing: ['A', 'B'] });
  });

  it('keeps $${A} as a literal ${A} without looking the variable up', () => {
    expect(interpolateString('echo $${HOME} and ${X}', { HOME: '/root', X: '1' })).toEqual({ value: 'echo ${HOME} and 1', missing: [] });
    expect(interpolateString('$${NOT_SET}', {}).missing).toEqual([]);
  });

  it('does not interpolate a value a second time', () => {
    expect(interpolateString('${A}', { A: '${B}', B: 'leak' }).value).toBe('${B}');
  });

  it('walks the whole tree, giving the path of each string with a missing variable', () => {
    const { value, problems } = interpolateTree({ roles: { lead: { members: ['U1', '${LEAD}'] } }, n: 3, ok: true, nil: null }, {});
    expect(value).toEqual({ roles: { lead: { members: ['U1', '${LEAD}'] } }, n: 3, ok: true, nil: null });
    expect(problems).toEqual([{ path: ['roles', 'lead', 'members', 1], message: expect.stringContaining('LEAD is not set') }]);
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90],
    ['5m', 300],
    ['1h30m', 5400],
    ['1h 30m', 5400],
    ['2', 120],
    ['1.5', 90],
    ['1d', 86400],
  ])('parses %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it('treats a bare number as minutes', () => {
    expect(parseDuration(2)).toBe(120);
    expect(parseDuration(-1)).toBeNull();
  });

  it.each(['5 minutes', 'abc', '', '5x', 'm5', '-5m', '1h30'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('formats seconds for people', () => {
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(300)).toBe('5m');
    expect(formatDuration(330)).toBe('5m 30s');
    expect(formatDuration(5400)).toBe('1h 30m');
    expect(formatDuration(7200)).toBe('2h');
    expect(formatDuration(-3)).toBe('0s');
  });
});
