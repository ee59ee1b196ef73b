import type { Comparison } from '../compare.js';
import { formatDuration } from '../duration.js';
import { formatBytes } from '../backups.js';
import { meaningfulDelta, type StepTiming } from '../timing.js';
import type { ReportFigures } from './figures.js';
import { zonedStamp } from '../time-zone.js';
import { mentionsAsNames, nameOf } from './people.js';

/** Cells in Markdown tables: no pipes or line breaks from step titles and summaries. */
// A whitespace run holding a line break becomes one space; `\s+` never backtracks, unlike `\s*\n\s*` (quadratic on a long run of spaces).
const cell = (v: string): string => v.replace(/\|/g, '\\|').replace(/\s+/g, (ws) => (ws.includes('\n') ? ' ' : ws));
const dur = (s: number | null): string => (s === null ? '—' : formatDuration(s));
/** A time in the runbook's zone, named: "2024-03-09 23:55:00 CET". */
const stamp = (f: ReportFigures, at: number | null): string => (at === null ? '—' : zonedStamp(at, f.timeZone));
const signed = (s: number | null): string => (s === null ? '—' : `${s >= 0 ? '+' : '−'}${formatDuration(Math.abs(s))}`);
const table = (head: string[], rows: string[][]): string[] => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];

/** "1 approval", "2 approvals"; "1 person", "3 people". */
export const counted = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function summary(f: ReportFigures): string[] {
  const count = (status: string) => f.steps.filter((s) => s.status === status).length;
  const planned = f.run.plannedSeconds;
  const delta = meaningfulDelta(f.run.actualSeconds, planned);
  const approvers = new Set(f.approvals.map((a) => a.by)).size;
  const lines = [
    `- Outcome: **${f.outcome}**${f.abort ? ` — aborted by ${nameOf(f.names, f.abort.by)}: ${f.abort.reason}` : ''}${f.rollback?.status === 'done' ? ` — ${f.rollback.title}, requested by ${nameOf(f.names, f.rollback.requestedBy)}: ${f.rollback.reason}` : ''}`,
    `- Go-live: ${f.goLive ? `${stamp(f, Date.parse(f.goLive.at))}${f.goLive.walLsn ? `, WAL position ${f.goLive.walLsn}` : ', no WAL position recorded (no go-live checkpoint in the runbook)'}` : 'did not happen (the switch did not go live)'}`,
    `- Steps: ${count('succeeded')} succeeded, ${count('skipped')} skipped, ${count('failed')} failed, ${f.steps.length - count('succeeded') - count('skipped') - count('failed')} not finished, of ${f.steps.length}`,
    `- Duration: ${dur(f.run.actualSeconds)} actual${planned ? ` vs ${dur(planned)} planned${delta ? ` (${delta})` : ''}` : ' (no plan)'}`,
    `- Where the time went: ${dur(f.run.waitSeconds)} waiting for approval, ${dur(f.run.executionSeconds)} executing`,
    `- Approvals: ${counted(f.approvals.length, 'approval')} by ${counted(approvers, 'person', 'people')} · decisions: ${f.decisions.length} · escalations: ${f.escalations.length || 'none'} · events: ${f.eventCount}`,
  ];
  if (f.followUps.length > 0) lines.push(`- Follow-ups after go-live: ${f.followUps.filter((x) => x.done).length} of ${f.followUps.length} done`);
  return lines;
}

function decisions(f: ReportFigures): string[] {
  if (f.decisions.length === 0) return ['No decisions were recorded.'];
  return table(
    ['At', 'Who', 'Decision', 'About', 'Why'],
    f.decisions.map((d) => [stamp(f, d.at), nameOf(f.names, d.by), d.what, d.about, d.why ?? '—']),
  );
}

function backups(f: ReportFigures): string[] {
  if (f.backups.length === 0) return ['No backup was taken by this run.'];
  return table(
    ['Step', 'Kind', 'File', 'Size', 'SHA-256', 'Verified', 'Finished'],
    f.backups.map((b) => [`\`${b.stepId}\``, b.kind, `\`${b.file}\``, formatBytes(b.bytes), b.sha256 ? `\`${b.sha256}\`` : '— (on the database host)', b.verified ? 'yes' : 'no', stamp(f, b.at)]),
  );
}

function rollback(f: ReportFigures): string[] {
  const rb = f.rollback;
  if (!rb) return [];
  const status = { requested: 'requested, not approved', running: 'approved, running', done: 'done', failed: 'failed at a step' }[rb.status];
  return [
    `## Rollback: ${rb.title}`,
    '',
    `- Scenario \`${rb.scenario}\`: ${status}`,
    `- Requested by ${nameOf(f.names, rb.requestedBy)} at ${stamp(f, rb.requestedAt)}: ${rb.reason}`,
    `- Approved: ${rb.approvedBy ? `by ${nameOf(f.names, rb.approvedBy)} at ${stamp(f, rb.approvedAt)}` : 'not yet'}`,
    '',
    ...(rb.steps.length
      ? table(['Step', 'Status', 'Started', 'Finished', 'Result'], rb.steps.map((s) => [s.title, s.status, stamp(f, s.startedAt), stamp(f, s.finishedAt), s.result ?? '—']))
      : ['The scenario has no steps: the team carried it out by hand.']),
    '',
  ];
}

function stepRow(s: StepTiming): string[] {
  return [s.title, `\`${s.stepId}\``, s.status, dur(s.plannedSeconds), dur(s.actualSeconds), dur(s.waitSeconds), dur(s.executionSeconds), signed(s.driftSeconds), String(s.attempt)];
}

function results(f: ReportFigures): string[] {
  if (f.results.length === 0) return ['No step reported a result.'];
  const out = table(
    ['Step', 'Result', 'Rows', 'Quarantined', 'Verdict'],
    f.results.map((r) => [r.title, r.error ? `failed: ${r.error}` : (r.summary ?? '—'), r.rows?.toString() ?? '—', r.quarantined?.toString() ?? '—', r.verdict ?? '—']),
  );
  for (const r of f.results.filter((x) => x.tables.length > 0)) {
    out.push('', `Tables of ${r.title}:`, '', ...table(['Table', 'Rows', 'Time'], r.tables.map((t) => [t.table, t.rows?.toString() ?? '—', dur(t.seconds)])));
  }
  return out;
}

export function comparisonMarkdown(c: Comparison): string[] {
  const out = [
    `${c.current.label}: ${dur(c.current.actualSeconds)} (${c.current.status}) · ${c.baseline.label}: ${dur(c.baseline.actualSeconds)} (${c.baseline.status})`,
    '',
    ...table(
      ['Step', `Execution ${c.current.label}`, `Execution ${c.baseline.label}`, 'Change', `Wait ${c.current.label}`, `Wait ${c.baseline.label}`, 'Rows', 'Verdict'],
      c.steps.map((s) => [
        s.title,
        dur(s.current?.executionSeconds ?? null),
        dur(s.baseline?.executionSeconds ?? null),
        s.executionChangePct === null ? '—' : `${s.executionChangePct >= 0 ? '+' : ''}${s.executionChangePct} %`,
        dur(s.current?.waitSeconds ?? null),
        dur(s.baseline?.waitSeconds ?? null),
        `${s.current?.rows ?? '—'} / ${s.baseline?.rows ?? '—'}`,
        `${s.current?.verdict ?? '—'} / ${s.baseline?.verdict ?? '—'}`,
      ]),
    ),
    '',
  ];
  out.push(...(c.regressions.length ? c.regressions.map((r) => `- ⚠️ ${r}`) : ['- No regression against the earlier run.']));
  return out;
}

function followUps(f: ReportFigures): string[] {
  if (!f.followUpsFrom || f.followUps.length === 0) return [];
  const from = f.followUpsFrom.from === 'go-live' ? 'go-live (the switch step\'s recorded time)' : 'the run\'s completion (no switch went live)';
  const status = (x: ReportFigures['followUps'][number]): string => {
    if (x.done) return `done by ${nameOf(f.names, x.done.by)} at ${stamp(f, x.done.at)}`;
    const snooze = x.lastSnooze ? ` (last snoozed by ${nameOf(f.names, x.lastSnooze.by)} until ${stamp(f, x.lastSnooze.until)})` : '';
    return `open${snooze}`;
  };
  return [
    '## Follow-ups after go-live',
    '',
    `Due from ${from}, ${stamp(f, f.followUpsFrom.at)}. Status as of this report; \`/migrate report <run>\` later shows the duties done since.`,
    '',
    ...table(
      ['Duty', 'For', 'Due', 'Status', 'Reminders'],
      f.followUps.map((x) => [x.title, x.role, stamp(f, x.dueAt), status(x), `${x.reminders}${x.escalated ? ', escalated' : ''}`]),
    ),
    '',
  ];
}

/** Seed 000's lessons-learned template, with the figures filled in and the judgement left to the team. */
function lessons(f: ReportFigures): string[] {
  const onPlan = f.steps.filter((s) => s.driftSeconds !== null && s.driftSeconds <= 0);
  const waits = f.topWaits.map((s) => `${s.title} waited ${dur(s.waitSeconds)} for approval`);
  const overruns = f.topOverruns.map((s) => `${s.title} took ${dur(s.actualSeconds)} against ${dur(s.plannedSeconds)} planned (${signed(s.driftSeconds)})`);
  const waitShare = f.run.actualSeconds > 0 ? Math.round((f.run.waitSeconds / f.run.actualSeconds) * 100) : 0;
  return [
    '## Lessons learned',
    '',
    '### What went well',
    ...(onPlan.length ? [`- ${onPlan.length} of ${f.steps.length} steps finished within their planned time.`] : []),
    '- [List successful aspects]',
    '',
    '### What could be improved',
    ...(overruns.length ? overruns.map((o) => `- Overrun: ${o}.`) : ['- No step overran its plan.']),
    ...(waits.length ? waits.map((w) => `- Wait: ${w}.`) : []),
    '- [List areas for improvement]',
    '',
    '### Recommendations for future migrations',
    ...f.topOverruns.map((s) => `- Re-plan "${s.title}" at ${dur(s.actualSeconds)} (planned ${dur(s.plannedSeconds)}).`),
    '- [List recommendations]',
    '',
    '### Time and resource utilization',
    `- Planned vs. Actual Duration: ${dur(f.run.plannedSeconds)} vs ${dur(f.run.actualSeconds)}`,
    `- Team Size: ${f.people.length} people (${f.people.map((id) => nameOf(f.names, id)).join(', ') || 'none recorded'})`,
    `- Where the time went: ${dur(f.run.waitSeconds)} waiting for approval (${waitShare} % of the run), ${dur(f.run.executionSeconds)} executing`,
    `- Longest waits: ${waits.join('; ') || 'none'}`,
    `- Largest overruns: ${overruns.join('; ') || 'none'}`,
    '- Key Success Factors: [List factors]',
  ];
}

/** Automatic retries after transient errors, when there were any: which try failed, with what, and the wait before the next. */
function retriesSection(f: ReportFigures): string[] {
  const retries = f.retries ?? [];
  if (retries.length === 0) return [];
  return [
    '## Automatic retries',
    '',
    ...table(['At', 'Step', 'Attempt', 'Failed try', 'Error', 'Next try after'], retries.map((r) => [stamp(f, r.at), r.title, String(r.attempt), `${r.try} of ${r.of}`, `${r.code}: ${r.message}`, dur(r.delayMs / 1000)])),
    '',
  ];
}

/** The Markdown report of a run. */
export function reportMarkdown(f: ReportFigures, comparison: Comparison | null, generatedAt: number): string {
  const lines = [
    `# Cutover report — ${f.title}`,
    '',
    `Run \`${f.runId}\` of runbook \`${f.runbook}\` · started by ${nameOf(f.names, f.startedBy)} at ${stamp(f, f.startedAt)} · finished ${stamp(f, f.finishedAt)} · report generated ${stamp(f, generatedAt)} · times in ${f.timeZone}, the runbook's time zone`,
    '',
    '## Summary',
    '',
    ...summary(f),
    '',
    '## Planned vs actual per phase',
    '',
    ...table(['Phase', 'Planned', 'Actual', 'Drift', 'Waiting for approval', 'Executing'], f.phases.map((p) => [p.title, dur(p.plannedSeconds), dur(p.actualSeconds), signed(p.driftSeconds), dur(p.waitSeconds), dur(p.executionSeconds)])),
    '',
    '## Planned vs actual per step',
    '',
    ...table(['Step', 'Id', 'Status', 'Planned', 'Actual', 'Waiting', 'Executing', 'Drift', 'Attempts'], f.steps.map(stepRow)),
    '',
    '## Decisions',
    '',
    ...decisions(f),
    '',
    '## Backups',
    '',
    ...backups(f),
    '',
    ...rollback(f),
    '## Approvals',
    '',
    ...(f.approvals.length ? table(['Step', 'Approved by', 'At', 'Waited'], f.approvals.map((a) => [a.title, nameOf(f.names, a.by), stamp(f, a.at), dur(a.waitedSeconds)])) : ['No approvals were given.']),
    '',
    '## Escalations',
    '',
    ...(f.escalations.length
      ? table(['At', 'Kind', 'Step', 'Level', 'To', 'Why'], f.escalations.map((e) => [stamp(f, e.at), e.type, e.stepId ?? '—', e.level ?? '—', e.to.map((id) => nameOf(f.names, id)).join(', ') || '—', e.reason ?? '—']))
      : ['None.']),
    '',
    ...retriesSection(f),
    '## Validation and load results',
    '',
    ...results(f),
    '',
  ];
  lines.push(...followUps(f));
  if (comparison) lines.push(`## Comparison with ${comparison.baseline.label}`, '', ...comparisonMarkdown(comparison), '');
  lines.push(...lessons(f), '');
  // Messages and reasons quote people as the core wrote them (<@U…>); a file is not rendered by Slack.
  return mentionsAsNames(lines.join('\n'), f.names);
}
