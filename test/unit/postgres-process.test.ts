/**
 * Spawning PostgreSQL's programs: a program that cannot be executed is a
 * rejected promise, never an unhandled 'error' event (issue 16: `npm start`
 * as root in a private folder died of `spawn …/initdb EACCES`).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToEnd, startServer } from '../../local/postgres-process.js';

describe('PostgreSQL program spawning', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cutover-spawn-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects with the spawn error when the program is missing or not executable', async () => {
    const notExecutable = join(dir, 'initdb');
    await writeFile(notExecutable, '#!/bin/sh\nexit 0\n');
    await chmod(notExecutable, 0o644);
    await expect(runToEnd(notExecutable, [], null, () => {})).rejects.toMatchObject({ code: 'EACCES' });
    await expect(startServer(join(dir, 'missing'), [], null, () => {})).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects with the exit code, after passing every line on, when the program fails', async () => {
    const failing = join(dir, 'fails');
    await writeFile(failing, '#!/bin/sh\necho "first"\necho "no room" >&2\nexit 3\n');
    await chmod(failing, 0o755);
    const lines: string[] = [];
    await expect(runToEnd(failing, [], null, (line) => lines.push(line))).rejects.toThrow(/exited with code 3/);
    expect(lines.sort()).toEqual(['first', 'no room']);
  });

  it('resolves a server once it says it is ready, and rejects one that exits before', async () => {
    const ready = join(dir, 'ready');
    await writeFile(ready, '#!/bin/sh\necho "LOG:  database system is ready to accept connections" >&2\nexec sleep 30\n');
    await chmod(ready, 0o755);
    const server = await startServer(ready, [], null, () => {});
    server.child.kill('SIGINT');
    await server.exited;
    const quits = join(dir, 'quits');
    await writeFile(quits, '#!/bin/sh\necho "FATAL:  could not bind" >&2\nexit 1\n');
    await chmod(quits, 0o755);
    await expect(startServer(quits, [], null, () => {})).rejects.toThrow(/exited before it was ready \(code 1\)/);
  });
});
