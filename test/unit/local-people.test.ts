import { describe, expect, it } from 'vitest';
import { OUTSIDER, peopleFromRunbooks, SAMPLE_RUNBOOK } from '../../local/people.js';
import { loadRunbook, type Runbook } from '../../runbook/load.js';

function runbook(name: string, yaml: string): Runbook {
  const result = loadRunbook({ name, file: `${name}.yaml`, text: yaml, env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.runbook;
}

const steps = `
phases:
  - id: p
    title: P
    steps:
      - { id: s, title: S, approve: lead, action: manual }
`;

describe('the local workspace\'s people, from the runbooks', () => {
  it('has every member of every role, named by the contacts, plus one outsider', () => {
    const demo = runbook('demo', `
title: Demo
roles:
  lead: { title: Migration lead, members: [U0LEAD] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
contacts:
  - { role: lead, name: Lena Lead, slack: U0LEAD }
  - { role: dba, name: Dirk Müller, slack: U0DBA1 }
${steps}`);
    const { people, usergroups } = peopleFromRunbooks([demo]);
    expect(people).toEqual([
      { id: 'U0LEAD', name: 'lena.lead', realName: 'Lena Lead', roles: ['demo: Migration lead'] },
      { id: 'U0DBA1', name: 'dirk.muller', realName: 'Dirk Müller', roles: ['demo: Database administrator'] },
      { id: 'U0DBA2', name: 'database.administrator.2', realName: 'Database administrator 2', roles: ['demo: Database administrator'] },
      OUTSIDER,
    ]);
    expect(usergroups).toEqual({});
  });

  it('puts the sample runbook\'s people first, so the page opens as its lead (issue 16: the README says Sabine)', async () => {
    const { readFile } = await import('node:fs/promises');
    const loaded = loadRunbook({ name: SAMPLE_RUNBOOK, file: 'kgv-local.yaml', text: await readFile('config/runbooks/kgv-local.yaml', 'utf8'), env: { DATABASE_URL: 'postgres://u@127.0.0.1/db' } });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const sample = loaded.runbook;
    const other = runbook('aaa-demo', `
title: Demo
roles:
  lead: { title: Lead, members: [U0DEMOLEAD] }
${steps}`);
    const { people } = peopleFromRunbooks([other, sample]);
    expect(people[0]?.realName).toBe('Sabine Krüger');
  });

  it('merges one person\'s roles across runbooks and keeps handles unique', () => {
    const a = runbook('a', `
title: A
roles:
  lead: { title: Lead, members: [U1] }
  owner: { title: Owner, members: [U2, U4] }
contacts:
  - { role: owner, name: Thomas Weißenborn, slack: U2 }
  - { role: lead, name: Ayşe Yılmaz, slack: U1 }
  - { role: owner, name: Dr. Ingrid Hoffmann, slack: U4 }
${steps}`);
    const b = runbook('b', `
title: B
roles:
  lead: { title: Lead, members: [U1, U3] }
${steps}`);
    const { people } = peopleFromRunbooks([a, b]);
    expect(people.find((p) => p.id === 'U1')?.roles).toEqual(['a: Lead', 'b: Lead']);
    expect(people.find((p) => p.id === 'U2')?.name).toBe('thomas.weissenborn');
    expect(people.find((p) => p.id === 'U1')?.name).toBe('ayse.yilmaz');
    // Not "dr..ingrid.hoffmann" (issue 16): a dot and a space are one separator.
    expect(people.find((p) => p.id === 'U4')?.name).toBe('dr.ingrid.hoffmann');
    const handles = people.map((p) => p.name);
    expect(new Set(handles).size).toBe(handles.length);
  });

  it('gives a user-group role its contacts as the group\'s members, or a stand-in when none has a Slack id', () => {
    const groups = runbook('groups', `
title: Groups
roles:
  lead: { title: Lead, members: [U0LEAD] }
  dba: { title: DBA team, usergroups: [S0DBA] }
  ops: { title: Operations, usergroups: [S0OPS] }
contacts:
  - { role: dba, name: Dana DBA, slack: U0DANA }
${steps}`);
    const { people, usergroups } = peopleFromRunbooks([groups]);
    expect(usergroups).toEqual({ S0DBA: ['U0DANA'], S0OPS: ['US0OPS'] });
    expect(people.find((p) => p.id === 'U0DANA')).toMatchObject({ realName: 'Dana DBA', roles: ['groups: DBA team'] });
    expect(people.find((p) => p.id === 'US0OPS')).toMatchObject({ realName: 'Operations (@S0OPS)', roles: ['groups: Operations'] });
  });
});
