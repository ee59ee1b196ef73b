/**
 * Names for reports and the audit trail (issue 16): users.info once per
 * person and TTL, through the state backend's cache; anyone Slack cannot name
 * falls back to the runbook's contact, else stays an id, and is asked again.
 */
import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.js';
import { MemoryNameCache } from '../../config/name-cache.js';
import { nameFromUsersInfo, UserNames } from '../../bot/people/user-names.js';

const log = createLogger('test', { level: 'silent' });

function slackWith(known: Record<string, { name: string; real_name?: string; display_name?: string }>, down = false) {
  const asked: string[] = [];
  const client = {
    users: {
      info: async ({ user }: { user: string }) => {
        asked.push(user);
        if (down) throw new Error('An HTTP protocol error occurred: statusCode = 503');
        const u = known[user];
        if (!u) throw Object.assign(new Error('An API error occurred: user_not_found'), { data: { ok: false, error: 'user_not_found' } });
        return { ok: true, user: { id: user, name: u.name, profile: { real_name: u.real_name ?? '', display_name: u.display_name ?? '' } } };
      },
    },
  } as unknown as WebClient;
  return { client, asked };
}

describe('UserNames', () => {
  it('asks users.info once per person within the TTL, then again after it', async () => {
    let now = 0;
    const cache = new MemoryNameCache(() => now);
    const { client, asked } = slackWith({ U1: { name: 'sabine', real_name: 'Sabine Krüger' } });
    const names = new UserNames({ client, cache, log, ttlSeconds: 60 });
    expect(await names.names(['U1', 'U1', 'worker'])).toEqual({ U1: 'Sabine Krüger' });
    expect(await names.names(['U1'])).toEqual({ U1: 'Sabine Krüger' });
    expect(asked).toEqual(['U1']);
    now = 61_000;
    await names.names(['U1']);
    expect(asked).toEqual(['U1', 'U1']);
  });

  it('falls back to the runbook contact, else leaves the id out, and never caches a failure', async () => {
    const cache = new MemoryNameCache();
    const { client, asked } = slackWith({}, true);
    const names = new UserNames({ client, cache, log });
    expect(await names.names(['U1', 'U2'], { U2: 'Dr. Ingrid Hoffmann' })).toEqual({ U2: 'Dr. Ingrid Hoffmann' });
    await names.names(['U1']);
    expect(asked).toEqual(['U1', 'U2', 'U1']);
  });

  it('takes the real name, else the display name, else the handle', () => {
    expect(nameFromUsersInfo({ name: 'jl', profile: { real_name: ' Jürgen Lehmann ', display_name: 'Jürgen' } })).toBe('Jürgen Lehmann');
    expect(nameFromUsersInfo({ name: 'jl', profile: { real_name: '', display_name: 'Jürgen' } })).toBe('Jürgen');
    expect(nameFromUsersInfo({ name: 'jl' })).toBe('jl');
    expect(nameFromUsersInfo(undefined)).toBeNull();
  });
});
