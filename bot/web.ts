import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { StateBackend } from '../config/backend.js';
import type { Env } from '../config/env.js';
import { setActiveRunsSource } from '../config/metrics.js';
import { LeaderLease } from '../config/redis-lock.js';
import { recordRunEvents, runGaugeSamples } from '../config/run-metrics.js';
import { RunbookFiles } from '../config/runbook-files.js';
import { reconcileRuns } from '../runbook/reconcile.js';
import { RunService } from '../runbook/run-service.js';
import { ActorResolver } from './actors.js';
import { createBoltApp } from './app.js';
import { LatestRuns } from './latest-runs.js';
import type { BotDeps } from './deps.js';
import { Notifier } from './escalation/notifier.js';
import { HealthNotices } from './escalation/health-notices.js';
import { RunPolicies } from './escalation/run-policy.js';
import { RunSweep } from './escalation/run-sweep.js';
import { FollowUpSweep } from './follow-ups/follow-up-sweep.js';
import { HomePublisher } from './home/home-publisher.js';
import { registerAckButtons } from './listeners/actions/ack-buttons.js';
import { registerHomeButtons } from './listeners/actions/home-buttons.js';
import { registerAppHome } from './listeners/events/app-home.js';
import { registerModalSubmissions } from './listeners/views/modal-submissions.js';
import { AlertPager } from './paging/alert-pager.js';
import { HttpPager } from './paging/http-pager.js';
import { registerConfirmButtons } from './listeners/actions/confirm-buttons.js';
import { registerEscalationButtons } from './listeners/actions/escalation-buttons.js';
import { registerFollowUpButtons } from './listeners/actions/follow-up-buttons.js';
import { registerGateButtons } from './listeners/actions/gate-buttons.js';
import { registerGoNoGoButtons } from './listeners/actions/go-no-go-buttons.js';
import { registerRollCallButtons } from './listeners/actions/rollcall-buttons.js';
import { registerRollbackButtons } from './listeners/actions/rollback-buttons.js';
import { registerStepButtons } from './listeners/actions/step-buttons.js';
import { registerMigrateCommand } from './listeners/commands/migrate.js';
import { GateReports } from './report/gate-report.js';
import { ThreadHeavyWork } from './offload/heavy-work.js';
import { UserNames } from './people/user-names.js';
import { ReportService } from './report/report-service.js';
import { RunHistory } from './report/run-history.js';
import { RunPublisher } from './run-publisher.js';
import { ScheduleSweep } from './schedule/schedule-sweep.js';
import { startRun } from './start-run.js';
import { startSweeper } from './sweeper.js';

export interface WebProcess {
  /** The HTTP port Bolt listens on (PORT, or the one the system chose for PORT=0); null in Socket Mode. */
  readonly port: number | null;
  /** Stops listening and settles in-flight renders; the backend stays open (its owner closes it). */
  stop(): Promise<void>;
}

export function newRunId(runbook: string, at: number): string {
  const stamp = new Date(at).toISOString().replace(/[-:]/g, '').slice(0, 13).replace('T', '-');
  return `${runbook}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/**
 * The web process: Bolt, the renderer and the reconciler. It holds no run
 * state in memory: after a restart it re-reads every active run from the
 * backend, brings its Slack messages up to date and carries on.
 */
/** `host` binds Bolt's HTTP server to one interface (local mode: loopback only); default every interface, as Slack must reach it. */
export async function startWeb(env: Env, log: Logger, backend: StateBackend, options: { host?: string } = {}): Promise<WebProcess> {
  // The offset is for tests (T-24h reminders in seconds); it is read once so the clock never jumps mid-run.
  const offset = env.CUTOVER_CLOCK_OFFSET_MS;
  const now = (): number => Date.now() + offset;
  const { store, queue, refs, followUps } = backend;
  // The folds web makes anyway (renders, its own commands), for the metrics gauges.
  const latest = new LatestRuns((runId) => service.load(runId));
  const service = new RunService({
    store,
    queue,
    updates: backend.updates,
    followUps,
    observe: (state, events) => {
      recordRunEvents(state, events);
      latest.remember(state);
    },
  });
  // Run gauges come from the active runs' folds at scrape time: no counters of runs by state to drift from the events.
  setActiveRunsSource(async () => runGaugeSamples(await latest.active((await service.activeRunIds()).map((a) => a.runId)), now()));
  const app = createBoltApp(env, log, () => backend.health());
  const history = new RunHistory({ runs: service, now });
  const names = new UserNames({ client: app.client, cache: backend.names, log: log.child({ component: 'user-names' }) });
  // Reports, timelines and runbook parsing run on a worker thread, so Slack's requests and /healthz never wait behind them (issue 14).
  const heavy = new ThreadHeavyWork(log.child({ component: 'heavy-work' }));
  const reports = new ReportService({ client: app.client, runs: service, history, names, log, now, build: (...args) => heavy.reportFiles(...args) });
  const gateReports = new GateReports({ client: app.client, refs, log, now, names: (ids) => names.names(ids) });
  const runbooks = new RunbookFiles(env.RUNBOOKS_DIR, process.env, (input) => heavy.loadRunbook(input));
  const notifier = new Notifier(app.client, log.child({ component: 'notifier' }));
  const policies = new RunPolicies({ runbooks, env: process.env, log, parse: (input) => heavy.loadRunbook(input) });
  const pager = new AlertPager({
    pager: new HttpPager(
      {
        pagerduty: env.PAGERDUTY_ROUTING_KEY ? { routingKey: env.PAGERDUTY_ROUTING_KEY, eventsUrl: env.PAGERDUTY_EVENTS_URL } : null,
        webhook: env.PAGE_WEBHOOK_URL && env.PAGE_WEBHOOK_SECRET ? { url: env.PAGE_WEBHOOK_URL, secret: env.PAGE_WEBHOOK_SECRET } : null,
      },
      log.child({ component: 'pager' }),
    ),
    policies,
    service,
    refs,
    notifier,
    log,
    now,
  });
  const healthNotices = new HealthNotices({ service, refs, notifier, policies, log, now });
  const publisher = new RunPublisher({
    client: app.client,
    refs,
    history: (state) => history.stepHistory(state),
    onFinished: (state, rootTs) => reports.publishFinished(state, rootTs),
    beforeStep: (state, planStep, step, rootTs, messageRefs) => gateReports.beforeStep(state, planStep, step, rootTs, messageRefs),
    afterRender: async (state) => {
      // Before the health notices: they forget a finished run's policy, which the pager still needs for its resolve.
      await pager.afterRender(state);
      await healthNotices.afterRender(state);
    },
    now,
    load: (runId) => latest.load(runId),
    log,
    minIntervalMs: env.RENDER_INTERVAL_MS,
    postIntervalMs: env.SLACK_POST_INTERVAL_MS,
  });
  const actors = new ActorResolver(app.client);
  const home = new HomePublisher({ client: app.client, service, schedules: backend.schedules, actors, refs, log: log.child({ component: 'home' }), now });
  const deps: BotDeps = {
    service,
    runbooks,
    publisher,
    dedup: backend.dedup,
    actors,
    log,
    now,
    newRunId,
    schedules: backend.schedules,
    reports,
    refs,
    followUps,
    home,
  };
  registerMigrateCommand(app, deps);
  registerAppHome(app, deps);
  registerHomeButtons(app, deps);
  registerModalSubmissions(app, deps);
  registerStepButtons(app, deps);
  registerEscalationButtons(app, deps);
  registerGoNoGoButtons(app, deps);
  registerGateButtons(app, deps);
  registerRollCallButtons(app, deps);
  registerRollbackButtons(app, deps);
  registerFollowUpButtons(app, deps);
  registerConfirmButtons(app, deps);
  registerAckButtons(app, deps, pager);
  app.error(async (err) => {
    log.error({ err: err.message, code: err.code }, 'bolt error');
  });

  const unsubscribe = await backend.updates.subscribe((runId) => {
    void publisher.request(runId);
    // Homes of the people involved follow the run (coalesced and rate-limited in the home publisher).
    void latest.load(runId).then((state) => (state ? home.runChanged(state) : undefined)).catch((err: unknown) => log.warn({ err, runId }, 'home refresh failed'));
  });
  const sweep = async () => {
    const report = await reconcileRuns({ store, queue, service, now });
    // Rendering every active run also refreshes elapsed times and catches notices missed while down.
    await Promise.all((await service.activeRunIds()).map((a) => publisher.request(a.runId)));
    if (report.requeued.length || report.failed.length || report.released.length) log.warn(report, 'reconciled runs');
    // Once per run and entry, not every sweep: the run stays stopped until someone repairs it, and /migrate status says so meanwhile.
    for (const { runId, message } of report.unreadable) {
      if (reportedUnreadable.has(message)) continue;
      reportedUnreadable.add(message);
      log.error({ runId, code: 'run.corrupt_event', err: message }, 'run stopped: its history cannot be read');
    }
  };
  const reportedUnreadable = new Set<string>();
  const timer = setInterval(() => void sweep().catch((err: unknown) => log.error({ err }, 'reconcile failed')), env.RECONCILE_INTERVAL_MS);

  const server: unknown = await (options.host ? app.start({ port: env.PORT, host: options.host }) : app.start(env.PORT));
  await sweep();
  const runSweep = new RunSweep({ service, refs, notifier, policies, log, now, pager });
  const followUpSweep = new FollowUpSweep({ service, index: followUps, refs, notifier, policies: new RunPolicies({ runbooks: deps.runbooks, env: process.env, log, parse: (input) => heavy.loadRunbook(input) }), log, now });
  const scheduleSweep = new ScheduleSweep({ schedules: deps.schedules, runbooks: deps.runbooks, service, notifier, start: (req) => startRun(deps, req), log, now });
  const sweeper = startSweeper({
    // Three ticks of slack before another web process may take over from a silent leader.
    lease: new LeaderLease(backend.lock('escalation-sweep', Math.max(5000, env.ESCALATION_SWEEP_SECONDS * 3000))),
    seconds: env.ESCALATION_SWEEP_SECONDS,
    log,
    tasks: [
      { name: 'escalations', run: () => runSweep.sweep() },
      { name: 'schedules', run: () => scheduleSweep.sweep() },
      { name: 'follow-ups', run: () => followUpSweep.sweep() },
    ],
  });
  const port = listeningPort(server);
  log.info({ port: port ?? env.PORT, socketMode: Boolean(env.SLACK_APP_TOKEN), state: backend.kind }, 'web ready');

  return {
    port,
    async stop() {
      setActiveRunsSource(null);
      clearInterval(timer);
      await sweeper.stop();
      await app.stop();
      home.stop();
      await publisher.idle();
      await home.idle();
      await unsubscribe();
      await heavy.stop();
    },
  };
}

/** The port of the HTTP server Bolt's receiver returns from start(); null for Socket Mode. */
function listeningPort(server: unknown): number | null {
  if (typeof server !== 'object' || server === null || !('address' in server) || typeof server.address !== 'function') return null;
  const address: unknown = server.address();
  return typeof address === 'object' && address !== null && 'port' in address && typeof address.port === 'number' ? address.port : null;
}
