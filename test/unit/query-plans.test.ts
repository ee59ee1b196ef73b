import { describe, expect, it } from 'vitest';
import { median, type QueryTiming } from '../../engine/queries/measure.js';
import { ITEM_MAX_CHARS } from '../../engine/validate/outcome.js';
import { planLine, summarisePgPlan, summariseShowplan } from '../../engine/queries/plan-summary.js';
import { pgPlanText } from '../../engine/queries/plan-text.js';
import { queryItem } from '../../engine/queries/verdict.js';
import { gateEvidence } from '../../runbook/gate.js';
import { reconciliationMarkdown } from '../../runbook/reconciliation-markdown.js';
import { reconciliationReport } from '../../runbook/reconciliation.js';
import { at, cmd, planOfSteps, startCommand, stateAfter, T0, USERS } from '../support/runbook-factory.js';

/** An actual plan as SET STATISTICS XML returns it for seed 000's waiting-list query on SQL Server 2022 (trimmed). */
const SHOWPLAN = `<?xml version="1.0" encoding="utf-16"?>
<ShowPlanXML xmlns="http://schemas.microsoft.com/sqlserver/2004/07/showplan" Version="1.564" Build="16.0.1000.6">
  <BatchSequence><Batch><Statements>
    <StmtSimple StatementText="SELECT TOP (100) * FROM dbo.Antrag WHERE an_Aktiv = '1' ORDER BY an_WartelistenNr32" StatementId="1" StatementType="SELECT" StatementSubTreeCost="1.23456" StatementEstRows="100">
      <QueryPlan DegreeOfParallelism="1">
        <QueryTimeStats CpuTime="12" ElapsedTime="15" />
        <RelOp NodeId="0" PhysicalOp="Top" LogicalOp="Top" EstimateRows="100" EstimatedTotalSubtreeCost="1.23456">
          <OutputList />
          <RunTimeInformation><RunTimeCountersPerThread Thread="0" ActualRows="100" ActualExecutions="1" /></RunTimeInformation>
          <Top RowCount="false" IsPercent="false" WithTies="false">
            <TopExpression><ScalarOperator ScalarString="(100)" /></TopExpression>
            <RelOp NodeId="1" PhysicalOp="Sort" LogicalOp="TopN Sort" EstimateRows="100" EstimatedTotalSubtreeCost="1.2">
              <RunTimeInformation><RunTimeCountersPerThread Thread="0" ActualRows="100" ActualExecutions="1" /></RunTimeInformation>
              <TopSort Distinct="false" Rows="100">
                <OrderBy><OrderByColumn Ascending="true"><ColumnReference Column="an_WartelistenNr32" /></OrderByColumn></OrderBy>
                <RelOp NodeId="2" PhysicalOp="Clustered Index Scan" LogicalOp="Clustered Index Scan" EstimateRows="12000" EstimatedTotalSubtreeCost="0.9">
                  <RunTimeInformation>
                    <RunTimeCountersPerThread Thread="1" ActualRows="6000" ActualLogicalReads="150" ActualPhysicalReads="2" ActualExecutions="1" />
                    <RunTimeCountersPerThread Thread="2" ActualRows="6000" ActualLogicalReads="160" ActualPhysicalReads="0" ActualExecutions="1" />
                  </RunTimeInformation>
                  <IndexScan Ordered="false"><Object Database="[KGV]" Schema="[dbo]" Table="[Antrag]" Index="[PK_Antrag]" IndexKind="Clustered" /></IndexScan>
                </RelOp>
              </TopSort>
            </RelOp>
          </Top>
        </RelOp>
      </QueryPlan>
    </StmtSimple>
  </Statements></Batch></BatchSequence>
</ShowPlanXML>`;

const PG_PLAN = [
  {
    Plan: {
      'Node Type': 'Limit', 'Actual Rows': 100, 'Actual Loops': 1, 'Plan Rows': 100, 'Total Cost': 10.5, 'Shared Hit Blocks': 120, 'Shared Read Blocks': 3,
      Plans: [{ 'Node Type': 'Sort', 'Actual Rows': 100, 'Actual Loops': 1, 'Plan Rows': 8000, Plans: [{ 'Node Type': 'Seq Scan', 'Relation Name': 'applications', 'Actual Rows': 8000, 'Actual Loops': 1, 'Plan Rows': 7900 }] }],
    },
    'Planning Time': 0.1,
    'Execution Time': 12.3,
  },
];

describe('plan summaries', () => {
  it('reads an actual SQL Server plan: top nodes, full scans, rows and reads summed over threads', () => {
    expect(summariseShowplan(SHOWPLAN)).toEqual({
      engine: 'mssql',
      kind: 'actual',
      top: ['Top (rows 100, est. 100)', '  Sort (rows 100, est. 100)', '    Clustered Index Scan on [dbo].[Antrag] ([PK_Antrag]) (rows 12000, est. 12000)'],
      scans: ['Clustered Index Scan on [dbo].[Antrag] ([PK_Antrag]) (rows 12000, est. 12000)'],
      rows: 100,
      estimatedRows: 100,
      buffers: { hit: 310, read: 2 },
      executionMs: 15,
      cost: 1.23456,
    });
  });

  it('reads an estimated plan (SET SHOWPLAN_XML) without run-time counters as estimated', () => {
    const estimated = summariseShowplan(SHOWPLAN.replace(/<RunTimeInformation>[\s\S]*?<\/RunTimeInformation>/g, '').replace(/<QueryTimeStats[^>]*\/>/, ''));
    expect(planLine(estimated)).toBe('Top › Sort › Clustered Index Scan on [dbo].[Antrag] ([PK_Antrag]) (est. 100 rows, full scan of [dbo].[Antrag], estimated plan)');
    expect(estimated).toMatchObject({ kind: 'estimated', rows: null, buffers: null, executionMs: null, top: ['Top (est. 100)', '  Sort (est. 100)', '    Clustered Index Scan on [dbo].[Antrag] ([PK_Antrag]) (est. 12000)'] });
    expect(summariseShowplan('not xml <<')).toBeNull();
  });

  it('reads EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) and says it in one line', () => {
    const p = summarisePgPlan(PG_PLAN);
    expect(p).toEqual({
      engine: 'postgres', kind: 'actual',
      top: ['Limit (rows 100, est. 100)', '  Sort (rows 100, est. 8000)', '    Seq Scan on applications (rows 8000, est. 7900)'],
      scans: ['Seq Scan on applications (rows 8000, est. 7900)'],
      rows: 100, estimatedRows: 100, buffers: { hit: 120, read: 3 }, executionMs: 12.3, cost: 10.5,
    });
    expect(planLine(p)).toBe('Limit › Sort › Seq Scan on applications (100 rows, buffers 120 hit / 3 read, full scan of applications)');
    expect(summarisePgPlan([])).toBeNull();
  });

  it('renders EXPLAIN (FORMAT JSON) as the text EXPLAIN prints: nodes with rows and time, indented as psql does, details under each', () => {
    expect(pgPlanText(PG_PLAN)).toEqual([
      'Limit  (cost=0.00..10.50 rows=100 width=0) (actual rows=100 loops=1)',
      '  Buffers: shared hit=120 read=3',
      '  ->  Sort (actual rows=100 loops=1)',
      '        ->  Seq Scan on applications (actual rows=8000 loops=1)',
      'Planning Time: 0.100 ms',
      'Execution Time: 12.300 ms',
    ]);
    const detailed = [{
      Plan: {
        'Node Type': 'Hash Join', 'Join Type': 'Left', 'Startup Cost': 1.09, 'Total Cost': 2.2, 'Plan Rows': 4, 'Plan Width': 40, 'Hash Cond': '(o.customer_id = c.id)',
        'Actual Startup Time': 0.02, 'Actual Total Time': 0.05, 'Actual Rows': 4, 'Actual Loops': 1,
        Plans: [
          { 'Node Type': 'Seq Scan', 'Relation Name': 'orders', Alias: 'o', 'Parallel Aware': true, Filter: '(total > 0)', 'Rows Removed by Filter': 2, 'Actual Loops': 0 },
          { 'Node Type': 'Index Scan', 'Index Name': 'customers_pkey', 'Relation Name': 'customers', Alias: 'customers', 'Scan Direction': 'Backward', 'Subplan Name': 'SubPlan 1', 'Index Cond': '(id = 1)', 'Actual Rows': 1, 'Actual Loops': 4 },
        ],
      },
    }];
    expect(pgPlanText(detailed)).toEqual([
      'Hash Left Join  (cost=1.09..2.20 rows=4 width=40) (actual time=0.020..0.050 rows=4 loops=1)',
      '  Hash Cond: (o.customer_id = c.id)',
      '  ->  Parallel Seq Scan on orders o (never executed)',
      '        Filter: (total > 0)',
      '        Rows Removed by Filter: 2',
      '  SubPlan 1',
      '    ->  Index Scan Backward using customers_pkey on customers (actual rows=1 loops=4)',
      '          Index Cond: (id = 1)',
    ]);
    expect(pgPlanText([{ 'QUERY PLAN': 'x' }])).toBeNull();
  });
});

const timing = (medianMs: number, rows = 100, plan = summarisePgPlan(PG_PLAN)): QueryTiming => ({ medianMs, runsMs: [medianMs], rows, plan });

describe('the verdict of one critical query', () => {
  const sql = { timing: timing(10, 100, summariseShowplan(SHOWPLAN)), engine: 'mssql' as const };
  const item = (targetMs: number, o: { rows?: number; tolerance?: number } = {}) => queryItem('waiting-list', { tolerance: o.tolerance ?? 0.1, noiseMs: 2, baseline: sql, target: { timing: timing(targetMs, o.rows) } });

  it('is green within the tolerance, amber beyond it with both plans, and ignores slowdowns under the noise floor', () => {
    expect(item(10.9)).toMatchObject({ verdict: 'green', message: '10.9 ms on PostgreSQL vs 10.0 ms on SQL Server (+9 %), within 10 %' });
    const slow = item(13.5);
    expect(slow.verdict).toBe('amber');
    expect(slow.message).toBe('13.5 ms on PostgreSQL vs 10.0 ms on SQL Server (+35 %, tolerance 10 %) — PostgreSQL: Limit › Sort › Seq Scan on applications (100 rows, buffers 120 hit / 3 read, full scan of applications); SQL Server: Top › Sort › Clustered Index Scan on [dbo].[Antrag] ([PK_Antrag]) (100 rows, 310 logical / 2 physical reads, full scan of [dbo].[Antrag])');
    // Short enough for the thread report, which cuts an item's message at ITEM_MAX_CHARS.
    expect(slow.message.length).toBeLessThanOrEqual(ITEM_MAX_CHARS);
    expect(slow.figures).toMatchObject({ source_ms: 10, target_ms: 13.5, change: 0.35, tolerance: 0.1 });
    // 0.5 ms against 0.3 ms is +67 %, but within timer noise.
    expect(queryItem('tiny', { tolerance: 0.1, noiseMs: 2, baseline: { timing: timing(0.3), engine: 'mssql' }, target: { timing: timing(0.5) } }).verdict).toBe('green');
    expect(item(13.5, { tolerance: 0.5 }).verdict).toBe('green');
  });

  it('is amber when the two forms return different rows, or there is no baseline; red when PostgreSQL refuses the query', () => {
    expect(item(5, { rows: 0 })).toMatchObject({ verdict: 'amber', message: 'returns 0 rows on PostgreSQL but 100 on SQL Server: the two forms do not return the same result, so their timings are not comparable (5.00 ms vs 10.0 ms)' });
    expect(queryItem('q', { tolerance: 0.1, noiseMs: 2, baseline: { missing: 'the baseline step "b" was skipped' }, target: { timing: timing(4) } })).toMatchObject({ verdict: 'amber', message: '4.00 ms on PostgreSQL, but no baseline to compare with: the baseline step "b" was skipped' });
    expect(queryItem('q', { tolerance: 0.1, noiseMs: 2, baseline: sql, target: { error: 'relation "applications" does not exist' } })).toMatchObject({ verdict: 'red', message: 'fails on PostgreSQL: relation "applications" does not exist' });
  });

  it('takes the median of the timed runs', () => {
    expect(median([5, 1, 100, 3, 4])).toBe(4);
    expect(median([1, 2, 3, 10])).toBe(2.5);
  });
});

describe('validate.queries in the reconciliation report and the gate', () => {
  it('an amber query makes the verdict amber, is listed under "Critical queries" and blocks the gate', () => {
    const plan = planOfSteps([{ id: 'queries', title: 'Critical queries', action: 'validate.queries' }, { id: 'golive', title: 'Go live', action: 'sql', approve: 'owner', gate: 'validation' as const }]);
    const amber = item13();
    const state = stateAfter([
      startCommand({ plan }),
      cmd.approve('queries', USERS.dba1, { at: at(1) }),
      cmd.started('queries', { at: at(2) }),
      cmd.succeeded('queries', { at: at(3), details: { validation: { check: 'queries', verdict: 'amber', items: [amber], at: T0, seconds: 4 } } }),
    ]);
    const report = reconciliationReport(state, at(4));
    expect(report.verdict).toBe('amber');
    expect(report.queries).toEqual([{ subject: 'waiting-list', verdict: 'amber', message: amber.message, figures: amber.figures }]);
    expect(reconciliationMarkdown(report)).toContain('## Critical queries');
    expect(gateEvidence(state, 'golive').evidence.failing[0]).toMatch(/^queries: waiting-list 13.5 ms on PostgreSQL vs 10.0 ms/);
  });
});

function item13() {
  return queryItem('waiting-list', { tolerance: 0.1, noiseMs: 2, baseline: { timing: timing(10), engine: 'mssql' }, target: { timing: timing(13.5) } });
}
