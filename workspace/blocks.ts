/**
 * Block Kit checks of the Slack-compatible workspace, to Slack's documented
 * limits, plus helpers that walk a message's blocks (text for substring
 * search, buttons for sending block_actions back).
 *
 * Slack answers a bad message with `invalid_blocks` (or `msg_blocks_too_long`)
 * and explains in `response_metadata.messages` as
 * `[ERROR] <what> [json-pointer:/blocks/0/text/text]`; the WebClient logs
 * those lines, so the workspace writes them the same way.
 */

export type BlocksError = 'invalid_blocks' | 'invalid_blocks_format' | 'msg_blocks_too_long';

export type BlocksResult =
  | { ok: true; blocks: unknown[] | undefined }
  | { ok: false; error: BlocksError; messages: string[] };

/** Serialized size above which Slack refuses the whole payload. */
export const MAX_BLOCKS_JSON_CHARS = 13_000;
export const MAX_BLOCKS = 50;

const KNOWN_BLOCKS = new Set([
  'section', 'header', 'actions', 'context', 'divider', 'image', 'rich_text',
  'input', 'markdown', 'file', 'video', 'table', 'context_actions',
]);
const STYLES = new Set(['primary', 'danger']);

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and checks a `blocks` argument as it arrives: a JSON string inside a
 * form body, or an array inside a JSON body. Absent → ok with undefined.
 */
export function checkBlocksArg(raw: unknown): BlocksResult {
  if (raw === undefined || raw === null || raw === '') return { ok: true, blocks: undefined };
  let parsed: unknown = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { ok: false, error: 'invalid_blocks_format', messages: ['[ERROR] blocks is not valid JSON'] };
    }
  }
  if (!Array.isArray(parsed)) {
    return { ok: false, error: 'invalid_blocks_format', messages: ['[ERROR] blocks must be an array'] };
  }
  const blocks: unknown[] = parsed;
  if (JSON.stringify(blocks).length > MAX_BLOCKS_JSON_CHARS) {
    return { ok: false, error: 'msg_blocks_too_long', messages: [] };
  }
  const problems = checkBlocks(blocks);
  return problems.length === 0 ? { ok: true, blocks } : { ok: false, error: 'invalid_blocks', messages: problems };
}

/** Every Block Kit problem found, Slack-style; empty means valid. */
export function checkBlocks(blocks: unknown[], max = MAX_BLOCKS, pointer = '/blocks'): string[] {
  const problems: string[] = [];
  const add = (at: string, what: string): void => {
    problems.push(`[ERROR] ${what} [json-pointer:${at}]`);
  };
  if (blocks.length > max) add(pointer, `no more than ${max} items allowed`);
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => checkBlock(block, `${pointer}/${i}`, blockIds, add));
  return problems;
}

type Add = (pointer: string, what: string) => void;

function checkBlock(block: unknown, at: string, blockIds: Set<string>, add: Add): void {
  if (!isRecord(block) || typeof block.type !== 'string') return add(at, 'missing required field: type');
  if (!KNOWN_BLOCKS.has(block.type)) return add(`${at}/type`, `unsupported type: ${block.type}`);
  if (block.block_id !== undefined) {
    const id = block.block_id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 255) add(`${at}/block_id`, 'must be 1-255 characters');
    else if (blockIds.has(id)) add(`${at}/block_id`, `duplicate block_id: ${id}`);
    else blockIds.add(id);
  }
  switch (block.type) {
    case 'header':
      return checkText(block.text, `${at}/text`, 150, add, true);
    case 'section':
      return checkSection(block, at, add);
    case 'actions':
      return checkElements(block.elements, `${at}/elements`, 25, add);
    case 'context':
      checkList(block.elements, `${at}/elements`, 10, add);
      return;
    case 'image':
      checkLength(block.alt_text, `${at}/alt_text`, 2000, add, true);
      if (block.title !== undefined) checkText(block.title, `${at}/title`, 2000, add, true);
      if (block.image_url === undefined && block.slack_file === undefined) add(at, 'missing required field: image_url');
      return;
    case 'input':
      checkText(block.label, `${at}/label`, 2000, add, true);
      if (block.hint !== undefined) checkText(block.hint, `${at}/hint`, 2000, add, true);
      if (!isRecord(block.element)) return add(`${at}/element`, 'missing required field: element');
      return checkElement(block.element, `${at}/element`, new Set(), add);
    case 'markdown':
      return checkLength(block.text, `${at}/text`, 12_000, add, true);
    default:
      return;
  }
}

function checkSection(block: Record<string, unknown>, at: string, add: Add): void {
  if (block.text === undefined && block.fields === undefined) add(at, 'must provide either text or fields');
  if (block.text !== undefined) checkText(block.text, `${at}/text`, 3000, add, false);
  if (block.fields !== undefined) {
    if (!Array.isArray(block.fields)) return add(`${at}/fields`, 'must be an array');
    if (block.fields.length > 10) add(`${at}/fields`, 'no more than 10 items allowed');
    block.fields.forEach((field, i) => checkText(field, `${at}/fields/${i}`, 2000, add, false));
  }
  if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, new Set(), add);
}

function checkList(list: unknown, at: string, max: number, add: Add): unknown[] {
  if (!Array.isArray(list) || list.length === 0) {
    add(at, 'must contain at least 1 item');
    return [];
  }
  if (list.length > max) add(at, `no more than ${max} items allowed`);
  return list;
}

function checkElements(list: unknown, at: string, max: number, add: Add): void {
  const actionIds = new Set<string>();
  checkList(list, at, max, add).forEach((el, i) => checkElement(el, `${at}/${i}`, actionIds, add));
}

function checkElement(el: unknown, at: string, actionIds: Set<string>, add: Add): void {
  if (!isRecord(el) || typeof el.type !== 'string') return add(at, 'missing required field: type');
  if (el.action_id !== undefined) {
    const id = el.action_id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 255) add(`${at}/action_id`, 'must be 1-255 characters');
    else if (actionIds.has(id)) add(`${at}/action_id`, `duplicate action_id: ${id}`);
    else actionIds.add(id);
  }
  if (el.type === 'button') {
    checkText(el.text, `${at}/text`, 75, add, true);
    if (el.value !== undefined) checkLength(el.value, `${at}/value`, 2000, add, false);
    if (el.url !== undefined) checkLength(el.url, `${at}/url`, 3000, add, true);
  }
  if (Array.isArray(el.options) && el.options.length > 100) add(`${at}/options`, 'no more than 100 items allowed');
  if (el.type === 'checkboxes' && Array.isArray(el.options) && el.options.length > 10) add(`${at}/options`, 'no more than 10 items allowed');
  if (el.type === 'plain_text_input') checkTextInput(el, at, add);
  if (el.style !== undefined && (typeof el.style !== 'string' || !STYLES.has(el.style))) {
    add(`${at}/style`, 'must be one of primary, danger');
  }
  if (el.confirm !== undefined) checkConfirm(el.confirm, `${at}/confirm`, add);
}

/** A plain_text_input's bounds: Slack takes at most 3000 characters, and an initial value within them. */
function checkTextInput(el: Record<string, unknown>, at: string, add: Add): void {
  const max = el.max_length;
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 3000)) add(`${at}/max_length`, 'must be between 1 and 3000');
  const min = el.min_length;
  if (min !== undefined && (typeof min !== 'number' || !Number.isInteger(min) || min < 0 || min > 3000)) add(`${at}/min_length`, 'must be between 0 and 3000');
  if (el.initial_value !== undefined) checkLength(el.initial_value, `${at}/initial_value`, typeof max === 'number' ? max : 3000, add, false);
}

function checkConfirm(confirm: unknown, at: string, add: Add): void {
  if (!isRecord(confirm)) return add(at, 'must be an object');
  checkText(confirm.title, `${at}/title`, 100, add, true);
  checkText(confirm.text, `${at}/text`, 300, add, false);
  checkText(confirm.confirm, `${at}/confirm`, 30, add, true);
  checkText(confirm.deny, `${at}/deny`, 30, add, true);
  if (confirm.style !== undefined && (typeof confirm.style !== 'string' || !STYLES.has(confirm.style))) {
    add(`${at}/style`, 'must be one of primary, danger');
  }
}

/** A composition text object: `{type: plain_text|mrkdwn, text}` of 1..max chars. */
function checkText(obj: unknown, at: string, max: number, add: Add, plainOnly: boolean): void {
  if (!isRecord(obj)) return add(at, 'missing required field: text object');
  if (obj.type !== 'plain_text' && (plainOnly || obj.type !== 'mrkdwn')) {
    return add(`${at}/type`, plainOnly ? 'must be plain_text' : 'must be plain_text or mrkdwn');
  }
  checkLength(obj.text, `${at}/text`, max, add, true);
}

function checkLength(value: unknown, at: string, max: number, add: Add, required: boolean): void {
  if (typeof value !== 'string') return add(at, 'must be a string');
  if (required && value.length === 0) add(at, 'must be more than 0 characters');
  if (value.length > max) add(at, `must be less than ${max + 1} characters`);
}

/** All human-readable text inside blocks (text objects, fields, rich text), in order. */
export function blockTexts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(blockTexts);
  if (!isRecord(node)) return [];
  // Strings are leaves; only a `text` key holds words a person reads.
  const own = typeof node.text === 'string' ? [node.text] : [];
  return [...own, ...Object.values(node).flatMap(blockTexts)];
}

/** A button as a test needs it to click it back through `sendBlockAction`. */
export interface FoundButton {
  blockId: string | undefined;
  actionId: string | undefined;
  value: string | undefined;
  text: string;
  style: string | undefined;
  confirm: Record<string, unknown> | undefined;
}

export interface ButtonQuery {
  actionId?: string;
  value?: string;
  blockId?: string;
  /** Substring of the button's label. */
  text?: string;
}

/** Every button in the blocks: in actions blocks and as section accessories. */
export function buttonsIn(blocks: unknown[] | undefined): FoundButton[] {
  const found: FoundButton[] = [];
  for (const block of blocks ?? []) {
    if (!isRecord(block)) continue;
    const blockId = typeof block.block_id === 'string' ? block.block_id : undefined;
    const elements = Array.isArray(block.elements) ? block.elements : [block.accessory];
    for (const el of elements) {
      if (!isRecord(el) || el.type !== 'button') continue;
      found.push({
        blockId,
        actionId: typeof el.action_id === 'string' ? el.action_id : undefined,
        value: typeof el.value === 'string' ? el.value : undefined,
        text: isRecord(el.text) && typeof el.text.text === 'string' ? el.text.text : '',
        style: typeof el.style === 'string' ? el.style : undefined,
        confirm: isRecord(el.confirm) ? el.confirm : undefined,
      });
    }
  }
  return found;
}

/** The first button matching every given field of the query. */
export function findButton(
  message: { blocks: unknown[] | undefined } | unknown[] | undefined,
  query: ButtonQuery = {},
): FoundButton | undefined {
  const blocks = Array.isArray(message) ? message : message?.blocks;
  return buttonsIn(blocks).find(
    (b) =>
      (query.actionId === undefined || b.actionId === query.actionId) &&
      (query.value === undefined || b.value === query.value) &&
      (query.blockId === undefined || b.blockId === query.blockId) &&
      (query.text === undefined || b.text.includes(query.text)),
  );
}

/** The button or static_select with this action id, in an actions block or as a section's accessory. */
export function elementIn(block: Record<string, unknown>, actionId: string): Record<string, unknown> | undefined {
  const elements: unknown[] = Array.isArray(block.elements) ? block.elements : [block.accessory];
  return elements.find(
    (el): el is Record<string, unknown> => isRecord(el) && (el.type === 'button' || el.type === 'static_select') && el.action_id === actionId,
  );
}

/** A static_select's option by value (in `options` or in `option_groups`), as Slack sends it back. */
export function optionIn(select: Record<string, unknown>, value: string): { text: string; value: string } | undefined {
  if (select.type !== 'static_select') return undefined;
  const groups: unknown[] = Array.isArray(select.option_groups) ? select.option_groups : [{ options: select.options }];
  for (const group of groups) {
    const options: unknown[] = isRecord(group) && Array.isArray(group.options) ? group.options : [];
    for (const option of options) {
      if (isRecord(option) && option.value === value && isRecord(option.text) && typeof option.text.text === 'string') return { text: option.text.text, value };
    }
  }
  return undefined;
}
