import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { loadRunbook, type LoadResult, type RunbookProblem } from '../runbook/load.js';

export interface RunbookEntry {
  name: string;
  file: string;
  text: string;
  result: LoadResult;
}

/** Reads the runbooks directory; every file is loaded fresh so edits apply to the next run without a restart. */
export class RunbookFiles {
  constructor(private readonly dir: string, private readonly env: Readonly<Record<string, string | undefined>> = process.env) {}

  async list(): Promise<RunbookEntry[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((f) => ['.yaml', '.yml'].includes(extname(f))).sort();
    } catch (err) {
      throw new Error(`cannot read runbooks directory ${this.dir}: ${(err as Error).message}`);
    }
    return Promise.all(names.map((f) => this.read(join(this.dir, f))));
  }

  /** A runbook by name, or null when no such file exists. */
  async get(name: string): Promise<RunbookEntry | null> {
    if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name)) return null;
    for (const ext of ['.yaml', '.yml']) {
      const file = join(this.dir, `${name}${ext}`);
      try {
        return await this.read(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return null;
  }

  private async read(file: string): Promise<RunbookEntry> {
    const text = await readFile(file, 'utf8');
    const name = basename(file, extname(file));
    return { name, file, text, result: loadRunbook({ name, file, text, env: this.env }) };
  }
}

export const formatProblems = (problems: RunbookProblem[]): string[] => problems.map((p) => `${p.file}: ${p.path}: ${p.message}`);
