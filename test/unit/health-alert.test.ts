import { describe, expect, it } from 'vitest';
import { assessHealth, blockedReason, clearedReason, whenStepEnds, withSample, type StepHealth } from '../../runbook/health-alert.js';
import { healthPolicyOf, healthSchema } from '../../runbook/health-policy.js';
import { emptyHealth } from '../../runbook/health-sample.js';
import { loadRunbook } from '../../runbook/load.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { blockedFor, database, head, POLICY, sampleOf, waiter } from '../support/health-fixture.js';
import { deepFreeze } from '../support/runbook-factory.js';

describe('the runbook health: block', () => {
  it('defaults to a sample every 15 s, alerts after 1 minute of blocking or lock wait, lists statements over 10 minutes', () => {
    expect(healthPolicyOf(healthSchema.parse(undefined))).toEqual({ enabled: true, intervalSeconds: 15, blockSeconds: 60, lockWaitSeconds: 60, longStatementSeconds: 600 });
    expect(healthPolicyOf(healthSchema.parse({ interval: '2s', block_threshold: '30s', lock_wait_threshold: '2m', long_statement: '1h' }))).toEqual({
      enabled: true, intervalSeconds: 2, blockSeconds: 30, lockWaitSeconds: 120, longStatementSeconds: 3600,
    });
  });

  it('is checked with the runbook: a bad value is reported at its path in the file', () => {
    const text = [
      'title: t',
      'roles: { dba: { title: DBA, members: [U1] } }',
      'health: { interval: 0s, block_threshold: soon }',
      'phases: [{ id: p, title: P, steps: [{ id: s, title: S, approve: dba, action: manual }] }]',
    ].join('\n');
    const result = loadRunbook({ name: 'x', file: 'x.yaml', text, env: {} });
    expect(result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'health.interval: expected an interval between 1s and 10m',
      'health.block_threshold: expected a duration like "30s", "5m" or "1h30m", got "soon"',
    ]);
    const fine = loadRunbook({ name: 'x', file: 'x.yaml', text: text.replace('health: { interval: 0s, block_threshold: soon }', 'health: { enabled: false }'), env: {} });
    expect(fine.ok && fine.runbook.doc.health).toEqual({ enabled: false, interval: 15, block_threshold: 60, lock_wait_threshold: 60, long_statement: 600 });
  });

  it('refuses an interval under a second or over ten minutes, and unknown keys', () => {
    expect(healthSchema.safeParse({ interval: '0s' }).error?.issues[0]?.message).toBe('expected an interval between 1s and 10m');
    expect(healthSchema.safeParse({ interval: '11m' }).success).toBe(false);
    expect(healthSchema.safeParse({ block_treshold: '1m' }).success).toBe(false);
  });
});

describe('which steps are watched', () => {
  it('every ETL, validation, backup and restore action of the catalog, and nothing else', () => {
    const watched = Object.values(ACTIONS).filter((a) => a.watchHealth).map((a) => a.id).sort();
    const longDatabaseWork = Object.keys(ACTIONS).filter((id) => /^(etl|validate|backup|restore)\.|^(load|extract)$/.test(id)).sort();
    expect(watched).toEqual(longDatabaseWork);
    expect(watched).toEqual(expect.arrayContaining(['etl.copy', 'etl.sync', 'load', 'extract', 'validate.counts', 'restore.postgres', 'backup.mssql']));
  });
});

describe('assessHealth: is this an alert', () => {
  it('a session blocked by another for at least block_threshold is a blocking finding naming waiter, wait and head blocker', () => {
    const [finding, ...rest] = assessHealth([blockedFor(60)], POLICY);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ kind: 'blocking', connection: 'target', session: 4711, ours: true, waitSeconds: 60, thresholdSeconds: 60 });
    expect(finding?.text).toBe(
      'target: pid 4711 (cutover: COPY "kgv"."antrag" FROM STDIN) has waited 1m on Lock:relation, blocked by pid 4690 (psql · bob@10.0.0.5, idle in transaction, transaction open 5m, last: LOCK TABLE kgv.antrag IN ACCESS EXCLUSIVE MODE)',
    );
  });

  it('a wait just under the threshold is no finding', () => {
    expect(assessHealth([blockedFor(59.9)], POLICY)).toEqual([]);
  });

  it('a lock wait with no blocking session named alerts on lock_wait_threshold, not block_threshold', () => {
    const db = database({ waiting: [waiter({ blockedBy: [], headBlocker: null, waitSeconds: 45 })], waitingTotal: 1 });
    expect(assessHealth([db], { blockSeconds: 10, lockWaitSeconds: 60 })).toEqual([]);
    const [f] = assessHealth([db], { blockSeconds: 10, lockWaitSeconds: 40 });
    expect(f).toMatchObject({ kind: 'lock_wait', thresholdSeconds: 40 });
    expect(f?.text).toContain('with no blocking session named');
  });

  it('a SQL Server wait blocked by another session that is not a lock (a latch) alerts as blocking', () => {
    const db = database({ kind: 'mssql', connection: 'source', waiting: [waiter({ session: 57, waitType: 'PAGELATCH_EX', lockWait: false, blockedBy: [61], headBlocker: 61, ours: false, who: 'app · kgv@web1' })], heads: [head({ session: 61, state: 'running', xactSeconds: null })] });
    const [f] = assessHealth([db], POLICY);
    expect(f?.kind).toBe('blocking');
    expect(f?.text).toContain('source: session 57 (app · kgv@web1');
    expect(f?.text).toContain('blocked by session 61 (psql · bob@10.0.0.5, running, last:');
  });

  it('a non-lock wait without a blocker (I/O) never alerts, however long', () => {
    const db = database({ waiting: [waiter({ lockWait: false, blockedBy: [], headBlocker: null, waitType: 'IO:DataFileRead', waitSeconds: 3600 })] });
    expect(assessHealth([db], POLICY)).toEqual([]);
  });

  it('a prepared transaction (blocker 0) is named as such', () => {
    const [f] = assessHealth([database({ waiting: [waiter({ blockedBy: [0], headBlocker: 0 })] })], POLICY);
    expect(f?.text).toContain('blocked by a prepared transaction (see pg_prepared_xacts)');
  });

  it('a database that could not be sampled yields no finding, and the longest waits come first, at most five', () => {
    const waits = [30, 400, 70, 200, 90, 120, 65].map((s, i) => waiter({ session: 100 + i, waitSeconds: s }));
    const findings = assessHealth([database({ waiting: waits }), emptyHealth('source', 'mssql', 'login failed')], POLICY);
    expect(findings.map((f) => f.session)).toEqual([101, 103, 105, 104, 102]);
  });
});

describe('episodes: one alert per stretch of waits over threshold', () => {
  const blocked = (at: number, seconds = 90) => deepFreeze(sampleOf([blockedFor(seconds)], at));
  const calm = (at: number) => deepFreeze(sampleOf([database()], at));
  const fold = (...samples: ReturnType<typeof calm>[]): StepHealth => samples.reduce<StepHealth | null>((h, s) => withSample(h, s, s.at), null) as StepHealth;

  it('opens on the first sample with findings, stays one episode while they last, closes on a complete calm sample', () => {
    const h = fold(calm(0), blocked(15, 61), blocked(30, 76), calm(45));
    expect(h.episodes).toEqual([expect.objectContaining({ n: 1, since: 15, worstWaitSeconds: 76, clearedAt: 45, clearedBy: 'sample' })]);
    expect(h.latest.at).toBe(45);
    expect(h.episodes[0]?.findings[0]?.waitSeconds).toBe(61);
  });

  it('a second block after a clear is a second episode', () => {
    const h = fold(blocked(0), calm(15), blocked(30));
    expect(h.episodes.map((e) => [e.n, e.since, e.clearedAt])).toEqual([[1, 0, 15], [2, 30, null]]);
  });

  it('a sample where a database did not answer neither opens nor clears: not knowing is not calm', () => {
    const partial = sampleOf([database(), emptyHealth('source', 'mssql', 'timeout')], 15);
    expect(partial.complete).toBe(false);
    const h = fold(blocked(0), partial);
    expect(h.episodes[0]?.clearedAt).toBeNull();
    expect(fold(calm(0), partial).episodes).toEqual([]);
  });

  it('the step ending closes an open episode as step-ended, and leaves a closed one alone', () => {
    expect(whenStepEnds(fold(blocked(0)), 99)?.episodes[0]).toMatchObject({ clearedAt: 99, clearedBy: 'step-ended' });
    const closed = fold(blocked(0), calm(15));
    expect(whenStepEnds(closed, 99)).toBe(closed);
    expect(whenStepEnds(null, 99)).toBeNull();
  });

  it('the alert and the cleared notice say what, how long and why it ended', () => {
    const h = fold(blocked(0, 61), blocked(60_000, 121), calm(100_000));
    const episode = h.episodes[0];
    if (!episode) throw new Error('no episode');
    expect(blockedReason('Load snapshot', episode)).toMatch(/^"Load snapshot" — target: pid 4711 .* has waited 1m 1s on Lock:relation, blocked by pid 4690 .*; over the 1m block threshold\.$/);
    const running = { stepSucceeded: false, runEnded: false };
    expect(clearedReason('Load snapshot', episode, running)).toBe('"Load snapshot": the wait on target cleared (over threshold for 1m 40s, longest wait 2m 1s).');
    const ended = whenStepEnds(fold(blocked(0)), 30_000)?.episodes[0];
    if (!ended) throw new Error('no episode');
    expect(clearedReason('Load snapshot', ended, { stepSucceeded: true, runEnded: false })).toBe('"Load snapshot" got past its wait on target and finished (over threshold for 30s, longest wait 1m 30s).');
    expect(clearedReason('Load snapshot', ended, running)).toBe('"Load snapshot" ended while waiting on target (over threshold for 30s, longest wait 1m 30s); the databases are no longer watched for this step.');
    const unwatched = fold(blocked(0)).episodes[0];
    if (!unwatched) throw new Error('no episode');
    expect(clearedReason('Load snapshot', unwatched, { stepSucceeded: false, runEnded: true })).toBe('"Load snapshot": the run ended; the wait on target is no longer watched (longest wait 1m 30s).');
  });
});
