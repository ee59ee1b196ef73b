import type { KnownBlock } from '@slack/types';
import type { Contact } from '../../runbook/escalation.js';
import type { Plan } from '../../runbook/plan.js';
import { clip } from './format.js';

// Two blocks per contact, a header and a context: within Slack's 50 blocks.
const MAX_CONTACTS = 23;

/** The runbook's emergency contacts table (seed 000's, as data): one section per contact, fields for what is known. */
export function renderContacts(plan: Plan, contacts: readonly Contact[]): { text: string; blocks: KnownBlock[] } {
  const title = `Emergency contacts — ${plan.title}`;
  if (contacts.length === 0) {
    const text = `${title}: the runbook \`${plan.runbook}\` lists no contacts. Add them under \`contacts:\` (role, name, slack, phone, email).`;
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
  }
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: clip(title, 150), emoji: true } }];
  const plain: string[] = [];
  for (const c of contacts.slice(0, MAX_CONTACTS)) {
    const role = plan.roles[c.role]?.title ?? c.role;
    const cells = [
      `*Role*\n${role}`,
      `*Name*\n${c.name}`,
      `*Slack*\n${c.slack ? `<@${c.slack}>` : '—'}`,
      `*Phone*\n${c.phone ?? '—'}`,
      `*Email*\n${c.email ? `<mailto:${c.email}|${c.email}>` : '—'}`,
    ];
    blocks.push({ type: 'section', fields: cells.map((t) => ({ type: 'mrkdwn', text: clip(t, 2000) })) }, { type: 'divider' });
    plain.push(`${role}: ${c.name}${c.slack ? ` <@${c.slack}>` : ''}${c.phone ? ` · ${c.phone}` : ''}${c.email ? ` · ${c.email}` : ''}`);
  }
  if (contacts.length > MAX_CONTACTS) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `… and ${contacts.length - MAX_CONTACTS} more in the runbook` }] });
  return { text: clip(`${title}\n${plain.join('\n')}`, 3000), blocks };
}
