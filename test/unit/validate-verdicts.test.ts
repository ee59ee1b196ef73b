import { describe, expect, it } from 'vitest';
import { ActionError } from '../../engine/action.js';
import { ruleQueries } from '../../engine/actions/validate-rules.js';
import type { ValidationItem } from '../../engine/validate/contracts.js';
import { finishValidation, validationReport } from '../../engine/validate/outcome.js';
import { maskRow, ruleVerdict, totalFigures } from '../../engine/validate/verdicts.js';
import { ACTIONS } from '../../runbook/action-catalog.js';

describe('seed 000 acceptance: rule verdicts', () => {
  it('0 ERROR violations and 3 % WARNING violations → amber', () => {
    expect(ruleVerdict({ severity: 'ERROR', violations: 0 }).verdict).toBe('green');
    expect(ruleVerdict({ severity: 'WARNING', violations: 3, denominator: 100 }).verdict).toBe('amber');
  });
  it('6 % WARNING violations → red; exactly 5 % is already red (acceptance needs < 5 %)', () => {
    expect(ruleVerdict({ severity: 'WARNING', violations: 6, denominator: 100 }).verdict).toBe('red');
    expect(ruleVerdict({ severity: 'WARNING', violations: 5, denominator: 100 }).verdict).toBe('red');
    expect(ruleVerdict({ severity: 'WARNING', violations: 4, denominator: 100, threshold: '5%' }).verdict).toBe('amber');
  });
  it('1 ERROR violation → red', () => {
    expect(ruleVerdict({ severity: 'ERROR', violations: 1 }).verdict).toBe('red');
  });
  it('absolute thresholds and no WARNING violations', () => {
    expect(ruleVerdict({ severity: 'WARNING', violations: 9, threshold: 10 }).verdict).toBe('amber');
    expect(ruleVerdict({ severity: 'WARNING', violations: 10, threshold: 10 }).verdict).toBe('red');
    expect(ruleVerdict({ severity: 'WARNING', violations: 0, denominator: 0 }).verdict).toBe('green');
    expect(ruleVerdict({ severity: 'WARNING', violations: 1, threshold: '10%', denominator: 0 }).verdict).toBe('red');
  });
  it('the runbook schema refuses a percentage WARNING rule without a denominator', () => {
    const parse = (rule: Record<string, unknown>) => ACTIONS['validate.rules']?.params.safeParse({ target: 't', rules: [rule] }).success;
    expect(parse({ name: 'mail', sql: 'SELECT 1', severity: 'WARNING' })).toBe(false);
    expect(parse({ name: 'mail', sql: 'SELECT 1', severity: 'WARNING', of: 'SELECT count(*) FROM a' })).toBe(true);
    expect(parse({ name: 'mail', sql: 'SELECT 1', severity: 'WARNING', threshold: 3 })).toBe(true);
    expect(parse({ name: 'mail', sql: 'SELECT 1', severity: 'ERROR' })).toBe(true);
  });
});

describe('totals and examples', () => {
  it('totals compare exactly after numeric normalisation, with seed 002 figures', () => {
    expect(totalFigures('150', '150')).toEqual({ source_count: 150, target_count: 150, match: true });
    expect(totalFigures('1234.5000', '1234.5')).toEqual({ source_count: '1234.5', target_count: '1234.5', match: true });
    expect(totalFigures('1234.5001', '1234.5')).toMatchObject({ match: false });
    expect(totalFigures('99999999999999999999', '99999999999999999999')).toEqual({ source_count: '99999999999999999999', target_count: '99999999999999999999', match: true });
    expect(totalFigures(null, '0')).toMatchObject({ match: false });
  });
  it('personal and secret-looking columns are masked in examples', () => {
    expect(maskRow({ id: '7', Email: 'a@b.de', phone: null, api_token: 'x' }, ['email', 'phone'])).toEqual({ id: '7', Email: '***', phone: null, api_token: '***' });
  });
  it('rule queries count and sample inside the database in each dialect', () => {
    expect(ruleQueries('postgres', 'SELECT id FROM a WHERE x;')).toEqual({ count: 'SELECT count(*)::text AS n FROM (SELECT id FROM a WHERE x) AS v', examples: 'SELECT * FROM (SELECT id FROM a WHERE x) AS v LIMIT 5' });
    expect(ruleQueries('mssql', 'SELECT id FROM a').examples).toBe('SELECT TOP 5 * FROM (SELECT id FROM a) AS v');
  });
});

describe('the common end of a validation', () => {
  const item = (subject: string, verdict: ValidationItem['verdict']): ValidationItem => ({ subject, verdict, message: `${subject} is ${verdict}` });

  it('green: summary counts green items and says dry run', () => {
    const r = finishValidation({ dryRun: true }, { check: 'counts', noun: 'tables', items: [item('a', 'green'), item('b', 'green')], startedAt: 0 }, 1500);
    expect(r.summary).toBe('counts: 2/2 tables green (dry run: read-only checks ran normally)');
    expect(r.details?.['validation']).toMatchObject({ check: 'counts', verdict: 'green', seconds: 1.5 });
  });
  it('amber succeeds with a warning; red throws an ActionError carrying the same details', () => {
    expect(finishValidation({ dryRun: false }, { check: 'rules', noun: 'rules', items: [item('a', 'amber'), item('b', 'green')], startedAt: 0 }).summary).toContain('warning: a:');
    let err: unknown;
    try {
      finishValidation({ dryRun: false }, { check: 'rules', noun: 'rules', items: [item('a', 'amber'), item('b', 'red')], startedAt: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActionError);
    expect((err as ActionError).code).toBe('validate.rules_red');
    expect((err as ActionError).details?.['validation']).toMatchObject({ verdict: 'red' });
    expect((err as ActionError).userMessage).toContain('RED: b:');
  });
  it('the report stays under 2,500 characters, red first, the rest counted', () => {
    const items = [...Array.from({ length: 200 }, (_, i) => item(`public.table_${i}`, 'green')), item('public.bad', 'red')];
    const text = validationReport('counts — RED', items);
    expect(text.length).toBeLessThanOrEqual(2500);
    expect(text.split('\n')[1]).toContain('public.bad');
    expect(text).toMatch(/… and \d+ more \(\d+ green\)$/);
  });
});
