/**
 * Views of the Slack-compatible workspace: each person's App Home tab
 * (views.publish) and their stack of open modals (views.open, views.update,
 * views.push), checked to Slack's limits, with Slack's rules for triggers: a
 * trigger_id opens one view, within 3 s of the click or command that made it.
 * The page and the tests read what is shown; submissions are built from the
 * stored view, never from what a page says the view was.
 */
import { randomBytes } from 'node:crypto';
import { checkBlocks, isRecord } from './blocks.js';

/** Slack refuses a trigger_id older than this. */
export const TRIGGER_TTL_MS = 3000;
/** Slack keeps at most three modals stacked. */
const MAX_STACK = 3;
/** A view's blocks (modal or home). */
const MAX_VIEW_BLOCKS = 100;
/** Slack answers view_too_large above 250 kB. */
const MAX_VIEW_BYTES = 250_000;

export interface StoredView {
  id: string;
  user: string;
  type: 'home' | 'modal';
  /** The view as the app sent it. */
  view: Record<string, unknown>;
  hash: string;
  rootViewId: string;
  previousViewId: string | null;
  /** Field errors from the last submission's `response_action: errors`, by block_id. */
  errors: Record<string, string>;
}

type ViewAnswer = { ok: true; view: Record<string, unknown> } | { ok: false; error: string; response_metadata?: { messages: string[] } };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Slack's checks of a view payload; empty when it is fine. */
export function checkView(view: unknown, type: 'home' | 'modal'): string[] {
  const problems: string[] = [];
  const add = (at: string, what: string): void => void problems.push(`[ERROR] ${what} [json-pointer:${at}]`);
  if (!isRecord(view)) return ['[ERROR] view must be an object [json-pointer:/view]'];
  if (view.type !== type) add('/view/type', `must be ${type}`);
  const plain = (key: string, required: boolean): void => {
    const t = view[key];
    if (t === undefined) {
      if (required) add(`/view/${key}`, 'missing required field');
      return;
    }
    if (!isRecord(t) || t.type !== 'plain_text' || typeof t.text !== 'string') return add(`/view/${key}`, 'must be a plain_text text object');
    if (t.text.length === 0 || t.text.length > 24) add(`/view/${key}/text`, 'must be between 1 and 24 characters');
  };
  if (type === 'modal') {
    plain('title', true);
    plain('submit', false);
    plain('close', false);
  }
  const blocks = view.blocks;
  if (!Array.isArray(blocks)) return [...problems, '[ERROR] missing required field: blocks [json-pointer:/view/blocks]'];
  problems.push(...checkBlocks(blocks, MAX_VIEW_BLOCKS, '/view/blocks'));
  if (type === 'modal' && blocks.some((b) => isRecord(b) && b.type === 'input') && view.submit === undefined) {
    add('/view/submit', 'a modal with input blocks needs a submit button');
  }
  for (const [key, max] of [['private_metadata', 3000], ['callback_id', 255], ['external_id', 255]] as const) {
    const v = view[key];
    if (v !== undefined && (typeof v !== 'string' || v.length > max)) add(`/view/${key}`, `must be a string of at most ${max} characters`);
  }
  return problems;
}

/**
 * Every person's Home tab and modal stack. `triggerIssuedAt` says when the
 * workspace handed out a trigger_id and to whom (undefined: never), so views.open can
 * refuse an unknown, expired or already exchanged one as Slack does.
 */
export class WorkspaceViews {
  private readonly homes = new Map<string, StoredView>();
  private readonly stacks = new Map<string, StoredView[]>();
  private readonly byId = new Map<string, StoredView>();
  private readonly exchanged = new Set<string>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly ids: { teamId: string; botId: string; appId: string },
    private readonly triggerIssued: (triggerId: string) => { at: number; user: string | undefined } | undefined,
  ) {}

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  home(user: string): StoredView | undefined {
    return this.homes.get(user);
  }

  /** The modal on top of the person's stack, if one is open. */
  modal(user: string): StoredView | undefined {
    return this.stacks.get(user)?.at(-1);
  }

  publish(args: { user_id?: unknown; view?: unknown; hash?: unknown }, knownUser: (id: string) => boolean): ViewAnswer {
    const user = str(args.user_id);
    if (!user || !knownUser(user)) return invalid('invalid `user_id`');
    const problems = checkView(args.view, 'home');
    if (problems.length > 0) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
    if (JSON.stringify(args.view).length > MAX_VIEW_BYTES) return { ok: false, error: 'view_too_large' };
    const current = this.homes.get(user);
    const hash = str(args.hash);
    if (hash !== undefined && current && current.hash !== hash) return { ok: false, error: 'hash_conflict' };
    const stored = this.store(user, 'home', args.view as Record<string, unknown>, current);
    this.homes.set(user, stored);
    this.changed();
    return { ok: true, view: this.json(stored) };
  }

  /** views.open (push: false) and views.push (push: true): both exchange a fresh trigger_id once. */
  open(args: { trigger_id?: unknown; view?: unknown }, push: boolean, at: number): ViewAnswer {
    const trigger = str(args.trigger_id);
    const issued = trigger === undefined ? undefined : this.triggerIssued(trigger);
    const who = issued?.user;
    if (trigger === undefined || issued === undefined || who === undefined) return invalid('invalid `trigger_id`');
    if (this.exchanged.has(trigger)) return { ok: false, error: 'exchanged_trigger_id' };
    if (at - issued.at > TRIGGER_TTL_MS) return { ok: false, error: 'expired_trigger_id' };
    const problems = checkView(args.view, 'modal');
    if (problems.length > 0) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
    if (JSON.stringify(args.view).length > MAX_VIEW_BYTES) return { ok: false, error: 'view_too_large' };
    const stack = this.stacks.get(who) ?? [];
    if (push && stack.length === 0) return { ok: false, error: 'not_found' };
    if (push && stack.length >= MAX_STACK) return { ok: false, error: 'push_limit_reached' };
    this.exchanged.add(trigger);
    const stored = this.store(who, 'modal', args.view as Record<string, unknown>, undefined, push ? stack.at(-1) : undefined);
    // views.open while a modal is open replaces the stack, as Slack does.
    this.stacks.set(who, push ? [...stack, stored] : [stored]);
    this.changed();
    return { ok: true, view: this.json(stored) };
  }

  update(args: { view_id?: unknown; external_id?: unknown; view?: unknown; hash?: unknown }): ViewAnswer {
    const id = str(args.view_id);
    const external = str(args.external_id);
    const current = id !== undefined ? this.byId.get(id) : [...this.byId.values()].find((v) => external !== undefined && v.view.external_id === external);
    if (!current || !this.isShown(current)) return { ok: false, error: 'not_found' };
    const problems = checkView(args.view, current.type);
    if (problems.length > 0) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
    const hash = str(args.hash);
    if (hash !== undefined && hash !== current.hash) return { ok: false, error: 'hash_conflict' };
    const next = this.replace(current, args.view as Record<string, unknown>);
    return { ok: true, view: this.json(next) };
  }

  /**
   * What Slack does with the bot's answer to a view_submission: `errors`
   * keeps the modal open with each message under its field; `update` and
   * `push` change the stack; `clear` closes every modal; anything else closes
   * the submitted one. Returns what became of it.
   */
  applySubmissionResponse(viewId: string, answer: unknown): 'errors' | 'updated' | 'pushed' | 'closed' {
    const view = this.byId.get(viewId);
    if (!view) return 'closed';
    const action = isRecord(answer) ? answer.response_action : undefined;
    if (action === 'errors' && isRecord(answer) && isRecord(answer.errors)) {
      view.errors = Object.fromEntries(Object.entries(answer.errors).filter((e): e is [string, string] => typeof e[1] === 'string'));
      this.changed();
      return 'errors';
    }
    if ((action === 'update' || action === 'push') && isRecord(answer) && checkView(answer.view, 'modal').length === 0) {
      if (action === 'update') this.replace(view, answer.view as Record<string, unknown>);
      else {
        const stack = this.stacks.get(view.user) ?? [];
        this.stacks.set(view.user, [...stack, this.store(view.user, 'modal', answer.view as Record<string, unknown>, undefined, view)]);
        this.changed();
      }
      return action === 'update' ? 'updated' : 'pushed';
    }
    if (action === 'clear') this.stacks.delete(view.user);
    else this.close(view.user, viewId);
    this.changed();
    return 'closed';
  }

  /** The person closed the modal (✕ or Cancel): it and any modal above it go. */
  close(user: string, viewId: string): void {
    const stack = this.stacks.get(user) ?? [];
    const at = stack.findIndex((v) => v.id === viewId);
    if (at < 0) return;
    const kept = stack.slice(0, at);
    if (kept.length > 0) this.stacks.set(user, kept);
    else this.stacks.delete(user);
    this.changed();
  }

  /** The view as Slack returns it from the API and sends it in payloads. */
  json(v: StoredView, values: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      id: v.id,
      team_id: this.ids.teamId,
      type: v.type,
      blocks: v.view.blocks,
      private_metadata: v.view.private_metadata ?? '',
      callback_id: v.view.callback_id ?? '',
      state: { values },
      hash: v.hash,
      title: v.view.title ?? null,
      clear_on_close: v.view.clear_on_close === true,
      notify_on_close: v.view.notify_on_close === true,
      close: v.view.close ?? null,
      submit: v.view.submit ?? null,
      previous_view_id: v.previousViewId,
      root_view_id: v.rootViewId,
      app_id: this.ids.appId,
      external_id: v.view.external_id ?? '',
      app_installed_team_id: this.ids.teamId,
      bot_id: this.ids.botId,
    };
  }

  private isShown(v: StoredView): boolean {
    return v.type === 'home' ? this.homes.get(v.user)?.id === v.id : (this.stacks.get(v.user) ?? []).some((s) => s.id === v.id);
  }

  private replace(current: StoredView, view: Record<string, unknown>): StoredView {
    // Same id, new hash: an older hash is now a conflict. Errors belong to the old content.
    current.view = view;
    current.hash = newHash();
    current.errors = {};
    this.changed();
    return current;
  }

  private store(user: string, type: 'home' | 'modal', view: Record<string, unknown>, replacing?: StoredView, below?: StoredView): StoredView {
    if (replacing) return this.replace(replacing, view);
    const id = `V${randomBytes(5).toString('hex').toUpperCase()}`;
    const stored: StoredView = { id, user, type, view, hash: newHash(), rootViewId: below?.rootViewId ?? id, previousViewId: below?.id ?? null, errors: {} };
    this.byId.set(id, stored);
    return stored;
  }
}

function invalid(message: string): ViewAnswer {
  return { ok: false, error: 'invalid_arguments', response_metadata: { messages: [message] } };
}

function newHash(): string {
  return `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;
}

/** What a person entered in one input, as the page or a test gives it: text, a chosen value, several, or nothing. */
export type EnteredValue = string | string[] | null;

/**
 * `view.state.values` as Slack builds them from what was entered, typed by
 * each input's element as the stored view declares it: plain_text_input →
 * `value`, static_select → `selected_option`, checkboxes →
 * `selected_options`, datetimepicker → `selected_date_time` (unix seconds),
 * datepicker/timepicker → `selected_date`/`selected_time`, channels_select →
 * `selected_channel`. Unknown blocks or options are left out.
 */
export function stateValues(view: StoredView, entered: Record<string, EnteredValue>): Record<string, Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, Record<string, unknown>>> = {};
  const blocks: unknown[] = Array.isArray(view.view.blocks) ? view.view.blocks : [];
  blocks.forEach((block, i) => {
    if (!isRecord(block) || block.type !== 'input' || !isRecord(block.element)) return;
    const blockId = typeof block.block_id === 'string' ? block.block_id : `b${i}`;
    const el = block.element;
    const actionId = typeof el.action_id === 'string' ? el.action_id : `a${i}`;
    const given = entered[blockId] ?? null;
    const one = Array.isArray(given) ? given[0] ?? null : given;
    const value = elementValue(el, given, one === '' ? null : one);
    if (value) out[blockId] = { [actionId]: value };
  });
  return out;
}

function elementValue(el: Record<string, unknown>, given: EnteredValue, one: string | null): Record<string, unknown> | null {
  const type = String(el.type);
  const options = (el.options as unknown[] | undefined)?.filter(isRecord) ?? [];
  const option = (v: string | null) => options.find((o) => o.value === v);
  switch (type) {
    case 'plain_text_input':
      return { type, value: one };
    case 'static_select':
      return { type, selected_option: option(one) ?? null };
    case 'checkboxes': {
      const chosen = Array.isArray(given) ? given : given ? [given] : [];
      return { type, selected_options: options.filter((o) => chosen.includes(String(o.value))) };
    }
    case 'datetimepicker':
      return { type, selected_date_time: one !== null && /^\d+$/.test(one) ? Number(one) : null };
    case 'datepicker':
      return { type, selected_date: one };
    case 'timepicker':
      return { type, selected_time: one };
    case 'channels_select':
      return { type, selected_channel: one };
    default:
      return null;
  }
}
