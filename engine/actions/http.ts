import type { HttpParams } from '../../runbook/actions/http.js';
import { ActionError, abortReason, truncate, type ActionContext, type ActionImpl } from '../action.js';
import { scrub } from '../secrets.js';
import { redactUrl } from '../connections.js';

const BODY_SHOWN = 500;
/** expect_body_contains looks this far into a body; a health endpoint streaming forever must not hold the step. */
const BODY_READ_LIMIT = 1024 * 1024;

export interface HttpResponseSummary {
  status: number;
  durationMs: number;
  /** Up to BODY_READ_LIMIT bytes of the body, decoded as UTF-8. */
  body: string;
}

export interface HttpRequest {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  signal: AbortSignal;
}

/**
 * One request bounded by the caller's signal and an optional timeout. Errors
 * are ActionErrors whose sentence names the URL without credentials.
 */
export async function httpRequest(req: HttpRequest): Promise<HttpResponseSummary> {
  const shown = `${req.method} ${redactUrl(req.url)}`;
  const timeout = req.timeoutMs !== undefined ? AbortSignal.timeout(req.timeoutMs) : undefined;
  const signal = timeout ? AbortSignal.any([req.signal, timeout]) : req.signal;
  const started = Date.now();
  const { url, headers, secrets } = moveCredentials(req.url, req.headers);
  try {
    const res = await fetch(url, { method: req.method, headers, body: req.body, signal });
    const body = req.method === 'HEAD' ? '' : await readLimited(res);
    return { status: res.status, durationMs: Date.now() - started, body };
  } catch (err) {
    if (req.signal.aborted) {
      throw new ActionError('http.cancelled', `${shown} was cancelled (${abortReason(req.signal)})`, { cause: err });
    }
    if (timeout?.aborted) {
      throw new ActionError('http.timeout', `${shown} got no complete response within ${(req.timeoutMs ?? 0) / 1000}s`, { cause: err });
    }
    // undici says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, bad port) is on its cause.
    const cause: unknown = err instanceof Error ? err.cause : undefined;
    const code =
      cause instanceof Error ? ('code' in cause ? String(cause.code) : cause.message) : err instanceof Error ? err.message : String(err);
    throw new ActionError('http.unreachable', scrub(`${shown} failed: ${code}`, secrets), { cause: err });
  }
}

/**
 * fetch refuses URLs with credentials; like curl, send them as Basic
 * authorization instead (unless the runbook set its own Authorization header).
 */
function moveCredentials(raw: string, given: Record<string, string> = {}) {
  const url = new URL(raw);
  if (!url.username && !url.password) return { url: raw, headers: given, secrets: [] };
  const secrets = [raw, url.password, decodeURIComponent(url.password)];
  const headers = { ...given };
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.Authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }
  url.username = '';
  url.password = '';
  return { url: url.toString(), headers, secrets };
}

async function readLimited(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < BODY_READ_LIMIT) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, BODY_READ_LIMIT).toString('utf8');
}

const statusList = (expect: HttpParams['expect_status'] | undefined): number[] =>
  expect === undefined ? [200] : Array.isArray(expect) ? expect : [expect];

/** Makes a request and checks its status and body; a dry run performs only GET and HEAD. */
export const httpAction: ActionImpl<HttpParams> = {
  id: 'http',
  async run(ctx: ActionContext, params: HttpParams) {
    const method = params.method ?? 'GET';
    const expected = statusList(params.expect_status);
    const expectedText = expected.length === 1 ? String(expected[0]) : `one of ${expected.join(', ')}`;
    const shown = `${method} ${redactUrl(params.url)}`;
    if (ctx.dryRun && method !== 'GET' && method !== 'HEAD') {
      return {
        summary: `dry run: would send ${shown} and expect ${expectedText}`,
        details: { method, url: redactUrl(params.url), expectStatus: expected, dryRun: true },
      };
    }
    const res = await httpRequest({
      url: params.url,
      method,
      headers: params.headers,
      body: params.body,
      timeoutMs: params.request_timeout !== undefined ? params.request_timeout * 1000 : undefined,
      signal: ctx.signal,
    });
    const details = { method, url: redactUrl(params.url), status: res.status, durationMs: res.durationMs, body: truncate(res.body, BODY_SHOWN) };
    if (!expected.includes(res.status)) {
      throw new ActionError('http.status', `${shown} returned ${res.status}, expected ${expectedText}`, { details });
    }
    const needle = params.expect_body_contains;
    if (needle !== undefined && !res.body.includes(needle)) {
      throw new ActionError('http.body', `${shown} returned ${res.status} but its body does not contain ${JSON.stringify(needle)}`, { details });
    }
    const dry = ctx.dryRun ? 'dry run: ' : '';
    return { summary: `${dry}${shown} returned ${res.status} in ${res.durationMs} ms`, details };
  },
};
