import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { main } from '../../cli/main.js';
import type { LintProblem } from '../../cli/lint/lint-command.js';
import { ensureKgvSample } from '../../engine/sample/kgv/index.js';
import { SnapshotSource } from '../../engine/snapshot/reader.js';
import type { AuditTrail } from '../../runbook/report/index.js';
import { cliIo } from '../support/cli-io.js';
import { openRedisBackend } from '../../config/redis-backend.js';
import { loadRunbook } from '../../runbook/load.js';
import { RunService } from '../../runbook/run-service.js';
import { TEST_DATABASE_URL } from '../support/cutover-processes.js';
import { fillPlaceholders } from '../support/fill-placeholders.js';

/**
 * Issue 18's proof: `cutover plan` on the KGV sample snapshot writes a runbook
 * that `cutover lint` accepts once its placeholders are filled, and `cutover
 * rehearse` runs it to completion with the real engine (worker, PostgreSQL,
 * COPY, validations, backups) with every validation green; a red validation
 * makes it exit non-zero.
 */
const DATABASE = `cli_e2e_${process.pid}`;
const databaseUrl = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${DATABASE}` }).toString();
const withPassword = Object.assign(new URL(databaseUrl), { password: 'planner-s3cret' }).toString();

const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
let work: string;
let sample: string;
const saved = new Map<string, string | undefined>();

/** The worker reads the runbook's variables from the process environment, as `npx cutover` gives it. */
function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    process.env[k] = v;
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cutover-cli-e2e-'));
  sample = (await ensureKgvSample(join(work, 'kgv-sample'))).dir;
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${DATABASE}"`);
  setEnv({ KGV_TARGET_URL: databaseUrl, KGV_BACKUP_DIR: join(work, 'backups'), LOG_LEVEL: 'info' });
}, 120_000);

afterAll(async () => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.end();
  await rm(work, { recursive: true, force: true });
});

/** What a team writes into the plan's FILL INs for the sample. */
function filled(text: string, rules: unknown[]): string {
  const members: Record<string, string[]> = { lead: ['U0CLILEAD'], dba: ['U0CLIDBA1', 'U0CLIDBA2'], owner: ['U0CLIOWNER'], rollback: ['U0CLIRB'] };
  return fillPlaceholders(text, (path) => {
    const role = /^roles\.(\w+)\.members\[0\]$/.exec(path);
    if (role) return members[role[1] ?? ''];
    if (path.endsWith('.rules[0]')) return rules;
    if (path.endsWith('.params.flip')) return { action: 'sql', params: { connection: 'target', sql: "SELECT 'application points at PostgreSQL'" } };
    if (path.endsWith('.params.smoke[0]')) return [{ action: 'sql', params: { connection: 'target', sql: 'SELECT an_id FROM migration_staging.antrag LIMIT 5', expect: { rows: 5 } } }];
    if (/^rollback\.post-go-live\.steps\[1\]\.action$/.test(path)) return 'manual';
    if (/^rollback\.post-go-live\.steps\[1\]\.params$/.test(path)) return { checklist: ['The application points at the source again'] };
    if (path.endsWith('.params.track_deletes.tables')) return ['migration_staging.antrag'];
    if (path.endsWith('.params.tables')) return [{ table: 'migration_staging.antrag', changed_column: 'an_bewerbungsdatum' }];
    return undefined;
  });
}

const DATES_RULE = { name: 'applications_date_range', severity: 'ERROR', sql: "SELECT an_id, an_bewerbungsdatum FROM migration_staging.antrag WHERE an_bewerbungsdatum > now() + interval '1 day'" };

async function lint(file: string): Promise<LintProblem[]> {
  const io = cliIo(process.env);
  await main(['lint', '--format', 'json', file], io);
  return JSON.parse(io.out()) as LintProblem[];
}

describe('cutover plan → lint → rehearse on the KGV sample', () => {
  let runbookFile: string;
  let text: string;

  it('plan writes a runbook with seed 000 phases and a conversion report beside it, never the password, and says it fits 4h', async () => {
    runbookFile = join(work, 'runbooks', 'kgv.yaml');
    const io = cliIo(process.env);
    const code = await main(['plan', '--source', sample, '--target', withPassword, '--window', '4h', '--out', runbookFile], io);
    expect(io.err()).toContain('fits the 4h window');
    expect(code).toBe(0);
    expect(io.out().trim().split('\n')).toEqual([runbookFile, join(work, 'runbooks', 'kgv.conversion.md')]);
    text = await readFile(runbookFile, 'utf8');
    expect(text + io.out() + io.err()).not.toContain('planner-s3cret');
    expect(text).toContain('url: "${KGV_TARGET_URL}"');

    const ids = [...text.matchAll(/^ {6}- id: ([\w-]+)$/gm)].map((m) => m[1]);
    expect(ids).toEqual([
      'checklist', 'target-ready', 'verify-snapshot', 'source-frozen', 'target-tables', 'load', 'keys',
      'counts', 'checksums', 'integrity', 'totals', 'rules', 'signoff', 'pre-switch-backup', 'switch', 'functional', 'golive-backup',
      'rb1-unfreeze', 'rb1-truncate', 'rb1-verify-source', 'rb2-unfreeze', 'rb2-switch-back', 'rb2-export', 'rb3-unfreeze', 'rb3-restore', 'rb3-services',
    ]);
    // The totals of the sample's money and decimal columns, summed exactly from the snapshot's rows.
    expect(text).toContain('name: dbo.Eingangsnummer.en_Gebuehr');
    const report = await readFile(join(work, 'runbooks', 'kgv.conversion.md'), 'utf8');
    expect(report).toMatch(/## Needs hands: not converted \(\d+\)/);
    const manifest = (await SnapshotSource.open(sample)).manifest;
    for (const t of manifest.tables) expect(report).toContain(`| \`${t.mapping.source.schema}.${t.mapping.source.name}\` |`);
  });

  it('lint refuses it for its placeholders only, each with its path and position', async () => {
    const problems = await lint(runbookFile);
    expect(problems.every((p) => p.message.startsWith('placeholder not filled in'))).toBe(true);
    // What only a person knows: who is in each role, the rules, how the application is switched and checked, and how it goes back.
    expect(problems.map((p) => p.path)).toEqual([
      'roles.lead.members[0]',
      'roles.dba.members[0]',
      'roles.owner.members[0]',
      'roles.rollback.members[0]',
      'phases[4].steps[4].params.rules[0]',
      'phases[5].steps[1].params.flip',
      'phases[5].steps[1].params.smoke[0]',
      'phases[5].steps[1].params.track_deletes.tables',
      'rollback.post-go-live.steps[1].action',
      'rollback.post-go-live.steps[1].params',
      'rollback.post-go-live.steps[2].params.tables',
    ]);
    expect(problems.find((p) => p.path.endsWith('.params.flip'))).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
  });

  it('lint accepts it once the placeholders are filled', async () => {
    await writeFile(runbookFile, filled(text, [DATES_RULE]));
    expect(await lint(runbookFile)).toEqual([]);
  });

  it('rehearse runs it to completion with every validation green, and writes report, audit, timeline and the reconciliation JSON', async () => {
    const out = join(work, 'rehearsal-green');
    const io = cliIo(process.env);
    const code = await main(['rehearse', runbookFile, '--out', out], io);
    expect(io.out()).toMatch(/completed green in .*every validation that ran green/);
    expect(code).toBe(0);
    const files = await readdir(out);
    const runId = (files.find((f) => f.endsWith('-audit.json')) ?? '').replace(/-audit\.json$/, '');
    expect(files.sort()).toEqual([`${runId}-audit.json`, `${runId}-reconciliation-final.json`, `${runId}-report.md`, `${runId}-timeline.png`, 'worker.log'].sort());
    expect(JSON.parse(await readFile(join(out, `${runId}-reconciliation-final.json`), 'utf8'))).toMatchObject({ run: runId, verdict: 'green' });
    expect((await stat(join(out, `${runId}-timeline.png`))).size).toBeGreaterThan(1000);

    const audit = JSON.parse(await readFile(join(out, `${runId}-audit.json`), 'utf8')) as AuditTrail;
    const succeeded = audit.events.flatMap((e) => (e.event.type === 'step.succeeded' ? [e.event] : []));
    const verdicts = Object.fromEntries(succeeded.flatMap((e) => (e.details && 'validation' in e.details ? [[e.stepId, (e.details.validation as { verdict: string }).verdict]] : [])));
    expect(verdicts).toEqual({ counts: 'green', checksums: 'green', integrity: 'green', totals: 'green', rules: 'green' });
    expect(audit.events.at(-1)?.type).toBe('run.completed');
    // Approved by the roles' members through the run service, with separation of duties: the lead started, DBAs approved DBA steps.
    const approvals = audit.events.flatMap((e) => (e.event.type === 'step.approved' ? [[e.event.stepId, e.event.by]] : []));
    expect(approvals).toContainEqual(['load', 'U0CLIDBA1']);
    expect(approvals).toContainEqual(['switch', 'U0CLIOWNER']);
    const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    try {
      expect((await db.query('SELECT count(*)::int AS n FROM migration_staging.antrag')).rows[0]?.n).toBe(3999);
    } finally {
      await db.end();
    }
    expect(await readFile(join(out, `${runId}-report.md`), 'utf8')).toContain('Totals of every money and decimal column');
  }, 300_000);

  it('plan again: the load rate is measured from the rehearsal, and the target, now holding tables, is backed up first', async () => {
    const again = join(work, 'runbooks', 'kgv-again.yaml');
    const io = cliIo(process.env);
    expect(await main(['plan', '--source', sample, '--target', databaseUrl, '--out', again, '--window', '20m'], io)).toBe(1);
    expect(io.err()).toContain('does NOT fit the 20m window');
    const replanned = await readFile(again, 'utf8');
    expect(replanned).toMatch(/at measured [\d,]+ rows\/s over the last \d+ loads? into this target/);
    expect(replanned).toContain('id: target-backup');
  });

  it('plan refuses to overwrite what it wrote before, and writes nothing', async () => {
    const before = await readFile(runbookFile, 'utf8');
    const io = cliIo(process.env);
    expect(await main(['plan', '--source', sample, '--target', databaseUrl, '--out', runbookFile], io)).toBe(3);
    expect(io.err()).toContain('already exist');
    expect(await readFile(runbookFile, 'utf8')).toBe(before);
  });

  it('rehearse exits 1 on a red validation, saying which, with the run aborted and its report written (in-process state)', async () => {
    const red = join(work, 'runbooks', 'kgv-red.yaml');
    // Every Antrag row "violates" this rule: rules goes red. replace: true lets the tables be created again on the same database.
    const everyRow = { name: 'every_application_flagged', severity: 'ERROR', sql: 'SELECT an_id FROM migration_staging.antrag' };
    await writeFile(red, filled(text, [everyRow]).replace('replace: false', 'replace: true'));
    const out = join(work, 'rehearsal-red');
    const io = cliIo({ ...process.env, REDIS_URL: 'redis://127.0.0.1:1' });
    const code = await main(['rehearse', red, '--out', out], io);
    expect(io.out()).toMatch(/NOT GREEN after .*: "Data-quality rules .*" \(rules\) failed: rules: 0\/1 rules green — RED: every_application_flagged/);
    expect(io.err()).toContain('in this process');
    expect(code).toBe(1);
    const audit = JSON.parse(await readFile(join(out, (await readdir(out)).find((f) => f.endsWith('-audit.json')) ?? ''), 'utf8')) as AuditTrail;
    expect(audit.events.at(-1)).toMatchObject({ type: 'run.aborted', event: { reason: expect.stringContaining('rules') } });
  }, 300_000);

  it('rehearse --until stops green after that step; a role left out of --auto-approve stops it at once (exit 1)', async () => {
    const until = cliIo(process.env);
    expect(await main(['rehearse', runbookFile, '--until', 'verify-snapshot', '--out', join(work, 'until')], until)).toBe(0);
    expect(until.out()).toMatch(/green up to verify-snapshot/);
    const dbaOnly = cliIo(process.env);
    expect(await main(['rehearse', runbookFile, '--auto-approve', 'dba', '--out', join(work, 'dba-only')], dbaOnly)).toBe(1);
    expect(dbaOnly.out()).toContain('waits for Migration lead (lead), which --auto-approve does not include');
  }, 120_000);

  it('a load in several groups (--load-step): each group loaded, counted and checksummed on its own, green up to the sign-off', async () => {
    const groupsDb = `${DATABASE}_groups`;
    await admin.query(`DROP DATABASE IF EXISTS "${groupsDb}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${groupsDb}"`);
    const url = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${groupsDb}` }).toString();
    try {
      const file = join(work, 'runbooks', 'kgv-groups.yaml');
      const io = cliIo(process.env);
      // A fresh target: no earlier load, so the default rate sizes the groups; 1 s of load per step splits the sample.
      expect(await main(['plan', '--source', sample, '--target', url, '--load-step', '1s', '--name', 'kgv', '--out', file], io)).toBe(0);
      const groups = Number(/in (\d+) load groups/.exec(io.err())?.[1]);
      expect(groups).toBeGreaterThanOrEqual(2);
      const planned = await readFile(file, 'utf8');
      const raw = parseDocument(planned, { merge: true }).toJS() as { phases: Array<{ steps: Array<Record<string, any>> }> };
      const steps = raw.phases.flatMap((p) => p.steps);
      const loads = steps.filter((s) => s.action === 'load');
      expect(loads.map((s) => s.id)).toEqual(Array.from({ length: groups }, (_, i) => `load-${i + 1}`));
      const manifest = (await SnapshotSource.open(sample)).manifest;
      expect(loads.flatMap((s) => s.params.tables as string[]).sort()).toEqual(manifest.tables.map((t) => `${t.mapping.source.schema}.${t.mapping.source.name}`).sort());
      await writeFile(file, filled(planned, [DATES_RULE]));

      setEnv({ KGV_TARGET_URL: url });
      const run = cliIo({ ...process.env, REDIS_URL: 'redis://127.0.0.1:1' });
      const code = await main(['rehearse', file, '--until', 'signoff', '--out', join(work, 'groups')], run);
      expect(run.out()).toMatch(/green up to signoff/);
      expect(code).toBe(0);
      for (let i = 1; i <= groups; i++) expect(run.err()).toMatch(new RegExp(`✓ counts-${i} .*counts: \\d+/\\d+ tables green`));
    } finally {
      setEnv({ KGV_TARGET_URL: databaseUrl });
      await admin.query(`DROP DATABASE IF EXISTS "${groupsDb}" WITH (FORCE)`);
    }
  }, 300_000);

  it('a rehearsal killed outright leaves its run active on Redis: the next is refused (exit 3) until --abort-active aborts it', async () => {
    const backend = openRedisBackend({ REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: `${process.env.REDIS_PREFIX || 'cutover'}-rehearse` }, 'test');
    try {
      const loaded = loadRunbook({ name: 'kgv', file: runbookFile, text: await readFile(runbookFile, 'utf8'), env: process.env });
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
      const service = new RunService({ store: backend.store, queue: backend.queue, updates: backend.updates });
      const stale = `kgv-killed-${process.pid}`;
      const started = await service.start({ type: 'start', at: Date.now(), actor: { id: 'U0CLILEAD' }, runId: stale, channel: 'headless', dryRun: false, plan: loaded.runbook.plan, runbookFile, runbookText: '' });
      expect(started.ok).toBe(true);

      const refused = cliIo(process.env);
      expect(await main(['rehearse', runbookFile, '--until', 'checklist', '--out', join(work, 'refused')], refused)).toBe(3);
      expect(refused.err()).toContain(`already active (${stale})`);
      expect(refused.err()).toContain('--abort-active');

      const cleared = cliIo(process.env);
      expect(await main(['rehearse', runbookFile, '--until', 'checklist', '--abort-active', '--out', join(work, 'cleared')], cleared)).toBe(0);
      expect(cleared.err()).toContain(`Aborted the active run ${stale} (--abort-active).`);
      expect((await service.load(stale))?.status).toBe('aborted');
    } finally {
      await backend.close();
    }
  }, 120_000);

  it('rehearse interrupted (Ctrl-C): the run is aborted, the report written, exit 130', async () => {
    const out = join(work, 'interrupted');
    const io = { ...cliIo(process.env), interrupt: AbortSignal.abort() };
    expect(await main(['rehearse', runbookFile, '--out', out], io)).toBe(130);
    expect(io.out()).toMatch(/interrupted after .*: run .* aborted/);
    const audit = JSON.parse(await readFile(join(out, (await readdir(out)).find((f) => f.endsWith('-audit.json')) ?? ''), 'utf8')) as AuditTrail;
    expect(audit.events.at(-1)).toMatchObject({ type: 'run.aborted', event: { reason: 'the rehearsal was interrupted (Ctrl-C)' } });
  });

  it('rehearse refuses a runbook that does not load (exit 3, its problems listed) and wrong arguments (exit 2)', async () => {
    const unfilled = join(work, 'runbooks', 'kgv-unfilled.yaml');
    await writeFile(unfilled, text);
    const io = cliIo(process.env);
    expect(await main(['rehearse', unfilled], io)).toBe(3);
    expect(io.err()).toMatch(/kgv-unfilled\.yaml:\d+:\d+ roles\.lead\.members\[0\] placeholder not filled in/);
    for (const args of [['--auto-approve', 'ceo'], ['--until', 'no-such-step'], []]) {
      const bad = cliIo(process.env);
      expect(await main(['rehearse', ...(args.length ? [runbookFile] : []), ...args], bad)).toBe(2);
      expect(bad.err()).toContain('Usage: cutover rehearse');
    }
  });
});
