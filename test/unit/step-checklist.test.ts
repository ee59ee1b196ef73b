/**
 * A manual step's message shows its checklist to whoever approves it
 * (issue 16: the approver saw only "Checklist item confirmed").
 */
import { describe, expect, it } from 'vitest';
import { renderStep } from '../../bot/render/step-blocks.js';
import { loadRunbook } from '../../runbook/load.js';
import { allSteps } from '../../runbook/plan.js';
import { runEventSchema } from '../../runbook/event-schema.js';
import { startedRun } from '../support/runbook-factory.js';

const text = `title: Checklist
roles: { lead: { title: Lead, members: [ULEAD, ULEAD2] } }
phases:
  - id: p
    title: P
    steps:
      - id: ready
        title: Team ready
        approve: lead
        action: manual
        params: { checklist: ["Application stopped", "Users informed by mail"] }
      - { id: plain, title: Plain, approve: lead, action: manual }
`;

describe('a manual step\'s checklist', () => {
  const loaded = loadRunbook({ name: 'c', file: 'c.yaml', text, env: {} });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const plan = loaded.runbook.plan;

  it('is carried in the plan, and only for a step that has one', () => {
    expect(allSteps(plan).map((s) => s.checklist)).toEqual([['Application stopped', 'Users informed by mail'], undefined]);
  });

  it('is shown in the step\'s message, unticked while it waits for approval', () => {
    const state = startedRun({ plan });
    const ready = allSteps(plan)[0];
    const step = state.steps['ready'];
    if (!ready || !step) throw new Error('no step');
    const rendered = JSON.stringify(renderStep(state, ready, step, state.startedAt).blocks);
    expect(rendered).toContain('☐ Application stopped');
    expect(rendered).toContain('☐ Users informed by mail');
    const done = JSON.stringify(renderStep(state, ready, { ...step, status: 'succeeded' }, state.startedAt).blocks);
    expect(done).toContain('☑ Application stopped');
  });

  it('survives the run.started event\'s schema check on read', () => {
    const event = { type: 'run.started', at: 1, runId: 'r', by: 'U0LEAD', channel: 'C1', dryRun: false, plan, runbookFile: 'c.yaml', runbookText: text };
    const parsed = runEventSchema.safeParse(event);
    expect(parsed.success).toBe(true);
    expect(JSON.stringify(parsed.data)).toContain('Users informed by mail');
  });
});
