import type { ManualParams } from '../../runbook/actions/manual.js';
import type { ActionImpl } from '../action.js';

/** A checklist step: its approval in Slack is its completion, so running it only records the list as done. */
export const manualAction: ActionImpl<ManualParams> = {
  id: 'manual',
  async run(_ctx, params) {
    const checklist = params?.checklist ?? [];
    return { summary: 'checklist confirmed', details: { checklist, items: checklist.length } };
  },
};
