import type { ConversionIssue, ConversionReport } from '../../engine/schema/report.js';
import type { PlannedTable } from './inventory.js';

interface ReportContext {
  database: string;
  runbookFile: string;
  tables: PlannedTable[];
  /** Load group (1-based) by source `schema.table`. */
  groupOf: (table: PlannedTable) => number;
}

/**
 * The conversion report written beside the runbook: everything the schema
 * conversion could not do by itself (what needs hands first), then every table
 * with its target, size and load group. Unlike the Slack rendering it is never
 * shortened.
 */
export function conversionMarkdown(report: ConversionReport, ctx: ReportContext): string {
  const lines = [
    `# Conversion report: ${ctx.database} → PostgreSQL schema \`${report.targetSchema}\``,
    '',
    `${report.tables} tables, ${report.columns} columns, for the runbook \`${ctx.runbookFile}\`. What needs hands comes first: ` +
      'objects the conversion does not port (views, procedures, functions, triggers, untranslatable defaults and checks), then behaviour that differs between the engines.',
    '',
    ...section('Errors: fix before applying', report.errors.map(issue)),
    ...section('Needs hands: not converted', report.notConverted.map((n) => `${n.kind} \`${n.object}\`: ${n.reason}`)),
    ...section('Risks: behaviour that differs', report.risks.map(issue)),
    ...section('Warnings', report.warnings.map(issue)),
    '## Tables',
    '',
    '| source | target | rows | bytes | load group |',
    '|---|---|---:|---:|---:|',
    ...ctx.tables.map(
      (t) =>
        `| \`${t.mapping.source.schema}.${t.mapping.source.name}\` | \`${t.mapping.target.schema}.${t.mapping.target.name}\` | ${t.rows.toLocaleString('en-US')} | ${t.bytes.toLocaleString('en-US')}${t.bytesEstimated ? ' (est.)' : ''} | ${ctx.groupOf(t)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

const issue = (i: ConversionIssue): string => `\`${i.table}${i.column ? `.${i.column}` : ''}\`: ${i.message}`;

function section(title: string, items: string[]): string[] {
  return [`## ${title} (${items.length})`, '', ...(items.length === 0 ? ['None.'] : items.map((i) => `- ${i}`)), ''];
}
