import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunbookFiles } from '../../config/runbook-files.js';
import { main } from '../../cli/main.js';
import type { LintProblem } from '../../cli/lint/lint-command.js';
import { cliIo, REPO } from '../support/cli-io.js';

/**
 * `cutover lint` (issue 18) on the malformed-runbook fixtures: the same
 * problems the bot's loader gives (RunbookFiles is what /migrate runbooks and
 * /migrate start read), each with the line and column where it is written.
 */
const FIXTURES = 'test/fixtures/runbooks/malformed';

async function lintJson(args: string[], env: Record<string, string> = {}): Promise<{ code: number; problems: LintProblem[] }> {
  const io = cliIo(env);
  const code = await main(['lint', '--format', 'json', ...args], io);
  return { code, problems: JSON.parse(io.out()) as LintProblem[] };
}

describe('cutover lint on the malformed-runbook fixtures', () => {
  it('gives exactly the problems the bot gives, file by file, and exits 1', async () => {
    const { code, problems } = await lintJson([FIXTURES]);
    expect(code).toBe(1);
    const bot = (await new RunbookFiles(join(REPO, FIXTURES), {}).list()).flatMap((e) => (e.result.ok ? [] : e.result.problems));
    // The bot names files by RUNBOOKS_DIR; lint as given on the command line.
    expect(problems.map((p) => ({ file: join(REPO, p.file), path: p.path, message: p.message }))).toEqual(bot);
    expect(new Set(problems.map((p) => p.file)).size).toBe(6);
  });

  it.each([
    ['yaml-syntax.yaml', 'line 3, column 46', 3, 46],
    ['misspelt-fields.yaml', 'phases[0].steps[0].aprove', 10, 17],
    ['misspelt-fields.yaml', 'phasess', 13, 10],
    // A missing field is shown where the mapping that lacks it starts.
    ['misspelt-fields.yaml', 'phases[0].steps[0].approve', 8, 9],
    ['unknown-references.yaml', 'phases[0].steps[0].params.connection', 17, 31],
    ['unknown-references.yaml', 'contacts[0].role', 8, 13],
    // Merged in with <<: *conversion: shown in the anchor, where it is written, for both steps that use it.
    ['merged-conversion.yaml', 'phases[0].steps[1].params.target_schema', 7, 18],
    // A key with dots in it is one key, not a path.
    ['merged-conversion.yaml', 'phases[0].steps[0].params.overrides.dbo.Antrag.an_PLZ', 10, 24],
    ['merged-conversion.yaml', 'phases[0].steps[1].params.phase', 24, 96],
    ['unset-variables.yaml', 'roles.lead.members[0]', 9, 15],
    ['placeholders.yaml', 'phases[0].steps[0].params.smoke[0].params.sql', 24, 50],
  ])('%s: %s is at %i:%i', async (file, path, line, column) => {
    const { problems } = await lintJson([join(FIXTURES, file)]);
    expect(problems.filter((p) => p.path === path).map((p) => [p.line, p.column])).toContainEqual([line, column]);
  });

  it('prints one problem per line as file:line:col path message, then a count on stderr (not under --quiet)', async () => {
    const io = cliIo();
    expect(await main(['lint', join(FIXTURES, 'unknown-references.yaml')], io)).toBe(1);
    const lines = io.out().trimEnd().split('\n');
    expect(lines).toContain(`${FIXTURES}/unknown-references.yaml:15:18 phases[0].steps[0].approve approving role "dbas" is not a declared role (expected one of lead, dba)`);
    for (const line of lines) expect(line).toMatch(/^\S+:\d+:\d+ \S+ .+$/);
    expect(io.err()).toBe('5 problems in 1 of 1 runbook\n');
    const quiet = cliIo();
    await main(['lint', '-q', join(FIXTURES, 'unknown-references.yaml')], quiet);
    expect(quiet.err()).toBe('');
    // A YAML syntax error's position is already in front; its path token stays one word.
    const syntax = cliIo();
    await main(['lint', join(FIXTURES, 'yaml-syntax.yaml')], syntax);
    expect(syntax.out()).toContain('yaml-syntax.yaml:3:46 (yaml) expected valid YAML');
  });

  it('placeholders refuse the runbook, with their path, and hide the format errors they would cause', async () => {
    const { problems } = await lintJson([join(FIXTURES, 'placeholders.yaml')]);
    expect(problems.map((p) => p.path)).toEqual(['roles.lead.members[0]', 'phases[0].steps[0].params.flip', 'phases[0].steps[0].params.smoke[0].params.sql']);
    expect(problems[0]?.message).toBe('placeholder not filled in: Slack user ids (U…) of the migration lead (written by cutover plan; the runbook cannot start until it is replaced)');
  });
});

describe('cutover lint: good runbooks, arguments, exit codes, secrets', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cutover-lint-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 with no output but the count when every runbook loads', async () => {
    const io = cliIo();
    expect(await main(['lint', 'config/runbooks/demo.yaml'], io)).toBe(0);
    expect(io.out()).toBe('');
    expect(io.err()).toBe('1 runbook checked: no problems\n');
    expect((await lintJson(['config/runbooks/demo.yaml'])).problems).toEqual([]);
  });

  it('uses the environment for ${VAR}, as the bot does', async () => {
    const env = { CUTOVER_LINT_FIXTURE_PASSWORD: 'pw', CUTOVER_LINT_FIXTURE_LEAD: 'U0LEAD' };
    expect(await lintJson([join(FIXTURES, 'unset-variables.yaml')], env)).toEqual({ code: 0, problems: [] });
  });

  it('exits 3 naming a path that cannot be read, after linting the rest', async () => {
    const io = cliIo();
    expect(await main(['lint', 'config/runbooks/demo.yaml', 'no/such/runbook.yaml'], io)).toBe(3);
    expect(io.err()).toContain('cutover lint: cannot read no/such/runbook.yaml');
  });

  it('exits 2 with the usage for an unknown option, an unknown format or no file', async () => {
    for (const args of [['--fromat', 'json', 'x.yaml'], ['--format', 'xml', 'x.yaml'], []]) {
      const io = cliIo();
      expect(await main(['lint', ...args], io)).toBe(2);
      expect(io.err()).toContain('Usage: cutover lint');
    }
  });

  it('never prints a password that reached a message through ${VAR}', async () => {
    const file = join(dir, 'leaky.yaml');
    await writeFile(file, 'title: Leaky\nroles:\n  lead: { title: Lead, members: [ULEAD] }\nphases:\n  - id: p\n    title: P\n    steps:\n      - { id: s, title: S, approve: lead, action: manual, planned: "${LEAKY_PLANNED}" }\n');
    const io = cliIo({ LEAKY_PLANNED: 'postgres://app:s3cr3t-pw@db/app' });
    expect(await main(['lint', file], io)).toBe(1);
    expect(io.out()).toContain('got "postgres://app:***@db/app"');
    expect(io.out()).not.toContain('s3cr3t-pw');
  });

  it('runs as the package bin (npx cutover): NO_COLOR honoured, exit code passed through', () => {
    const run = spawnSync(process.execPath, ['cli/cutover.mjs', 'lint', join(FIXTURES, 'misspelt-fields.yaml')], {
      cwd: REPO,
      env: { PATH: process.env.PATH, NO_COLOR: '1' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('misspelt-fields.yaml:13:10 phasess unknown field');
    expect(run.stderr).not.toContain('\u001b[');
  });
});
