/**
 * Remembers Slack deliveries already handled (Slack retries with
 * X-Slack-Retry-Num; Bolt does not dedupe). A Slack concern, so not one of the
 * core's ports (runbook/ports.ts): the bot's listeners use it and the state
 * backends here provide it. It is declared beside its implementations because
 * config/ sits below the layers and may not import bot/.
 */
export interface DeliveryDedup {
  /** True the first time a key is seen within ttl; false for every repeat. */
  firstDelivery(key: string, ttlSeconds?: number): Promise<boolean>;
}
