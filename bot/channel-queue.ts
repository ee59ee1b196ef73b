/**
 * Serialises Slack writes per channel. New messages are spaced (Slack allows
 * about one chat.postMessage per second per channel); edits only queue
 * behind them, their rate is kept down by coalescing renders upstream.
 */
export class ChannelQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly lastPost = new Map<string, number>();

  constructor(private readonly postIntervalMs: number) {}

  run<T>(channel: string, kind: 'post' | 'update', call: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(channel) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        if (kind === 'post') {
          const wait = (this.lastPost.get(channel) ?? 0) + this.postIntervalMs - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          this.lastPost.set(channel, Date.now());
        }
        return call();
      });
    this.tails.set(channel, next);
    void next.finally(() => {
      if (this.tails.get(channel) === next) this.tails.delete(channel);
    }).catch(() => undefined);
    return next;
  }
}
