import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLarge, readBody, send } from './http.js';
import { CutoverError } from '../runbook/errors.js';

/** One group of routes: answers the request and returns true, or returns false to let the next group try. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer) => Promise<boolean>;

export interface Listening {
  readonly server: Server;
  /** `http://127.0.0.1:PORT` (the host it listens on, and the port it got). */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A node:http server over route groups, tried in order; 404 when none
 * answers. A crashing handler answers `{ok:false, error:'fatal_error'}` with
 * HTTP 200: a 5xx would make the WebClient retry for ~30 minutes.
 */
export async function listen(routes: RouteHandler[], opts: { port?: number; host?: string; onError?: (error: unknown) => void } = {}): Promise<Listening> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const route = async (): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://workspace.invalid');
      const raw = req.method === 'GET' || req.method === 'HEAD' ? Buffer.alloc(0) : await readBody(req);
      for (const handle of routes) if (await handle(req, res, url, raw)) return;
      send(res, 404, 'not_found');
    };
    route().catch((error: unknown) => {
      if (error instanceof BodyTooLarge) {
        if (!res.headersSent) send(res, 413, 'request_too_large');
        return;
      }
      (opts.onError ?? ((e: unknown) => console.error('workspace: handler crashed', e)))(error);
      if (!res.headersSent) send(res, 200, { ok: false, error: 'fatal_error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new CutoverError('workspace.no_address', 'workspace: server has no TCP address');
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    origin: `http://${shown}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets and open event streams would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
