import { COMMAND_TEXT_MAX_CHARS, formatCount, RUN_ID_MAX_CHARS, runbookNameProblem, shown } from '../runbook/input-bounds.js';
import { REASON_MAX_CHARS, reasonProblem, USAGE } from '../runbook/reasons.js';

/** `/migrate …` text, parsed. Unknown input becomes `help` with the reason. */
export type MigrateCommand =
  | { kind: 'start'; runbook: string; dryRun: boolean }
  | { kind: 'status'; target: string | null }
  /** `words` may start with a runbook name or run id when several runs share a channel. */
  | { kind: 'pause' | 'abort' | 'resume'; words: string[] }
  /** `[run] [scenario] [reason]`: which word is the scenario is decided against the run's runbook. */
  | { kind: 'rollback'; words: string[] }
  | { kind: 'hold' | 'reject' | 'skip'; stepId: string; reason: string }
  /** A destructive command typed without what it needs: answered with the usage alone, the run untouched. */
  | { kind: 'refused'; problem: string }
  /** Lets a gated step be approved on a red/amber validation verdict (rollback authority only). */
  | { kind: 'override'; stepId: string; reason: string }
  | { kind: 'runbooks' }
  /** The backup catalogue of this channel's run (issue 5). */
  | { kind: 'backups' }
  | { kind: 'report'; runId: string }
  /** `other` null: the previous finished run of the same runbook. */
  | { kind: 'compare'; runId: string; other: string | null }
  | { kind: 'contacts'; runbook: string | null }
  /** `at` is the ISO text as typed; the handler parses it (it needs the clock to refuse the past). */
  | { kind: 'schedule'; runbook: string; at: string }
  | { kind: 'unschedule'; target: string }
  | { kind: 'help'; problem: string | null }
  /** `/migrate` alone: points to the app's Home tab (help stays `/migrate help`). */
  | { kind: 'home' };

const TARGET = /^[a-z0-9][a-z0-9_-]*$/i;
/** A run id or runbook name as a command's target: a slug no longer than a run id. */
const isTarget = (word: string | undefined): boolean => word !== undefined && word.length <= RUN_ID_MAX_CHARS && TARGET.test(word);

/**
 * Never throws, whatever the text: every answer is a command, help with the
 * problem, or a refusal naming the bound that was crossed.
 */
export function parseMigrateText(text: string): MigrateCommand {
  if (text.length > COMMAND_TEXT_MAX_CHARS) {
    return { kind: 'refused', problem: `That command is ${formatCount(text.length)} characters; \`/migrate\` reads at most ${formatCount(COMMAND_TEXT_MAX_CHARS)}. Nothing was done.` };
  }
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [sub, ...rest] = words;
  const help = (problem: string | null): MigrateCommand => ({ kind: 'help', problem });
  // A word that could be a name but is too long: "no such runbook", naming the limit, before any lookup.
  const badName = (word: string | undefined): MigrateCommand | null => {
    const problem = word !== undefined && TARGET.test(word) ? runbookNameProblem(word) : null;
    return problem ? { kind: 'refused', problem } : null;
  };
  switch (sub?.toLowerCase()) {
    case undefined:
      return { kind: 'home' };
    case 'help':
      return help(null);
    case 'start': {
      const dryRun = rest.includes('--dry-run');
      const names = rest.filter((w) => w !== '--dry-run');
      if (names.length !== 1 || !TARGET.test(names[0] ?? '')) return help('`start` needs exactly one runbook name, e.g. `/migrate start kgv`.');
      const tooLong = badName(names[0]);
      if (tooLong) return tooLong;
      return { kind: 'start', runbook: names[0] as string, dryRun };
    }
    case 'status':
      if (rest[0] !== undefined && !isTarget(rest[0])) return help(`\`status\` takes at most a run id or runbook name (up to ${RUN_ID_MAX_CHARS} characters), not \`${shown(rest[0])}\`.`);
      return { kind: 'status', target: rest[0] ?? null };
    case 'pause':
    case 'abort':
    case 'resume':
      // abort's reason is checked with the other destructive ones; pause records its words as they are, so they are bounded here.
      if (rest.join(' ').length > REASON_MAX_CHARS + RUN_ID_MAX_CHARS + 1) {
        return { kind: 'refused', problem: `That reason is ${formatCount(rest.join(' ').length)} characters; keep it under ${REASON_MAX_CHARS} (link a ticket for the details).` };
      }
      return { kind: sub.toLowerCase() as 'pause' | 'abort' | 'resume', words: rest };
    case 'rollback':
      return { kind: 'rollback', words: rest };
    case 'hold':
    case 'reject': {
      const [stepId, ...reason] = rest;
      if (!stepId) return help(`\`${sub}\` needs a step id and a reason, e.g. \`/migrate ${sub} load-antrag waiting for the DBA\`.`);
      if (reason.length === 0) return help(`\`${sub}\` needs a reason after the step id, so the thread says why.`);
      if (!isTarget(stepId)) return help(`\`${shown(stepId)}\` is not a step id (letters, digits, "-" and "_", at most ${RUN_ID_MAX_CHARS} characters).`);
      if (reason.join(' ').length > REASON_MAX_CHARS) return { kind: 'refused', problem: `That reason is ${formatCount(reason.join(' ').length)} characters; keep it under ${REASON_MAX_CHARS} (link a ticket for the details).` };
      return { kind: sub.toLowerCase() as 'hold' | 'reject', stepId, reason: reason.join(' ') };
    }
    // Destructive: refused here without a step and a reason, with the usage; confirmed with a button before anything happens.
    case 'skip':
    case 'override': {
      const kind = sub.toLowerCase() as 'skip' | 'override';
      const [stepId, ...reason] = rest;
      const problem = !stepId
        ? `\`${kind}\` needs a step id and a reason. Usage: ${USAGE[kind]}`
        : !isTarget(stepId)
          ? `\`${shown(stepId)}\` is not a step id (letters, digits, "-" and "_", at most ${RUN_ID_MAX_CHARS} characters). Usage: ${USAGE[kind]}`
          : reasonProblem(kind, reason.join(' '));
      if (problem) return { kind: 'refused', problem };
      return { kind, stepId: stepId as string, reason: reason.join(' ') };
    }
    case 'runbooks':
      return { kind: 'runbooks' };
    case 'backups':
      return { kind: 'backups' };
    case 'report':
      if (rest.length !== 1 || !isTarget(rest[0])) return help('`report` needs a run id, e.g. `/migrate report kgv-20240309-2200-ab12`.');
      return { kind: 'report', runId: rest[0] as string };
    case 'compare':
      if (rest.length < 1 || rest.length > 2 || !rest.every(isTarget)) return help('`compare` needs a run id and optionally another, e.g. `/migrate compare kgv-20240309-2200-ab12`.');
      return { kind: 'compare', runId: rest[0] as string, other: rest[1] ?? null };
    case 'contacts':
      if (rest.length > 1 || (rest[0] !== undefined && !TARGET.test(rest[0]))) return help('`contacts` takes at most a runbook name, e.g. `/migrate contacts kgv`.');
      if (badName(rest[0])) return badName(rest[0]) as MigrateCommand;
      return { kind: 'contacts', runbook: rest[0] ?? null };
    case 'schedule':
      if (rest.length !== 2 || !TARGET.test(rest[0] ?? '')) return help('`schedule` needs a runbook and an ISO time with its offset, e.g. `/migrate schedule kgv 2024-03-09T22:00:00+01:00`.');
      if (badName(rest[0])) return badName(rest[0]) as MigrateCommand;
      if ((rest[1] ?? '').length > 40) return help(`\`${shown(rest[1] ?? '')}\` is not an ISO time; write it like \`2024-03-09T22:00:00+01:00\`.`);
      return { kind: 'schedule', runbook: rest[0] as string, at: rest[1] as string };
    case 'unschedule':
      if (rest.length !== 1 || !isTarget(rest[0])) return help('`unschedule` needs the runbook or the schedule id shown by `/migrate status`.');
      return { kind: 'unschedule', target: rest[0] as string };
    default:
      return help(`I don't know \`${shown(sub ?? '')}\`.`);
  }
}

export const HELP_TEXT = [
  '*/migrate* — coordinated database cutovers. Your Home tab (the app under Apps in the sidebar) shows what waits for you; `/migrate` alone points there',
  '• `/migrate start <runbook> [--dry-run]` — start a run; steps then wait for approval in the thread',
  '• `/migrate status [run]` — where the active runs stand, follow-ups after go-live not yet done, and scheduled runs',
  '• `/migrate pause [run] [reason]` · `/migrate resume [run]` · `/migrate abort [run] <reason>` — control this channel\'s run (name it by runbook or run id when several are active)',
  '• `/migrate hold <step> <reason>` · `/migrate reject <step> <reason>` · `/migrate skip <step> <reason>`',
  '• `/migrate override <step> <reason>` — rollback authority only: let a gated step be approved on a red or amber validation verdict',
  '• `/migrate rollback [pre-go-live|post-go-live|emergency] <reason>` — ask for a rollback (default: pre-go-live before the go-live switch, post-go-live after); the rollback authority approves it in the thread, then its steps run · `/migrate rollback cancel <reason>` withdraws the request',
  '• abort, skip, override and rollback (and its cancel) need a reason and are confirmed with a button before anything happens',
  '• `/migrate runbooks` — runbooks available, and any errors in them',
  '• `/migrate backups` — the backups this channel\'s run has made, with size, checksum and whether they are verified',
  '• `/migrate report <run>` — the cutover report of a finished run (Markdown, audit trail, timeline), uploaded again',
  '• `/migrate compare <run> [<other run>]` — two runs step by step (default: the previous run of the same runbook), with regressions',
  '• `/migrate contacts [runbook]` — the emergency contacts table',
  '• `/migrate schedule <runbook> <ISO time>` · `/migrate unschedule <runbook|id>` — start a run at a set time, with reminders and roll calls',
].join('\n');
