import type { SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { isFinished } from '../../../runbook/state.js';
import { tell, type BotDeps } from '../../deps.js';
import { comparisonText } from '../../render/report-summary.js';

/** `/migrate report <run>`: builds the report again and uploads it into the run's thread (or here when that is unknown). */
export async function reportCommand(deps: BotDeps, client: WebClient, c: SlashCommand, runId: string): Promise<void> {
  const reply = (text: string) => tell(client, c.channel_id, c.user_id, text);
  const built = await deps.reports.build(runId);
  if (!built) return reply(`There is no run \`${runId}\`. \`/migrate status\` shows the active ones.`);
  if (!isFinished(built.state)) return reply(`Run \`${runId}\` is still ${built.state.status}; its report is made when it ends.`);
  const root = (await deps.refs.all(runId))['root'];
  const inThread = root !== undefined;
  await deps.reports.upload(built.state, built.files, inThread ? built.state.channel : c.channel_id, root);
  if (inThread && built.state.channel !== c.channel_id) await reply(`The report of \`${runId}\` is in its thread in <#${built.state.channel}>.`);
}

/** `/migrate compare <run> [<other run>]`: ephemeral, step by step, with regressions flagged. */
export async function compareCommand(deps: BotDeps, client: WebClient, c: SlashCommand, runId: string, otherId: string | null): Promise<void> {
  const reply = (text: string) => tell(client, c.channel_id, c.user_id, text);
  const current = await deps.service.load(runId);
  if (!current) return reply(`There is no run \`${runId}\`.`);
  const other = otherId ? await deps.service.load(otherId) : null;
  if (otherId && !other) return reply(`There is no run \`${otherId}\`.`);
  if (other && other.plan.runbook !== current.plan.runbook) {
    return reply(`\`${runId}\` is a run of \`${current.plan.runbook}\` and \`${otherId}\` of \`${other.plan.runbook}\`: only runs of one runbook compare step by step.`);
  }
  const comparison = other ? await deps.reports.compare(current, other) : await deps.reports.comparePrevious(current);
  if (!comparison) return reply(`\`${runId}\` has no earlier finished run of \`${current.plan.runbook}\` to compare with; name one: \`/migrate compare ${runId} <other run>\`.`);
  return reply(comparisonText(comparison));
}
