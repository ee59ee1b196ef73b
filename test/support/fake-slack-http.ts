/**
 * HTTP plumbing of the fake Slack: body decoding as Slack accepts bodies
 * (form, JSON, multipart), answers, and the polling `waitFor` tests use.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord } from './fake-slack-blocks.js';
import type { Args } from './fake-slack-methods.js';

/** Polls `fn` until it returns something other than undefined/false/null; a throw counts as "not yet". */
export async function waitFor<T>(fn: () => T | undefined | false | null, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = fn();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor: condition not met within ${timeoutMs} ms${why}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

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
    const form = await new Request('http://fake.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
    const decoded: Decoded = { fields: {}, files: [] };
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') decoded.fields[key] = value;
      else decoded.files.push(Buffer.from(await value.arrayBuffer()));
    }
    return decoded;
  }
  return undefined;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

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
