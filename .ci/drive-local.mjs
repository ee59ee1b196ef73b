// Drives a running local workspace over its own HTTP endpoints, as a person
// at the page would: an outsider's /migrate start is refused, the lead starts
// the run, and each step is approved by a person its message names, until a
// step that runs on the worker has succeeded (or the run completes).
// Usage: node .ci/drive-local.mjs http://127.0.0.1:PORT [runbook]
// Plain Node (fetch), no dependencies: it runs before anything is trusted.

const origin = process.argv[2];
const deadline = Date.now() + Number(process.env.DRIVE_TIMEOUT_MS ?? 240_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function get(path) {
  const res = await fetch(`${origin}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return res.json();
}

async function post(path, body) {
  const res = await fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

const info = await get('/local/info');
const runbook = process.argv[3] ?? (info.about.runbooks.includes('kgv-local') ? 'kgv-local' : 'demo');
const channel = info.channel.id;
const outsider = info.people.find((p) => p.outsider);
const lead = info.people.find((p) => p.roles.some((r) => r.startsWith(`${runbook}:`) && /lead/i.test(r)));
if (!outsider || !lead) throw new Error(`no outsider or ${runbook} lead among ${info.people.map((p) => p.realName).join(', ')}`);
console.log(`driving ${runbook} on ${origin}: state ${info.about.state}, ${info.about.database}`);

const channelOf = async (as) => (await get(`/local/view?as=${as}`)).conversations.find((c) => c.id === channel).messages;
const textOf = (m) => JSON.stringify(m.blocks ?? []) + m.text;

async function until(what, fn) {
  while (Date.now() < deadline) {
    const value = await fn();
    if (value) return value;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

await post('/local/command', { as: outsider.id, channel, text: `/migrate start ${runbook}` });
const refused = await until('the outsider\'s refusal', async () => (await channelOf(outsider.id)).find((m) => m.ephemeral && /may start/.test(m.text)));
console.log(`outsider refused: ${refused.text}`);

await post('/local/command', { as: lead.id, channel, text: `/migrate start ${runbook}` });
const root = await until('the run\'s root message', async () => (await channelOf(lead.id)).find((m) => !m.ephemeral && m.blocks?.some((b) => b.type === 'header')));
console.log(`run started: ${root.text}`);

const approved = new Set();
for (;;) {
  const messages = await channelOf(lead.id);
  const current = messages.find((m) => m.ts === root.ts);
  if (/completed/.test(textOf(current))) {
    console.log('run completed');
    break;
  }
  const workerStepDone = current.replies.some((r) => /✅/.test(textOf(r)) && !/`manual`/.test(textOf(r)));
  if (workerStepDone) {
    console.log('a worker step succeeded');
    break;
  }
  const failed = current.replies.find((r) => /"step\.retry"/.test(textOf(r)));
  if (failed) throw new Error(`a step failed: ${failed.text}`);
  const waiting = current.replies.find((r) => !r.ephemeral && /"step\.approve"/.test(textOf(r)) && !approved.has(r.ts + r.text));
  if (!waiting) {
    if (Date.now() > deadline) throw new Error('timed out: no step to approve and none running to completion');
    await sleep(250);
    continue;
  }
  const block = waiting.blocks.findIndex((b) => b.type === 'actions' && b.elements.some((e) => e.action_id === 'step.approve'));
  const mentioned = [...textOf(waiting).matchAll(/<@(U[A-Z0-9]+)>/g)].map((m) => m[1]);
  // N-of-M: whoever is already listed as having approved this step is not asked again.
  // textOf is JSON: a line ends at an escaped newline (backslash, n) or at the end of the string.
  const approvedLine = /Approved by (.*?)(?:\\n|")/.exec(textOf(waiting))?.[1] ?? '';
  const approvers = info.people.filter((p) => mentioned.includes(p.id) && !p.outsider && !approvedLine.includes(`<@${p.id}>`));
  const who = approvers.find((p) => p.id !== lead.id) ?? approvers[0];
  if (!who) throw new Error(`no approver named in: ${waiting.text}`);
  const answer = await post('/local/action', { as: who.id, channel, ts: waiting.ts, block, actionId: 'step.approve' });
  if (!answer.ok) throw new Error(`clicking Approve as ${who.realName}: ${JSON.stringify(answer)}`);
  console.log(`approved "${waiting.text}" as ${who.realName}`);
  approved.add(waiting.ts + waiting.text);
  await sleep(300);
}
