import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
}

/**
 * Slack's side of Socket Mode: says `hello` on connect (the app's start waits
 * for it), sends envelopes, and records the app's acks.
 */
export interface FakeSocketMode {
  url: string;
  acks: SocketAck[];
  connected(): Promise<void>;
  /** Sends an envelope like Slack does; resolves with its envelope_id. */
  send(type: 'slash_commands' | 'interactive' | 'events_api', payload: unknown): string;
  close(): Promise<void>;
}

export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const acks: SocketAck[] = [];
  let socket: WebSocket | null = null;
  let onConnect: (() => void) | null = null;
  server.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const parsed: unknown = JSON.parse(data.toString());
      if (parsed && typeof parsed === 'object' && 'envelope_id' in parsed) acks.push(parsed as SocketAck);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A1' }, debug_info: { host: 'fake' } }));
    onConnect?.();
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/link`,
    acks,
    connected: () => (socket ? Promise.resolve() : new Promise((resolve) => (onConnect = resolve))),
    send(type, payload) {
      if (!socket) throw new Error('no Socket Mode client connected');
      const envelope_id = randomUUID();
      socket.send(JSON.stringify({ envelope_id, type, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '', payload }));
      return envelope_id;
    },
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
