/**
 * The bounds on everything that comes from outside (issue 14): chat text,
 * button values, modal fields, runbook files. Each is generous for honest use
 * and small enough that nothing over it can stall a process; whatever crosses
 * one is refused with a sentence naming the limit (docs/running.md lists them).
 * Pure: no imports, so the core, the bot and the config layer all share them.
 */

/** `/migrate …` text as typed. Well above any real command (a reason is at most 500 characters). */
export const COMMAND_TEXT_MAX_CHARS = 10_000;

/** A runbook's name (its file name without .yaml): a short slug. */
export const RUNBOOK_NAME_MAX_CHARS = 64;

/** A run id: the runbook's name, a time stamp and a random suffix (newRunId). */
export const RUN_ID_MAX_CHARS = RUNBOOK_NAME_MAX_CHARS + 32;

/** Ids inside a runbook (steps, phases, roles, connections, follow-ups): they travel in button values and thread lines. */
export const ID_MAX_CHARS = 64;

/** A runbook file on disk. A 3,000-step runbook is about 0.8 MB. */
export const RUNBOOK_FILE_MAX_BYTES = 2 * 1024 * 1024;

/** YAML aliases expanded per file (yaml's maxAliasCount): shared step templates use a few dozen; a "billion laughs" needs far more. */
export const YAML_MAX_ALIASES = 100;

/** Steps in one runbook, forward and rollback together. */
export const RUNBOOK_MAX_STEPS = 5_000;

/** Problems listed per runbook in a Slack answer (the rest are counted): a message stays readable and under Slack's size. */
export const PROBLEMS_SHOWN_MAX = 10;

/** A button's or menu option's value: Slack's own limit, so anything longer was not written by this bot. */
export const BUTTON_VALUE_MAX_CHARS = 2_000;


/** How a count reads in a refusal: 1,048,576. */
export const formatCount = (n: number): string => n.toLocaleString('en-US');

/** A long word shown back to the person who typed it: its head and its length, never all of it. */
export function shown(word: string, max = 40): string {
  return word.length <= max ? word : `${word.slice(0, max)}… (${formatCount(word.length)} characters)`;
}

const SLUG = /^[a-z0-9][a-z0-9_-]*$/i;

/**
 * Why a word cannot be a runbook's name, as a "no such runbook" answer that
 * names the rule; null when it could be one. Checked before any file is
 * looked up, so a 5,000-character name never reaches the file system.
 */
export function runbookNameProblem(name: string): string | null {
  if (name.length > RUNBOOK_NAME_MAX_CHARS) {
    return `There is no runbook \`${shown(name)}\`: runbook names are at most ${RUNBOOK_NAME_MAX_CHARS} characters (letters, digits, "-" and "_"). \`/migrate runbooks\` lists them.`;
  }
  if (!SLUG.test(name)) {
    return `There is no runbook \`${shown(name)}\`: runbook names are letters, digits, "-" and "_" (at most ${RUNBOOK_NAME_MAX_CHARS} characters). \`/migrate runbooks\` lists them.`;
  }
  return null;
}
