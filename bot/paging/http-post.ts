/**
 * POSTs JSON with a per-attempt timeout, retrying what may pass on a second
 * try (network errors, 429, 5xx) with a short backoff; a 4xx other than 429 is
 * final. Resolves with the last status and a short reason; never throws.
 */
export async function postWithRetry(
  url: string,
  body: string,
  headers: () => Record<string, string>,
  opts: { attempts: number; timeoutMs: number; backoffMs: number },
): Promise<{ ok: boolean; status: number | null; detail: string; attempts: number }> {
  let last = { ok: false, status: null as number | null, detail: 'not sent' };
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers() }, body, signal: AbortSignal.timeout(opts.timeoutMs) });
      const text = (await res.text()).slice(0, 300);
      last = { ok: res.ok, status: res.status, detail: res.ok ? `HTTP ${res.status}` : `HTTP ${res.status}${text ? `: ${text.replace(/\s+/g, ' ')}` : ''}` };
      if (res.ok || (res.status < 500 && res.status !== 429)) return { ...last, attempts: attempt };
    } catch (err) {
      // fetch wraps the socket's error: its code (ECONNREFUSED…) says more than "TypeError: fetch failed", and carries no URL.
      const e = err as { name?: string; cause?: { code?: string; message?: string } };
      last = { ok: false, status: null, detail: e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.name ?? 'network error') };
    }
    if (attempt < opts.attempts) await new Promise((r) => setTimeout(r, opts.backoffMs * attempt));
  }
  return { ...last, attempts: opts.attempts };
}
