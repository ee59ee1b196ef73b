/**
 * HTTP plumbing of the Slack-compatible workspace: body decoding as Slack
 * accepts bodies (form, JSON, multipart) and answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord } from './blocks.js';
import type { Args } from './web-api.js';

export type Decoded = { fields: Args; files: Buffer[] };

/** Decodes a body as Slack does: form, JSON object, or multipart; undefined if none of those. */
export async function decodeBody(contentType: string, raw: Buffer): Promise<Decoded | undefined> {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (raw.length === 0) return { fields: {}, files: [] };
  if (type === 'application/x-www-form-urlencoded') {
    return { fields: Object.fromEntries(new URLSearchParams(raw.toString('utf8'))), files: [] };
  }
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      return isRecord(parsed) ? { fields: parsed, files: [] } : undefined;
    } catch {
      return undefined;
    }
  }
  if (type === 'multipart/form-data') {
    // undici's Request parses multipart for us, boundary and all.
    const form = await new Request('http://multipart.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
    const decoded: Decoded = { fields: {}, files: [] };
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') decoded.fields[key] = value;
      else decoded.files.push(Buffer.from(await value.arrayBuffer()));
    }
    return decoded;
  }
  return undefined;
}

/** The whole body; throws BodyTooLarge past MAX_BODY_BYTES so one request cannot exhaust memory. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export class BodyTooLarge extends Error {
  constructor() {
    super(`request body larger than ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/** Bodies larger than this are refused: the biggest file the bot uploads (a timeline PNG) is far below it. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(text);
}

export function bearer(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}


export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function truthy(value: unknown): boolean {
  return value === true || value === 'true';
}
