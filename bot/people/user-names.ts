import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { NameCache } from '../../config/name-cache.js';
import { isSlackUser, type Names } from '../../runbook/report/people.js';

/** A day: names change rarely, and a stale one is corrected the next day. */
const DEFAULT_TTL_SECONDS = 24 * 3600;
/** A report names a few dozen people at most; anything beyond is shown by id rather than costing a call each. */
const MAX_LOOKUPS = 100;

/** The name a person goes by in a report: their real name, else the display name, else the handle. */
export function nameFromUsersInfo(user: { name?: string; real_name?: string; profile?: { real_name?: string; display_name?: string } } | undefined): string | null {
  const candidates = [user?.profile?.real_name, user?.real_name, user?.profile?.display_name, user?.name];
  return candidates.map((c) => c?.trim()).find((c): c is string => Boolean(c)) ?? null;
}

/**
 * People's names for reports, the audit trail and text outside Slack's own
 * mention rendering: users.info (scope users:read), cached in the state
 * backend with a TTL. A person Slack cannot name (user_not_found, an outage,
 * a rate limit) is named by the fallback (the runbook's contacts) or left to
 * be shown by id; that failure is logged once per lookup and never cached.
 * Never throws.
 */
export class UserNames {
  constructor(
    private readonly deps: { client: WebClient; cache: NameCache; log: Logger; ttlSeconds?: number },
  ) {}

  async names(ids: Iterable<string>, fallback: Names = {}): Promise<Names> {
    const wanted = [...new Set([...ids].filter(isSlackUser))].slice(0, MAX_LOOKUPS);
    const found = await this.deps.cache.get(wanted).catch((err: unknown) => {
      this.deps.log.warn({ err }, 'name cache unavailable; asking Slack');
      return new Map<string, string>();
    });
    const learnt = new Map<string, string>();
    const failed: string[] = [];
    for (const id of wanted.filter((i) => !found.has(i))) {
      try {
        const name = nameFromUsersInfo((await this.deps.client.users.info({ user: id })).user);
        if (name) learnt.set(id, name);
        else failed.push(id);
      } catch {
        failed.push(id);
      }
    }
    if (failed.length > 0) this.deps.log.info({ users: failed }, 'users.info gave no name; shown by the runbook contact or id');
    await this.deps.cache.put(learnt, this.deps.ttlSeconds ?? DEFAULT_TTL_SECONDS).catch((err: unknown) => this.deps.log.warn({ err }, 'names not cached'));
    const names: Record<string, string> = {};
    for (const id of wanted) {
      const name = found.get(id) ?? learnt.get(id) ?? fallback[id];
      if (name) names[id] = name;
    }
    return names;
  }
}
