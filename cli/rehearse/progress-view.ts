import { formatDuration } from '../../runbook/duration.js';
import { allSteps } from '../../runbook/plan.js';
import type { RunState, StepState } from '../../runbook/state.js';
import { mentionsAsNames, nameOf, type Names } from '../../runbook/report/people.js';
import { readValidation } from '../../runbook/validation-result.js';
import type { Output } from '../output.js';

const BAR = 24;
/** Off a terminal, a running step's progress is printed at most this often (the worker reports every few seconds). */
const PLAIN_EVERY_MS = 10_000;

const num = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * Shows a headless run as it goes: one line per step that finishes (✓, ✗, skipped)
 * and, for a running step that reports rows, a bar with rows, rows/s and ETA
 * redrawn in place on a terminal, or a plain line now and then elsewhere.
 */
export class ProgressView {
  private readonly shown = new Map<string, string>();
  private lastPlain = 0;

  /** `names`: people by Slack id (the runbook's contacts): a terminal shows names, not Slack's <@U…>. */
  constructor(
    private readonly out: Output,
    private readonly now: () => number,
    private readonly names: Names = {},
  ) {}

  update(state: RunState): void {
    const ids = [...state.order, ...Object.keys(state.steps).filter((id) => !state.order.includes(id))];
    for (const id of ids) {
      const step = state.steps[id];
      if (!step) continue;
      const key = `${step.status}#${step.attempt}`;
      if (this.shown.get(id) === key) continue;
      this.shown.set(id, key);
      const line = this.transition(state, step);
      if (line) this.out.note(line);
    }
    const running = ids.map((id) => state.steps[id]).find((s) => s?.status === 'running');
    if (running?.progress) this.progress(running);
  }

  private text(message: string | undefined): string {
    return message ? mentionsAsNames(message, this.names) : '';
  }

  private transition(state: RunState, step: StepState): string | null {
    const p = this.out.paint;
    const title = allSteps(state.plan).find((s) => s.id === step.id)?.title ?? step.id;
    const took = step.startedAt !== null && step.finishedAt !== null ? ` ${formatDuration((step.finishedAt - step.startedAt) / 1000)}` : '';
    switch (step.status) {
      case 'running':
        return p.dim(`… ${step.id}: ${title}`);
      case 'succeeded': {
        const verdict = readValidation(step.result?.details)?.verdict;
        const mark = verdict === 'amber' ? p.yellow('!') : p.green('✓');
        const by = step.approvals.map((a) => nameOf(this.names, a.by)).join(', ');
        return `${mark} ${p.bold(step.id)}${took} ${this.text(step.result?.summary)}${by ? p.dim(` (approved by ${by})`) : ''}`;
      }
      case 'failed':
        return `${p.red('✗')} ${p.bold(step.id)}${took} ${this.text(step.error?.message)}`;
      case 'skipped':
        return `${p.yellow('-')} ${p.bold(step.id)} skipped: ${this.text(step.skipped?.reason)}`;
      default:
        return null;
    }
  }

  private progress(step: StepState): void {
    const data = step.progress?.data ?? {};
    const rows = typeof data.rows === 'number' ? data.rows : null;
    const expected = typeof data.expectedRows === 'number' ? data.expectedRows : null;
    const rate = typeof data.rowsPerSecond === 'number' ? data.rowsPerSecond : null;
    const eta = typeof data.etaSeconds === 'number' ? data.etaSeconds : null;
    if (rows === null) return;
    const figures = `${num(rows)}${expected ? `/${num(expected)}` : ''} rows · ${rate === null ? '—' : num(rate)} rows/s · ETA ${eta === null ? '—' : formatDuration(eta)}`;
    if (this.out.live) {
      const done = expected ? Math.min(BAR, Math.round((rows / expected) * BAR)) : 0;
      this.out.status(`${step.id} [${'#'.repeat(done)}${'-'.repeat(BAR - done)}] ${figures}`);
      return;
    }
    if (this.now() - this.lastPlain < PLAIN_EVERY_MS) return;
    this.lastPlain = this.now();
    this.out.note(`  ${step.id}: ${figures}`);
  }
}
