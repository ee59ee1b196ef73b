import type { FetchFunction } from '@slack/web-api';
import { slackCallsCounter, slackErrorsCounter, slackRateLimitedCounter, slackRateLimitWaitCounter } from '../config/metrics.js';

/** A Web API method name as it appears in the URL (chat.postMessage); anything else is not a label value. */
const METHOD = /^[a-z]+(?:\.[A-Za-z]+)+$/;
/** Slack's error codes are snake_case words; a non-JSON body (a proxy's HTML page) must not become a label. */
const ERROR_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * chat.postMessage for …/api/chat.postMessage. Outside the API only two kinds
 * of URL pass through this fetch: file upload URLs (filesUploadV2) and Bolt's
 * respond() to a response_url.
 */
export function methodOf(url: string | URL, apiUrl: string): string {
  const text = String(url);
  if (!text.startsWith(apiUrl)) return new URL(text).pathname.includes('/upload') ? 'upload' : 'response_url';
  const method = new URL(text).pathname.split('/').pop() ?? '';
  return METHOD.test(method) ? method : 'other';
}

/**
 * The WebClient's fetch, counting every Slack call: 429s with the Retry-After
 * the client is about to wait, HTTP errors, failed requests, and `ok: false`
 * answers with Slack's error code. Given to Bolt as `clientOptions.fetch`, so
 * every WebClient Bolt makes (app.client and the listeners' clients) counts.
 * The response is handed back untouched; its body is read from a clone.
 */
export function meteredFetch(apiUrl: string, base: typeof fetch = globalThis.fetch): FetchFunction {
  return async (url, init) => {
    const method = methodOf(url, apiUrl);
    slackCallsCounter.inc({ method });
    let res: Response;
    try {
      res = await base(url, init);
    } catch (err) {
      slackErrorsCounter.inc({ method, error: 'request_failed' });
      throw err;
    }
    if (res.status === 429) {
      slackRateLimitedCounter.inc({ method });
      const retryAfter = Number.parseInt(res.headers.get('retry-after') ?? '', 10);
      if (Number.isFinite(retryAfter) && retryAfter > 0) slackRateLimitWaitCounter.inc({ method }, retryAfter);
    } else if (res.status !== 200) {
      slackErrorsCounter.inc({ method, error: `http_${res.status}` });
    } else if (res.headers.get('content-type')?.includes('json')) {
      const error = await platformError(res);
      if (error) slackErrorsCounter.inc({ method, error });
    }
    return res;
  };
}

async function platformError(res: Response): Promise<string | null> {
  try {
    const body: unknown = await res.clone().json();
    if (typeof body !== 'object' || body === null || !('ok' in body) || body.ok !== false) return null;
    const error = 'error' in body ? body.error : undefined;
    return typeof error === 'string' && ERROR_CODE.test(error) ? error : 'unrecognised';
  } catch {
    return 'invalid_response';
  }
}
