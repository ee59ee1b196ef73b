import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { MessageRefs } from '../../config/redis-message-refs.js';
import { allSteps } from '../../runbook/plan.js';
import { reconciliationMarkdown, reconciliationSummary } from '../../runbook/reconciliation-markdown.js';
import { reconciliationReport } from '../../runbook/reconciliation.js';
import type { RunState } from '../../runbook/state.js';
import { isValidationAction } from '../../runbook/validation-result.js';

/** Field in the message-refs hash claiming the upload after one validation step attempt. */
const field = (stepId: string, attempt: number): string => `reconciliation:${stepId}:${attempt}`;

/**
 * Uploads the run's reconciliation report (JSON and Markdown) into its thread
 * after each validate.* step attempt finishes. The upload is claimed in the
 * refs hash first (HSETNX), as the end-of-run report is, so two renders or two
 * web processes upload it once; a failed upload frees its claim for the next render.
 */
export class ReconciliationUploads {
  constructor(private readonly deps: { client: WebClient; refs: MessageRefs; log: Logger }) {}

  /** Called after each render of a run with its refs as read then. Never throws. */
  async afterRender(state: RunState, rootTs: string, refs: Record<string, string>): Promise<void> {
    for (const planStep of allSteps(state.plan)) {
      const step = state.steps[planStep.id];
      if (!step || !isValidationAction(planStep.action) || (step.status !== 'succeeded' && step.status !== 'failed')) continue;
      const claim = field(step.id, step.attempt);
      if (refs[claim] !== undefined || !(await this.deps.refs.claim(state.runId, claim, String(step.finishedAt ?? 0)))) continue;
      try {
        await this.upload(state, step.id, planStep.title, step.attempt, step.finishedAt ?? state.startedAt, rootTs);
      } catch (err) {
        this.deps.log.error({ err, runId: state.runId, stepId: step.id }, 'reconciliation upload failed');
        await this.deps.refs.unset(state.runId, claim).catch(() => undefined);
      }
    }
  }

  private async upload(state: RunState, stepId: string, title: string, attempt: number, at: number, rootTs: string): Promise<void> {
    const report = reconciliationReport(state, at);
    const name = `${state.runId}-reconciliation-${stepId}`;
    const label = `Reconciliation report${report.dry_run ? ' (dry run)' : ''} after "${title}"${attempt > 1 ? ` (attempt ${attempt})` : ''}`;
    await this.deps.client.files.uploadV2({
      channel_id: state.channel,
      thread_ts: rootTs,
      initial_comment: `${label}\n${reconciliationSummary(report)}`,
      file_uploads: [
        { file: Buffer.from(JSON.stringify(report, null, 2), 'utf8'), filename: `${name}-${attempt}.json`, title: `${label} (JSON)` },
        { file: Buffer.from(reconciliationMarkdown(report), 'utf8'), filename: `${name}-${attempt}.md`, title: label },
      ],
    });
    this.deps.log.info({ runId: state.runId, title, attempt }, 'reconciliation report uploaded');
  }
}
