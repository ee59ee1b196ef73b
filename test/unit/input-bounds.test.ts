import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeButtonValue, encodeButtonValue } from '../../bot/button-value.js';
import { parseMigrateText } from '../../bot/command-text.js';
import { decodeConfirmValue } from '../../bot/destructive/confirm-value.js';
import { decodeAckValue } from '../../bot/escalation/ack-value.js';
import { decodeFollowUpValue } from '../../bot/follow-ups/follow-up-value.js';
import { EnvError, loadEnv } from '../../config/env.js';
import { RunbookFiles, shownProblems } from '../../config/runbook-files.js';
import { RUNBOOK_FILE_MAX_BYTES, RUNBOOK_MAX_STEPS, runbookNameProblem } from '../../runbook/input-bounds.js';
import { loadRunbook, type RunbookProblem } from '../../runbook/load.js';

/** Issue 14: every input from outside has a bound, and crossing it is answered with a sentence naming the limit. */

const GOOD = `title: Good
roles:
  dba: { title: DBA, members: [U0DBA1] }
phases:
  - id: one
    title: One
    steps:
      - { id: a, title: A, approve: dba, action: manual }
`;

/** A "billion laughs": each level doubles the previous ten times. */
const ALIAS_BOMB = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  .concat(['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`))
  .join('\n');

function manySteps(n: number): string {
  const steps = Array.from({ length: n }, (_, i) => `      - { id: s${i}, title: S${i}, approve: dba, action: manual }`).join('\n');
  return `title: Many\nroles:\n  dba: { title: DBA, members: [U0DBA1] }\nphases:\n  - id: one\n    title: One\n    steps:\n${steps}\n`;
}

const load = (text: string) => loadRunbook({ name: 'x', file: 'x.yaml', text, env: {} });
const problemsOf = (text: string): RunbookProblem[] => {
  const result = load(text);
  if (result.ok) throw new Error('expected the runbook to be refused');
  return result.problems;
};

describe('slash-command text', () => {
  it('refuses 1 MB of text at once, naming the limit, without splitting it', () => {
    const started = performance.now();
    const parsed = parseMigrateText(`start ${'a'.repeat(1024 * 1024)}`);
    expect(performance.now() - started).toBeLessThan(500);
    expect(parsed).toEqual({ kind: 'refused', problem: expect.stringMatching(/That command is 1,048,582 characters; `\/migrate` reads at most 10,000/) });
  });

  it('answers a 5,000-character runbook name as "no such runbook", naming the 64-character limit and not echoing the name', () => {
    const parsed = parseMigrateText(`start ${'k'.repeat(5000)}`);
    expect(parsed.kind).toBe('refused');
    const problem = parsed.kind === 'refused' ? parsed.problem : '';
    expect(problem).toMatch(/^There is no runbook `k{40}… \(5,000 characters\)`: runbook names are at most 64 characters/);
    expect(problem.length).toBeLessThan(300);
    for (const text of [`schedule ${'k'.repeat(65)} 2030-01-01T00:00:00Z`, `contacts ${'k'.repeat(65)}`]) {
      expect(parseMigrateText(text), text).toMatchObject({ kind: 'refused', problem: expect.stringContaining('at most 64 characters') });
    }
  });

  it('bounds run ids, step ids and the reasons recorded as typed', () => {
    expect(parseMigrateText(`report ${'r'.repeat(200)}`)).toMatchObject({ kind: 'help' });
    expect(parseMigrateText(`status ${'r'.repeat(200)}`)).toMatchObject({ kind: 'help', problem: expect.stringContaining('up to 96 characters') });
    expect(parseMigrateText(`hold ${'s'.repeat(200)} waiting`)).toMatchObject({ kind: 'help', problem: expect.stringContaining('is not a step id') });
    expect(parseMigrateText(`hold load ${'w '.repeat(400)}`)).toMatchObject({ kind: 'refused', problem: expect.stringContaining('keep it under 500') });
    expect(parseMigrateText(`pause ${'w '.repeat(400)}`)).toMatchObject({ kind: 'refused', problem: expect.stringContaining('keep it under 500') });
    expect(parseMigrateText(`skip ${'s'.repeat(200)} checked by hand`)).toMatchObject({ kind: 'refused', problem: expect.stringContaining('is not a step id') });
  });

  it('a name of 64 characters is still a name', () => {
    expect(runbookNameProblem('k'.repeat(64))).toBeNull();
    expect(parseMigrateText(`start ${'k'.repeat(64)}`)).toEqual({ kind: 'start', runbook: 'k'.repeat(64), dryRun: false });
  });
});

describe('runbook files', () => {
  it('an alias bomb is a problem of its file, naming the alias limit (yaml maxAliasCount), not a thrown ReferenceError', () => {
    const problems = problemsOf(`${GOOD}\nx-bomb:\n  ${ALIAS_BOMB.split('\n').join('\n  ')}\n`);
    expect(problems).toEqual([{ file: 'x.yaml', path: '(top level)', message: expect.stringContaining('aliases expand more than 100 times') }]);
  });

  it('refuses a text over the size bound before parsing it', () => {
    const started = performance.now();
    const problems = problemsOf(`${GOOD}\ndescription: "${'x'.repeat(RUNBOOK_FILE_MAX_BYTES)}"\n`);
    expect(performance.now() - started).toBeLessThan(200);
    expect(problems[0]?.message).toMatch(/a runbook may be at most 2,097,152/);
  });

  it(`refuses more than ${RUNBOOK_MAX_STEPS} steps at phases, and loads ${RUNBOOK_MAX_STEPS}`, () => {
    expect(problemsOf(manySteps(RUNBOOK_MAX_STEPS + 1))).toEqual([{ file: 'x.yaml', path: 'phases', message: expect.stringContaining('5,001 steps; at most 5,000') }]);
    expect(load(manySteps(RUNBOOK_MAX_STEPS)).ok).toBe(true);
  });

  it('nesting deep enough to exhaust the stack is a problem, not a crash', () => {
    const result = load(`${GOOD}description: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    expect(result.ok).toBe(false);
  });

  it('ids are bounded (they travel in button values)', () => {
    const problems = problemsOf(GOOD.replace('id: a,', `id: ${'a'.repeat(65)},`));
    expect(problems).toContainEqual(expect.objectContaining({ path: 'phases[0].steps[0].id', message: 'expected an id of at most 64 characters' }));
  });

  it('shows ten problems in a Slack answer and counts the rest', () => {
    const problems = Array.from({ length: 25 }, (_, i) => ({ file: 'x.yaml', path: `p${i}`, message: 'bad' }));
    const lines = shownProblems(problems);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe('… and 15 more (`cutover lint` lists them all)');
  });
});

describe('RunbookFiles: one bad file never affects the others', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cutover-bounds-'));
    await writeFile(join(dir, 'good.yaml'), GOOD);
    await writeFile(join(dir, 'bomb.yaml'), `${GOOD}\nx-bomb:\n  ${ALIAS_BOMB.split('\n').join('\n  ')}\n`);
    await writeFile(join(dir, 'huge.yaml'), `${GOOD}# ${'x'.repeat(RUNBOOK_FILE_MAX_BYTES)}\n`);
    await writeFile(join(dir, `${'n'.repeat(70)}.yaml`), GOOD);
    await mkdir(join(dir, 'folder.yaml'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every file: the good one loads, each bad one is broken with its own error', async () => {
    const entries = await new RunbookFiles(dir, {}).list();
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(byName['good']?.result.ok).toBe(true);
    const message = (name: string) => {
      const r = byName[name]?.result;
      return r && !r.ok ? r.problems[0]?.message : `no problem for ${name}`;
    };
    expect(message('bomb')).toContain('aliases expand more than 100 times');
    expect(message('huge')).toContain('larger than 2,097,152 bytes');
    expect(message('folder')).toContain('cannot be read (EISDIR)');
    expect(message('n'.repeat(70))).toContain('at most 64 characters');
  });

  it('starts the good one by name, and a name too long for a file is no runbook (not ENAMETOOLONG)', async () => {
    const files = new RunbookFiles(dir, {});
    expect((await files.get('good'))?.result.ok).toBe(true);
    await expect(files.get('k'.repeat(5000))).resolves.toBeNull();
    await expect(files.get('missing')).resolves.toBeNull();
  });
});

describe('button values', () => {
  it('a value over Slack\'s 2,000 characters is not decoded (nor parsed) by any decoder', () => {
    const long = JSON.stringify({ r: 'run', s: 'step', a: 1, pad: 'x'.repeat(3000) });
    for (const decode of [decodeButtonValue, decodeConfirmValue, decodeAckValue, decodeFollowUpValue]) expect(decode(long)).toBeNull();
    expect(decodeButtonValue(encodeButtonValue({ runId: 'run', stepId: 'step', attempt: 1 }))).toEqual({ runId: 'run', stepId: 'step', attempt: 1 });
  });
});

describe('environment values', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret-123456' };
  it('refuses values over their bound, naming the variable', () => {
    const tooLong = { ...base, SLACK_API_URL: `https://example.com/${'a'.repeat(3000)}`, RENDER_INTERVAL_MS: '99999999999', WORKER_CONCURRENCY: '100000' };
    try {
      loadEnv(tooLong);
      expect.unreachable('loadEnv should have refused');
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      const problems = (err as EnvError).problems.join('\n');
      expect(problems).toMatch(/SLACK_API_URL .*2048/);
      expect(problems).toMatch(/RENDER_INTERVAL_MS .*86400000/);
      expect(problems).toMatch(/WORKER_CONCURRENCY .*64/);
    }
  });
});
