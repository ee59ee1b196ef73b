import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { sampleSignature, shouldReport, watchHealth, type DatabaseProbe } from '../../engine/health/sampler.js';
import type { DatabaseHealth, HealthSample } from '../../runbook/health-sample.js';
import { blockedFor, database, POLICY, sampleOf } from '../support/health-fixture.js';

const log = pino({ level: 'silent' });
const FAST = { ...POLICY, intervalSeconds: 0.02 };

/** A probe answering from a script of readings (the last one repeats), counting resets. */
function scripted(readings: Array<DatabaseHealth | Error | 'hang'>, connection = 'target'): DatabaseProbe & { resets: number; calls: number } {
  const probe = {
    connection,
    kind: 'postgres' as const,
    resets: 0,
    calls: 0,
    async sample(): Promise<DatabaseHealth> {
      const r = readings[Math.min(probe.calls++, readings.length - 1)];
      if (r === 'hang') return new Promise(() => undefined);
      if (r instanceof Error || r === undefined) throw r ?? new Error('no reading');
      return r;
    },
    async reset() {
      probe.resets++;
    },
  };
  return probe;
}

/** Runs the watch until `until` holds for the reports, then stops it as the step's end would. */
async function watch(probes: DatabaseProbe[], until: (reports: HealthSample[]) => boolean, opts: { heartbeatMs?: number; sampleTimeoutMs?: number } = {}) {
  const reports: HealthSample[] = [];
  const step = new AbortController();
  let clock = 0;
  const done = watchHealth({
    probes, policy: FAST, signal: step.signal, log, redact: (t) => t.replaceAll('hunter2', '***'), now: () => (clock += 1000),
    report: async (s) => {
      reports.push(s);
    },
    heartbeatMs: opts.heartbeatMs ?? 60_000,
    sampleTimeoutMs: opts.sampleTimeoutMs ?? 1000,
  });
  const deadline = Date.now() + 5000;
  while (!until(reports) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  step.abort();
  await done;
  return reports;
}

describe('the health watch', () => {
  it('reports the first sample, then only changes: a wait over threshold, its clearing', async () => {
    const probe = scripted([database(), database(), blockedFor(30), blockedFor(61), blockedFor(75), database(), database()]);
    const reports = await watch([probe], () => probe.calls >= 8);
    expect(reports.map((r) => [r.databases[0]?.waitingTotal, r.findings.length])).toEqual([[0, 0], [1, 0], [1, 1], [0, 0]]);
    expect(reports[2]?.findings[0]?.kind).toBe('blocking');
  });

  it('repeats an unchanged sample once the heartbeat is due', async () => {
    const probe = scripted([database()]);
    // The fake clock moves 1 s per sample: a 3 s heartbeat reports every third sample.
    const reports = await watch([probe], () => probe.calls >= 7, { heartbeatMs: 3000 });
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports.length).toBeLessThan(probe.calls);
  });

  it('a database that throws is an error in the sample (password scrubbed), the others are still sampled, and the connection is dropped', async () => {
    const failing = scripted([new Error('password authentication failed: hunter2')], 'source');
    const fine = scripted([blockedFor(90)]);
    const reports = await watch([failing, fine], (r) => r.length >= 1);
    const [sample] = reports;
    expect(sample?.databases.map((d) => [d.connection, d.error])).toEqual([['source', 'password authentication failed: ***'], ['target', null]]);
    expect(sample?.complete).toBe(false);
    expect(sample?.findings).toHaveLength(1);
    expect(failing.resets).toBeGreaterThanOrEqual(1);
  });

  it('a database that hangs is reported after the sample timeout and its connection dropped; the step is never held up', async () => {
    const hung = scripted(['hang']);
    const reports = await watch([hung], (r) => r.length >= 1, { sampleTimeoutMs: 50 });
    expect(reports[0]?.databases[0]?.error).toBe('no answer within 50 ms');
    expect(hung.resets).toBeGreaterThanOrEqual(1);
  });

  it('stops when the step ends, even in the middle of a hanging sample, and closes its connections', async () => {
    const hung = scripted(['hang']);
    const step = new AbortController();
    const reports: HealthSample[] = [];
    const done = watchHealth({ probes: [hung], policy: POLICY, signal: step.signal, log, redact: (t) => t, report: async (s) => void reports.push(s), sampleTimeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 20));
    const stoppedAt = Date.now();
    step.abort();
    await done;
    expect(Date.now() - stoppedAt).toBeLessThan(1000);
    expect(reports).toEqual([]);
    expect(hung.resets).toBeGreaterThanOrEqual(1);
  });

  it('a report that fails (Redis away) is logged and the watch goes on', async () => {
    const probe = scripted([database(), blockedFor(90)]);
    let attempts = 0;
    const step = new AbortController();
    const done = watchHealth({
      probes: [probe], policy: FAST, signal: step.signal, log, redact: (t) => t,
      report: async () => {
        attempts++;
        throw new Error('redis down');
      },
    });
    while (attempts < 3) await new Promise((r) => setTimeout(r, 5));
    step.abort();
    await expect(done).resolves.toBeUndefined();
  });
});

describe('what counts as a change', () => {
  it('ages and byte counts alone are no change; a new waiter, a finding, an error or a whole percent of disk are', () => {
    const base = sampleOf([blockedFor(30)]);
    const sig = sampleSignature(base);
    expect(sampleSignature(sampleOf([blockedFor(45)]))).toBe(sig);
    expect(sampleSignature(sampleOf([blockedFor(61)]))).not.toBe(sig);
    expect(sampleSignature(sampleOf([{ ...blockedFor(30), error: 'timeout' }]))).not.toBe(sig);
    const disk = (free: number) => sampleOf([blockedFor(30, { disk: [{ path: '/', tablespaces: ['pg_default'], freeBytes: free, totalBytes: 1000, tablespaceBytes: 1 }] })]);
    expect(sampleSignature(disk(415))).toBe(sampleSignature(disk(419)));
    expect(sampleSignature(disk(415))).not.toBe(sampleSignature(disk(405)));
  });

  it('shouldReport: the first sample, a change, or the heartbeat', () => {
    const s = sampleOf([database()], 10_000);
    expect(shouldReport(null, s, 60_000)).toBe(true);
    expect(shouldReport({ at: 0, signature: sampleSignature(s) }, s, 60_000)).toBe(false);
    expect(shouldReport({ at: 0, signature: 'other' }, s, 60_000)).toBe(true);
    expect(shouldReport({ at: 0, signature: sampleSignature(s) }, s, 10_000)).toBe(true);
  });
});
