/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests
 * of GET /metrics: every line must be a HELP, TYPE, comment or well-formed
 * sample of the family its TYPE declared; values are floats (+Inf/-Inf/NaN);
 * no series twice; histograms cumulative with +Inf equal to _count. Anything
 * else throws, naming the line.
 */

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+(-?\d+))?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/y;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const isType = (s: string): s is MetricType => (TYPES as readonly string[]).includes(s);

const unescape = (s: string): string => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** As Prometheus reads them (Go's ParseFloat: Inf and NaN in any case; prom-client writes "Nan"). */
function parseValue(text: string, line: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a float: ${line}`);
  return Number(text);
}

function parseLabels(text: string | undefined, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  const body = text.slice(1, -1);
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < body.length) {
    const m = LABEL.exec(body);
    if (!m) throw new Error(`bad label set: ${line}`);
    const [, name = '', value = '', comma] = m;
    if (name in labels) throw new Error(`label ${name} twice: ${line}`);
    labels[name] = unescape(value);
    if (!comma && LABEL.lastIndex < body.length) throw new Error(`bad label set: ${line}`);
  }
  return labels;
}

/** Which family a sample name belongs to, given the family declared last. */
function belongs(sample: string, family: MetricFamily): boolean {
  if (sample === family.name) return family.type !== 'histogram';
  const suffixes = family.type === 'histogram' ? ['_bucket', '_sum', '_count'] : family.type === 'summary' ? ['_sum', '_count'] : [];
  return suffixes.some((s) => sample === `${family.name}${s}`);
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  let current: MetricFamily | null = null;
  const declare = (name: string): MetricFamily => {
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${name}`);
    const known = families.get(name);
    if (known && known !== current) throw new Error(`family ${name} is split`);
    const family = known ?? { name, help: '', type: 'untyped', samples: [] };
    families.set(name, family);
    return family;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      const family = declare(name);
      current = family;
      if (kind === 'HELP') family.help = unescape(rest);
      else if (!isType(rest)) throw new Error(`bad type: ${line}`);
      else if (family.samples.length > 0) throw new Error(`TYPE after samples: ${line}`);
      else family.type = rest;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const [, name = '', labelText, valueText = ''] = m;
    const family = current;
    if (!family || !belongs(name, family)) throw new Error(`sample outside its family (${family?.name ?? 'none'}): ${line}`);
    const labels = parseLabels(labelText, line);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`series twice: ${line}`);
    seen.add(key);
    family.samples.push({ name, labels, value: parseValue(valueText, line) });
  }
  const all = [...families.values()];
  for (const f of all) if (f.type === 'histogram') checkHistogram(f);
  return new Exposition(all);
}

const without = (labels: Record<string, string>, drop: string): string => JSON.stringify(Object.entries(labels).filter(([k]) => k !== drop).sort());

function checkHistogram(f: MetricFamily): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const s of f.samples) {
    const key = without(s.labels, 'le');
    const entry = series.get(key) ?? { buckets: [] };
    if (s.name.endsWith('_bucket')) {
      if (s.labels.le === undefined) throw new Error(`${f.name}: bucket without le`);
      entry.buckets.push([parseValue(s.labels.le, s.name), s.value]);
    } else if (s.name.endsWith('_count')) entry.count = s.value;
    series.set(key, entry);
  }
  for (const [key, e] of series) {
    const sorted = [...e.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.some(([, v], i) => i > 0 && v < (sorted[i - 1]?.[1] ?? 0))) throw new Error(`${f.name}${key}: buckets not cumulative`);
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Infinity || inf[1] !== e.count) throw new Error(`${f.name}${key}: +Inf bucket must equal _count`);
  }
}

const matches = (have: Record<string, string>, want: Record<string, string>): boolean => Object.entries(want).every(([k, v]) => have[k] === v);

/** One /metrics answer, with lookups that sum the series matching some labels. */
export class Exposition {
  constructor(readonly families: MetricFamily[]) {}

  family(name: string): MetricFamily | undefined {
    return this.families.find((f) => f.name === name);
  }

  /** Sum of the samples named `name` whose labels include `want`; undefined when no series matches (never counted). */
  value(name: string, want: Record<string, string> = {}): number | undefined {
    const hits = this.families.flatMap((f) => f.samples).filter((s) => s.name === name && matches(s.labels, want));
    return hits.length ? hits.reduce((a, s) => a + s.value, 0) : undefined;
  }

  /** A counter's value, 0 when never counted: for "moved by" comparisons. */
  count(name: string, want: Record<string, string> = {}): number {
    return this.value(name, want) ?? 0;
  }

  /** Observations and their sum over the histogram series matching `want` (0 when none). */
  histogram(name: string, want: Record<string, string> = {}): { count: number; sum: number } {
    return { count: this.count(`${name}_count`, want), sum: this.count(`${name}_sum`, want) };
  }

  /** The series of a sample name, with their labels. */
  series(name: string): Sample[] {
    return this.families.flatMap((f) => f.samples).filter((s) => s.name === name);
  }
}

/** GET <origin>/metrics; fails unless it answers 200 in the Prometheus text format. */
export async function scrape(origin: string, token?: string): Promise<Exposition> {
  const res = await fetch(`${origin}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${origin}/metrics answered ${res.status}: ${text.slice(0, 200)}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain; version=0.0.4')) throw new Error(`unexpected content-type ${res.headers.get('content-type')}`);
  return parseExposition(text);
}
