import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { clip } from '../render/format.js';
import { encodeMetadata, START_CALLBACK, type ModalMetadata } from './modal-metadata.js';
import { channelValue, checkedValues, dateTimeValue, selectedValue, type StateValues } from './modal-values.js';

export const RUNBOOK_BLOCK = 'runbook';
const DRY_RUN_BLOCK = 'dry_run';
const SCHEDULE_BLOCK = 'schedule';
const CHANNEL_BLOCK = 'channel';
const DRY_RUN = 'dry-run';

/** A runbook the person may pick: only those that load (the others are listed with their errors by `/migrate runbooks`). */
interface RunbookChoice {
  name: string;
  title: string;
}

/**
 * "Start a run" while the runbooks are read: opened at once, so the click's
 * trigger (valid for 3 s) is spent before any slow work, then replaced by
 * startModal. It has no submit button, so nothing can be sent from it.
 */
export function startModalLoading(): ModalView {
  return {
    type: 'modal',
    callback_id: `${START_CALLBACK}:loading`,
    title: { type: 'plain_text', text: 'Start a run' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ':hourglass_flowing_sand: Reading the runbooks…' } }],
  };
}

/**
 * "Start a run": the runbook, dry run or not, optionally a time to start at
 * (a datetime picker: Slack sends the instant, so the person's own time zone
 * is taken into account), and the channel when it was opened from App Home.
 */
export function startModal(runbooks: RunbookChoice[], meta: ModalMetadata, broken: number, defaultChannel: string | null): ModalView {
  const base = { type: 'modal' as const, callback_id: START_CALLBACK, private_metadata: encodeMetadata(meta), title: { type: 'plain_text' as const, text: 'Start a run' } };
  const brokenNote: KnownBlock[] = broken > 0 ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `${broken} runbook${broken === 1 ? ' does' : 's do'} not load and ${broken === 1 ? 'is' : 'are'} not offered; \`/migrate runbooks\` says why.` }] }] : [];
  if (runbooks.length === 0) {
    return { ...base, close: { type: 'plain_text', text: 'Close' }, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'There is no runbook to start.' } }, ...brokenNote] };
  }
  const options: PlainTextOption[] = runbooks.slice(0, 100).map((r) => ({ text: { type: 'plain_text', text: clip(`${r.title} (${r.name})`, 75) }, value: r.name }));
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: RUNBOOK_BLOCK,
      label: { type: 'plain_text', text: 'Runbook' },
      element: { type: 'static_select', action_id: RUNBOOK_BLOCK, placeholder: { type: 'plain_text', text: 'Choose a runbook' }, options, ...(options.length === 1 && options[0] ? { initial_option: options[0] } : {}) },
    },
    {
      type: 'input',
      block_id: DRY_RUN_BLOCK,
      optional: true,
      label: { type: 'plain_text', text: 'Rehearsal' },
      element: { type: 'checkboxes', action_id: DRY_RUN_BLOCK, options: [{ text: { type: 'plain_text', text: 'Dry run' }, description: { type: 'plain_text', text: 'Marked as a rehearsal in the thread and the report' }, value: DRY_RUN }] },
    },
    {
      type: 'input',
      block_id: SCHEDULE_BLOCK,
      optional: true,
      label: { type: 'plain_text', text: 'Start at' },
      hint: { type: 'plain_text', text: 'Leave empty to start now. In your own time zone; at most 90 days ahead. Reminders and roll calls come before it.' },
      element: { type: 'datetimepicker', action_id: SCHEDULE_BLOCK },
    },
  ];
  if (!meta.channel) {
    blocks.push({
      type: 'input',
      block_id: CHANNEL_BLOCK,
      label: { type: 'plain_text', text: "Channel for the run's messages" },
      element: { type: 'channels_select', action_id: CHANNEL_BLOCK, ...(defaultChannel ? { initial_channel: defaultChannel } : {}) },
    });
  }
  blocks.push(...brokenNote, { type: 'context', elements: [{ type: 'mrkdwn', text: 'The run is checked as `/migrate start` checks it: who may start it, and that every role can reach its approvals without you.' }] });
  return { ...base, submit: { type: 'plain_text', text: 'Start' }, close: { type: 'plain_text', text: 'Cancel' }, blocks };
}

type StartAnswer =
  | { ok: true; runbook: string; dryRun: boolean; at: number | null; channel: string }
  | { ok: false; errors: Record<string, string> };

/** The submitted fields, checked against what was offered; each problem under its own field. */
export function readStart(values: StateValues, meta: ModalMetadata, offered: readonly string[]): StartAnswer {
  const errors: Record<string, string> = {};
  const runbook = selectedValue(values, RUNBOOK_BLOCK, RUNBOOK_BLOCK);
  if (!runbook) errors[RUNBOOK_BLOCK] = 'Choose the runbook to start.';
  else if (!offered.includes(runbook)) errors[RUNBOOK_BLOCK] = `\`${runbook}\` is no longer a runbook that loads; choose another or check \`/migrate runbooks\`.`;
  const channel = meta.channel ?? channelValue(values, CHANNEL_BLOCK, CHANNEL_BLOCK);
  if (!channel) errors[CHANNEL_BLOCK] = "Choose the channel where the run's messages and approvals go.";
  const seconds = dateTimeValue(values, SCHEDULE_BLOCK, SCHEDULE_BLOCK);
  const dryRun = checkedValues(values, DRY_RUN_BLOCK, DRY_RUN_BLOCK).includes(DRY_RUN);
  // A schedule starts the real cutover (reminders, roll calls); a rehearsal is started now.
  if (dryRun && seconds !== null) errors[DRY_RUN_BLOCK] = 'A scheduled run is the real one; start a dry run now (leave Start at empty) instead.';
  if (Object.keys(errors).length > 0 || !runbook || !channel) return { ok: false, errors };
  return { ok: true, runbook, channel, dryRun, at: seconds === null ? null : seconds * 1000 };
}
