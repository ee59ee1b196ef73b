import { Writable } from 'node:stream';
import type { WebClient } from '@slack/web-api';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { MessageRefs } from '../../config/redis-message-refs.js';
import { RunPublisher } from '../../bot/run-publisher.js';
import { CutoverError } from '../../runbook/errors.js';

/** A publisher whose every load fails as `failure` does, with the log lines it writes. */
function publisherFailing(failure: () => Error) {
  const lines: Array<{ msg: string; runId?: string }> = [];
  const log = pino(new Writable({ write: (chunk, _enc, done) => done(void lines.push(JSON.parse(String(chunk)))) }));
  const publisher = new RunPublisher({
    // Never reached: the load fails first.
    client: {} as WebClient,
    refs: {} as MessageRefs,
    load: async () => {
      throw failure();
    },
    log,
    minIntervalMs: 0,
  });
  return { publisher, lines };
}

describe('RunPublisher and a run it cannot read', () => {
  it('logs nothing for a run stopped by an unreadable event (web\'s sweep reports it once), however often it is asked to render', async () => {
    const { publisher, lines } = publisherFailing(() => new CutoverError('run.corrupt_event', 'run r1: event 7 cannot be read'));
    for (let i = 0; i < 5; i++) await publisher.request('r1');
    expect(lines.filter((l) => l.msg === 'render failed')).toEqual([]);
  });

  it('still logs every other render failure', async () => {
    const { publisher, lines } = publisherFailing(() => new CutoverError('run.contended', 'Redis said no'));
    await publisher.request('r2');
    await publisher.request('r2');
    expect(lines.filter((l) => l.msg === 'render failed').map((l) => l.runId)).toEqual(['r2', 'r2']);
  });
});
