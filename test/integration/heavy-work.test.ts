import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ThreadHeavyWork } from '../../bot/offload/heavy-work.js';
import { reportFiles } from '../../bot/report/report-service.js';
import { loadRunbook } from '../../runbook/load.js';
import { at } from '../support/runbook-factory.js';
import { reportEvents, reportState } from '../support/report-fixture.js';

/** web's heavy work on its worker thread (issue 14) gives exactly what the same functions give on the calling thread. */
const heavy = new ThreadHeavyWork(pino({ level: 'silent' }));
afterAll(() => heavy.stop());

const RUNBOOK = `title: Threaded
roles:
  lead: { title: Lead, members: [U0LEAD, U0LEAD2] }
phases:
  - id: one
    title: One
    steps:
      - { id: sign, title: Sign off, approve: lead, action: manual }
`;

describe('ThreadHeavyWork', () => {
  it('builds the report files on the thread, byte for byte as on this one (the PNG comes back as a Buffer)', async () => {
    const events = reportEvents();
    const state = reportState(events);
    const names = { U0LEAD: 'Lea Lead' };
    const threaded = await heavy.reportFiles(state, events, at(50), null, names);
    const inline = reportFiles(state, events, at(50), null, names);
    expect(Buffer.isBuffer(threaded.png)).toBe(true);
    expect(threaded).toEqual(inline);
  }, 120_000);

  it('loads runbooks on the thread, a good one and an alias bomb, in parallel, as on this one', async () => {
    const bomb = `${RUNBOOK}x-a: &a [1,1,1,1,1,1,1,1,1]\nx-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nx-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nx-d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`;
    const inputs = [RUNBOOK, bomb].map((text, i) => ({ name: `r${i}`, file: `r${i}.yaml`, text, env: {} }));
    const threaded = await Promise.all(inputs.map((input) => heavy.loadRunbook(input)));
    expect(threaded).toEqual(inputs.map((input) => loadRunbook(input)));
    expect(threaded.map((r) => r.ok)).toEqual([true, false]);
  }, 120_000);
});
