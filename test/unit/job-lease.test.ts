import { describe, expect, it } from 'vitest';
import { JobLeases } from '../../config/job-lease.js';
import { CutoverError } from '../../runbook/errors.js';

/** The worker's local view of its job locks (issue 12: a worker that loses a job's lock stops the step before another takes it over). */
describe('JobLeases', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => void (t += ms) };
  };

  it('gives a job up once no renewal was sent for 0.8 of the lock, before the server-side lock can expire', () => {
    const c = clock();
    const leases = new JobLeases(10_000, c.now);
    const lease = leases.hold('j1', c.now());
    c.advance(8_000);
    expect(leases.expire()).toEqual([]);
    c.advance(1);
    expect(leases.expire()).toEqual(['j1']);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toBeInstanceOf(CutoverError);
    expect((lease.signal.reason as CutoverError).code).toBe('worker.lock_lost');
    expect((lease.signal.reason as CutoverError).userMessage).toContain('did not confirm the job\'s lock for 8s of its 10s');
  });

  it('counts a renewal from when it was sent, not from when Redis answered', () => {
    const c = clock();
    const leases = new JobLeases(10_000, c.now);
    const lease = leases.hold('j1', c.now());
    const sent = c.now() + 5_000;
    c.advance(12_000); // Redis stalled: the answer to a renewal sent at +5 s arrives at +12 s
    leases.renewed(['j1'], sent);
    expect(leases.expire()).toEqual([]);
    c.advance(1_001); // 8.001 s after the send
    expect(leases.expire()).toEqual(['j1']);
    expect(lease.signal.aborted).toBe(true);
  });

  it('starts from the earlier of the lock\'s start and now, and never moves a renewal back', () => {
    const c = clock();
    const leases = new JobLeases(10_000, c.now);
    const lease = leases.hold('j1', c.now() - 5_000); // BullMQ took the lock 5 s before the processor got the job
    leases.renewed(['j1'], c.now() - 9_000);
    c.advance(3_001);
    expect(leases.expire()).toEqual(['j1']);
    expect(lease.signal.aborted).toBe(true);
  });

  it('gives a job up at once when Redis refuses to renew its lock, and forgets released jobs', () => {
    const c = clock();
    const leases = new JobLeases(10_000, c.now);
    const refused = leases.hold('j1', c.now());
    const released = leases.hold('j2', c.now());
    leases.refused(['j1']);
    expect(refused.signal.aborted).toBe(true);
    expect((refused.signal.reason as CutoverError).userMessage).toContain('Redis refused to renew');
    released.release();
    c.advance(60_000);
    expect(leases.expire()).toEqual([]);
    expect(released.signal.aborted).toBe(false);
  });
});
