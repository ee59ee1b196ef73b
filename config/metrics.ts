import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric the product exports, defined once, on one registry per
 * process (web, worker, or both in one process with `npm start`): a metric is
 * counted by the process where its event happens and served by that
 * process's GET /metrics. docs/health-and-metrics.md "Metrics" documents each name; the Grafana
 * dashboard in config/grafana/ reads them (a unit test keeps the three in step).
 *
 * Labels stay bounded: runbook, role, step, action, table, Slack method and
 * error code come from runbooks, schemas and Slack's vocabulary; never a run
 * id, a user id or free text.
 */
export const registry = new Registry();

// Standard names (process_*, nodejs_*) so stock Node.js dashboards and alerts apply as they are.
collectDefaultMetrics({ register: registry });

const registers = [registry];

/** Seconds, from a quick SQL statement to a long ETL load in a night's window. */
const STEP_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400, 28_800];
/** Seconds an approval waited, from a click at once to a team that fell asleep. */
const APPROVAL_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

// --- Runs: gauges computed at scrape time from the active runs (web only; see setActiveRunsSource).

const runsGauge = new Gauge({
  name: 'cutover_runs',
  help: 'Active runs (holding their runbook\'s slot) by status: active or paused. Exported by web.',
  labelNames: ['runbook', 'status', 'dry_run'] as const,
  registers,
  collect: fromActiveRuns((g, s) => {
    for (const r of s.runs) g.set({ runbook: r.runbook, status: r.status, dry_run: String(r.dryRun) }, r.count);
  }),
});

const stepsGauge = new Gauge({
  name: 'cutover_steps',
  help: 'Steps of the active runs by status (pending, awaiting_approval, held, queued, running, succeeded, failed, skipped, rejected). Exported by web.',
  labelNames: ['runbook', 'status'] as const,
  registers,
  collect: fromActiveRuns((g, s) => {
    for (const r of s.steps) g.set({ runbook: r.runbook, status: r.status }, r.count);
  }),
});

const approvalsWaitingGauge = new Gauge({
  name: 'cutover_approvals_waiting',
  help: 'Steps of active (not paused) runs waiting for an approval, by the role that must approve; 0 for the other roles of an active run. Exported by web.',
  labelNames: ['runbook', 'role'] as const,
  registers,
  collect: fromActiveRuns((g, s) => {
    for (const a of s.approvals) g.set({ runbook: a.runbook, role: a.role }, a.waiting);
  }),
});

const approvalOldestWaitGauge = new Gauge({
  name: 'cutover_approval_oldest_wait_seconds',
  help: 'Age of the oldest approval still waiting, by role; absent when none waits. Exported by web.',
  labelNames: ['runbook', 'role'] as const,
  registers,
  collect: fromActiveRuns((g, s) => {
    for (const a of s.approvals) if (a.oldestSeconds !== null) g.set({ runbook: a.runbook, role: a.role }, a.oldestSeconds);
  }),
});

const validationVerdictGauge = new Gauge({
  name: 'cutover_validation_verdict',
  help: 'Latest verdict of each validate.* step of the active runs: 1 on the series of the current verdict (green, amber, red). Exported by web.',
  labelNames: ['runbook', 'step', 'verdict'] as const,
  registers,
  collect: fromActiveRuns((g, s) => {
    for (const v of s.verdicts) g.set({ runbook: v.runbook, step: v.step, verdict: v.verdict }, 1);
  }),
});

// --- Runs: counters of events, counted by the process that appended them (web or worker).

export const runsStartedCounter = new Counter({
  name: 'cutover_runs_started_total',
  help: 'Runs started.',
  labelNames: ['runbook', 'dry_run'] as const,
  registers,
});

export const runsFinishedCounter = new Counter({
  name: 'cutover_runs_finished_total',
  help: 'Runs finished, by final status: completed, aborted or rolled_back.',
  labelNames: ['runbook', 'status', 'dry_run'] as const,
  registers,
});

export const stepDurationHistogram = new Histogram({
  name: 'cutover_step_duration_seconds',
  help: 'Time from a step\'s start on the worker to its success or failure (steps that never started are not observed).',
  labelNames: ['runbook', 'action', 'outcome', 'dry_run'] as const,
  buckets: STEP_BUCKETS,
  registers,
});

export const approvalWaitHistogram = new Histogram({
  name: 'cutover_approval_wait_seconds',
  help: 'Time from a step asking for approval to the approval that let it run (or, for a manual step, completed it).',
  labelNames: ['runbook', 'role'] as const,
  buckets: APPROVAL_BUCKETS,
  registers,
});

export const escalationsCounter = new Counter({
  name: 'cutover_escalations_sent_total',
  help: 'Escalations sent (each repeat of an unacknowledged alert counts), by level: reminder, escalation, overrun, page, blocked, unblocked, timeout, stalled. Counted by web.',
  labelNames: ['runbook', 'level'] as const,
  registers,
});

export const validationVerdictsCounter = new Counter({
  name: 'cutover_validation_verdicts_total',
  help: 'Validation results reported, by check (counts, aggregates, checksums, integrity, rules, totals, queries) and verdict. Counted by the worker.',
  labelNames: ['runbook', 'check', 'verdict'] as const,
  registers,
});

// --- ETL (worker).

export const etlRowsCopiedCounter = new Counter({
  name: 'cutover_etl_rows_copied_total',
  help: 'Rows committed into a target table by etl.copy and load (counted when their chunk and its checkpoint commit).',
  labelNames: ['runbook', 'table'] as const,
  registers,
});

export const etlRowsQuarantinedCounter = new Counter({
  name: 'cutover_etl_rows_quarantined_total',
  help: 'Rows of a table that went to the quarantine table instead (the encoder or PostgreSQL refused them), committed with their chunk.',
  labelNames: ['runbook', 'table'] as const,
  registers,
});

export const etlRowsPerSecondGauge = new Gauge({
  name: 'cutover_etl_table_rows_per_second',
  help: 'Rows/s of the latest load of a table in this worker: rows committed by it / seconds from its first chunk\'s start to its last commit.',
  labelNames: ['runbook', 'table'] as const,
  registers,
});

// --- Slack Web API (web).

export const slackCallsCounter = new Counter({
  name: 'cutover_slack_api_calls_total',
  help: 'HTTP requests to the Slack Web API (each retry counts), by method.',
  labelNames: ['method'] as const,
  registers,
});

export const slackErrorsCounter = new Counter({
  name: 'cutover_slack_api_errors_total',
  help: 'Slack Web API requests that failed: Slack\'s error code (ok: false), http_<status>, or request_failed when no answer came. 429s are counted in cutover_slack_rate_limited_total.',
  labelNames: ['method', 'error'] as const,
  registers,
});

export const slackRateLimitedCounter = new Counter({
  name: 'cutover_slack_rate_limited_total',
  help: 'Slack Web API requests answered 429 (rate limited); the client waits Retry-After and retries.',
  labelNames: ['method'] as const,
  registers,
});

export const slackRateLimitWaitCounter = new Counter({
  name: 'cutover_slack_rate_limit_wait_seconds_total',
  help: 'Seconds Slack told the client to wait (Retry-After of each 429) before retrying.',
  labelNames: ['method'] as const,
  registers,
});

// --- The exporter itself.

export const scrapeErrorsCounter = new Counter({
  name: 'cutover_metrics_source_errors_total',
  help: 'Scrapes where a gauge source could not be read (e.g. Redis down while web folded the active runs); those gauges were left empty.',
  labelNames: ['source'] as const,
  registers,
  // Joins the scrape's reading, so a failure shows in the very scrape it emptied.
  collect: async () => {
    await readRunGauges();
  },
});

/** One scrape's reading of the active runs, as config/run-metrics.ts derives it. */
export interface RunGaugeSamples {
  runs: Array<{ runbook: string; status: string; dryRun: boolean; count: number }>;
  steps: Array<{ runbook: string; status: string; count: number }>;
  approvals: Array<{ runbook: string; role: string; waiting: number; oldestSeconds: number | null }>;
  verdicts: Array<{ runbook: string; step: string; verdict: string }>;
}

type RunGaugeSource = () => Promise<RunGaugeSamples>;
let runGaugeSource: RunGaugeSource | null = null;
let inFlight: Promise<RunGaugeSamples | null> | null = null;

/**
 * Where the run gauges come from (web: fold the active runs in Redis at
 * scrape time). A process that never sets it (the worker) exports them empty,
 * so summing over processes never counts a run twice.
 */
export function setActiveRunsSource(source: RunGaugeSource | null): void {
  runGaugeSource = source;
  inFlight = null;
}

/**
 * One reading serves the five run gauges of a scrape: the registry starts
 * every collect in the same tick, so they all join the reading in flight.
 * The next scrape reads afresh.
 */
function readRunGauges(): Promise<RunGaugeSamples | null> {
  const source = runGaugeSource;
  if (!source) return Promise.resolve(null);
  if (inFlight) return inFlight;
  const reading = source()
    .catch(() => {
      scrapeErrorsCounter.inc({ source: 'runs' });
      return null;
    })
    .finally(() => {
      if (inFlight === reading) inFlight = null;
    });
  inFlight = reading;
  return reading;
}

/**
 * A gauge's collect that refills it from this scrape's reading of the active
 * runs. Reset first: a run that finished since the last scrape must
 * disappear, not linger at its last value.
 */
function fromActiveRuns<L extends string>(fill: (gauge: Gauge<L>, samples: RunGaugeSamples) => void): (this: Gauge<L>) => Promise<void> {
  return async function (this: Gauge<L>) {
    const samples = await readRunGauges();
    this.reset();
    if (samples) fill(this, samples);
  };
}
