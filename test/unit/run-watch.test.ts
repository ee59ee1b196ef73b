import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalesced, RunWatch } from '../../engine/run-watch.js';

/** The worker's abort watch: the update feed first, a slow safety poll behind it (issue 12). */
describe('RunWatch', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('calls the watchers of the run a notice names, and no others', () => {
    const watch = new RunWatch(30_000);
    const a: string[] = [];
    const stopA = watch.watch('run-a', () => a.push('a1'));
    watch.watch('run-a', () => a.push('a2'));
    watch.watch('run-b', () => a.push('b'));
    watch.notify('run-a');
    expect(a).toEqual(['a1', 'a2']);
    stopA();
    watch.notify('run-a');
    watch.notify('run-c');
    expect(a).toEqual(['a1', 'a2', 'a2']);
  });

  it('calls a watcher on the safety timer when no notice comes (the feed is lossy), and not after it stopped', () => {
    const watch = new RunWatch(30_000);
    let calls = 0;
    const stop = watch.watch('run-a', () => calls++);
    vi.advanceTimersByTime(29_999);
    expect(calls).toBe(0);
    vi.advanceTimersByTime(1);
    expect(calls).toBe(1);
    stop();
    vi.advanceTimersByTime(120_000);
    expect(calls).toBe(1);
  });
});

describe('coalesced', () => {
  it('runs one load at a time and folds the notices of a burst into one more load', async () => {
    const releases: Array<() => void> = [];
    let loads = 0;
    const check = coalesced(async () => {
      loads++;
      await new Promise<void>((r) => releases.push(r));
    });
    check();
    check();
    check();
    check();
    expect(loads).toBe(1);
    releases.shift()?.();
    await vi.waitFor(() => expect(loads).toBe(2));
    releases.shift()?.();
    await new Promise((r) => setTimeout(r, 10));
    expect(loads).toBe(2);
  });

  it('keeps watching after a load fails', async () => {
    let loads = 0;
    const check = coalesced(async () => {
      loads++;
      throw new Error('redis down');
    });
    check();
    await new Promise((r) => setTimeout(r, 0));
    check();
    await vi.waitFor(() => expect(loads).toBe(2));
  });
});
