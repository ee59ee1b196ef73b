/** One waiting session and the sessions it waits on directly. */
export interface WaitEdge {
  session: number;
  blockedBy: readonly number[];
}

/**
 * The head of each waiter's blocking chain, pure: follow the first blocker
 * until a session that waits on nobody. A chain that comes back on itself
 * (a deadlock the database has not broken yet) has no head: null, as has a
 * waiter with no blocker named. A blocker that is not itself a waiter (an
 * idle transaction, a prepared transaction shown as 0) is the head.
 */
export function chainHeads(edges: readonly WaitEdge[]): Map<number, number | null> {
  const blockers = new Map(edges.map((e) => [e.session, e.blockedBy]));
  const heads = new Map<number, number | null>();
  for (const edge of edges) {
    let current = edge.session;
    const seen = new Set<number>([current]);
    let head: number | null = null;
    for (;;) {
      const next = blockers.get(current)?.[0];
      if (next === undefined) {
        head = current === edge.session ? null : current;
        break;
      }
      if (seen.has(next)) break;
      seen.add(next);
      current = next;
    }
    heads.set(edge.session, head);
  }
  return heads;
}

/** How many waiters stand behind each head, directly or through others. */
export function waitersPerHead(heads: ReadonlyMap<number, number | null>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const head of heads.values()) if (head !== null) counts.set(head, (counts.get(head) ?? 0) + 1);
  return counts;
}
