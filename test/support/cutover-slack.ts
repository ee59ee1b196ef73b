import { buttonsIn, type FakeMessage, type FakeSlack } from './fake-slack.js';
import { sendBlockAction, sendSlashCommand, type BlockActionOptions, type SlackDelivery } from '../../workspace/signed-requests.js';
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
