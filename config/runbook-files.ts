import { open, readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { formatCount, PROBLEMS_SHOWN_MAX, RUNBOOK_FILE_MAX_BYTES, RUNBOOK_NAME_MAX_CHARS, runbookNameProblem } from '../runbook/input-bounds.js';
import { loadRunbook, type LoadInput, type LoadResult, type RunbookProblem } from '../runbook/load.js';
import { CutoverError } from '../runbook/errors.js';

/** Parses and validates one runbook's text; web passes one that runs off its event loop (bot/offload/heavy-work.ts). */
export type RunbookParser = (input: Omit<LoadInput, 'actions'>) => Promise<LoadResult>;

export interface RunbookEntry {
  name: string;
  file: string;
  text: string;
  result: LoadResult;
}

/**
 * Reads the runbooks directory; every file is loaded fresh so edits apply to
 * the next run without a restart. One bad file (unreadable, oversized, an
 * alias bomb, a name no command could type) is an entry with its problems:
 * it never hides or breaks the others.
 */
export class RunbookFiles {
  /** The last load of each file, reused while its size and modification time are unchanged: a sweep or a second command costs a stat. */
  private readonly cache = new Map<string, { size: number; mtimeMs: number; entry: RunbookEntry }>();

  constructor(
    private readonly dir: string,
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
    private readonly parse: RunbookParser = async (input) => loadRunbook(input),
  ) {}

  async list(): Promise<RunbookEntry[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((f) => ['.yaml', '.yml'].includes(extname(f))).sort();
    } catch (err) {
      throw new CutoverError('runbook.dir_unreadable', `cannot read runbooks directory ${this.dir}: ${(err as Error).message}`);
    }
    // A file removed between readdir and read is simply not listed.
    return (await Promise.all(names.map((f) => this.read(join(this.dir, f))))).filter((e): e is RunbookEntry => e !== null);
  }

  /** A runbook by name, or null when no such file exists (or the name could not be a runbook's). */
  async get(name: string): Promise<RunbookEntry | null> {
    if (runbookNameProblem(name)) return null;
    for (const ext of ['.yaml', '.yml']) {
      const entry = await this.read(join(this.dir, `${name}${ext}`));
      if (entry) return entry;
    }
    return null;
  }

  /** Never throws: null when the file does not exist, else an entry (with its problems when it is broken). */
  private async read(file: string): Promise<RunbookEntry | null> {
    const name = basename(file, extname(file));
    const broken = (message: string): RunbookEntry => ({ name, file, text: '', result: { ok: false, problems: [{ file, path: '(file)', message }] } });
    let read: Awaited<ReturnType<typeof readBounded>>;
    try {
      read = await readBounded(file, RUNBOOK_FILE_MAX_BYTES, this.cache.get(file));
    } catch (err) {
      this.cache.delete(file);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      return broken(`cannot be read (${code ?? (err as Error).message})`);
    }
    if (read.kind === 'unchanged') return read.entry;
    if (read.kind === 'too-large') return broken(`the file is larger than ${formatCount(RUNBOOK_FILE_MAX_BYTES)} bytes, the most a runbook may be; split it or move SQL into files under sql/`);
    if (runbookNameProblem(name)) return broken(`the file name cannot be typed in \`/migrate start\`: use letters, digits, "-" and "_", at most ${RUNBOOK_NAME_MAX_CHARS} characters`);
    let result: LoadResult;
    try {
      result = await this.parse({ name, file, text: read.text, env: this.env });
    } catch (err) {
      return broken(`could not be loaded (${(err as Error).message})`);
    }
    const entry = { name, file, text: read.text, result };
    this.cache.set(file, { size: read.size, mtimeMs: read.mtimeMs, entry });
    return entry;
  }
}

type Read = { kind: 'text'; text: string; size: number; mtimeMs: number } | { kind: 'too-large' } | { kind: 'unchanged'; entry: RunbookEntry };

/** The file's text, 'too-large' without reading past the bound (a 1 GB file is never read whole), or the cached entry when the file is unchanged. */
async function readBounded(file: string, maxBytes: number, cached: { size: number; mtimeMs: number; entry: RunbookEntry } | undefined): Promise<Read> {
  const handle = await open(file, 'r');
  try {
    const { size, mtimeMs } = await handle.stat();
    if (cached && cached.size === size && cached.mtimeMs === mtimeMs) return { kind: 'unchanged', entry: cached.entry };
    if (size > maxBytes) return { kind: 'too-large' };
    // Sized from stat, one byte over, so a file that grew since is still caught without reading it all.
    const buffer = Buffer.alloc(size + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled > maxBytes ? { kind: 'too-large' } : { kind: 'text', text: buffer.subarray(0, filled).toString('utf8'), size, mtimeMs };
  } finally {
    await handle.close();
  }
}

const formatProblems = (problems: RunbookProblem[]): string[] => problems.map((p) => `${p.file}: ${p.path}: ${p.message}`);

/** The first problems as lines, then how many more there are: a Slack answer stays readable whatever a file holds. */
export function shownProblems(problems: RunbookProblem[], max = PROBLEMS_SHOWN_MAX): string[] {
  const lines = formatProblems(problems.slice(0, max));
  return problems.length > max ? [...lines, `… and ${formatCount(problems.length - max)} more (\`cutover lint\` lists them all)`] : lines;
}
