/**
 * Is web's event loop free while the heavy things happen (issue 14)? Starts a
 * real web and worker on Redis against the fake Slack, and measures web's
 * event-loop delay (perf_hooks.monitorEventLoopDelay, read from
 * GET /debug/event-loop, served under NODE_ENV=test) and the latency of
 * GET /healthz polled every 50 ms, in four phases:
 *   idle · a 3,000-step run completes (its steps approved in batches, then the
 *   end-of-run report and timeline) · a 3,000-step run aborted after 1,000 steps ·
 *   oversized commands (1 MB words, 5,000-character names, `/migrate runbooks`
 *   re-parsing the 0.8 MB runbook after each edit).
 * Goals: event-loop delay p99 < 100 ms, /healthz < 200 ms. Prints one line per phase.
 *
 *   npm run bench:web [-- steps]   (default 3000; REDIS_URL, TEST_DATABASE_URL as for the tests)
 *
 * Next to each /healthz the probe PINGs Redis itself: /healthz pings Redis, and a
 * Redis shared with other test runs can be slow on its own.
 *
 * BENCH_WEB_TRACE=1 prints, every 10 s on stderr, the Slack calls so far by
 * method and web's last log lines: where a phase that does not end is stuck.
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { decide, type Command } from '../runbook/decide.js';
import type { RunEvent } from '../runbook/events.js';
import { allSteps } from '../runbook/plan.js';
import { evolve, fold, isFinished, type RunState } from '../runbook/state.js';
import { createInstallation, eventually, type Installation } from '../test/support/cutover-processes.js';
import { ephemeralTexts, migrate, migrateConfirmed } from '../test/support/cutover-slack.js';
import { startFakeSlack, type FakeSlack } from '../test/support/fake-slack.js';

const STEPS = Number(process.argv[2] ?? 3000);
const GOAL_P99_MS = 100;
const GOAL_HEALTHZ_MS = 200;
const LEAD = 'U0LEAD';
const APPROVER = 'U0LEAD2';

/** STEPS manual steps in phases of 100, with descriptions long enough for a file of about 0.8 MB at 3,000 steps. */
function bigRunbook(title: string): string {
  const lines = [`title: ${title}`, 'roles:', `  lead: { title: Lead, members: [${LEAD}, ${APPROVER}] }`, 'phases:'];
  for (let p = 0; p * 100 < STEPS; p++) {
    lines.push(`  - id: phase-${p}`, `    title: Phase ${p}`, '    steps:');
    for (let i = p * 100; i < Math.min(STEPS, (p + 1) * 100); i++) {
      lines.push(`      - id: step-${i}`, `        title: Check item ${i} of the cutover checklist`, '        approve: lead', '        action: manual', '        planned: 1m');
      lines.push(`        description: ${'Confirm with the application owner that this item holds before going on. '.repeat(2)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

interface Figures {
  phase: string;
  p99: number;
  max: number;
  healthzMax: number;
  healthzSlow: number;
  /** The slowest PING of the Redis server itself, sent with each /healthz. */
  redisMax: number;
  probes: number;
  seconds: number;
}

/**
 * Polls /healthz every 50 ms, one request at a time, from a worker thread of
 * its own: on the bench's main thread the probe's answers waited behind the
 * bench's own work (folding 100 approvals of a 3,000-step run, the fake
 * Slack taking 3,000 posts) and the bench measured itself, not web.
 */
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
let latencies = [];
let pings = [];
let running = true;
parentPort.on('message', (m) => {
  if (m === 'take') { parentPort.postMessage({ latencies, pings }); latencies = []; pings = []; }
  if (m === 'stop') running = false;
});
// Redis's own answer time, next to /healthz (which pings Redis): a shared Redis server that is slow shows here, not in web.
const redis = net.connect(Number(workerData.redisPort), workerData.redisHost);
redis.on('error', () => {});
let pong = null;
redis.on('data', () => { if (pong) { pong(); pong = null; } });
const ping = () => new Promise((resolve) => { const t = performance.now(); pong = () => resolve(performance.now() - t); redis.write('PING\\r\\n'); setTimeout(() => resolve(30000), 30000).unref(); });
(async () => {
  while (running) {
    const started = performance.now();
    const [, redisMs] = await Promise.all([
      fetch(workerData.botUrl + '/healthz', { signal: AbortSignal.timeout(30000) }).catch(() => undefined),
      ping(),
    ]);
    // A timeout counts as its full latency.
    latencies.push(performance.now() - started);
    pings.push(redisMs);
    await new Promise((r) => setTimeout(r, 50));
  }
  redis.end();
  parentPort.close();
})();
`;

interface ProbeSample {
  latencies: number[];
  pings: number[];
}

function healthProbe(botUrl: string): { take: () => Promise<ProbeSample>; stop: () => Promise<void> } {
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const worker = new Worker(PROBE_SOURCE, { eval: true, workerData: { botUrl, redisHost: redisUrl.hostname, redisPort: redisUrl.port || '6379' } });
  return {
    take: () =>
      new Promise((resolve) => {
        worker.once('message', (sample: ProbeSample) => resolve(sample));
        worker.postMessage('take');
      }),
    stop: async () => {
      worker.postMessage('stop');
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}

async function loopDelay(botUrl: string, reset: boolean): Promise<{ p99: number; max: number }> {
  const res = await fetch(`${botUrl}/debug/event-loop${reset ? '?reset=1' : ''}`);
  return (await res.json()) as { p99: number; max: number };
}

function print(r: Figures): void {
  const ok = r.p99 < GOAL_P99_MS && r.healthzMax < GOAL_HEALTHZ_MS;
  console.log(
    `${r.phase.padEnd(28)} loop delay p99 ${String(r.p99).padStart(7)} ms  max ${String(r.max).padStart(8)} ms  /healthz max ${String(r.healthzMax).padStart(6)} ms (${r.healthzSlow} of ${r.probes} ≥ ${GOAL_HEALTHZ_MS} ms)  redis PING max ${String(r.redisMax).padStart(4)} ms  ${String(r.seconds).padStart(4)} s  ${ok ? 'ok' : 'MISSES'}`,
  );
}

async function measure(inst: Installation, probe: ReturnType<typeof healthProbe>, phase: string, work: () => Promise<void>): Promise<Figures> {
  await loopDelay(inst.botUrl, true);
  await probe.take();
  const started = performance.now();
  await work();
  const seconds = Math.round((performance.now() - started) / 1000);
  const delay = await loopDelay(inst.botUrl, true);
  const { latencies, pings } = await probe.take();
  const figures = {
    phase,
    p99: delay.p99,
    max: delay.max,
    healthzMax: Math.round(Math.max(0, ...latencies)),
    healthzSlow: latencies.filter((l) => l >= GOAL_HEALTHZ_MS).length,
    probes: latencies.length,
    redisMax: Math.round(Math.max(0, ...pings)),
    seconds,
  };
  print(figures);
  return figures;
}

/**
 * Approves every waiting step as the second lead would by clicking, but
 * decided here against one folded state and appended in batches: 3,000
 * signed clicks would measure the bench's patience, not web.
 */
async function approveSteps(inst: Installation, runId: string, count: number): Promise<RunState> {
  const { events, version: start } = await inst.store.load(runId);
  let state = fold(events) as RunState;
  let version = start;
  const ids = allSteps(state.plan).map((s) => s.id).slice(0, count);
  for (let i = 0; i < ids.length; i += 100) {
    const batch: RunEvent[] = [];
    for (const stepId of ids.slice(i, i + 100)) {
      const command: Command = { type: 'approve', at: Date.now(), actor: { id: APPROVER }, stepId, attempt: state.steps[stepId]?.attempt ?? 1 };
      const decision = decide(state, command);
      if (!decision.ok) throw new Error(`approve ${stepId}: ${decision.message}`);
      for (const event of decision.events) state = evolve(state, event) as RunState;
      batch.push(...decision.events);
      for (const effect of decision.effects) if (effect.type === 'slot.release') await inst.store.release(effect.runbook, effect.runId);
    }
    const appended = await inst.store.append(runId, version, batch);
    if (!appended.ok) throw new Error(`append conflict at ${version}`);
    version = appended.version;
    await inst.redis.publish(`${inst.prefix}:run-updates`, runId);
  }
  return state;
}

async function reportUploaded(fake: FakeSlack, runId: string): Promise<void> {
  await fake.waitFor(() => [...fake.files.values()].some((f) => f.filename === `${runId}-timeline.png` && f.completed), 600_000);
}

async function main(): Promise<void> {
  const fake = await startFakeSlack();
  const inst = await createInstallation(fake.apiUrl, { big: bigRunbook('Big completed'), bigabort: bigRunbook('Big aborted') });
  // Slack's own pace, the product's defaults: one post a second per channel, one render of a run a second.
  const extra: Record<string, string> = { NODE_ENV: 'test', SLACK_POST_INTERVAL_MS: '1000', RENDER_INTERVAL_MS: '1000', ...(process.env.BENCH_WEB_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_WEB_NODE_OPTIONS } : {}) };
  const results: Figures[] = [];
  try {
    const web = await inst.startWeb(extra);
    const worker = await inst.startWorker(extra);
    if (process.env.BENCH_WEB_TRACE) {
      const t0 = Date.now();
      setInterval(() => {
        const by: Record<string, number> = {};
        for (const c of fake.calls) by[`${c.method}${c.status === 429 ? '(429)' : ''}`] = (by[c.method] ?? 0) + 1;
        console.error(`[${Math.round((Date.now() - t0) / 1000)}s] calls ${JSON.stringify(by)} web: ${web.output.slice(-2).join(' | ').slice(0, 400)} worker: ${worker.output.slice(-1).join('').slice(0, 200)}`);
      }, 10_000).unref();
    }
    const probe = healthProbe(inst.botUrl);
    results.push(await measure(inst, probe, 'idle (3 s)', () => new Promise((r) => setTimeout(r, 3000))));

    results.push(
      await measure(inst, probe, `${STEPS}-step run completes`, async () => {
        await migrate(inst.botUrl, LEAD, 'start big');
        const runId = await eventually(() => inst.activeRunId('big'), 120_000, 'the big run started');
        const state = await approveSteps(inst, runId, STEPS);
        if (!isFinished(state)) throw new Error('the big run did not finish');
        await reportUploaded(fake, runId);
      }),
    );

    results.push(
      await measure(inst, probe, `${STEPS}-step run aborted`, async () => {
        await migrate(inst.botUrl, LEAD, 'start bigabort');
        const runId = await eventually(() => inst.activeRunId('bigabort'), 120_000, 'the run to abort started');
        await approveSteps(inst, runId, Math.floor(STEPS / 3));
        await migrateConfirmed(fake, inst.botUrl, LEAD, 'abort bigabort bench: aborted on purpose');
        await eventually(async () => isFinished((await inst.state(runId)) as RunState), 120_000, 'the run aborted');
        await reportUploaded(fake, runId);
      }),
    );

    results.push(
      await measure(inst, probe, 'oversized commands', async () => {
        for (let i = 0; i < 10; i++) {
          // An edit (written whole, then renamed in, as an editor or a deploy would) makes the next listing parse the runbook again.
          const file = join(inst.runbooksDir, 'big.yaml');
          await writeFile(`${file}.tmp`, `${bigRunbook('Big completed')}# edit ${i}\n`);
          await rename(`${file}.tmp`, file);
          const listed = ephemeralTexts(fake, 'U0OUT').filter((t) => t.includes('Big completed')).length;
          await Promise.all([
            migrate(inst.botUrl, 'U0OUT', `start ${'w'.repeat(1024 * 1024)}`),
            migrate(inst.botUrl, 'U0OUT', `start ${'k'.repeat(5000)}`),
            migrate(inst.botUrl, 'U0OUT', 'runbooks'),
          ]);
          await fake.waitFor(() => ephemeralTexts(fake, 'U0OUT').filter((t) => t.includes('Big completed')).length > listed || undefined, 120_000);
        }
      }),
    );
    await probe.stop();
  } finally {
    await inst.cleanup();
    await fake.close();
  }

  console.log(`\nweb responsiveness (${STEPS} steps; goals: event-loop delay p99 < ${GOAL_P99_MS} ms, /healthz < ${GOAL_HEALTHZ_MS} ms)`);
  for (const r of results) print(r);
  process.exit(results.every((r) => r.p99 < GOAL_P99_MS && r.healthzMax < GOAL_HEALTHZ_MS) ? 0 : 1);
}

await main();
