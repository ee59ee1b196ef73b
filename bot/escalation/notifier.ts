import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { CutoverError } from '../../runbook/errors.js';

/** One message to put in front of people: in a channel (or thread), in DMs, and in the incident channel. */
export interface Alert {
  channel: string;
  threadTs?: string;
  /** With threadTs: the reply is also shown in the channel (a duty due days later must not hide in an old thread). */
  broadcast?: boolean;
  text: string;
  blocks?: KnownBlock[];
  /** Users to DM, with a text that stands on its own outside the thread. */
  dm: string[];
  dmText?: string;
  dmBlocks?: KnownBlock[];
  incidentChannel: string | null;
}

/**
 * Delivers alerts. Each delivery is attempted on its own: a DM that fails
 * (user gone, Slack error) is logged and does not stop the thread post or
 * the other DMs. Never throws.
 */
export class Notifier {
  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
  ) {}

  async send(alert: Alert): Promise<{ ts: string | null }> {
    const thread = alert.threadTs ? { thread_ts: alert.threadTs, reply_broadcast: alert.broadcast === true } : {};
    const main = await this.attempt('thread', () =>
      this.client.chat.postMessage({ channel: alert.channel, text: alert.text, ...(alert.blocks ? { blocks: alert.blocks } : {}), ...thread }),
    );
    const outside = alert.dmText ?? alert.text;
    const outsideBlocks = alert.dmBlocks ?? alert.blocks;
    for (const user of alert.dm) {
      await this.attempt(`dm ${user}`, async () => {
        // conversations.open gives the DM channel id; posting to it keeps DMs in one conversation per person.
        const opened = await this.client.conversations.open({ users: user });
        const channel = opened.channel?.id;
        if (!channel) throw new CutoverError('slack.no_channel', 'conversations.open returned no channel');
        return this.client.chat.postMessage({ channel, text: outside, ...(outsideBlocks ? { blocks: outsideBlocks } : {}) });
      });
    }
    const incident = alert.incidentChannel;
    if (incident && incident !== alert.channel) {
      await this.attempt('incident channel', () => this.client.chat.postMessage({ channel: incident, text: outside }));
    }
    return { ts: main?.ts ?? null };
  }

  /** A plain post (reminders, roll calls); returns its ts, or null when Slack refused it. */
  async post(channel: string, text: string, blocks?: KnownBlock[], threadTs?: string): Promise<string | null> {
    const posted = await this.attempt('post', () => this.client.chat.postMessage({ channel, text, ...(blocks ? { blocks } : {}), ...(threadTs ? { thread_ts: threadTs } : {}) }));
    return posted?.ts ?? null;
  }

  async update(channel: string, ts: string, text: string, blocks: KnownBlock[]): Promise<void> {
    await this.attempt('update', () => this.client.chat.update({ channel, ts, text, blocks }));
  }

  private async attempt<T>(what: string, call: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (err) {
      this.log.error({ err, what }, 'notification failed');
      return null;
    }
  }
}
