import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Installation } from '../support/cutover-processes.js';
import { ephemeralTexts, migrate } from '../support/cutover-slack.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * Issue 14, through the real web process: hostile or careless input gets a
 * clear answer naming the limit it crossed, and one bad runbook file never
 * hides or breaks the others.
 */

const GOOD = `title: Good runbook
roles:
  lead: { title: Lead, members: [U0LEAD, U0LEAD2] }
phases:
  - id: one
    title: One
    steps:
      - { id: sign, title: Sign off, approve: lead, action: manual }
`;

const BOMB = `${GOOD}
x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
x-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
x-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
x-d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
x-e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
x-f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
`;

let fake: FakeSlack;
let inst: Installation;

beforeAll(async () => {
  ({ fake, inst } = await startE2E({ runbooks: { good: GOOD, bomb: BOMB }, worker: false }));
}, 120_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
});

const answerTo = (user: string, fragment: string) => fake.waitFor(() => ephemeralTexts(fake, user).find((t) => t.includes(fragment)), 20_000);

describe('hostile input (issue 14)', () => {
  it('an alias bomb in the runbooks folder is listed as broken with its error; the good runbook is listed and starts', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'runbooks');
    const list = await answerTo('U0LEAD', '`good`');
    expect(list).toContain('✅ `good` — Good runbook');
    expect(list).toMatch(/❌ `bomb` has errors:\n.*bomb\.yaml: \(top level\): its YAML aliases expand more than 100 times/);
    await migrate(inst.botUrl, 'U0LEAD', 'start good');
    await eventually(async () => (await inst.store.active()).some((a) => a.runbook === 'good'), 20_000, 'the good runbook started');
    expect((await inst.store.active()).map((a) => a.runbook)).toEqual(['good']);
    await migrate(inst.botUrl, 'U0LEAD', 'start bomb');
    expect(await answerTo('U0LEAD', 'cannot start')).toContain('aliases expand more than 100 times');
  });

  it('a 5,000-character runbook name is "no such runbook", naming the limit; 1 MB of text is refused naming its limit; web still answers', async () => {
    await migrate(inst.botUrl, 'U0OUT', `start ${'k'.repeat(5000)}`);
    expect(await answerTo('U0OUT', 'There is no runbook')).toContain('runbook names are at most 64 characters');
    await migrate(inst.botUrl, 'U0OUT', `start ${'w'.repeat(1024 * 1024)}`);
    expect(await answerTo('U0OUT', 'That command is')).toContain('reads at most 10,000');
    const started = Date.now();
    await migrate(inst.botUrl, 'U0OUT', 'help');
    await answerTo('U0OUT', '/migrate start <runbook>');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(ephemeralTexts(fake, 'U0OUT').join('\n')).not.toContain('Something went wrong');
  });
});
