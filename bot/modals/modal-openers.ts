import type { WebClient } from '@slack/web-api';
import { decide, type Command } from '../../runbook/decide.js';
import { commandOf } from '../../runbook/destructive.js';
import type { RunState } from '../../runbook/state.js';
import type { BotDeps } from '../deps.js';
import type { ModalMetadata, ReasonKind } from './modal-metadata.js';
import { openModal, updateModal } from './open-modal.js';
import { reasonModal } from './reason-modal.js';
import { startModal, startModalLoading } from './start-modal.js';

type Deps = Pick<BotDeps, 'runbooks' | 'service' | 'actors' | 'log' | 'now'>;

/** What the person is told when the form cannot open: the typed way to do the same. */
const TYPED: Record<ReasonKind | 'start', string> = {
  start: '`/migrate start <runbook> [--dry-run]`',
  abort: '`/migrate abort [run] <reason>`',
  override: '`/migrate override <step> <reason>`',
  skip: '`/migrate skip <step> <reason>`',
  hold: '`/migrate hold <step> <reason>`',
  rollback: '`/migrate rollback [run] [scenario] <reason>`',
  'rollback-cancel': '`/migrate rollback cancel <reason>`',
};

const couldNotOpen = (kind: ReasonKind | 'start', error: string): string =>
  `The form could not open (Slack said \`${error}\`; a click's form must open within 3 seconds). Nothing was done; try again, or type ${TYPED[kind]}.`;

/**
 * Opens the reason modal for a run, unless the core would refuse the command
 * whatever the reason (not in the role, the step no longer waiting…): then
 * that refusal is returned at once, as the typed command answers it. Returns
 * the sentence to tell the person, or null when the modal is open.
 */
export async function openReasonModal(deps: Deps, client: WebClient, triggerId: string, state: RunState, meta: Omit<ModalMetadata, 'openedAt' | 'runId' | 'kind'> & { kind: ReasonKind }): Promise<string | null> {
  const preview = decide(state, await commandFor(deps, state, meta, 'a reason to be written in the form'));
  if (!preview.ok) return preview.message;
  const opened = await openModal(client, triggerId, reasonModal(state, { ...meta, runId: state.runId, openedAt: deps.now() }), deps.log);
  return opened.ok ? null : couldNotOpen(meta.kind, opened.error);
}

/**
 * Opens "Start a run" (channel: where it was asked from; none from App Home,
 * then the modal asks). The form is opened first as a placeholder and filled
 * in after the runbooks are read: reading them (a thread parses every file)
 * must not eat the 3 seconds Slack gives a click's trigger, on a busy night
 * or a slow disk.
 */
export async function openStartModal(deps: Deps, client: WebClient, triggerId: string, user: string, channel: string | undefined): Promise<string | null> {
  const placeholder = await openModal(client, triggerId, startModalLoading(), deps.log);
  if (!placeholder.ok) return couldNotOpen('start', placeholder.error);
  const entries = await deps.runbooks.list();
  const choices = entries.flatMap((e) => (e.result.ok ? [{ name: e.name, title: e.result.runbook.doc.title }] : []));
  // From App Home: offer the channel the latest run used.
  const lastChannel = channel ? null : ((await deps.service.recentRuns(1))[0]?.channel ?? null);
  const meta: ModalMetadata = { kind: 'start', runId: '', user, openedAt: deps.now(), ...(channel ? { channel } : {}) };
  const filled = await updateModal(client, placeholder.viewId, startModal(choices, meta, entries.length - choices.length, lastChannel), deps.log);
  if (filled.ok || filled.error === 'not_found') return null;
  return `The form could not be filled in (Slack said \`${filled.error}\`). Nothing was done; close it and try again, or type ${TYPED.start}.`;
}

/** The command a reason modal stands for, with the reason given (for the preview, a placeholder that passes the reason check). */
export async function commandFor(
  deps: Pick<Deps, 'actors' | 'now'>,
  state: RunState,
  meta: Pick<ModalMetadata, 'user' | 'stepId' | 'attempt'> & { kind: ReasonKind },
  reason: string,
  scenario: string | null = null,
): Promise<Exclude<Command, { type: 'start' }>> {
  const actor = await deps.actors.resolve(meta.user, state.plan);
  const at = deps.now();
  if (meta.kind === 'hold') return { type: 'hold', at, actor, stepId: meta.stepId ?? '', attempt: meta.attempt ?? state.steps[meta.stepId ?? '']?.attempt ?? 1, reason };
  const command = commandOf({ kind: meta.kind, runId: state.runId, reason, ...(meta.stepId ? { stepId: meta.stepId } : {}), ...(meta.kind === 'rollback' ? { scenario } : {}) }, at, actor);
  // A Skip button belongs to one attempt of its step: a form opened from an earlier attempt is refused.
  return command.type === 'skip' && meta.attempt !== undefined ? { ...command, attempt: meta.attempt } : command;
}
