import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { MessageRefs } from '../config/redis-message-refs.js';
import type { RunbookFiles } from '../config/runbook-files.js';
import type { ScheduleStore } from '../config/schedule-store.js';
import type { DeliveryDedup } from '../config/delivery-dedup.js';
import type { FollowUpIndex } from '../runbook/ports.js';
import type { RunService } from '../runbook/run-service.js';
import type { ActorResolver } from './actors.js';
import type { HomePublisher } from './home/home-publisher.js';
import type { ReportService } from './report/report-service.js';
import type { RunPublisher } from './run-publisher.js';

/** What the listeners need, assembled once in bot/web.ts. */
export interface BotDeps {
  /** Commands on runs, and every read of them the listeners make (RunQueries): nothing here touches the RunStore. */
  service: RunService;
  runbooks: RunbookFiles;
  publisher: RunPublisher;
  dedup: DeliveryDedup;
  actors: ActorResolver;
  log: Logger;
  now: () => number;
  newRunId: (runbook: string, at: number) => string;
  /** Scheduled runs (`/migrate schedule`), swept by the escalation scheduler. */
  schedules: ScheduleStore;
  /** Cutover reports and run comparisons (`/migrate report`, `/migrate compare`). */
  reports: ReportService;
  /** Where each run's Slack messages are (the report goes into the run's thread). */
  refs: MessageRefs;
  /** Completed runs with follow-ups not yet done (`/migrate status` lists them). */
  followUps: FollowUpIndex;
  /** Each person's App Home tab. */
  home: HomePublisher;
}

/**
 * Ephemeral answer to one person; Slack shows it only to them. With threadTs it
 * appears in that thread: a click made inside the run's thread is answered
 * there, where the person is looking, not in the channel.
 */
export async function tell(client: WebClient, channel: string, user: string, text: string, threadTs?: string): Promise<void> {
  await client.chat.postEphemeral({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) });
}
