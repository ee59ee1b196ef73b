import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ShellParams } from '../../runbook/actions/shell.js';
import { CutoverError } from '../../runbook/errors.js';
import { ActionError, abortReason, truncate, type ActionContext, type ActionImpl } from '../action.js';
import { SECRET_NAME, scrub } from '../secrets.js';
import { redactUrl } from '../connections.js';
import { faultPoint } from '../fault-injection.js';
import { runProcess, type ProcessOutcome } from './shell-process.js';

/** The only variables a runbook command inherits: the worker's own secrets (Slack, Redis, database URLs) stay out. */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'] as const;
const PROGRESS_EVERY_MS = 15_000;

/** Runs a program with arguments written in the runbook; never through a shell. */
export const shellAction: ActionImpl<ShellParams> = {
  id: 'shell',
  async run(ctx: ActionContext, params: ShellParams) {
    const env = { ...minimalEnv(), ...params.env };
    const redact = (text: string): string => ctx.connections.redact(scrub(text, secretValues(params)));
    const shown = redact(displayArgv(params.argv));
    const cwd = path.resolve(params.cwd ?? process.cwd());
    const okCodes = params.ok_exit_codes ?? [0];
    const envKeys = Object.keys(params.env ?? {});
    if (ctx.dryRun) {
      const where = params.cwd ? ` in ${cwd}` : '';
      const withEnv = envKeys.length ? ` with ${envKeys.join(', ')} set` : '';
      return { summary: `dry run: would run \`${shown}\`${where}${withEnv}`, details: { argv: shown, cwd, envKeys, dryRun: true } };
    }
    await assertDirectory(cwd);
    if (ctx.signal.aborted) throw new ActionError('shell.cancelled', `\`${shown}\` was not started (${abortReason(ctx.signal)})`);
    let lastProgress = Date.now();
    let outcome: ProcessOutcome;
    try {
      outcome = await runProcess(params.argv, {
        cwd,
        env,
        signal: ctx.signal,
        onSpawn: (group) => faultPoint('in-effect', ctx.stepId, [group]),
        // Long commands (a backup) would otherwise be silent for an hour; one line every 15 s is enough.
        onOutput: (line) => {
          if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
          lastProgress = Date.now();
          ctx.progress(redact(truncate(line, 300)), { argv: shown });
        },
      });
    } catch (err) {
      throw spawnError(shown, err);
    }
    const details = {
      argv: shown,
      cwd,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      durationMs: outcome.durationMs,
      stdoutTail: redact(outcome.stdout.text()),
      stderrTail: redact(outcome.stderr.text()),
    };
    const took = `${(outcome.durationMs / 1000).toFixed(1)}s`;
    if (outcome.stoppedWith) {
      const how = outcome.stoppedWith.join(', then ');
      throw new ActionError('shell.cancelled', `\`${shown}\` was stopped after ${took} (${abortReason(ctx.signal)}; sent ${how})`, { details });
    }
    if (outcome.exitCode === null) {
      throw new ActionError('shell.signal', `\`${shown}\` was killed by ${outcome.signal ?? 'a signal'} after ${took}`, { details });
    }
    if (!okCodes.includes(outcome.exitCode)) {
      const last = lastLine(details.stderrTail) || lastLine(details.stdoutTail);
      const expected = okCodes.length === 1 ? String(okCodes[0]) : `one of ${okCodes.join(', ')}`;
      const tail = last ? `: ${truncate(last, 300)}` : '';
      throw new ActionError('shell.exit_code', `\`${shown}\` exited with code ${outcome.exitCode} (expected ${expected})${tail}`, { details });
    }
    return { summary: `\`${shown}\` exited with code ${outcome.exitCode} in ${took}`, details };
  },
};

function minimalEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const key of INHERITED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Values the runbook passes under secret-looking names (PGPASSWORD…), and passwords inside URL arguments. */
function secretValues(params: ShellParams): string[] {
  const fromEnv = Object.entries(params.env ?? {}).filter(([k]) => SECRET_NAME.test(k)).map(([, v]) => v);
  const fromUrls = [...params.argv, ...Object.values(params.env ?? {})].flatMap((arg) => {
    const match = /\/\/[^/:@\s]*:([^@\s]+)@/.exec(arg);
    return match?.[1] ? [match[1], safeDecode(match[1])] : [];
  });
  return [...fromEnv, ...fromUrls];
}

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** argv as one readable line, with URL passwords and --password=… values hidden. */
export function displayArgv(argv: readonly string[]): string {
  return argv
    .map((arg) => {
      let shown = arg.includes('://') ? redactUrl(arg) : arg;
      const flag = /^(--?[\w-]+=)(.*)$/.exec(shown);
      if (flag?.[1] && SECRET_NAME.test(flag[1])) shown = `${flag[1]}***`;
      return /^[\w@%+=:,./-]+$/.test(shown) ? shown : JSON.stringify(shown);
    })
    .join(' ');
}

const lastLine = (text: string): string => text.trimEnd().split('\n').pop()?.trim() ?? '';

async function assertDirectory(cwd: string): Promise<void> {
  // spawn reports a missing cwd as ENOENT, indistinguishable from a missing program; say which one it is.
  const info = await stat(cwd).catch(() => undefined);
  if (!info?.isDirectory()) throw new CutoverError('shell.cwd', `working directory ${cwd} does not exist on the worker`);
}

function spawnError(shown: string, err: unknown): ActionError {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  const why =
    code === 'ENOENT' ? 'program not found on PATH' : code === 'EACCES' ? 'program is not executable' : String(err);
  return new ActionError('shell.spawn', `could not start \`${shown}\`: ${why}`, { cause: err });
}
