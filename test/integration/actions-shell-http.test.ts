import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpAction } from '../../engine/actions/http.js';
import { shellAction } from '../../engine/actions/shell.js';
import { httpParams } from '../../runbook/actions/http.js';
import { shellParams } from '../../runbook/actions/shell.js';
import { actionContext, thrown, type TestContext } from '../support/engine-context.js';
import { waitFor } from '../support/fake-slack.js';

const shell = (p: Record<string, unknown>) => shellParams.parse(p);
const http = (p: Record<string, unknown>) => httpParams.parse(p);
const node = (code: string): string[] => [process.execPath, '-e', code];

let tmp: string;
let ctx: TestContext;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'cutover-shell-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  ctx = actionContext();
});

/** Running, not merely a zombie: this container's PID 1 does not reap orphans, so kill(pid, 0) alone would lie. */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z /.test(stat);
};

describe('shell action', () => {
  it('runs argv without a shell and reports exit code and output', async () => {
    const result = await shellAction.run(ctx, shell({ argv: ['echo', 'hello $HOME;', 'world'] }));
    expect(result.summary).toMatch(/^`echo "hello \$HOME;" world` exited with code 0 in \d+\.\ds$/);
    expect(result.details).toMatchObject({ exitCode: 0, stdoutTail: 'hello $HOME; world\n', stderrTail: '' });
  });

  it('fails with shell.exit_code, the last stderr line and the tails in details', async () => {
    const err = await thrown(() =>
      shellAction.run(ctx, shell({ argv: node('console.log("step 1 ok"); console.error("fatal: disk full"); process.exit(3)') })),
    );
    expect(err.code).toBe('shell.exit_code');
    expect(err.userMessage).toMatch(/exited with code 3 \(expected 0\): fatal: disk full$/);
    expect(err.details).toMatchObject({ exitCode: 3, stdoutTail: 'step 1 ok\n', stderrTail: 'fatal: disk full\n' });
  });

  it('accepts the exit codes listed in ok_exit_codes', async () => {
    const result = await shellAction.run(ctx, shell({ argv: node('process.exit(2)'), ok_exit_codes: [0, 2] }));
    expect(result.details).toMatchObject({ exitCode: 2 });
  });

  it('keeps only the last 4 KB of output', async () => {
    const result = await shellAction.run(ctx, shell({ argv: node('process.stdout.write("a".repeat(100000) + "END")') }));
    const tail = String(result.details?.stdoutTail);
    expect(tail).toHaveLength(4096);
    expect(tail.endsWith('aEND')).toBe(true);
  });

  it('kills the whole process group on abort, children included', async () => {
    const pidFile = path.join(tmp, 'child.pid');
    const started = Date.now();
    setTimeout(() => ctx.controller.abort(new Error('step timeout')), 500);
    const err = await thrown(() => shellAction.run(ctx, shell({ argv: ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`] })));
    expect(err.code).toBe('shell.cancelled');
    expect(err.userMessage).toMatch(/was stopped after .* \(step timeout; sent SIGTERM\)$/);
    expect(Date.now() - started).toBeLessThan(3000);
    const childPid = Number(await readFile(pidFile, 'utf8'));
    expect(childPid).toBeGreaterThan(0);
    expect(alive(childPid)).toBe(false);
  });

  it('sends SIGKILL 5 s after SIGTERM when the program ignores SIGTERM', async () => {
    // Abort only once the program has installed its handler: on a loaded machine a fixed delay can beat node's start-up,
    // and a SIGTERM that arrives first simply ends the program.
    const readyFile = path.join(tmp, 'ignoring-sigterm.ready');
    const run = thrown(() =>
      shellAction.run(
        ctx,
        shell({ argv: node(`process.on("SIGTERM", () => console.log("ignoring")); require("fs").writeFileSync(${JSON.stringify(readyFile)}, "1"); setTimeout(() => {}, 60000)`) }),
      ),
    );
    await waitFor(() => existsSync(readyFile), 20_000);
    const aborted = Date.now();
    ctx.controller.abort();
    const err = await run;
    expect(err.userMessage).toMatch(/sent SIGTERM, then SIGKILL\)$/);
    expect(Date.now() - aborted).toBeGreaterThanOrEqual(5000);
    // Generous: the grace period is 5 s; a loaded machine only adds scheduling delay.
    expect(Date.now() - aborted).toBeLessThan(20_000);
  }, 60_000);

  it('merges runbook env onto a minimal env that leaves the worker secrets out', async () => {
    process.env.SLACK_BOT_TOKEN = 'xoxb-fake';
    try {
      const result = await shellAction.run(
        ctx,
        shell({ argv: ['sh', '-c', 'echo "$PGHOST|${SLACK_BOT_TOKEN:-unset}|${PATH:+path-set}"'], env: { PGHOST: 'db.internal' } }),
      );
      expect(result.details?.stdoutTail).toBe('db.internal|unset|path-set\n');
    } finally {
      delete process.env.SLACK_BOT_TOKEN;
    }
  });

  it('hides secret env values and URL passwords from summaries and output', async () => {
    const result = await shellAction.run(
      ctx,
      shell({ argv: ['sh', '-c', 'echo "pw=$PGPASSWORD"', 'postgres://app:url-pass-123@db/app'], env: { PGPASSWORD: 'hunter2-secret' } }),
    );
    expect(result.details?.stdoutTail).toBe('pw=***\n');
    expect(result.summary).toContain('postgres://app:***@db/app');
    expect(JSON.stringify(result)).not.toMatch(/hunter2-secret|url-pass-123/);
  });

  it('runs in cwd', async () => {
    const result = await shellAction.run(ctx, shell({ argv: ['pwd'], cwd: tmp }));
    expect(result.details?.stdoutTail).toBe(`${await realpath(tmp)}\n`);
  });

  it('tells a missing program from a missing working directory', async () => {
    const noProgram = await thrown(() => shellAction.run(ctx, shell({ argv: ['cutover-no-such-program'] })));
    expect(noProgram.code).toBe('shell.spawn');
    expect(noProgram.userMessage).toBe('could not start `cutover-no-such-program`: program not found on PATH');
    const noDir = await thrown(() => shellAction.run(ctx, shell({ argv: ['pwd'], cwd: path.join(tmp, 'missing') })));
    expect(noDir.code).toBe('shell.cwd');
  });

  it('does not spawn in a dry run and says what it would run', async () => {
    const marker = path.join(tmp, 'dry-marker');
    const result = await shellAction.run({ ...ctx, dryRun: true }, shell({ argv: ['touch', marker], env: { PGPASSWORD: 'x' } }));
    expect(result.summary).toBe(`dry run: would run \`touch ${marker}\` with PGPASSWORD set`);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('http action', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method?: string; url?: string; auth?: string }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      if (req.url === '/ok') res.writeHead(200).end(`service healthy ${'.'.repeat(1000)}`);
      else if (req.url === '/down') res.writeHead(503).end('maintenance');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 5000).unref();
      else res.writeHead(404).end('no such route');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes when the status matches and returns status, duration and the first 500 chars of body', async () => {
    const result = await httpAction.run(ctx, http({ url: `${base}/ok` }));
    expect(result.summary).toMatch(new RegExp(`^GET ${base}/ok returned 200 in \\d+ ms$`));
    expect(result.details).toMatchObject({ status: 200, method: 'GET' });
    expect(String(result.details?.body)).toHaveLength(500);
    expect(String(result.details?.body).startsWith('service healthy')).toBe(true);
    expect(typeof result.details?.durationMs).toBe('number');
  });

  it('fails with http.status when the status does not match', async () => {
    const err = await thrown(() => httpAction.run(ctx, http({ url: `${base}/down` })));
    expect(err.code).toBe('http.status');
    expect(err.userMessage).toBe(`GET ${base}/down returned 503, expected 200`);
    expect(err.details).toMatchObject({ status: 503, body: 'maintenance' });
  });

  it('accepts any status of an expect_status list', async () => {
    const result = await httpAction.run(ctx, http({ url: `${base}/down`, expect_status: [200, 503] }));
    expect(result.details?.status).toBe(503);
    const err = await thrown(() => httpAction.run(ctx, http({ url: `${base}/missing`, expect_status: [200, 503] })));
    expect(err.userMessage).toContain('returned 404, expected one of 200, 503');
  });

  it('checks expect_body_contains', async () => {
    await expect(httpAction.run(ctx, http({ url: `${base}/ok`, expect_body_contains: 'healthy' }))).resolves.toBeDefined();
    const err = await thrown(() => httpAction.run(ctx, http({ url: `${base}/ok`, expect_body_contains: 'ready' })));
    expect(err.code).toBe('http.body');
    expect(err.userMessage).toBe(`GET ${base}/ok returned 200 but its body does not contain "ready"`);
  });

  it('times out after request_timeout', async () => {
    const started = Date.now();
    const err = await thrown(() => httpAction.run(ctx, http({ url: `${base}/slow`, request_timeout: '1s' })));
    expect(err.code).toBe('http.timeout');
    expect(err.userMessage).toBe(`GET ${base}/slow got no complete response within 1s`);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('stops when the step signal aborts', async () => {
    setTimeout(() => ctx.controller.abort(new Error('step timeout')), 200);
    const err = await thrown(() => httpAction.run(ctx, http({ url: `${base}/slow` })));
    expect(err.code).toBe('http.cancelled');
  });

  it('says why a server cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await thrown(() => httpAction.run(ctx, http({ url: `http://127.0.0.1:${port}/health` })));
    expect(err.code).toBe('http.unreachable');
    expect(err.userMessage).toBe(`GET http://127.0.0.1:${port}/health failed: ECONNREFUSED`);
  });

  it('sends URL credentials as Basic auth and never shows the password', async () => {
    const url = base.replace('http://', 'http://ops:http-S3cret@');
    const err = await thrown(() => httpAction.run(ctx, http({ url: `${url}/down` })));
    expect(err.userMessage).toContain('http://ops:***@127.0.0.1');
    expect(JSON.stringify({ m: err.userMessage, d: err.details })).not.toContain('http-S3cret');
    expect(seen.at(-1)?.auth).toBe(`Basic ${Buffer.from('ops:http-S3cret').toString('base64')}`);
  });

  it('in a dry run performs GET but only describes a POST', async () => {
    const dry = { ...ctx, dryRun: true };
    const before = seen.length;
    const get = await httpAction.run(dry, http({ url: `${base}/ok` }));
    expect(get.summary).toMatch(/^dry run: GET .* returned 200/);
    expect(seen.length).toBe(before + 1);
    const post = await httpAction.run(dry, http({ url: `${base}/ok`, method: 'POST', body: '{}', expect_status: [200, 202] }));
    expect(post.summary).toBe(`dry run: would send POST ${base}/ok and expect one of 200, 202`);
    expect(seen.length).toBe(before + 1);
  });
});
