import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * web's event-loop delay since the last read (issue 14): what every request
 * waits on top of its own work. `GET /debug/event-loop` serves it only under
 * NODE_ENV=test, for bench/web-responsiveness.ts; production has the
 * `nodejs_eventloop_lag_*` metrics of /metrics.
 */
export class EventLoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.histogram.enable();
  }

  /** Milliseconds since the last reset: p50, p99, max and how many samples they stand on. */
  read(): { p50: number; p99: number; max: number; samples: number } {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const h = this.histogram;
    return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), samples: h.count };
  }

  reset(): void {
    this.histogram.reset();
  }

  stop(): void {
    this.histogram.disable();
  }

  /** GET: the figures; `?reset=1` starts a new measurement after reading. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    const figures = this.read();
    if ((req.url ?? '').includes('reset=1')) this.reset();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(figures));
  }
}
