import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { assessHealth } from '../../runbook/health-alert.js';
import type { HealthPolicy } from '../../runbook/health-policy.js';
import { emptyHealth, type DatabaseHealth, type HealthSample } from '../../runbook/health-sample.js';

/** One database to watch: sampling may throw or hang; the watch copes with both. */
export interface DatabaseProbe {
  connection: string;
  kind: DatabaseHealth['kind'];
  sample(): Promise<DatabaseHealth>;
  /** Drops the connection (a hung or broken one); the next sample reconnects. Never throws. */
  reset(): Promise<void>;
}

export interface HealthWatchOptions {
  probes: readonly DatabaseProbe[];
  policy: HealthPolicy;
  /** Records a sample (as a run event); a failure is logged and the watch goes on. */
  report: (sample: HealthSample) => Promise<void>;
  /** Fires when the step ends: the watch stops, closes its connections and resolves. */
  signal: AbortSignal;
  /** Scrubs passwords and URLs out of driver messages before they reach a sample. */
  redact: (text: string) => string;
  log: Logger;
  now?: () => number;
  /** An unchanged sample is reported again after this long, so the thread shows it is still being watched. */
  heartbeatMs?: number;
  /** A database that has not answered within this long is reported as an error and its connection dropped. */
  sampleTimeoutMs?: number;
}

/**
 * Samples every probe after a short settling delay (the interval, at most
 * 5 s: a step over in a moment is not worth a look), then every
 * `policy.intervalSeconds`, until the signal fires. Each sample is assessed against the thresholds and
 * reported when it differs from the last one reported (a wait started or
 * ended, a finding, an error, a new long statement) or the heartbeat is due,
 * so a quiet step adds about one event a minute. Never rejects: a database
 * that fails is an error inside the sample, never a failure of the step.
 */
export async function watchHealth(opts: HealthWatchOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  const heartbeat = opts.heartbeatMs ?? 60_000;
  const timeoutMs = opts.sampleTimeoutMs ?? Math.max(5000, Math.min(opts.policy.intervalSeconds * 1000, 30_000));
  let last: { at: number; signature: string } | null = null;
  const pause = (seconds: number): Promise<unknown> => sleep(seconds * 1000, undefined, { signal: opts.signal }).catch(() => undefined);
  try {
    await pause(Math.min(opts.policy.intervalSeconds, 5));
    while (!opts.signal.aborted) {
      const databases = await Promise.all(opts.probes.map((p) => sampleOne(p, timeoutMs, opts.redact, opts.signal)));
      if (opts.signal.aborted) break;
      const sample: HealthSample = { at: now(), databases, findings: assessHealth(databases, opts.policy), complete: databases.every((d) => d.error === null) };
      if (shouldReport(last, sample, heartbeat)) {
        try {
          await opts.report(sample);
          last = { at: sample.at, signature: sampleSignature(sample) };
        } catch (err) {
          opts.log.warn({ err }, 'health sample not recorded');
        }
      }
      await pause(opts.policy.intervalSeconds);
    }
  } catch (err) {
    // Only a bug lands here; the step must not pay for it.
    opts.log.error({ err }, 'health watch stopped');
  } finally {
    await Promise.all(opts.probes.map((p) => p.reset()));
  }
}

async function sampleOne(probe: DatabaseProbe, timeoutMs: number, redact: (text: string) => string, signal: AbortSignal): Promise<DatabaseHealth> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  // The step ending does not wait for a slow sample: the connection is dropped like a timed-out one.
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    onAbort = () => resolve('timeout');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const outcome = await Promise.race([probe.sample(), timedOut]);
    if (outcome !== 'timeout') return outcome;
    await probe.reset();
    return emptyHealth(probe.connection, probe.kind, `no answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)}s` : `${timeoutMs} ms`}`);
  } catch (err) {
    await probe.reset();
    return emptyHealth(probe.connection, probe.kind, redact(err instanceof Error ? err.message : String(err)));
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * What a reader of the thread would notice changing: which sessions wait and
 * on whom, findings, errors, long statements, deadlocks, replica states,
 * whole percent of disk free. Ages and byte counts move every sample and are
 * left out, so they alone do not add events.
 */
export function sampleSignature(s: HealthSample): string {
  return JSON.stringify({
    findings: s.findings.map((f) => [f.kind, f.connection, f.session]),
    databases: s.databases.map((d) => [
      d.connection,
      d.error,
      d.waitingTotal,
      d.waiting.map((w) => [w.session, w.headBlocker]),
      d.longTotal,
      d.long.map((l) => l.session),
      d.deadlocks,
      d.replication?.map((r) => [r.name, r.state]) ?? null,
      d.disk?.map((v) => (v.totalBytes > 0 ? Math.floor((v.freeBytes / v.totalBytes) * 100) : 0)) ?? null,
      d.notes,
    ]),
  });
}

/** Whether a sample is worth an event: the first one, a change, or the heartbeat. */
export function shouldReport(last: { at: number; signature: string } | null, sample: HealthSample, heartbeatMs: number): boolean {
  return last === null || last.signature !== sampleSignature(sample) || sample.at - last.at >= heartbeatMs;
}
