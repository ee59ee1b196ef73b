import type { ViewStateValue } from '@slack/bolt';

/** `view.state.values` of a submission: block_id → action_id → what was entered. */
export type StateValues = Record<string, Record<string, ViewStateValue>>;

const entry = (values: StateValues, block: string, action: string): ViewStateValue | undefined => values[block]?.[action];

export const textValue = (values: StateValues, block: string, action: string): string | null => entry(values, block, action)?.value ?? null;

export const selectedValue = (values: StateValues, block: string, action: string): string | null => entry(values, block, action)?.selected_option?.value ?? null;

export const checkedValues = (values: StateValues, block: string, action: string): string[] => (entry(values, block, action)?.selected_options ?? []).map((o) => o.value);

export const dateTimeValue = (values: StateValues, block: string, action: string): number | null => entry(values, block, action)?.selected_date_time ?? null;

export const channelValue = (values: StateValues, block: string, action: string): string | null => entry(values, block, action)?.selected_channel ?? null;
