import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { GateReports, reportField } from '../../bot/report/gate-report.js';
import { RunPublisher } from '../../bot/run-publisher.js';
import { RedisMessageRefs } from '../../config/redis-message-refs.js';
import type { Command } from '../../runbook/decide.js';
import { gateReportDue } from '../../runbook/gate-report.js';
import type { RunState } from '../../runbook/state.js';
import { at, cmd, planOfSteps, startCommand, stateAfter, T0, USERS } from '../support/runbook-factory.js';
import { publisherBench } from '../support/publisher-bench.js';

/**
 * Issue 16: the reconciliation report is posted once, with the go/no-go gate
 * and above its approval prompt, however many renders and web processes see
 * the gate; a validation re-run while a gate waits posts it once more, saying
 * what it supersedes; a gate on the same evidence posts nothing new.
 */
const bench = publisherBench('gate-report');
const { prefix, redis } = bench;

const plan = planOfSteps([
  { id: 'counts', title: 'Row counts', action: 'validate.counts', approve: 'dba' },
  { id: 'signoff', title: 'Quality sign-off', action: 'manual', approve: 'lead', gate: 'validation' },
  { id: 'switch', title: 'Switch the application', action: 'manual', approve: 'owner', gate: 'validation' },
]);

const validation = (verdict: 'green' | 'red') => ({
  validation: {
    check: 'counts', verdict, at: T0, seconds: 1,
    items: [{ subject: 'public.orders', verdict, message: verdict === 'green' ? 'source 3 = target 3' : 'source 3 ≠ target 2 (−1)', figures: { source: 3, target: verdict === 'green' ? 3 : 2 } }],
  },
});

/** A web process as bot/web.ts wires it: its own Slack client and publisher, the shared Redis. */
function webProcess(load: () => Promise<RunState>, now: () => number = Date.now): RunPublisher {
  const { client, refs, log } = bench.web();
  const gate = new GateReports({ client, refs, log, now });
  return new RunPublisher({ client, refs, load, log, minIntervalMs: 10, postIntervalMs: 0, beforeStep: (...args) => gate.beforeStep(...args) });
}

const uploads = (channel: string) => bench.fake.calls.filter((c) => c.method === 'files.completeUploadExternal' && c.ok && c.args['channel_id'] === channel);
const inChannel = (channel: string) => bench.fake.messages.all({ channel });

async function renderBoth(a: RunPublisher, b: RunPublisher, runId: string): Promise<void> {
  await Promise.all([a.request(runId), b.request(runId), a.request(runId), b.request(runId)]);
  // A message skipped while the other process posted is picked up by the next render, as the sweep would do.
  await Promise.all([a.request(runId), b.request(runId)]);
}

describe('the reconciliation report with the gate', () => {
  it('is posted once by two web processes, above the gate; not again for a gate on the same evidence; once more, superseding, after a re-run', async () => {
    const channel = 'C0GATEREP';
    const commands: Command[] = [
      startCommand({ runId: 'run-gate-report', channel, plan }),
      cmd.approve('counts', USERS.dba1),
      cmd.started('counts'),
      cmd.succeeded('counts', { details: validation('green') }),
    ];
    let state = stateAfter(commands);
    const a = webProcess(async () => state);
    const b = webProcess(async () => state);
    await renderBoth(a, b, state.runId);

    expect(uploads(channel)).toHaveLength(1);
    const report = inChannel(channel).find((m) => m.files.length > 0);
    expect(report?.files.map((f) => f.filename)).toEqual(['run-gate-report-reconciliation.md', 'run-gate-report-reconciliation.json']);
    expect(report?.text).toContain('📋 *Reconciliation report* for the go/no-go gate *Quality sign-off*');
    const signoff = inChannel(channel).filter((m) => m.text.startsWith('Quality sign-off'));
    expect(signoff).toHaveLength(1);
    expect(Number(report?.ts)).toBeLessThan(Number(signoff[0]?.ts));
    // The validation's message says its verdict in one line.
    expect(JSON.stringify(inChannel(channel).find((m) => m.text.startsWith('Row counts'))?.blocks)).toContain('🟢 *green* — Row counts, source vs target: 1/1 tables match · 3 rows on each side');

    // The sign-off is given; the switch is the next gate, on the same evidence: nothing new is posted.
    commands.push(cmd.approve('signoff', USERS.lead2, { at: at(5) }));
    state = stateAfter(commands);
    await renderBoth(a, b, state.runId);
    expect(state.steps['switch']?.status).toBe('awaiting_approval');
    expect(inChannel(channel).filter((m) => m.text.startsWith('Switch the application'))).toHaveLength(1);
    expect(uploads(channel)).toHaveLength(1);

    // The DBA re-runs the counts while the switch waits: no report while it runs, one when it has its verdict.
    commands.push(cmd.retry('counts', USERS.dba1, { at: at(6) }), cmd.started('counts', { attempt: 2, at: at(7) }));
    state = stateAfter(commands);
    await renderBoth(a, b, state.runId);
    expect(uploads(channel)).toHaveLength(1);
    commands.push(cmd.failed('counts', { attempt: 2, at: at(8), code: 'validate.counts_red', message: 'counts: 0/1 tables green', details: validation('red') }));
    state = stateAfter(commands);
    await renderBoth(a, b, state.runId);
    await renderBoth(a, b, state.runId);
    expect(uploads(channel)).toHaveLength(2);
    const updated = inChannel(channel).filter((m) => m.files.length > 0)[1];
    expect(updated?.files.map((f) => f.filename)).toEqual(['run-gate-report-reconciliation-2.md', 'run-gate-report-reconciliation-2.json']);
    expect(updated?.text).toContain('📋 *Updated reconciliation report* for the go/no-go gate *Switch the application*: it supersedes report 1');
    expect(updated?.text).toContain('"Row counts" re-run (attempt 2): 🟢 green → 🔴 red');
    const json = JSON.parse(updated?.files[1]?.bytes?.toString('utf8') ?? '{}');
    expect(json).toMatchObject({ verdict: 'red', validations: [{ step: 'counts', attempt: 2, verdict: 'red' }] });
  });

  it('holds the gate\'s prompt back while another process posts the report, and takes over a claim its process left behind', async () => {
    const channel = 'C0GATECLAIM';
    const state = stateAfter([
      startCommand({ runId: 'run-gate-claim', channel, plan }),
      cmd.approve('counts', USERS.dba1),
      cmd.started('counts'),
      cmd.succeeded('counts', { details: validation('green') }),
    ]);
    const refs = new RedisMessageRefs(redis, prefix);
    let clock = Date.now();
    // Another process claimed the report a moment ago and is uploading it.
    await refs.set(state.runId, { [fieldAtSignoff(state)]: `claimed:${clock}` });
    const web = webProcess(async () => state, () => clock);
    await web.request(state.runId);
    expect(inChannel(channel).filter((m) => m.text.startsWith('Quality sign-off'))).toHaveLength(0);
    expect(uploads(channel)).toHaveLength(0);
    // That process died: after a minute the claim is stale, and this one posts the report, then the prompt.
    clock += 61_000;
    await web.request(state.runId);
    expect(uploads(channel)).toHaveLength(1);
    const [report, prompt] = [inChannel(channel).find((m) => m.files.length > 0), inChannel(channel).find((m) => m.text.startsWith('Quality sign-off'))];
    expect(Number(report?.ts)).toBeLessThan(Number(prompt?.ts));
  });

  it('is not posted for a runbook without validations', async () => {
    const channel = 'C0GATENONE';
    const bare = planOfSteps([
      { id: 'prep', title: 'Prepare', action: 'manual', approve: 'dba' },
      { id: 'golive', title: 'Go live', action: 'manual', approve: 'owner', gate: 'validation' },
    ]);
    const state = stateAfter([startCommand({ runId: 'run-gate-none', channel, plan: bare }), cmd.approve('prep', USERS.dba1)]);
    await webProcess(async () => state).request(state.runId);
    expect(inChannel(channel).filter((m) => m.text.startsWith('Go live'))).toHaveLength(1);
    expect(uploads(channel)).toHaveLength(0);
  });
});

/** The refs field of the report due at the sign-off gate. */
function fieldAtSignoff(state: RunState): string {
  const step = state.steps['signoff'];
  const planStep = plan.phases[0]?.steps.find((s) => s.id === 'signoff');
  const due = step && planStep ? gateReportDue(state, planStep, step, false) : null;
  if (!due) throw new Error('no report due at the sign-off');
  return reportField(due);
}
