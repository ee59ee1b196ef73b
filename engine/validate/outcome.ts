import { ActionError, truncate, type ActionContext, type ActionResult } from '../action.js';
import type { ValidationItem, ValidationResult } from './contracts.js';
import { VERDICT_ICON as MARK, worstVerdict as worst } from '../../runbook/validation-result.js';

/** Longest details.report: it is shown in the step's thread message, which Slack limits. */
export const REPORT_MAX_CHARS = 2500;

/** One item's message in the thread report: room for a slow query's two plan summaries (validate.queries). */
export const ITEM_MAX_CHARS = 400;

const ORDER = { red: 0, amber: 1, green: 2 } as const;

/** Compact mrkdwn, red first so a long list still shows what failed; the tail is counted, not dropped silently. */
export function validationReport(title: string, items: ValidationItem[], max = REPORT_MAX_CHARS): string {
  const sorted = [...items].sort((a, b) => ORDER[a.verdict] - ORDER[b.verdict]);
  const lines = [`*${title}*`];
  let used = lines[0]?.length ?? 0;
  for (const [i, item] of sorted.entries()) {
    const line = `${MARK[item.verdict]} \`${item.subject}\` ${truncate(item.message, ITEM_MAX_CHARS)}`;
    const rest = sorted.length - i;
    const tail = `… and ${rest} more (${sorted.slice(i).filter((x) => x.verdict === 'green').length} green)`;
    if (used + line.length + 1 + tail.length + 1 > max) {
      lines.push(tail);
      break;
    }
    lines.push(line);
    used += line.length + 1;
  }
  if (items.length === 0) lines.push('nothing to check');
  return lines.join('\n');
}

export interface FinishOptions {
  check: ValidationResult['check'];
  /** What an item is, plural: "tables", "rules", "totals", "constraints". */
  noun: string;
  items: ValidationItem[];
  startedAt: number;
  /** Anything else for details (small JSON). */
  extra?: Record<string, unknown>;
}

/**
 * The common end of every validate.* action: a ValidationResult, the thread
 * report, a one-line summary. Red throws an ActionError carrying the same
 * details, so a failed validation can never read as a succeeded step.
 */
export function finishValidation(ctx: Pick<ActionContext, 'dryRun'>, o: FinishOptions, now = Date.now()): ActionResult {
  const verdict = worst(o.items.map((i) => i.verdict));
  const validation: ValidationResult = { check: o.check, verdict, items: o.items, at: o.startedAt, seconds: Math.round((now - o.startedAt) / 100) / 10 };
  const green = o.items.filter((i) => i.verdict === 'green').length;
  const firstBad = o.items.find((i) => i.verdict === verdict && verdict !== 'green');
  const head = `${o.check}: ${green}/${o.items.length} ${o.noun} green`;
  const why = firstBad ? ` — ${verdict === 'red' ? 'RED' : 'warning'}: ${firstBad.subject}: ${truncate(firstBad.message, 200)}` : '';
  const summary = `${head}${why}${ctx.dryRun ? ' (dry run: read-only checks ran normally)' : ''}`;
  const details = { validation, report: validationReport(`${o.check} — ${verdict.toUpperCase()}`, o.items), ...o.extra };
  if (verdict === 'red') throw new ActionError(`validate.${o.check}_red`, summary, { details });
  return { summary, details };
}
