import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_SECRET, eventually, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, ephemeralTexts, migrate, migrateConfirmed, stepMessage } from '../support/cutover-slack.js';
import { buttonsIn, type FakeFile, type FakeSlack } from '../support/fake-slack.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * A validate.totals step, then a go-live step gated on validation. The totals
 * step compares two PostgreSQL queries whose totals differ: the validation
 * fails (red), the lead skips it, and the gate must still read red — it is
 * the gate's path through Slack that is under test.
 */
const runbook = `title: E2E gate
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
  owner: { title: Application owner, members: [U0OWNER] }
permissions: { rollback: [lead] }
connections:
  src: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
phases:
  - id: check
    title: Validation
    steps:
      - id: totals
        title: Business totals
        approve: dba
        action: validate.totals
        skippable_by: [lead]
        params:
          source: src
          target: target
          totals: [{ name: inventory, source_sql: "SELECT 12000", target_sql: "SELECT 11999" }]
      - id: golive
        title: Switch the application
        approve: owner
        action: sql
        gate: validation
        params: { connection: target, sql: "SELECT 1 AS switched" }
`;

let fake: FakeSlack;
let inst: Installation;

beforeAll(async () => {
  ({ fake, inst } = await startE2E({ runbooks: { gate: runbook } }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
});

const filesOf = (runId: string): FakeFile[] => [...fake.files.values()].filter((f) => f.completed && f.filename.startsWith(runId));
const reconciliationFiles = (runId: string): FakeFile[] => filesOf(runId).filter((f) => f.filename.startsWith(`${runId}-reconciliation`) && !f.filename.includes('-final'));
const golive = () => fake.messages.all({ channel: CHANNEL }).find((m) => m.text.startsWith('Switch the application'));
const goliveText = (): string => JSON.stringify(golive()?.blocks ?? []);
const textOf = (f: FakeFile | undefined): string => f?.bytes?.toString('utf8') ?? '';

describe('the go/no-go gate through Slack', () => {
  it('refuses approval on red, lets the rollback authority override with a reason, shows it, and posts the reconciliation report once, above the gate', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start gate');
    const runId = await eventually(() => inst.activeRunId('gate'));
    await click(fake, inst.botUrl, 'U0DBA1', 'totals', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['totals']?.status === 'failed', 20_000, 'totals failed');

    // The validation's own message says its verdict in one line: emoji, what was compared, the figure that decided it.
    const totals = await fake.waitFor(() => fake.messages.all({ channel: CHANNEL }).find((m) => m.text === 'Business totals: failed'));
    const verdict = '🔴 *red* — Business totals, source vs target: 0/1 totals equal · inventory: source 12000 ≠ target 11999';
    expect(JSON.stringify(totals.blocks)).toContain(JSON.stringify(verdict).slice(1, -1));
    expect(JSON.stringify(totals.blocks)).not.toContain('*Failed:*');

    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'skip totals source checked by hand');
    await eventually(async () => (await inst.state(runId))?.steps['golive']?.status === 'awaiting_approval', 20_000, 'golive awaiting');
    await fake.waitFor(() => (goliveText().includes('Gate: 🔴 red') ? true : undefined), 15_000);
    expect(goliveText()).toContain('totals: inventory source 12000 ≠ target 11999');
    expect(goliveText()).toContain('\\"Business totals\\" was skipped after failing');
    expect(goliveText()).toContain('The full reconciliation report is above in this thread');

    // The reconciliation report, posted with the gate and above its prompt: the Markdown file, the JSON attached as a file (no snippet).
    const files = reconciliationFiles(runId);
    expect(files.map((f) => f.filename)).toEqual([`${runId}-reconciliation.md`, `${runId}-reconciliation.json`]);
    expect(files.every((f) => f.snippetType === undefined)).toBe(true);
    const json = JSON.parse(textOf(files[1]));
    expect(json).toMatchObject({ run: runId, runbook: 'gate', verdict: 'red', dry_run: false, validations: [{ step: 'totals', status: 'skipped', verdict: 'red' }] });
    const gateMarkdown = textOf(files[0]);
    expect(gateMarkdown).toContain('# Reconciliation report — E2E gate');
    expect(gateMarkdown).toContain('| inventory | 12000 | 11999 | ❌ no |');
    const posted = fake.messages.all({ channel: CHANNEL }).find((m) => m.files.some((f) => f.filename === `${runId}-reconciliation.md`));
    expect(posted?.text).toContain('📋 *Reconciliation report* for the go/no-go gate *Switch the application*');
    expect(posted?.text).toContain('*Reconciliation:* 🔴 red');
    expect(posted?.files.map((f) => f.filename)).toEqual([`${runId}-reconciliation.md`, `${runId}-reconciliation.json`]);
    expect(Number(posted?.ts)).toBeLessThan(Number(golive()?.ts));
    const override = await fake.waitFor(() => buttonsIn(golive()?.blocks ?? []).find((b) => b.actionId === 'gate.override'), 15_000);
    expect(override.text).toBe('Override (rollback authority)');

    await click(fake, inst.botUrl, 'U0OWNER', 'golive', 'approve');
    const refusal = await fake.waitFor(() => ephemeralTexts(fake, 'U0OWNER').find((t) => t.includes('needs a green validation verdict')));
    expect(refusal).toContain('/migrate override golive <reason>');
    expect((await inst.state(runId))?.steps['golive']?.approvals).toEqual([]);

    const message = golive();
    await sendBlockAction(inst.botUrl, SIGNING_SECRET, {
      userId: 'U0OWNER', channelId: CHANNEL, messageTs: message?.ts ?? '', threadTs: message?.threadTs, actionId: 'gate.override', blockId: override.blockId ?? '', value: override.value ?? '',
    });
    await fake.waitFor(() => ephemeralTexts(fake, 'U0OWNER').find((t) => t.includes('`/migrate override golive <reason>`') && t.includes('Only the rollback authority')));

    await migrate(inst.botUrl, 'U0OWNER', 'override golive I say so');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0OWNER').find((t) => t.startsWith('Only the rollback authority')));
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD2', 'override golive totals verified by hand against the ledger');
    await fake.waitFor(() => (goliveText().includes('Gate overridden by <@U0LEAD2>') ? true : undefined), 15_000);
    expect(goliveText()).toContain('totals verified by hand against the ledger');
    expect(stepMessage(fake, 'golive', 'approve')).toBeDefined();

    await click(fake, inst.botUrl, 'U0OWNER', 'golive', 'approve');
    await eventually(async () => (await inst.state(runId))?.status === 'completed', 20_000, 'run completed');
    const events = await inst.events(runId);
    expect(events.find((e) => e.type === 'gate.overridden')).toMatchObject({ by: 'U0LEAD2', verdict: 'red', reason: 'totals verified by hand against the ledger' });
    expect(events.find((e) => e.type === 'step.approved' && e.stepId === 'golive')).toMatchObject({ by: 'U0OWNER', evidence: { verdict: 'red' } });

    // The cutover report carries the verdict and the override.
    const summary = await fake.waitFor(() => fake.messages.all({ channel: CHANNEL }).find((m) => m.text.includes('Cutover report') && m.text.includes(runId)), 20_000);
    expect(summary.text).toContain('*Reconciliation:* 🔴 red');
    expect(summary.text).toContain('gate overridden: golive by <@U0LEAD2> (totals verified by hand against the ledger)');
    // …and the reconciliation report again, the same content as at the gate (plus the override since), its JSON attached.
    const final = await fake.waitFor(() => (filesOf(runId).length === 6 ? filesOf(runId) : undefined), 20_000);
    expect(final.map((f) => f.filename).sort()).toEqual(
      ['audit.json', 'reconciliation-final.json', 'reconciliation.json', 'reconciliation.md', 'report.md', 'timeline.png'].map((n) => `${runId}-${n}`),
    );
    const report = textOf(final.find((f) => f.filename.endsWith('-report.md')));
    const body = gateMarkdown.slice(gateMarkdown.indexOf('**Verdict:')).replace(/^#/gm, '##');
    expect(report).toContain(body);
    expect(report).toContain('### Gate overrides');
    const finalJson = JSON.parse(textOf(final.find((f) => f.filename.endsWith('-reconciliation-final.json'))));
    expect({ ...finalJson, generated_at: null, gate_overrides: [] }).toEqual({ ...json, generated_at: null });
    expect(finalJson.gate_overrides).toMatchObject([{ step: 'golive', by: 'U0LEAD2' }]);
    // The override did not change the evidence: no second report was posted.
    expect(reconciliationFiles(runId)).toHaveLength(2);
  }, 120_000);
});
