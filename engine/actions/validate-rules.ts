import type { ValidateRulesParams, ValidationRule } from '../../runbook/actions/validate-rules.js';
import type { ActionContext, ActionImpl } from '../action.js';
import type { ValidationItem } from '../validate/contracts.js';
import { asText } from '../validate/mssql-validation-source.js';
import { finishValidation } from '../validate/outcome.js';
import { maskRow, ruleVerdict } from '../validate/verdicts.js';
import { firstValue, openMssqlValidationSource, readOnly, withSource, type ValidationSourceFactory } from './validate-sources.js';

type Rows = Array<Record<string, string | null>>;
interface RuleRunner {
  dialect: 'postgres' | 'mssql';
  /** Runs the statements of one rule together; a failing rule must not poison the next one's transaction. */
  session<T>(fn: (query: (sql: string) => Promise<Rows>) => Promise<T>): Promise<T>;
}

const EXAMPLES = 5;
// Only where a run of ";" starts (lookbehind): `;+\s*$` alone rescans a long run of ";" from each of them.
const bare = (sql: string): string => sql.trim().replace(/(?<!;);+\s*$/, '');

/** Counting and sampling happen in the database: the violating rows are never all fetched. */
export function ruleQueries(dialect: RuleRunner['dialect'], sql: string): { count: string; examples: string } {
  const inner = bare(sql);
  return dialect === 'postgres'
    ? { count: `SELECT count(*)::text AS n FROM (${inner}) AS v`, examples: `SELECT * FROM (${inner}) AS v LIMIT ${EXAMPLES}` }
    : { count: `SELECT COUNT_BIG(*) AS n FROM (${inner}) AS v`, examples: `SELECT TOP ${EXAMPLES} * FROM (${inner}) AS v` };
}

/**
 * Data-quality rules from the runbook (seed 000: e-mail format, phone, postal
 * code, dates in range): each query returns the violating rows; ERROR rules
 * must find none, WARNING rules stay under their threshold (5 % by default).
 */
export function validateRulesAction(open: ValidationSourceFactory = openMssqlValidationSource): ActionImpl<ValidateRulesParams> {
  return {
    id: 'validate.rules',
    async run(ctx, params) {
      const startedAt = Date.now();
      const check = async (runner: RuleRunner) => {
        const items: ValidationItem[] = [];
        for (const [i, rule] of params.rules.entries()) {
          ctx.progress(`rule ${rule.name} (${i + 1}/${params.rules.length})`);
          items.push(await runRule(runner, rule, params.personal));
        }
        return finishValidation(ctx, { check: 'rules', noun: 'rules', items, startedAt });
      };
      if (params.target) return check(postgresRunner(ctx, params.target));
      return withSource(ctx, open, params.source as string, (s) => check({ dialect: 'mssql', session: (fn) => fn((sql) => s.query(sql)) }));
    },
  };
}

function postgresRunner(ctx: ActionContext, connection: string): RuleRunner {
  const pool = ctx.connections.postgres(connection);
  return { dialect: 'postgres', session: (fn) => readOnly(pool, (q) => fn(async (sql) => (await q(sql)).map(asText))) };
}

async function runRule(runner: RuleRunner, rule: ValidationRule, personal: string[]): Promise<ValidationItem> {
  const sql = ruleQueries(runner.dialect, rule.sql);
  try {
    return await runner.session(async (query) => {
      const violations = Number(firstValue(await query(sql.count)) ?? 0);
      const denominator = rule.of ? Number(firstValue(await query(bare(rule.of))) ?? 0) : null;
      const examples = violations > 0 ? (await query(sql.examples)).map((r) => maskRow(r, personal)) : [];
      const { verdict, limit } = ruleVerdict({ severity: rule.severity, violations, denominator, ...(rule.threshold !== undefined ? { threshold: rule.threshold } : {}) });
      const share = denominator ? ` (${((violations / denominator) * 100).toFixed(2)}% of ${denominator})` : '';
      const shown = examples.map((e) => Object.entries(e).map(([k, v]) => `${k}=${v ?? 'NULL'}`).join(' ')).slice(0, 3);
      return {
        subject: rule.name,
        verdict,
        message: `${rule.severity}: ${violations} violation(s)${share}, limit ${limit}${shown.length ? `; e.g. ${shown.join(' | ')}` : ''}`,
        figures: { severity: rule.severity, violations, denominator, limit, examples },
      };
    });
  } catch (err) {
    // A rule that cannot run has not passed: red, with the database's reason, and the other rules still run.
    const message = err instanceof Error ? err.message : String(err);
    return { subject: rule.name, verdict: 'red', message: `${rule.severity}: the rule's query failed: ${message}`, figures: { severity: rule.severity, error: message } };
  }
}
