import { describe, expect, it } from 'vitest';
import { sweepEach } from '../../bot/sweeper.js';

describe('sweepEach: the one loop of every sweep (issue 17)', () => {
  it('visits every item in order, one at a time, and a failing one does not stop the rest', async () => {
    const visited: string[] = [];
    const failures: Array<[string, string]> = [];
    let inFlight = 0;
    let most = 0;
    await sweepEach(
      ['r1', 'broken', 'r3'],
      async (id) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await Promise.resolve();
        inFlight--;
        if (id === 'broken') throw new Error('unreadable run');
        visited.push(id);
      },
      (err, id) => failures.push([id, (err as Error).message]),
    );
    expect(visited).toEqual(['r1', 'r3']);
    expect(failures).toEqual([['broken', 'unreadable run']]);
    expect(most).toBe(1);
  });

  it('resolves, not rejects, when every item fails', async () => {
    const failed: number[] = [];
    await expect(sweepEach([1, 2], () => Promise.reject(new Error('down')), (_err, n) => failed.push(n))).resolves.toBeUndefined();
    expect(failed).toEqual([1, 2]);
  });
});
