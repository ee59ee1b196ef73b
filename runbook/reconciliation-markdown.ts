import { mentionsAsNames, nameOf, type Names } from './report/people.js';
import { mention } from './policy.js';
import type { CheckEntry, ListedItem, ReconciliationReport } from './reconciliation.js';
import { VERDICT_ICON, type Verdict } from './validation-result.js';

/** Cells in Markdown tables: no pipes or line breaks from subjects and messages. */
// A whitespace run holding a line break becomes one space; `\s+` never backtracks, unlike `\s*\n\s*` (quadratic on a long run of spaces).
const cell = (v: string): string => v.replace(/\|/g, '\\|').replace(/\s+/g, (ws) => (ws.includes('\n') ? ' ' : ws));
const table = (head: string[], rows: string[][]): string[] => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
const badge = (v: Verdict): string => `${VERDICT_ICON[v]} ${v}`;
const check = (c: CheckEntry | undefined): string => (c ? `${VERDICT_ICON[c.verdict]} ${c.message}` : '—');
const value = (v: number | string | null): string => (v === null ? '—' : String(v));
const utc = (iso: string): string => `${iso.slice(0, 19).replace('T', ' ')} UTC`;

/** Keys a checksum item lists as differing, whatever name the action used for them. */
function differingKeys(item: ListedItem): string {
  for (const name of ['differing_keys', 'keys', 'differing']) {
    const keys = item.figures?.[name];
    if (Array.isArray(keys)) return keys.slice(0, 20).map((k) => (typeof k === 'string' ? k : JSON.stringify(k))).join(', ') + (keys.length > 20 ? ` … (${keys.length})` : '');
  }
  return '—';
}

function listed(title: string, head: string, items: ListedItem[], extra?: { head: string; cell: (i: ListedItem) => string }): string[] {
  if (items.length === 0) return [`## ${title}`, '', 'No check of this kind ran.', ''];
  const heads = [head, 'Verdict', 'Result', ...(extra ? [extra.head] : [])];
  return [`## ${title}`, '', ...table(heads, items.map((i) => [i.subject, badge(i.verdict), i.message, ...(extra ? [extra.cell(i)] : [])])), ''];
}

const MENTION = /<@([UW][A-Z0-9]+)>/g;

/** Every Slack user the report names (overrides, and mentions in its failing lines): whom to ask users.info about. */
export function peopleInReconciliation(r: ReconciliationReport): string[] {
  const ids = new Set(r.gate_overrides.map((o) => o.by));
  for (const line of r.failing) for (const m of line.matchAll(MENTION)) if (m[1]) ids.add(m[1]);
  return [...ids];
}

/** The reconciliation report for people: the same content as the JSON, as Markdown tables. */
/** `names`: people by Slack id (a Markdown file is not rendered by Slack, so a mention would stay an id). */
export function reconciliationMarkdown(r: ReconciliationReport, names: Names = {}): string {
  // A mention such as "skipped by <@U0LEAD>" in a failing line: the file names the person instead.
  const named = (text: string): string => text.replace(MENTION, (_, id: string) => nameOf(names, id));
  const totals = Object.entries(r.key_totals);
  const tables = Object.entries(r.tables);
  const lines = [
    `# Reconciliation report${r.dry_run ? ' (dry run)' : ''} — ${r.title}`,
    '',
    `Run \`${r.run}\` of runbook \`${r.runbook}\`${r.dry_run ? ' · **dry run**: validations ran read-only against what exists' : ''} · generated ${utc(r.generated_at)}`,
    '',
    `**Verdict: ${badge(r.verdict)}**`,
    ...(r.failing.length ? ['', ...r.failing.map((f) => `- ${named(f)}`)] : []),
    '',
    '## Key totals',
    '',
    ...(totals.length
      ? table(['Total', 'Source', 'Target', 'Match'], totals.map(([name, t]) => [name, value(t.source_count), value(t.target_count), t.match ? '✅ yes' : '❌ no']))
      : ['No totals were checked.']),
    '',
    '## Tables',
    '',
    ...(tables.length
      ? table(['Table', 'Counts', 'Aggregates', 'Checksums', 'Verdict'], tables.map(([name, t]) => [name, check(t.counts), check(t.aggregates), check(t.checksums), badge(t.verdict)]))
      : ['No table was checked.']),
    '',
    ...listed('Rules', 'Rule', r.rules),
    ...listed('Checksums', 'Table', r.checksums, { head: 'Differing keys', cell: differingKeys }),
    ...listed('Integrity', 'Check', r.integrity),
    ...listed('Critical queries', 'Query', r.queries ?? []),
    '## Validation steps',
    '',
    ...(r.validations.length
      ? table(['Step', 'Check', 'Attempt', 'Status', 'Verdict', 'Seconds'], r.validations.map((v) => [v.title, v.check ?? '—', String(v.attempt), v.status, badge(v.verdict), v.seconds === null ? '—' : String(v.seconds)]))
      : ['No validation has run.']),
    '',
  ];
  if (r.gate_overrides.length) {
    lines.push('## Gate overrides', '', ...table(['Step', 'Overridden by', 'At', 'Verdict', 'Reason'], r.gate_overrides.map((o) => [o.step, nameOf(names, o.by), utc(o.at), badge(o.verdict), o.reason])), '');
  }
  // Check messages quote people as the core wrote them (<@U…>); a file is not rendered by Slack.
  return mentionsAsNames(lines.join('\n'), names);
}

/** One or two lines for Slack: the verdict, tables by verdict, key totals matched, overrides. */
export function reconciliationSummary(r: ReconciliationReport): string {
  const tables = Object.values(r.tables);
  const by = (v: Verdict) => tables.filter((t) => t.verdict === v).length;
  const totals = Object.values(r.key_totals);
  const parts = [
    `*Reconciliation${r.dry_run ? ' (dry run)' : ''}:* ${badge(r.verdict)}`,
    tables.length ? `${tables.length} tables (${by('green')} 🟢 ${by('amber')} 🟠 ${by('red')} 🔴)` : '',
    totals.length ? `key totals ${totals.filter((t) => t.match).length}/${totals.length} match` : '',
    r.gate_overrides.length ? `gate overridden: ${r.gate_overrides.map((o) => `${o.step} by ${mention(o.by)} (${o.reason})`).join('; ')}` : '',
  ].filter(Boolean);
  const failing = r.failing.length && r.verdict !== 'green' ? `\n${r.failing.map((f) => `• ${f}`).join('\n')}` : '';
  return parts.join(' · ') + failing;
}
