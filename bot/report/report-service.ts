import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { compareRuns, type Comparison } from '../../runbook/compare.js';
import type { RunEvent } from '../../runbook/events.js';
import { allSteps } from '../../runbook/plan.js';
import { isValidationAction } from '../../runbook/validation-result.js';
import { reconciliationMarkdown, reconciliationSummary } from '../../runbook/reconciliation-markdown.js';
import { reconciliationReport } from '../../runbook/reconciliation.js';
import { buildReport, peopleOf, timelineOf, type Names } from '../../runbook/report/index.js';
import type { RunState } from '../../runbook/state.js';
import type { RunQueries } from '../../runbook/run-service.js';
import { reportSummary } from '../render/report-summary.js';
import type { UserNames } from '../people/user-names.js';
import type { RunHistory } from './run-history.js';
import { timelinePng } from './timeline-png.js';

export interface ReportFiles {
  markdown: string;
  audit: string;
  png: Buffer;
  summary: string;
  /** The reconciliation report's JSON (the same document posted with the gate), or null when no validation ran. */
  reconciliation: string | null;
}

/** A run's report as files: the same for the Slack upload and `cutover rehearse`'s folder. `names`: people by Slack id. */
export function reportFiles(state: RunState, events: readonly RunEvent[], now: number, comparison: Comparison | null, names: Names = {}): ReportFiles {
  const report = buildReport(state, events, { now, comparison, names });
  const recon = reconciliationReport(state, now);
  // Only a run whose validations ran carries a reconciliation verdict: one that ended before them would read "🔴 red",
  // and a runbook without validations has no reconciliation to speak of.
  const reconciled = recon.validations.length > 0;
  const gated = allSteps(state.plan).some((s) => isValidationAction(s.action));
  const notReached = 'Reconciliation: no validation ran — the run ended before it.';
  return {
    markdown: reconciled ? `${report.markdown}\n${reconciliationMarkdown(recon, names).replace(/^#/gm, '##')}` : gated ? `${report.markdown}\n## Reconciliation\n\n${notReached}\n` : report.markdown,
    audit: JSON.stringify(report.audit, null, 2),
    png: timelinePng(timelineOf(report.figures, now)),
    summary: reportSummary(report.figures, comparison) + (reconciled ? `\n${reconciliationSummary(recon)}` : gated ? `\n${notReached}` : ''),
    reconciliation: reconciled ? JSON.stringify(recon, null, 2) : null,
  };
}

/**
 * Builds a finished run's report (Markdown, JSON audit trail, timeline PNG)
 * and uploads it into a Slack thread. The end-of-run hook and
 * `/migrate report` share it, so both give the same files.
 */
export class ReportService {
  constructor(
    private readonly deps: {
      client: WebClient;
      runs: Pick<RunQueries, 'history'>;
      history: RunHistory;
      names: UserNames;
      log: Logger;
      now: () => number;
      /** Where the files are built: web passes a worker thread (a 3,000-step run's report held its event loop 13–30 s); default this thread. */
      build?: (state: RunState, events: readonly RunEvent[], now: number, comparison: Comparison | null, names: Names) => Promise<ReportFiles>;
    },
  ) {}

  /** The comparison with the previous finished run of the same runbook, or null when there is none. */
  async comparePrevious(state: RunState): Promise<Comparison | null> {
    const previous = await this.deps.history.previousRun(state);
    return previous ? this.compare(state, previous) : null;
  }

  async compare(current: RunState, baseline: RunState): Promise<Comparison> {
    const [currentLabel, baselineLabel] = await Promise.all([this.deps.history.label(current), this.deps.history.label(baseline)]);
    return compareRuns(current, baseline, { now: this.deps.now(), currentLabel, baselineLabel });
  }

  async build(runId: string): Promise<{ state: RunState; files: ReportFiles } | null> {
    const read = await this.deps.runs.history(runId);
    if (!read) return null;
    const { state, events } = read;
    const now = state.finishedAt ?? this.deps.now();
    const names = await this.deps.names.names([state.startedBy, ...peopleOf(events)]);
    const comparison = await this.comparePrevious(state);
    const files = this.deps.build ? await this.deps.build(state, events, now, comparison, names) : reportFiles(state, events, now, comparison, names);
    return { state, files };
  }

  /** Posts the summary in the thread, then uploads the files (report, audit, timeline, reconciliation JSON) as one message under it. */
  async upload(state: RunState, files: ReportFiles, channel: string, threadTs: string | undefined): Promise<void> {
    const { client } = this.deps;
    const thread = threadTs ? { thread_ts: threadTs } : {};
    await client.chat.postMessage({ channel, text: files.summary, ...thread });
    await client.files.uploadV2({
      channel_id: channel,
      ...thread,
      initial_comment: `Report, audit trail${files.reconciliation === null ? ' and timeline' : ', timeline and reconciliation JSON'} of run \`${state.runId}\``,
      file_uploads: [
        { file: Buffer.from(files.markdown, 'utf8'), filename: `${state.runId}-report.md`, title: `Cutover report ${state.runId}` },
        { file: Buffer.from(files.audit, 'utf8'), filename: `${state.runId}-audit.json`, title: `Audit trail ${state.runId}` },
        { file: files.png, filename: `${state.runId}-timeline.png`, title: `Timeline ${state.runId}` },
        // The reconciliation report is a section of the Markdown report; its JSON is attached as at the gate.
        ...(files.reconciliation === null ? [] : [{ file: Buffer.from(files.reconciliation, 'utf8'), filename: `${state.runId}-reconciliation-final.json`, title: `Reconciliation report ${state.runId} (JSON)` }]),
      ],
    });
    this.deps.log.info({ runId: state.runId, channel }, 'report uploaded');
  }

  /** The end-of-run hook: report into the run's own thread. */
  async publishFinished(state: RunState, rootTs: string): Promise<void> {
    this.deps.history.invalidate(state.plan.runbook);
    const built = await this.build(state.runId);
    if (built) await this.upload(built.state, built.files, built.state.channel, rootTs);
  }
}
