/**
 * A SQL step's result rows read as a table with column names, an EXPLAIN as
 * its plan text (issue 16: they were raw JSON arrays without column names).
 * The shapes are those engine/actions/sql.ts records (test/integration/actions-sql.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { renderStep } from '../../bot/render/step-blocks.js';
import { resultTable, sqlResultText, TABLE_MAX_CELL } from '../../bot/render/result-table.js';
import { loadRunbook } from '../../runbook/load.js';
import { allSteps } from '../../runbook/plan.js';
import { startedRun } from '../support/runbook-factory.js';

const select = {
  connection: 'target', kind: 'postgres', command: 'SELECT', rowCount: 25, statements: 1,
  columns: ['g', 'big', 'num', 'nothing', 'doc'],
  rows: Array.from({ length: 10 }, (_, i) => [String(i + 1), '9007199254740993', '1.10', null, '{"a":1}']),
  truncated: true, durationMs: 12, dryRun: false,
};

describe('a SQL result as a table', () => {
  it('has a header of column names, aligned columns, the first 5 rows and "… N more rows"', () => {
    const text = sqlResultText(select);
    expect(text?.split('\n')).toEqual([
      'g | big              | num  | nothing | doc',
      '--+------------------+------+---------+--------',
      '1 | 9007199254740993 | 1.10 | NULL    | {"a":1}',
      '2 | 9007199254740993 | 1.10 | NULL    | {"a":1}',
      '3 | 9007199254740993 | 1.10 | NULL    | {"a":1}',
      '4 | 9007199254740993 | 1.10 | NULL    | {"a":1}',
      '5 | 9007199254740993 | 1.10 | NULL    | {"a":1}',
      '… 20 more rows',
    ]);
  });

  it('names the columns it leaves out and clips long or multi-line values', () => {
    const columns = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const text = resultTable(columns, [['x'.repeat(100), 'two\nlines', 'c', 'd', 'e', 'f', 'g', 'h']]);
    const [, , row, more] = text.split('\n');
    expect(row).toContain(`${'x'.repeat(TABLE_MAX_CELL - 1)}… | two lines |`);
    expect(row).not.toContain('g');
    expect(more).toBe('… 2 more columns (g, h)');
  });

  it('is absent for a statement without rows (UPDATE 3) or a step that is not SQL', () => {
    expect(sqlResultText({ command: 'UPDATE', rowCount: 3, columns: [], rows: [] })).toBeNull();
    expect(sqlResultText({ stdoutTail: 'ok' })).toBeNull();
    expect(sqlResultText(undefined)).toBeNull();
  });

  it('shows an EXPLAIN as its plan text, line by line', () => {
    const explain = {
      command: 'EXPLAIN', rowCount: 3, columns: ['QUERY PLAN'],
      rows: [['Hash Join  (cost=1.09..2.20 rows=4 width=40)'], ['  Hash Cond: (o.customer_id = c.id)'], ['  ->  Seq Scan on orders o  (cost=0.00..1.04 rows=4 width=8)']],
    };
    expect(sqlResultText(explain)).toBe('Hash Join  (cost=1.09..2.20 rows=4 width=40)\n  Hash Cond: (o.customer_id = c.id)\n  ->  Seq Scan on orders o  (cost=0.00..1.04 rows=4 width=8)');
    expect(sqlResultText({ ...explain, rowCount: 30 })).toContain('… 27 more plan lines');
  });
});

describe('a step message with SQL rows in its result', () => {
  const text = `title: T
roles: { lead: { title: Lead, members: [ULEAD, ULEAD2] } }
phases:
  - id: p
    title: P
    steps:
      - { id: check, title: Check, approve: lead, action: manual }
`;
  const loaded = loadRunbook({ name: 't', file: 't.yaml', text, env: {} });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const plan = loaded.runbook.plan;

  it('shows the result as a table in a code block, no JSON array', () => {
    const state = startedRun({ plan });
    const planStep = allSteps(plan)[0];
    const step = state.steps['check'];
    if (!planStep || !step) throw new Error('no step');
    const done = { ...step, status: 'succeeded' as const, result: { summary: '25 rows on "target"', details: select } };
    const blocks = JSON.stringify(renderStep(state, planStep, done, state.startedAt).blocks);
    expect(blocks).toContain('```g | big ');
    expect(blocks).toContain('… 20 more rows```');
    expect(blocks).not.toContain('[\\n [');
  });
});
