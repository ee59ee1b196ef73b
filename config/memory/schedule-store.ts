import { scheduledRunSchema, type ScheduledRun, type ScheduleStore } from '../schedule-store.js';

/**
 * ScheduleStore in memory. Schedules are kept as JSON and parsed on the way
 * out, as RedisScheduleStore does, so both hand back the same values.
 */
export class MemoryScheduleStore implements ScheduleStore {
  private readonly schedules = new Map<string, string>();
  private readonly milestones = new Map<string, Map<string, number>>();
  private readonly confirmed = new Map<string, Map<string, number>>();
  private readonly messages = new Map<string, Map<string, string>>();

  async add(run: ScheduledRun): Promise<void> {
    this.schedules.set(run.id, JSON.stringify(run));
  }

  async list(): Promise<ScheduledRun[]> {
    return [...this.schedules.values()]
      .flatMap((text) => {
        const parsed = scheduledRunSchema.safeParse(JSON.parse(text));
        return parsed.success ? [parsed.data] : [];
      })
      .sort((a, b) => a.at - b.at);
  }

  async get(id: string): Promise<ScheduledRun | null> {
    const text = this.schedules.get(id);
    const parsed = text === undefined ? null : scheduledRunSchema.safeParse(JSON.parse(text));
    return parsed?.success ? parsed.data : null;
  }

  async remove(id: string): Promise<boolean> {
    const existed = this.schedules.delete(id);
    this.milestones.delete(id);
    this.confirmed.delete(id);
    this.messages.delete(id);
    return existed;
  }

  async claim(id: string, milestone: string, at: number): Promise<boolean> {
    const done = of(this.milestones, id);
    if (done.has(milestone)) return false;
    done.set(milestone, at);
    return true;
  }

  async done(id: string): Promise<Set<string>> {
    return new Set(this.milestones.get(id)?.keys() ?? []);
  }

  async confirm(id: string, call: number, role: string, user: string, at: number): Promise<void> {
    of(this.confirmed, id).set(`${call}|${role}|${user}`, at);
  }

  async confirmations(id: string, call: number): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const field of this.confirmed.get(id)?.keys() ?? []) {
      const [c, role, user] = field.split('|');
      if (c !== String(call) || !role || !user) continue;
      (out[role] ??= []).push(user);
    }
    return out;
  }

  async setMessage(id: string, name: string, ts: string): Promise<void> {
    of(this.messages, id).set(name, ts);
  }

  async message(id: string, name: string): Promise<string | null> {
    return this.messages.get(id)?.get(name) ?? null;
  }
}

function of<V>(maps: Map<string, Map<string, V>>, id: string): Map<string, V> {
  let map = maps.get(id);
  if (!map) maps.set(id, (map = new Map()));
  return map;
}
