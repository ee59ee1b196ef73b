import { CutoverError } from '../runbook/errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { LINT_USAGE, lintCommand } from './lint/lint-command.js';
import { Output, type CliIo } from './output.js';
import { PLAN_USAGE, planCommand } from './plan/plan-command.js';
import { REHEARSE_USAGE, rehearseCommand } from './rehearse/rehearse-command.js';

interface Command {
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<ExitCode>;
}

const COMMANDS: Record<string, Command> = {
  plan: { summary: 'write a runbook for a source (SQL Server or a snapshot) with durations, and its conversion report', usage: PLAN_USAGE, run: planCommand },
  rehearse: { summary: 'run a runbook headless with the real engine, approving as its roles; report, audit and timeline to a folder', usage: REHEARSE_USAGE, run: rehearseCommand },
  lint: { summary: 'check runbooks as the bot loads them: file:line:col path message', usage: LINT_USAGE, run: lintCommand },
};

const usage = (): string =>
  [
    'Usage: cutover <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`),
    '',
    '`cutover <command> --help` describes each; docs/cli.md has the details and the exit codes.',
  ].join('\n');

/**
 * `cutover <command> …`: returns the exit code rather than exiting, so tests
 * run commands in-process. Never throws: a usage error prints the command's
 * usage (exit 2), anything else its message (exit 3), secrets scrubbed.
 */
export async function main(argv: string[], io: CliIo): Promise<ExitCode> {
  const out = new Output(io, false);
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out.result(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    out.error(`cutover: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof CutoverError && err.code === 'cli.usage') {
      out.error(`cutover ${name}: ${err.userMessage}\n\n${command.usage}`);
      return EXIT.usage;
    }
    const message = err instanceof CutoverError ? err.userMessage : err instanceof Error ? err.message : String(err);
    out.error(`cutover ${name}: ${message}`);
    return EXIT.failed;
  }
}
