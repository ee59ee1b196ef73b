import pg from 'pg';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ActionError } from '../../engine/action.js';
import { EffectAlreadyCommitted, effectKeyOf } from '../../engine/ledger/effect-key.js';
import type { Reporter } from '../../engine/step-reports.js';
import { transientError } from '../../engine/transient-errors.js';
import { withTransientRetry, type TryCount } from '../../engine/transient-retry.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import { decide, type Command } from '../../runbook/decide.js';
import { loadRunbook } from '../../runbook/load.js';
import { DEFAULT_RETRY, MAX_RETRY_DELAY_SECONDS, nextTry, resolveRetry, retryDelaySeconds } from '../../runbook/retry-policy.js';
import type { RunState } from '../../runbook/state.js';
import { reportFigures } from '../../runbook/report/figures.js';
import { reportMarkdown } from '../../runbook/report/markdown.js';
import { renderStoryEntry } from '../../bot/render/story-blocks.js';
import { at, cmd, decideAll, planOfSteps, startCommand, stateAfter, USERS } from '../support/runbook-factory.js';

/** An error as node-postgres gives it for a SQLSTATE. */
const pgError = (code: string, message = 'boom'): pg.DatabaseError => Object.assign(new pg.DatabaseError(message, 0, 'error'), { code });
/** An error as Node's net gives it. */
const netError = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
/** The step runner's view: the driver error wrapped by an action. */
const wrapped = (cause: unknown): ActionError => new ActionError('sql.failed', 'SQL failed on "target"', { cause });

describe('transientError: what a second try can get past', () => {
  it.each([
    ['40001', 'postgres.40001'],
    ['40P01', 'postgres.40P01'],
    ['55P03', 'postgres.55P03'],
    ['57P01', 'postgres.57P01'],
    ['57P03', 'postgres.57P03'],
    ['08006', 'postgres.08006'],
  ])('PostgreSQL %s, wrapped in an ActionError', (sqlstate, code) => {
    expect(transientError(wrapped(pgError(sqlstate)))).toMatchObject({ code });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'])('a socket that says %s, also inside an AggregateError (a host with several addresses)', (code) => {
    expect(transientError(wrapped(netError(code)))).toMatchObject({ code: `net.${code}` });
    expect(transientError(wrapped(new AggregateError([netError(code)], 'connect failed')))).toMatchObject({ code: `net.${code}` });
  });

  it('SQL Server: deadlock victim 1205, lock timeout 1222, and the driver timeouts (mssql keeps tedious\'s error as originalError)', () => {
    const victim = Object.assign(new Error('Transaction (Process ID 57) was deadlocked on lock resources with another process and has been chosen as the deadlock victim.'), { code: 'EREQUEST', number: 1205 });
    expect(transientError(wrapped(victim))).toEqual({ code: 'mssql.1205', reason: 'chosen as deadlock victim' });
    expect(transientError(Object.assign(new Error('Lock request time out period exceeded.'), { code: 'EREQUEST', number: 1222 }))).toMatchObject({ code: 'mssql.1222' });
    expect(transientError(Object.assign(new Error('Timeout: Request failed to complete in 15000ms'), { code: 'ETIMEOUT' }))).toMatchObject({ code: 'mssql.ETIMEOUT' });
    const viaOriginal = Object.assign(new Error('request failed'), { code: 'EREQUEST', originalError: Object.assign(new Error('deadlocked'), { number: 1205 }) });
    expect(transientError(viaOriginal)).toMatchObject({ code: 'mssql.1205' });
  });

  it('node-postgres\'s code-less words for a lost socket', () => {
    expect(transientError(wrapped(new Error('Connection terminated unexpectedly')))).toMatchObject({ code: 'postgres.connection_lost' });
    expect(transientError(new Error('timeout exceeded when trying to connect'))).toMatchObject({ code: 'postgres.connect_timeout' });
  });

  it.each([
    ['a syntax error', pgError('42601', 'syntax error at or near "SELEC"')],
    ['a unique violation', pgError('23505')],
    ['a missing table', pgError('42P01')],
    ['a login refused', pgError('28P01')],
    ['a division by zero', pgError('22012')],
    ['SQL Server 547 (constraint)', Object.assign(new Error('conflicted with the FOREIGN KEY constraint'), { code: 'EREQUEST', number: 547 })],
    ['a request the runner cancelled', Object.assign(new Error('Canceled.'), { code: 'ECANCEL' })],
    ['a plain message', new Error('connection refused by policy')],
    ['not an error at all', 'ECONNRESET'],
  ])('%s fails at once', (_what, err) => {
    expect(transientError(wrapped(err))).toBeNull();
  });

  it('survives a cause chain that loops back on itself', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(transientError(a)).toBeNull();
  });
});

describe('retry policy: default on only where a re-run is safe', () => {
  it('defaults on for ledger, resumes and rerun actions; off for ask actions; retry: false switches it off', () => {
    expect(resolveRetry(undefined, 'sql', { kind: 'ledger', connection: 't' })).toEqual({ ok: true, policy: DEFAULT_RETRY });
    expect(resolveRetry(undefined, 'load', { kind: 'resumes', why: 'x' })).toEqual({ ok: true, policy: DEFAULT_RETRY });
    expect(resolveRetry(undefined, 'validate.counts', { kind: 'rerun', why: 'x' })).toEqual({ ok: true, policy: DEFAULT_RETRY });
    expect(resolveRetry(undefined, 'shell', { kind: 'ask', why: 'x' })).toEqual({ ok: true, policy: null });
    expect(resolveRetry(false, 'sql', { kind: 'ledger', connection: 't' })).toEqual({ ok: true, policy: null });
    expect(resolveRetry({ attempts: 5, backoff: 10 }, 'sql', { kind: 'ledger', connection: 't' })).toEqual({ ok: true, policy: { attempts: 5, backoffSeconds: 10 } });
  });

  it('refuses retries asked for on an action that could do its effect twice, saying why', () => {
    const r = resolveRetry({ attempts: 3, backoff: 2 }, 'shell', { kind: 'ask', why: 'it is not marked idempotent' });
    expect(r).toEqual({ ok: false, message: expect.stringContaining('it is not marked idempotent') });
  });

  it('backs off by doubling, never past the bound, and stops after the last try', () => {
    const policy = { attempts: 10, backoffSeconds: 5 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelaySeconds(policy, n))).toEqual([5, 10, 20, 40, 80, MAX_RETRY_DELAY_SECONDS, MAX_RETRY_DELAY_SECONDS]);
    expect(nextTry({ attempts: 3, backoffSeconds: 2 }, 1)).toEqual({ try: 2, delayMs: 2000 });
    expect(nextTry({ attempts: 3, backoffSeconds: 2 }, 2)).toEqual({ try: 3, delayMs: 4000 });
    expect(nextTry({ attempts: 3, backoffSeconds: 2 }, 3)).toBeNull();
    expect(nextTry(null, 1)).toBeNull();
  });
});

describe('runbook load: retry on a step', () => {
  const runbook = (steps: string) => `title: Retry
roles: { dba: { title: DBA, members: [U0DBA1] } }
connections: { target: { kind: postgres, url: "postgres://x@h/db" } }
phases:
  - id: p
    title: P
    steps:
${steps}`;
  const load = (steps: string) => loadRunbook({ name: 'retry', file: 'retry.yaml', text: runbook(steps), env: {} });

  it('puts each step\'s resolved policy on the plan', () => {
    const loaded = load(`      - { id: tx, title: Tx, approve: dba, action: sql, params: { connection: target, sql: "SELECT 1" }, retry: { attempts: 4, backoff: 5s } }
      - { id: plain, title: Plain, approve: dba, action: sql, params: { connection: target, sql: "SELECT 1" } }
      - { id: off, title: Off, approve: dba, action: sql, params: { connection: target, sql: "SELECT 1" }, retry: false }
      - { id: cmd, title: Cmd, approve: dba, action: shell, params: { argv: ["true"] } }`);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const retries = Object.fromEntries(loaded.runbook.plan.phases[0]?.steps.map((s) => [s.id, s.retry]) ?? []);
    expect(retries).toEqual({ tx: { attempts: 4, backoffSeconds: 5 }, plain: DEFAULT_RETRY, off: null, cmd: null });
  });

  it('refuses retry on a shell step not marked idempotent and on a non-transactional sql step, naming the path', () => {
    const loaded = load(`      - { id: cmd, title: Cmd, approve: dba, action: shell, params: { argv: ["true"] }, retry: { attempts: 3 } }
      - { id: raw, title: Raw, approve: dba, action: sql, params: { connection: target, sql: "VACUUM", transaction: false }, retry: { attempts: 2, backoff: 1s } }`);
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems.map((p) => p.path)).toEqual(['phases[0].steps[0].retry', 'phases[0].steps[1].retry']);
    expect(loaded.problems[0]?.message).toContain('not marked idempotent');
  });

  it('bounds tries and backoff', () => {
    const loaded = load(`      - { id: tx, title: Tx, approve: dba, action: sql, params: { connection: target, sql: "SELECT 1" }, retry: { attempts: 50, backoff: 1h } }`);
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'phases[0].steps[0].retry.attempts: expected at most 10 tries',
      `phases[0].steps[0].retry.backoff: expected a backoff between 1s and ${MAX_RETRY_DELAY_SECONDS}s`,
    ]);
  });

  it('every shipped action resolves: none that the catalogue calls "ask" gets a default policy', () => {
    for (const [id, spec] of Object.entries(ACTIONS)) {
      if (id === 'manual') continue;
      const params = spec.params.safeParse({});
      if (!params.success) continue;
      const resolved = resolveRetry(undefined, id, spec.recovery(params.data));
      expect(resolved.ok).toBe(true);
      if (resolved.ok && spec.recovery(params.data).kind === 'ask') expect(resolved.policy).toBeNull();
    }
  });
});

describe('decide: report.retrying', () => {
  const plan = planOfSteps([{ id: 'tx', action: 'sql', retry: { attempts: 3, backoffSeconds: 2 } }, { id: 'cmd', action: 'shell' }]);
  const running = (stepId: string): RunState => stateAfter([startCommand({ plan }), ...(stepId === 'cmd' ? [cmd.approve('tx', USERS.dba1), cmd.started('tx'), cmd.succeeded('tx')] : []), cmd.approve(stepId, USERS.dba1), cmd.started(stepId)]);
  const retrying = (stepId: string, failedTry: number, opts: Partial<Extract<Command, { type: 'report.retrying' }>> = {}): Command => ({
    type: 'report.retrying', at: at(3), stepId, attempt: 1, try: failedTry, code: 'postgres.40P01', message: 'deadlock detected', delayMs: 2000, ...opts,
  });

  it('records each retry with an honest count, posts it in the thread, and refuses one past the policy', () => {
    let state = running('tx');
    for (const failedTry of [1, 2]) {
      const d = decide(state, retrying('tx', failedTry));
      if (!d.ok) throw new Error(d.message);
      expect(d.events).toEqual([expect.objectContaining({ type: 'step.retrying', try: failedTry, of: 3, attempt: 1, code: 'postgres.40P01' })]);
      state = d.state;
    }
    expect(state.steps.tx?.retries?.map((r) => r.try)).toEqual([1, 2]);
    expect(state.steps.tx).toMatchObject({ status: 'running', attempt: 1 });
    expect(state.story?.filter((e) => e.kind === 'retrying')).toHaveLength(2);
    expect(decide(state, retrying('tx', 3))).toMatchObject({ ok: false, code: 'retry.exhausted' });
  });

  it('refuses a repeated or skipped try number, a step not running, and a step without a policy', () => {
    const state = running('tx');
    expect(decide(state, retrying('tx', 2))).toMatchObject({ ok: false, code: 'retry.stale_try' });
    expect(decide(state, retrying('tx', 1, { attempt: 2 }))).toMatchObject({ ok: false, code: 'step.stale_attempt' });
    expect(decide(running('cmd'), retrying('cmd', 1))).toMatchObject({ ok: false, code: 'retry.exhausted' });
    const failed = stateAfter([cmd.failed('tx')], state);
    expect(decide(failed, retrying('tx', 1))).toMatchObject({ ok: false, code: 'step.not_running' });
  });

  it('the thread post, the report and the audit events tell the retry as it was', () => {
    const { state, events, refusals } = decideAll(null, [startCommand({ plan }), cmd.approve('tx', USERS.dba1), cmd.started('tx'), retrying('tx', 1), cmd.succeeded('tx', { at: at(5) })]);
    expect(refusals).toEqual([]);
    if (!state) throw new Error('no run');
    const entry = state.story?.find((e) => e.kind === 'retrying');
    if (!entry) throw new Error('no story entry');
    expect(renderStoryEntry(state, entry).text).toMatch(/Retrying automatically.*"Step tx": try 1 of 3 met a transient error .*`postgres\.40P01`: deadlock detected.*Try 2 of 3 starts in 2s/);
    const markdown = reportMarkdown(reportFigures(state, events, at(6)), null, at(6));
    expect(markdown).toContain('## Automatic retries');
    expect(markdown).toMatch(/\| Step tx \| 1 \| 1 of 3 \| postgres\.40P01: deadlock detected \| 2s \|/);
    expect(events.filter((e) => e.type === 'step.retrying')).toHaveLength(1);
  });

  it('a person\'s Retry starts a new attempt with its own tries', () => {
    const once = decide(running('tx'), retrying('tx', 1));
    if (!once.ok) throw new Error(once.message);
    const retried = stateAfter([cmd.failed('tx'), cmd.retry('tx', USERS.dba2)], once.state);
    expect(retried.steps.tx).toMatchObject({ attempt: 2 });
    expect(retried.steps.tx?.retries ?? []).toEqual([]);
  });
});

describe('withTransientRetry', () => {
  const log = pino({ level: 'silent' });
  const recorder = (accept = true) => {
    const calls: unknown[] = [];
    const report: Reporter = async (body) => {
      calls.push(body);
      return accept;
    };
    return { calls, report };
  };
  const deadlock = () => wrapped(pgError('40P01', 'deadlock detected'));

  it('runs again after a transient error, reporting the retry first, and counts tries', async () => {
    const { calls, report } = recorder();
    let runs = 0;
    const count: TryCount = { try: 0, of: 0 };
    const result = await withTransientRetry(async () => (++runs < 3 ? Promise.reject(deadlock()) : 'ok'), { policy: { attempts: 3, backoffSeconds: 0.01 }, failedBefore: 0, signal: new AbortController().signal, report, redact: (t) => t, log }, count);
    expect(result).toBe('ok');
    expect(count).toEqual({ try: 3, of: 3 });
    expect(calls).toEqual([
      expect.objectContaining({ type: 'report.retrying', try: 1, code: 'postgres.40P01', delayMs: 10 }),
      expect.objectContaining({ type: 'report.retrying', try: 2, delayMs: 20 }),
    ]);
  });

  it('fails at once on a non-transient error, on the ledger\'s "already committed", and when the run refuses the retry', async () => {
    const opts = (report: Reporter) => ({ policy: DEFAULT_RETRY, failedBefore: 0, signal: new AbortController().signal, report, redact: (t: string) => t, log });
    const syntax = wrapped(pgError('42601'));
    const a = recorder();
    await expect(withTransientRetry(() => Promise.reject(syntax), opts(a.report), { try: 0, of: 0 })).rejects.toBe(syntax);
    expect(a.calls).toEqual([]);
    const committed = new EffectAlreadyCommitted(effectKeyOf('r', 's', 1), deadlock());
    await expect(withTransientRetry(() => Promise.reject(committed), opts(a.report), { try: 0, of: 0 })).rejects.toBe(committed);
    const refused = recorder(false);
    let runs = 0;
    await expect(withTransientRetry(() => (runs++, Promise.reject(deadlock())), opts(refused.report), { try: 0, of: 0 })).rejects.toThrow('SQL failed');
    expect(runs).toBe(1);
  });

  it('continues the count of a worker that died (failedBefore) and stops waiting when the step is aborted', async () => {
    const { calls, report } = recorder();
    const controller = new AbortController();
    const count: TryCount = { try: 0, of: 0 };
    const pending = withTransientRetry(() => Promise.reject(deadlock()), { policy: { attempts: 5, backoffSeconds: 60 }, failedBefore: 2, signal: controller.signal, report, redact: (t) => t, log }, count);
    const failure = expect(pending).rejects.toThrow(/cancelled \(the run was aborted\)/);
    await new Promise((r) => setImmediate(r));
    controller.abort(new Error('the run was aborted'));
    await failure;
    expect(calls).toEqual([expect.objectContaining({ try: 3, delayMs: MAX_RETRY_DELAY_SECONDS * 1000 })]);
    expect(count.try).toBe(3);
  });
});
