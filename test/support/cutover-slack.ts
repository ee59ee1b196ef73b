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
