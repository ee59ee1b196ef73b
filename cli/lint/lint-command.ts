import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { loadRunbook, type RunbookProblem } from '../../runbook/load.js';
import { COMMON_OPTIONS, parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { Output, type CliIo } from '../output.js';
import { positionFinder } from './positions.js';

export const LINT_USAGE = `Usage: cutover lint <file|dir>… [--format text|json] [--quiet]

Loads each runbook exactly as the bot does (same loader, same environment for
\${VAR}) and prints every problem, one per line:

  file:line:col path message

A directory means every .yaml/.yml file in it (not its subdirectories).

Options:
  --format text|json  json: an array of { file, line, column, path, message } for CI annotations
  -q, --quiet         only the problems, no summary
  -h, --help          this text

Exit: 0 no problems, 1 problems found, 2 wrong arguments, 3 a file or directory cannot be read.`;

/** One loader problem with where it is written. */
export interface LintProblem extends RunbookProblem {
  line: number;
  column: number;
}

export async function lintCommand(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, { ...COMMON_OPTIONS, format: { type: 'string', default: 'text' } });
  const out = new Output(io, values.quiet === true);
  if (values.help) {
    out.result(LINT_USAGE);
    return EXIT.ok;
  }
  if (values.format !== 'text' && values.format !== 'json') throw usageError(`--format expects text or json, got ${JSON.stringify(values.format)}`);
  if (positionals.length === 0) throw usageError('expected at least one runbook file or directory');

  const { files, unreadable } = await runbookFiles(positionals, io.cwd);
  const problems: LintProblem[] = [];
  for (const file of files) {
    const linted = await lintFile(file, io);
    if (linted === null) unreadable.push(file);
    else problems.push(...linted);
  }
  if (values.format === 'json') out.result(JSON.stringify(problems, null, 2));
  else for (const p of problems) out.result(`${p.file}:${p.line}:${p.column} ${pathToken(p.path)} ${p.message}`);
  for (const u of unreadable) out.error(`cutover lint: cannot read ${u}`);
  const broken = new Set(problems.map((p) => p.file)).size;
  if (values.format === 'text') {
    out.note(
      problems.length === 0
        ? out.paint.green(`${files.length} runbook${files.length === 1 ? '' : 's'} checked: no problems`)
        : out.paint.red(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${broken} of ${files.length} runbook${files.length === 1 ? '' : 's'}`),
    );
  }
  if (unreadable.length > 0) return EXIT.failed;
  return problems.length > 0 ? EXIT.findings : EXIT.ok;
}

/** A YAML syntax error's path is its position ("line 3, column 46"), already in front: one token, so lines stay `file:line:col path message`. */
const pathToken = (path: string): string => (/^line \d+, column \d+$/.test(path) ? '(yaml)' : path);

/** The loader's problems for one file, each with its line and column; null when the file cannot be read. */
export async function lintFile(file: string, io: Pick<CliIo, 'env' | 'cwd'>): Promise<LintProblem[] | null> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8');
  } catch {
    return null;
  }
  const result = loadRunbook({ name: basename(file, extname(file)), file, text, env: io.env });
  if (result.ok) return [];
  const find = positionFinder(text);
  return result.problems.map((p) => ({ ...p, ...find(p.path) }));
}

/** Files as given, and the runbooks (.yaml/.yml) of each directory given, sorted as the bot lists them. */
async function runbookFiles(paths: string[], cwd: string): Promise<{ files: string[]; unreadable: string[] }> {
  const files: string[] = [];
  const unreadable: string[] = [];
  for (const path of paths) {
    const info = await stat(resolve(cwd, path)).catch(() => null);
    if (info === null) unreadable.push(path);
    else if (!info.isDirectory()) files.push(path);
    else {
      const names = (await readdir(resolve(cwd, path))).filter((f) => ['.yaml', '.yml'].includes(extname(f))).sort();
      files.push(...names.map((n) => join(path, n)));
    }
  }
  return { files, unreadable };
}
