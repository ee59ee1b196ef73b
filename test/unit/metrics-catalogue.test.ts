/**
 * The metric names live in three places: config/metrics.ts (what the code
 * registers), docs/health-and-metrics.md's "Metrics" table (what a DBA reads) and the Grafana
 * dashboard (what the team watches). These tests keep them from drifting.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registry } from '../../config/metrics.js';

const REPO = join(import.meta.dirname, '..', '..');

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}
const panelSchema: z.ZodType<Panel> = z.lazy(() =>
  z.object({
    title: z.string().optional(),
    targets: z.array(z.object({ expr: z.string().optional() })).optional(),
    panels: z.array(panelSchema).optional(),
  }),
);
const dashboardSchema = z.object({
  title: z.string(),
  panels: z.array(panelSchema),
  templating: z.object({
    list: z.array(z.object({ name: z.string(), type: z.string(), query: z.union([z.string(), z.object({ query: z.string() })]).optional() })),
  }),
});
const dashboard = dashboardSchema.parse(JSON.parse(readFileSync(join(REPO, 'config/grafana/cutover-dashboard.json'), 'utf8')));

/** Every PromQL expression of the dashboard, with where it came from. */
function expressions(): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  const walk = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (v.type !== 'query' || !q) continue;
    // label_values(metric, label) is Grafana's, not PromQL: its first argument is a selector.
    const labelValues = /^label_values\((.+),\s*\w+\)$/.exec(q);
    out.push({ where: `variable $${v.name}`, expr: labelValues ? (labelValues[1] ?? '') : q });
  }
  return out;
}

/** Grafana substitutes its variables before Prometheus sees the query; do the same with harmless values. */
const substituted = (expr: string): string => expr.replace(/\$__(rate_interval|range|interval)\b/g, '5m').replace(/\$\{?\w+\}?/g, 'x');

/** The metric names an expression selects, from the real PromQL grammar; throws on a syntax error. */
function metricNames(expr: string): string[] {
  const text = substituted(expr);
  const names: string[] = [];
  parser.parse(text).iterate({
    enter: (node) => {
      if (node.type.isError) throw new Error(`PromQL syntax error at ${node.from} in: ${text}`);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (!id) throw new Error(`a selector without a metric name in: ${text}`);
        names.push(text.slice(id.from, id.to));
      }
    },
  });
  return names;
}

/** prom-client declares `type` as a numeric enum, but stores the text form ("counter", "histogram"…). */
const typeOf = (m: { type: unknown }): string => String(m.type);

/** Names a query may select for each registered metric: histograms only through _bucket, _sum and _count. */
function registeredSeries(): Map<string, string> {
  const series = new Map<string, string>();
  for (const m of registry.getMetricsAsArray()) {
    const type = typeOf(m);
    const names = type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => m.name + s) : type === 'summary' ? [m.name, `${m.name}_sum`, `${m.name}_count`] : [m.name];
    for (const n of names) series.set(n, m.name);
  }
  return series;
}

const ours = (): Array<{ name: string; type: string; labels: string[] }> =>
  registry
    .getMetricsAsArray()
    .filter((m) => m.name.startsWith('cutover_'))
    .map((m) => ({ name: m.name, type: typeOf(m), labels: 'labelNames' in m && Array.isArray(m.labelNames) ? m.labelNames.map(String) : [] }));

describe('the Grafana dashboard (config/grafana/cutover-dashboard.json)', () => {
  it('has PromQL that parses, and every metric it reads is one the code registers', () => {
    const series = registeredSeries();
    const unknown: string[] = [];
    const exprs = expressions();
    expect(exprs.length).toBeGreaterThan(20);
    for (const { where, expr } of exprs) for (const name of metricNames(expr)) if (!series.has(name)) unknown.push(`${where}: ${name}`);
    expect(unknown).toEqual([]);
  });

  it('shows every cutover_ metric the code registers (add a panel with a new metric)', () => {
    const series = registeredSeries();
    const shown = new Set(expressions().flatMap(({ expr }) => metricNames(expr)).map((n) => series.get(n)));
    expect(ours().map((m) => m.name).filter((n) => !shown.has(n))).toEqual([]);
  });

  it('reads from a Prometheus data source chosen by a variable', () => {
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(readFileSync(join(REPO, 'config/grafana/cutover-dashboard.json'), 'utf8')).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|cutover-overview)/);
  });

  it('the drift check itself sees a misspelt metric and a syntax error', () => {
    expect(metricNames('sum by (table) (rate(cutover_etl_rows_copyed_total[$__rate_interval]))')).toEqual(['cutover_etl_rows_copyed_total']);
    expect(registeredSeries().has('cutover_etl_rows_copyed_total')).toBe(false);
    expect(() => metricNames('sum by (table (cutover_runs)')).toThrow(/syntax error/);
  });
});

describe('docs/health-and-metrics.md "Metrics" table', () => {
  const readme = readFileSync(join(REPO, 'docs', 'health-and-metrics.md'), 'utf8');
  /** `| \`cutover_x\` | counter | a, b | meaning |` rows. */
  const rows = [...readme.matchAll(/^\| `(cutover_\w+)` \| (counter|gauge|histogram|summary) \| ([^|]*) \|/gm)].map((m) => ({
    name: m[1] ?? '',
    type: m[2] ?? '',
    labels: (m[3] ?? '').split(',').map((l) => l.trim().replace(/`/g, '')).filter((l) => l && l !== '—'),
  }));

  it('documents every cutover_ metric with its type and labels, and nothing the code does not register', () => {
    const byName = (xs: Array<{ name: string }>) => [...xs].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName(rows)).toEqual(byName(ours()));
  });
});
