/** Runbooks for the escalation and schedule end-to-end suites: short policy times so a night fits in seconds. */

export const INCIDENT = 'C0INCIDENT';

export interface EscalationRunbookOptions {
  /** Contact of the dba role (paged on escalation); distinct per suite so DMs can be counted. */
  oncall?: string;
  /** Steps after the waiting manual one, as YAML list items. */
  moreSteps?: string;
  window?: { start?: string; end?: string };
  /** `planned` of the waiting step, e.g. "2h" to push the forecast past the window. */
  planned?: string;
  /** Top-level YAML appended as is (e.g. a rollback section). */
  extra?: string;
}

/** One manual step "wait" approved by the dba role; reminder after 2 s, escalation after 4 s, swept every second. */
export function escalationRunbook(name: string, opts: EscalationRunbookOptions = {}): string {
  const oncall = opts.oncall ?? 'U0ONCALL';
  const window = opts.window ? `window: { ${Object.entries(opts.window).map(([k, v]) => `${k}: "${v}"`).join(', ')} }\n` : '';
  return `title: E2E escalation ${name}
${window}roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2], requester_may_approve: true }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
contacts:
  - { role: dba, name: On-call DBA, slack: ${oncall}, phone: "+49 30 1234 567", email: oncall@example.org }
  - { role: lead, name: Night lead, slack: U0LEAD, phone: "+49 30 7654 321" }
escalation: { remind_after: 2s, escalate_after: 4s, next_tier: [lead], incident_channel: ${INCIDENT}, sweep: 1s }
phases:
  - id: night
    title: Night
    steps:
      - { id: wait, title: "Waiting step ${name}", approve: dba, action: manual${opts.planned ? `, planned: ${opts.planned}` : ''} }
${opts.moreSteps ?? ''}${opts.extra ?? ''}`;
}
