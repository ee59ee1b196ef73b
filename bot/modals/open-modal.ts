import type { ModalView } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';

/**
 * views.open with the trigger of the click or command. Slack lets a trigger
 * open one view within 3 s; when it refuses (expired, already used, Slack
 * down) the caller says so to the person with the typed alternative. Never throws.
 */
export async function openModal(client: WebClient, triggerId: string, view: ModalView, log: Logger): Promise<{ ok: true; viewId: string } | { ok: false; error: string }> {
  try {
    const res = await client.views.open({ trigger_id: triggerId, view });
    return { ok: true, viewId: res.view?.id ?? '' };
  } catch (err) {
    const error = slackError(err);
    log.warn({ err: error }, 'views.open refused');
    return { ok: false, error };
  }
}

/**
 * views.update of a modal this process opened (its placeholder replaced by
 * the real form). `not_found` means the person closed it meanwhile: nothing
 * to tell them. Never throws.
 */
export async function updateModal(client: WebClient, viewId: string, view: ModalView, log: Logger): Promise<{ ok: true } | { ok: false; error: string }> {
  try {
    await client.views.update({ view_id: viewId, view });
    return { ok: true };
  } catch (err) {
    const error = slackError(err);
    log.warn({ err: error }, 'views.update refused');
    return { ok: false, error };
  }
}

/** Slack's error code from a WebClient rejection ({ data: { error } }), else the message. */
function slackError(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'data' in err) {
    const data: unknown = err.data;
    if (typeof data === 'object' && data !== null && 'error' in data && typeof data.error === 'string') return data.error;
  }
  return err instanceof Error ? err.message : String(err);
}
