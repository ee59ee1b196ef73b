import { createHash } from 'node:crypto';
import type { App, ViewSubmitAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { DONE, performDestructive } from '../../destructive/destructive-commands.js';
import { tell, type BotDeps } from '../../deps.js';
import { clip } from '../../render/format.js';
import { commandFor } from '../../modals/modal-openers.js';
import { decodeMetadata, REASON_CALLBACK, START_CALLBACK, type ModalMetadata, type ReasonKind } from '../../modals/modal-metadata.js';
import { MODAL_TTL_MS, readReason, REASON_BLOCK, SCENARIO_BLOCK } from '../../modals/reason-modal.js';
import { readStart, RUNBOOK_BLOCK } from '../../modals/start-modal.js';
import type { StateValues } from '../../modals/modal-values.js';
import { startRun } from '../../start-run.js';
import { scheduleRun } from '../commands/schedule-commands.js';

/** Slack waits 3 s for the answer to a submission; past this the modal is closed and the outcome told in a message instead. */
const ANSWER_WITHIN_MS = 2200;
/** A second delivery of the same submission within this long is answered without acting (Slack retries; people double-click). */
const DEDUP_SECONDS = 30;
/** Slack shows a field error of at most this many characters. */
const ERROR_MAX = 150;

type Errors = Record<string, string>;
type Outcome = { errors: Errors } | { done: string };
type Answer = Outcome | { late: true };

/**
 * Submissions of the modals (start, and every reason). Field problems keep
 * the modal open with the message under the field (`response_action:
 * errors`); a refusal by the core does too, under the main field. What is
 * accepted closes the modal and is told to the person beside the run. The
 * core decides again on the run as it is now, with the same authorisation as
 * a click; an old modal is refused, and a submission delivered twice acts once.
 */
export function registerModalSubmissions(app: App, deps: BotDeps): void {
  for (const callback of [START_CALLBACK, REASON_CALLBACK]) {
    app.view<ViewSubmitAction>(callback, async ({ ack, body, view, client }) => {
      const user = body.user.id;
      const meta = decodeMetadata(view.private_metadata);
      const main = callback === START_CALLBACK ? RUNBOOK_BLOCK : REASON_BLOCK;
      if (!meta || meta.user !== user) {
        await ack({ response_action: 'errors', errors: { [main]: 'This form is not one I recognise (an older version of the bot?). Close it and open a new one.' } });
        return;
      }
      const age = deps.now() - meta.openedAt;
      if (age > MODAL_TTL_MS) {
        await ack({ response_action: 'errors', errors: { [main]: `This form is ${Math.round(age / 60_000)} minutes old and the run may have moved on; nothing was done. Close it and open a new one.` } });
        return;
      }
      const values = view.state.values as StateValues;
      const work = handle(deps, client, callback === START_CALLBACK ? 'start' : 'reason', meta, values, `${view.id}:${digest(values)}`);
      // Slack gives a submission 3 s: a slow answer closes the modal and tells the outcome later, never silently.
      const answer = await Promise.race([work, new Promise<Answer>((resolve) => setTimeout(() => resolve({ late: true }), ANSWER_WITHIN_MS).unref())]);
      if ('errors' in answer) {
        await ack({ response_action: 'errors', errors: Object.fromEntries(Object.entries(answer.errors).map(([k, v]) => [k, clip(v, ERROR_MAX)])) });
        return;
      }
      await ack();
      const told = 'done' in answer ? answer : await work;
      const text = 'done' in told ? told.done : `Nothing was done: ${Object.values(told.errors).join(' ')}`;
      await answerBeside(client, meta, user, text).catch((err: unknown) => deps.log.warn({ err }, 'could not tell the outcome of a modal'));
    });
  }
}

/** Validates, then acts once; never throws (a failure is an answer under the main field). */
async function handle(deps: BotDeps, client: WebClient, form: 'start' | 'reason', meta: ModalMetadata, values: StateValues, deliveryKey: string): Promise<Outcome> {
  const main = form === 'start' ? RUNBOOK_BLOCK : REASON_BLOCK;
  try {
    return form === 'start' ? await submitStart(deps, client, meta, values, deliveryKey) : await submitReason(deps, meta, values, deliveryKey);
  } catch (err) {
    deps.log.error({ err, kind: meta.kind, runId: meta.runId }, 'modal submission failed');
    return { errors: { [main]: 'Something went wrong; nothing was changed. The error is in the bot log.' } };
  }
}

async function submitStart(deps: BotDeps, client: WebClient, meta: ModalMetadata, values: StateValues, deliveryKey: string): Promise<Outcome> {
  const offered = (await deps.runbooks.list()).flatMap((e) => (e.result.ok ? [e.name] : []));
  const read = readStart(values, meta, offered);
  if (!read.ok) return { errors: read.errors };
  if (!(await deps.dedup.firstDelivery(`modal:${deliveryKey}`, DEDUP_SECONDS))) return { done: 'That form was already submitted; see the channel for the run.' };
  if (read.at !== null) {
    const refused = await scheduleRun(deps, client, { runbook: read.runbook, at: read.at, channel: read.channel, user: meta.user });
    return refused ? { errors: { schedule: refused } } : { done: `🗓 Scheduled \`${read.runbook}\`; the channel has the details.` };
  }
  const started = await startRun(deps, { runbook: read.runbook, channel: read.channel, user: meta.user, dryRun: read.dryRun });
  return started.ok ? { done: `▶️ Started \`${started.runId}\`; its steps wait for approval in the thread.` } : { errors: { [RUNBOOK_BLOCK]: started.message } };
}

async function submitReason(deps: BotDeps, meta: ModalMetadata, values: StateValues, deliveryKey: string): Promise<Outcome> {
  const kind = meta.kind as ReasonKind;
  const read = readReason(kind, values);
  if (!read.ok) return { errors: read.errors };
  if (!(await deps.dedup.firstDelivery(`modal:${deliveryKey}`, DEDUP_SECONDS))) return { done: 'That form was already submitted; the thread says what happened.' };
  if (kind === 'hold') {
    const state = await deps.service.load(meta.runId);
    if (!state) return { errors: { [REASON_BLOCK]: `Run ${meta.runId} no longer exists.` } };
    const outcome = await deps.service.execute(meta.runId, await commandFor(deps, state, { ...meta, kind }, read.reason));
    if (!outcome.ok) return { errors: { [REASON_BLOCK]: outcome.message } };
    await deps.publisher.request(meta.runId);
    return { done: '✋ Done: the step is on hold; Release hold in its message lets it be approved again.' };
  }
  const request = { kind, runId: meta.runId, reason: read.reason, ...(meta.stepId ? { stepId: meta.stepId } : {}), ...(kind === 'rollback' ? { scenario: read.scenario } : {}) };
  // A Skip form opened from a step's button is for that attempt: a later attempt refuses it, as the button would.
  const state = meta.attempt !== undefined && meta.stepId ? await deps.service.load(meta.runId) : null;
  const current = state?.steps[meta.stepId ?? '']?.attempt;
  if (current !== undefined && current !== meta.attempt) return { errors: { [REASON_BLOCK]: `This form was for attempt ${meta.attempt ?? '?'} of \`${meta.stepId ?? '?'}\`, which is at attempt ${current} now; nothing was done.` } };
  const outcome = await performDestructive(deps, request, meta.user);
  if (!outcome.ok) return { errors: { [outcome.code.includes('scenario') && values[SCENARIO_BLOCK] ? SCENARIO_BLOCK : REASON_BLOCK]: outcome.message } };
  deps.log.info({ runId: meta.runId, kind, by: meta.user }, 'modal submission performed');
  return { done: DONE[kind] };
}

/** Tells the person beside the run (its channel) or, from App Home, in their DM with the bot. */
function answerBeside(client: WebClient, meta: ModalMetadata, user: string, text: string): Promise<unknown> {
  return meta.channel ? tell(client, meta.channel, user, text) : client.chat.postMessage({ channel: user, text });
}

/** What was entered, hashed: a retried delivery has the same, a corrected resubmission of the same view does not. */
function digest(values: StateValues): string {
  return createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 16);
}
