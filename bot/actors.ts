import type { WebClient } from '@slack/web-api';
import type { Plan } from '../runbook/plan.js';
import type { Actor } from '../runbook/policy.js';

/**
 * Resolves which of a runbook's user-groups a Slack user belongs to, so the
 * pure policy can check role membership. Group lists are cached briefly:
 * one click should not cost a Slack call per group.
 */
export class ActorResolver {
  private readonly cache = new Map<string, { users: Set<string>; until: number }>();

  constructor(private readonly client: WebClient, private readonly ttlMs = 60_000) {}

  async resolve(userId: string, plan: Plan): Promise<Actor> {
    const groups = [...new Set(Object.values(plan.roles).flatMap((r) => r.usergroups))];
    const mine: string[] = [];
    for (const group of groups) {
      if ((await this.members(group)).has(userId)) mine.push(group);
    }
    return { id: userId, groups: mine };
  }

  private async members(group: string): Promise<Set<string>> {
    const hit = this.cache.get(group);
    if (hit && hit.until > Date.now()) return hit.users;
    const res = await this.client.usergroups.users.list({ usergroup: group });
    const users = new Set(res.users ?? []);
    this.cache.set(group, { users, until: Date.now() + this.ttlMs });
    return users;
  }
}
