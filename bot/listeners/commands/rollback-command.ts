import type { SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { RunState } from '../../../runbook/state.js';
import { tell, type BotDeps } from '../../deps.js';

/** Seed 000's scenario names: typed first, they name a scenario even when this runbook lacks it (and are refused, listing its own). */
const WELL_KNOWN = new Set(['pre-go-live', 'post-go-live', 'emergency']);

/**
 * `/migrate rollback [run] [scenario] [reason]`: asks for a rollback of this
 * channel's run. The first word is the scenario when it names one (of the
 * runbook, or one of seed 000's three); otherwise every word is the reason and
 * the core picks the default scenario from the run's state. The request and its
 * Approve / Cancel buttons appear in the run's thread; refusals are ephemeral.
 */
export async function rollbackCommand(deps: BotDeps, client: WebClient, c: SlashCommand, words: string[], runs: RunState[]): Promise<void> {
  const reply = (text: string) => tell(client, c.channel_id, c.user_id, text);
  if (runs.length === 0) return reply('There is no active run in this channel to roll back.');
  const named = runs.find((r) => words[0] !== undefined && (r.plan.runbook === words[0] || r.runId === words[0]));
  const run = named ?? (runs.length === 1 ? runs[0] : undefined);
  if (!run) return reply(`Several runs are active here (${runs.map((r) => `\`${r.plan.runbook}\``).join(', ')}); name one, e.g. \`/migrate rollback ${runs[0]?.plan.runbook} pre-go-live <reason>\`.`);
  const rest = named ? words.slice(1) : words;
  const first = rest[0];
  const isScenario = first !== undefined && (WELL_KNOWN.has(first) || run.plan.rollbackScenarios.some((s) => s.id === first));
  const scenario = isScenario ? first : null;
  const reason = (isScenario ? rest.slice(1) : rest).join(' ') || 'no reason given';
  const actor = await deps.actors.resolve(c.user_id, run.plan);
  const outcome = await deps.service.execute(run.runId, { type: 'rollback.request', at: deps.now(), actor, scenario, reason });
  if (!outcome.ok) return reply(outcome.message);
  await deps.publisher.request(run.runId);
}
