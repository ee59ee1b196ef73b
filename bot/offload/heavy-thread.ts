import { parentPort } from 'node:worker_threads';
import { CutoverError } from '../../runbook/errors.js';
import { loadRunbook } from '../../runbook/load.js';
import { reportFiles } from '../report/report-service.js';
import type { HeavyReply, HeavyRequest } from './heavy-protocol.js';

/**
 * The thread web hands its heavy, pure work to (bot/offload/heavy-work.ts):
 * the end-of-run report with its timeline PNG, and parsing runbook files. It
 * holds no state; each request is answered on its own, in order.
 */
const port = parentPort;
if (!port) throw new CutoverError('internal.unexpected', 'heavy-thread.ts runs only as a worker thread');

port.on('message', (request: HeavyRequest) => {
  let reply: HeavyReply;
  try {
    reply = { id: request.id, ok: true, value: run(request) };
  } catch (err) {
    reply = { id: request.id, ok: false, message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined };
  }
  port.postMessage(reply);
});

function run(request: HeavyRequest): unknown {
  switch (request.task) {
    case 'report-files': {
      const { state, events, now, comparison, names } = request.args;
      return reportFiles(state, events, now, comparison, names);
    }
    case 'load-runbook':
      return loadRunbook(request.args);
  }
}

port.postMessage({ ready: true });
