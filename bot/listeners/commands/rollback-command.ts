import type { SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { DestructiveRequest } from '../../../runbook/destructive.js';
import type { RunState } from '../../../runbook/state.js';
import { tell, type BotDeps } from '../../deps.js';
import { confirmationFor } from '../../destructive/destructive-commands.js';

/** Seed 000's scenario names: typed first, they name a scenario even when this runbook lacks it (and are refused, listing its own). */
const WELL_KNOWN = new Set(['pre-go-live', 'post-go-live', 'emergency']);

/**
 * `/migrate rollback [run] [scenario] <reason>` asks for a rollback of this
 * channel's run; `/migrate rollback [run] cancel <reason>` withdraws the open
 * request. The first word is the scenario when it names one (of the runbook,
 * or one of seed 000's three); otherwise every word is the reason and the core
 * picks the default scenario from the run's state. Both need a reason and are
 * confirmed with a button before anything happens; the request and its
 * Approve / Cancel buttons then appear in the run's thread.
 */
export async function rollbackCommand(deps: BotDeps, client: WebClient, c: SlashCommand, words: string[], runs: RunState[]): Promise<void> {
  const reply = (text: string) => tell(client, c.channel_id, c.user_id, text);
  if (runs.length === 0) return reply('There is no active run in this channel to roll back.');
  const named = runs.find((r) => words[0] !== undefined && (r.plan.runbook === words[0] || r.runId === words[0]));
  const run = named ?? (runs.length === 1 ? runs[0] : undefined);
  if (!run) return reply(`Several runs are active here (${runs.map((r) => `\`${r.plan.runbook}\``).join(', ')}); name one, e.g. \`/migrate rollback ${runs[0]?.plan.runbook} pre-go-live <reason>\`.`);
  const rest = named ? words.slice(1) : words;
  const first = rest[0];
  let request: DestructiveRequest;
  if (first === 'cancel' && !run.plan.rollbackScenarios.some((s) => s.id === 'cancel')) {
    request = { kind: 'rollback-cancel', runId: run.runId, reason: rest.slice(1).join(' ') };
  } else {
    const isScenario = first !== undefined && (WELL_KNOWN.has(first) || run.plan.rollbackScenarios.some((s) => s.id === first));
    request = { kind: 'rollback', runId: run.runId, scenario: isScenario ? first : null, reason: (isScenario ? rest.slice(1) : rest).join(' ') };
  }
  const confirmation = await confirmationFor(deps, request, c.user_id);
  if (!confirmation.ok) return reply(confirmation.message);
  await client.chat.postEphemeral({ channel: c.channel_id, user: c.user_id, text: confirmation.text, blocks: confirmation.blocks });
}
