import { buttonsIn, type FakeMessage, type FakeSlack } from './fake-slack.js';
import { searchableText } from '../../workspace/messages.js';
import {
  appHomeOpenedBody, deliver, nextTriggerId, sendBlockAction, sendEvent, sendSlashCommand, viewSubmissionBody, type BlockActionOptions, type SlackDelivery,
} from '../../workspace/signed-requests.js';
import { stateValues, type EnteredValue, type StoredView } from '../../workspace/views.js';
import { SIGNING_SECRET } from './cutover-processes.js';

export const CHANNEL = 'C0CUTOVER';

/** A person typing `/migrate …` in the cutover channel. */
export function migrate(botUrl: string, userId: string, text: string, opts = {}): Promise<SlackDelivery> {
  return sendSlashCommand(botUrl, SIGNING_SECRET, { userId, channelId: CHANNEL, text }, opts);
}

/** The thread message of a step that currently shows the given button. */
export function stepMessage(fake: FakeSlack, stepId: string, action: string): { message: FakeMessage; value: string; blockId: string } | undefined {
  for (const message of fake.messages.all({ channel: CHANNEL })) {
    const button = buttonsIn(message.blocks).find((b) => b.actionId === `step.${action}` && (b.value ?? '').includes(`"s":"${stepId}"`));
    if (button?.value && button.blockId) return { message, value: button.value, blockId: button.blockId };
  }
  return undefined;
}

/** Clicks a step's button as a person would: waits for it to be shown, then sends the signed block_actions. */
export async function click(
  fake: FakeSlack,
  botUrl: string,
  userId: string,
  stepId: string,
  action: string,
  opts: BlockActionOptions = {},
): Promise<SlackDelivery> {
  const found = await fake.waitFor(() => stepMessage(fake, stepId, action), 15_000);
  return sendBlockAction(
    botUrl,
    SIGNING_SECRET,
    { userId, channelId: CHANNEL, messageTs: found.message.ts, threadTs: found.message.threadTs, actionId: `step.${action}`, blockId: found.blockId, value: found.value },
    opts,
  );
}

/** The ephemeral texts a person received, newest last. */
export const ephemeralTexts = (fake: FakeSlack, userId: string): string[] => fake.ephemeralsFor(userId).map((e) => e.text);

/**
 * Clicks a button of the latest typed-command confirmation shown to this
 * person (an ephemeral with Confirm / Do nothing), as Slack sends a click on an
 * ephemeral: no `message`, and a response_url that replaces it.
 */
export async function answerConfirmation(
  fake: FakeSlack,
  botUrl: string,
  userId: string,
  action: 'destructive.confirm' | 'destructive.dismiss' = 'destructive.confirm',
): Promise<SlackDelivery> {
  const found = await fake.waitFor(() => {
    for (const e of [...fake.ephemeralsFor(userId)].reverse()) {
      const button = buttonsIn(e.blocks).find((b) => b.actionId === action);
      if (button?.value && button.blockId) return { e, button };
    }
    return undefined;
  }, 15_000);
  const { e, button } = found;
  return sendBlockAction(botUrl, SIGNING_SECRET, {
    userId,
    channelId: e.channel,
    messageTs: e.ts,
    actionId: action,
    blockId: button.blockId ?? '',
    value: button.value ?? '',
    ephemeral: true,
    responseUrl: fake.responseUrl({ channel: e.channel, user: userId, messageTs: e.ts, ephemeral: true }),
  });
}

/** A destructive command typed and confirmed, as a person does it: the slash command, then Confirm on its ephemeral. */
export async function migrateConfirmed(fake: FakeSlack, botUrl: string, userId: string, text: string): Promise<SlackDelivery> {
  const before = fake.ephemeralsFor(userId).length;
  await migrate(botUrl, userId, text);
  await fake.waitFor(() => fake.ephemeralsFor(userId).slice(before).find((e) => buttonsIn(e.blocks).some((b) => b.actionId === 'destructive.confirm')), 15_000);
  return answerConfirmation(fake, botUrl, userId);
}

/** A person opens the app's Home tab (Slack sends app_home_opened); resolves once a Home newer than before is published for them. */
export async function openHome(fake: FakeSlack, botUrl: string, userId: string): Promise<StoredView> {
  const before = fake.homeOf(userId)?.hash;
  const delivery = await sendEvent(botUrl, SIGNING_SECRET, appHomeOpenedBody({ userId, botUserId: fake.botUserId }));
  if (delivery.status !== 200) throw new Error(`app_home_opened answered HTTP ${delivery.status}: ${delivery.body}`);
  return fake.waitFor(() => {
    const home = fake.homeOf(userId);
    return home && home.hash !== before ? home : undefined;
  }, 15_000);
}

/** The text a person reads in a view (Home or modal). */
export const viewText = (view: StoredView | undefined): string => (view ? searchableText({ text: '', blocks: view.view.blocks as unknown[] | undefined }) : '');

/** Clicks a button in a view (App Home or a modal), as Slack sends it: a `view` container, a fresh trigger. */
export async function clickInView(fake: FakeSlack, botUrl: string, userId: string, view: StoredView, actionId: string, opts: BlockActionOptions = {}): Promise<SlackDelivery> {
  const button = buttonsIn(view.view.blocks as unknown[] | undefined).find((b) => b.actionId === actionId);
  if (!button) throw new Error(`no button ${actionId} in the view; it shows:\n${viewText(view)}`);
  return sendBlockAction(
    botUrl,
    SIGNING_SECRET,
    { userId, channelId: '', messageTs: '', actionId, blockId: button.blockId ?? 'b', value: button.value ?? '', view: fake.views.json(view) },
    opts,
  );
}

/**
 * Submits the modal on top of this person's stack with what they entered
 * (by block_id), as Slack does, then applies the bot's answer to the fake:
 * `errors` keep it open with the messages, anything else closes it.
 */
export async function submitModal(
  fake: FakeSlack,
  botUrl: string,
  userId: string,
  entered: Record<string, EnteredValue>,
): Promise<{ delivery: SlackDelivery; outcome: ReturnType<FakeSlack['views']['applySubmissionResponse']>; view: StoredView }> {
  const view = fake.modalOf(userId);
  if (!view) throw new Error(`${userId} has no modal open`);
  const body = viewSubmissionBody({ userId, view: fake.views.json(view, stateValues(view, entered)) }, nextTriggerId(userId));
  const delivery = await deliver(botUrl, SIGNING_SECRET, body);
  if (delivery.status !== 200) throw new Error(`view_submission answered HTTP ${delivery.status}: ${delivery.body}`);
  return { delivery, outcome: fake.views.applySubmissionResponse(view.id, delivery.json), view };
}
