import { asCutoverError } from '../../runbook/errors.js';
import type { StepJob } from '../../runbook/ports.js';
import type { ClosableJobQueue, StepProcessor, StepWorker, StepWorkerOptions } from '../backend.js';
import { checkJobId } from '../job-queue.js';

type JobState = 'waiting' | 'active' | 'completed' | 'failed';

/**
 * The step queue in this process, for local mode without Redis. It keeps
 * BullJobQueue's contract: a job id is enqueued once (a repeat is a no-op
 * while the job is retained, here for the life of the process), a job runs on
 * one worker at a time, and a processor that throws leaves the job `failed`
 * with its reason (one attempt, as BullJobQueue configures; business failures
 * are events, a throw is a bug or a crash that the reconciler reports).
 * BullMQ's stalled-job detection has nothing to detect here: a worker cannot
 * die without the queue dying with it.
 */
export class MemoryJobQueue implements ClosableJobQueue {
  private readonly jobs = new Map<string, { job: StepJob; state: JobState; failedReason?: string }>();
  private readonly waiting: string[] = [];
  private readonly workers = new Set<MemoryStepWorker>();

  async enqueue(job: StepJob): Promise<void> {
    checkJobId(job.jobId);
    if (this.jobs.has(job.jobId)) return;
    this.jobs.set(job.jobId, { job: { ...job }, state: 'waiting' });
    this.waiting.push(job.jobId);
    for (const worker of this.workers) worker.poke();
  }

  async state(jobId: string): Promise<{ state: JobState | 'missing'; failedReason?: string }> {
    const entry = this.jobs.get(jobId);
    if (!entry) return { state: 'missing' };
    return entry.failedReason !== undefined ? { state: entry.state, failedReason: entry.failedReason } : { state: entry.state };
  }

  startWorker(processor: StepProcessor, opts: StepWorkerOptions = {}): StepWorker {
    const worker = new MemoryStepWorker(this, processor, opts, () => this.workers.delete(worker));
    this.workers.add(worker);
    return worker;
  }

  /** The oldest waiting job, now active; undefined when none waits. */
  take(): StepJob | undefined {
    const id = this.waiting.shift();
    const entry = id === undefined ? undefined : this.jobs.get(id);
    if (!entry) return undefined;
    entry.state = 'active';
    return { ...entry.job };
  }

  finish(jobId: string, error?: Error): void {
    const entry = this.jobs.get(jobId);
    if (!entry) return;
    entry.state = error ? 'failed' : 'completed';
    if (error) entry.failedReason = error.message;
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.close()));
  }
}

class MemoryStepWorker implements StepWorker {
  private readonly active = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly queue: MemoryJobQueue,
    private readonly processor: StepProcessor,
    private readonly opts: StepWorkerOptions,
    private readonly onClose: () => void,
  ) {
    this.poke();
  }

  async ready(): Promise<void> {}

  running(): boolean {
    return !this.closed;
  }

  /** Starts as many waiting jobs as concurrency allows. */
  poke(): void {
    const concurrency = this.opts.concurrency ?? 1;
    while (!this.closed && this.active.size < concurrency) {
      const job = this.queue.take();
      if (!job) return;
      const run = this.run(job).finally(() => {
        this.active.delete(run);
        this.poke();
      });
      this.active.add(run);
    }
  }

  private async run(job: StepJob): Promise<void> {
    // Deferred so enqueue() returns before the step starts, as with a real queue.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      await this.processor(job);
      this.queue.finish(job.jobId);
    } catch (cause) {
      const error = cause instanceof Error ? cause : asCutoverError(cause, 'queue.job_failed');
      this.queue.finish(job.jobId, error);
      this.opts.onFailed?.(job.jobId, error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.onClose();
    await Promise.all([...this.active]);
  }
}
