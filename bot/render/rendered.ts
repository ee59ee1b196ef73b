import type { KnownBlock } from '@slack/types';

/** A Slack message as a renderer returns it: the notification text and the blocks. */
export interface Rendered {
  text: string;
  blocks: KnownBlock[];
}
