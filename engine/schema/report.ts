/**
 * What a schema conversion could not do by itself, for the thread. Nothing
 * is dropped silently: every skipped object, untranslated default or check,
 * and every semantic difference worth a DBA's look is listed here.
 */

export interface ConversionIssue {
  /** Source table, `schema.name`. */
  table: string;
  column?: string;
  message: string;
}

export interface NotConverted {
  /** Source object, e.g. `dbo.trg_Antrag` or `dbo.Antrag.an_PLZ`. */
  object: string;
  /** trigger, view, procedure, function, …, or default, check, index, computed column, foreign key, identity. */
  kind: string;
  reason: string;
}

export interface ConversionReport {
  targetSchema: string;
  tables: number;
  columns: number;
  /** Conversion must not be applied while there are errors (name collisions, bad options). */
  errors: ConversionIssue[];
  warnings: ConversionIssue[];
  notConverted: NotConverted[];
  /** Behaviour that differs between the engines and may break the application or the load. */
  risks: ConversionIssue[];
}

export const emptyReport = (targetSchema: string): ConversionReport => ({
  targetSchema,
  tables: 0,
  columns: 0,
  errors: [],
  warnings: [],
  notConverted: [],
  risks: [],
});

const MAX_CHARS = 2_500;
const MAX_LINE = 300;

interface Section {
  header: string;
  lines: string[];
}

/** Slack mrkdwn, at most 2,500 characters: long sections end with "and N more". */
export function renderConversionReport(report: ConversionReport): string {
  const head = `*Schema conversion* → \`${escape(report.targetSchema)}\`: ${report.tables} tables, ${report.columns} columns`;
  const sections: Section[] = [
    { header: `:no_entry: *Errors — fix before applying (${report.errors.length})*`, lines: report.errors.map(issueLine) },
    { header: `:warning: *Risks (${report.risks.length})*`, lines: report.risks.map(issueLine) },
    {
      header: `*Not converted (${report.notConverted.length})*`,
      lines: report.notConverted.map((n) => `not converted: ${n.kind} ${n.object} — ${n.reason}`),
    },
    { header: `*Warnings (${report.warnings.length})*`, lines: groupedWarnings(report.warnings) },
  ].filter((s) => s.lines.length > 0);
  // Sections are in priority order: warnings give way first, errors last.
  const keep = sections.map((s) => s.lines.length);
  let text = render(head, sections, keep);
  while (text.length > MAX_CHARS) {
    const i = keep.findLastIndex((k) => k > 1);
    if (i < 0) break;
    keep[i] = (keep[i] ?? 1) - 1;
    text = render(head, sections, keep);
  }
  return text.length <= MAX_CHARS ? text : `${text.slice(0, MAX_CHARS - 1)}…`;
}

function render(head: string, sections: Section[], keep: number[]): string {
  const parts = [sections.length === 0 ? `${head}\nNothing to report: every object converted.` : head];
  for (const [i, s] of sections.entries()) {
    const k = keep[i] ?? s.lines.length;
    const shown = s.lines.slice(0, k).map((l) => `• ${clip(escape(l))}`);
    const more = s.lines.length - k;
    parts.push([s.header, ...shown, ...(more > 0 ? [`…and ${more} more`] : [])].join('\n'));
  }
  return parts.join('\n');
}

const issueLine = (i: ConversionIssue): string => `${i.table}${i.column ? `.${i.column}` : ''}: ${i.message}`;

/** The same warning on many columns (datetime2(7) rounding, say) is one line naming where. */
function groupedWarnings(warnings: ConversionIssue[]): string[] {
  const byMessage = new Map<string, string[]>();
  for (const w of warnings) {
    const where = `${w.table}${w.column ? `.${w.column}` : ''}`;
    byMessage.set(w.message, [...(byMessage.get(w.message) ?? []), where]);
  }
  return [...byMessage].map(([message, where]) => {
    const listed = where.slice(0, 3).join(', ') + (where.length > 3 ? ` and ${where.length - 3} more` : '');
    return `${message} (${listed})`;
  });
}

// Slack mrkdwn treats &, < and > as markup.
const escape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const clip = (text: string): string => (text.length <= MAX_LINE ? text : `${text.slice(0, MAX_LINE - 1)}…`);
