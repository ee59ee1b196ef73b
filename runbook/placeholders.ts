/**
 * Placeholders: what `cutover plan` cannot know and leaves for a person
 * (role members, the switch's statements, smoke checks, rules). A string that
 * starts with PLACEHOLDER_MARK anywhere in a runbook makes it refuse to load,
 * naming the path, so neither the bot nor a rehearsal can start it until it is
 * filled in. Pure: no I/O.
 */
const PLACEHOLDER_MARK = 'FILL IN:';

/** The text plan writes where a person must decide: `FILL IN: <what to write here>`. */
export const placeholder = (hint: string): string => `${PLACEHOLDER_MARK} ${hint}`;

const isPlaceholder = (value: unknown): value is string => typeof value === 'string' && value.trimStart().startsWith(PLACEHOLDER_MARK);

interface PlaceholderFound {
  path: Array<string | number>;
  hint: string;
}

/** Every placeholder in a parsed document, in document order, with its path. */
export function placeholdersIn(node: unknown, path: Array<string | number> = [], found: PlaceholderFound[] = []): PlaceholderFound[] {
  if (isPlaceholder(node)) {
    found.push({ path, hint: node.trimStart().slice(PLACEHOLDER_MARK.length).trim() });
  } else if (Array.isArray(node)) {
    node.forEach((item, i) => placeholdersIn(item, [...path, i], found));
  } else if (node !== null && typeof node === 'object') {
    for (const [key, child] of Object.entries(node)) placeholdersIn(child, [...path, key], found);
  }
  return found;
}

export const placeholderMessage = (hint: string): string =>
  `placeholder not filled in: ${hint || 'a value only a person can give'} (written by cutover plan; the runbook cannot start until it is replaced)`;

/**
 * A problem reported inside a placeholder (a Slack-id format error on
 * "FILL IN: …", say) only repeats it: the placeholder's own problem says what
 * to do there.
 */
export function underPlaceholder(problemPath: string, placeholderPaths: readonly string[]): boolean {
  return placeholderPaths.some((p) => problemPath === p || problemPath.startsWith(`${p}.`) || problemPath.startsWith(`${p}[`));
}
