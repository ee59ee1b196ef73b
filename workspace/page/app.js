// The local rehearsal workspace page: pick who you are, read the channel,
// threads, your ephemerals and DMs, type /migrate, click the bot's buttons.
// Everything goes through the workspace server, which talks to the bot as Slack does.
import { renderBlocks } from './blocks.js';
import { carryInputs, readInputs, renderInput } from './inputs.js';
import { renderMrkdwn } from './mrkdwn.js';

const $ = (id) => document.getElementById(id);
const state = {
  info: null,
  as: '',
  conversation: '',
  threadTs: null,
  view: null,
  people: new Map(),
};

async function json(url, init) {
  const res = await fetch(url, init);
  return res.json();
}

// What a mention shows, as in Slack: the display name, else the real name (never the handle).
function userName(id) {
  if (state.info && id === state.info.botUserId) return 'cutover';
  if (id === 'USLACKBOT') return 'Slackbot';
  const person = state.people.get(id);
  return person?.displayName || person?.realName || id;
}

function realName(id) {
  if (state.info && id === state.info.botUserId) return 'cutover';
  if (id === 'USLACKBOT') return 'Slackbot';
  return state.people.get(id)?.realName ?? id;
}

const mrkdwnContext = () => ({ userName, groupName: (id) => id, channelName });

function channelName(id) {
  return state.view?.conversations.find((c) => c.id === id && c.kind === 'channel')?.name ?? (id === state.info?.channel.id ? state.info.channel.name : undefined);
}

async function start() {
  state.info = await json('/local/info');
  $('team-name').textContent = state.info.team;
  for (const p of state.info.people) state.people.set(p.id, p);
  const params = new URLSearchParams(location.search);
  const remembered = params.get('as') ?? localStorage.getItem('cutover.as');
  state.as = state.people.has(remembered) ? remembered : state.info.people[0]?.id ?? '';
  state.conversation = state.info.channel.id;
  renderSwitcher();
  renderAbout();
  $('person').addEventListener('change', (e) => switchTo(e.target.value));
  $('composer').addEventListener('submit', send);
  $('open-home').addEventListener('click', () => openHome());
  $('modal-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void submitModal();
  });
  $('modal-close').addEventListener('click', () => void closeModal());
  $('modal-x').addEventListener('click', () => void closeModal());
  $('modal').addEventListener('cancel', (e) => {
    e.preventDefault();
    void closeModal();
  });
  $('close-thread').addEventListener('click', () => {
    state.threadTs = null;
    render();
  });
  listen();
  await refresh();
}

function renderSwitcher() {
  const select = $('person');
  select.replaceChildren(
    ...state.info.people.map((p) => {
      const option = document.createElement('option');
      option.value = p.id;
      option.textContent = `${p.realName}${p.outsider ? ' (no role)' : ` — ${p.roles.join(', ')}`}`;
      return option;
    }),
  );
  select.value = state.as;
  const me = state.people.get(state.as);
  $('person-roles').textContent = me ? `@${me.name} · ${me.id}` : '';
  $('people').replaceChildren(
    ...state.info.people.map((p) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = p.id === state.as ? 'person current' : 'person';
      button.title = `Act as ${p.realName}`;
      const name = document.createElement('span');
      name.className = 'person-name';
      name.textContent = p.realName;
      const roles = document.createElement('span');
      roles.className = 'person-roles';
      roles.textContent = p.outsider ? 'no role in any runbook' : p.roles.join(', ');
      button.append(name, roles);
      button.addEventListener('click', () => switchTo(p.id));
      li.append(button);
      return li;
    }),
  );
}

function renderAbout() {
  const { about } = state.info;
  const banner = $('durability');
  if (!about.durable) {
    banner.hidden = false;
    banner.className = 'banner warning';
    banner.textContent = `State is not durable: runs, approvals and the queue live in this process's memory (${about.state}). Stopping npm start loses them. Point REDIS_URL at a Redis to keep them.`;
  } else {
    banner.hidden = false;
    banner.className = 'banner info';
    banner.textContent = `Runs are kept in ${about.state}.`;
  }
  const lines = [`Database: ${about.database}`, `Runbooks: ${about.runbooks.join(', ') || 'none'}`];
  $('about').replaceChildren(...lines.map((l) => Object.assign(document.createElement('p'), { textContent: l })));
}

function switchTo(id) {
  state.as = id;
  localStorage.setItem('cutover.as', id);
  const url = new URL(location.href);
  url.searchParams.set('as', id);
  history.replaceState(null, '', url);
  renderSwitcher();
  void refresh();
  if (state.conversation === HOME) void homeOpened();
}

const HOME = 'home';

// The app's Home tab, as in Slack's sidebar under Apps: opening it tells the bot (app_home_opened).
function openHome() {
  state.conversation = HOME;
  state.threadTs = null;
  render();
  void homeOpened();
}

function homeOpened() {
  return json('/local/home-opened', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as: state.as }) });
}

function renderHome() {
  const home = $('home');
  const view = state.view.home;
  const signature = `${state.as}|${view?.hash ?? ''}`;
  if (home.dataset.signature === signature) return;
  home.dataset.signature = signature;
  if (!view) {
    home.replaceChildren(Object.assign(document.createElement('p'), { className: 'home-empty', textContent: 'Loading your Home…' }));
    return;
  }
  home.replaceChildren(renderBlocks(view.blocks ?? [], { ...mrkdwnContext(), onButton: (element, blockIndex, el, selected) => viewAction(view.id, element, blockIndex, el, selected) }));
}

async function viewAction(viewId, element, blockIndex, el, selected) {
  if (element.confirm && !(await confirmDialog(element.confirm))) return;
  el.disabled = true;
  try {
    const action = { as: state.as, viewId, block: blockIndex, actionId: element.action_id };
    await json('/local/view-action', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(selected === undefined ? action : { ...action, selected }) });
  } finally {
    el.disabled = false;
  }
}

// The modal on top of this person's stack, drawn as Slack draws it; redrawn only when it changed, keeping what was typed.
function renderModal() {
  const dialog = $('modal');
  const modal = state.view.modal;
  if (!modal) {
    if (dialog.open) dialog.close();
    dialog.dataset.signature = '';
    return;
  }
  const signature = `${state.as}|${modal.id}|${modal.hash}|${JSON.stringify(modal.errors)}`;
  if (dialog.dataset.signature !== signature) {
    const sameView = dialog.dataset.viewId === modal.id;
    dialog.dataset.signature = signature;
    dialog.dataset.viewId = modal.id;
    $('modal-title').textContent = modal.title?.text ?? '';
    const channels = state.view.conversations.filter((c) => c.kind === 'channel').map((c) => ({ id: c.id, name: c.name }));
    const body = renderBlocks(modal.blocks ?? [], {
      ...mrkdwnContext(),
      renderInput: (block, index) => renderInput(block, index, { errors: modal.errors ?? {}, channels }),
      onButton: (element, blockIndex, el, selected) => viewAction(modal.id, element, blockIndex, el, selected),
    });
    if (sameView) carryInputs($('modal-body'), body);
    $('modal-body').replaceChildren(body);
    $('modal-submit').hidden = !modal.submit;
    $('modal-submit').textContent = modal.submit?.text ?? 'Submit';
    $('modal-close').textContent = modal.close?.text ?? 'Cancel';
    $('modal-problem').hidden = true;
  }
  if (!dialog.open) dialog.showModal();
}

async function submitModal() {
  const modal = state.view?.modal;
  if (!modal) return;
  const submit = $('modal-submit');
  submit.disabled = true;
  try {
    const answer = await json('/local/view-submit', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ as: state.as, viewId: modal.id, values: readInputs($('modal-body')) }),
    });
    if (!answer.ok) {
      // Slack's own words when the app did not answer the submission in time.
      $('modal-problem').textContent = `We had some trouble connecting. Try again? (${answer.error}${answer.detail ? `: ${answer.detail}` : ''})`;
      $('modal-problem').hidden = false;
    }
  } finally {
    submit.disabled = false;
  }
}

async function closeModal() {
  const modal = state.view?.modal;
  if (modal) await json('/local/view-close', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as: state.as, viewId: modal.id }) });
  $('modal').close();
}

function listen() {
  const events = new EventSource('/local/events');
  events.addEventListener('change', () => void refresh());
  events.addEventListener('open', () => ($('live').textContent = 'live'));
  events.addEventListener('error', () => ($('live').textContent = 'reconnecting…'));
}

let refreshing = null;
let again = false;
async function refresh() {
  // One fetch at a time; a change during a fetch triggers one more.
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      const as = state.as;
      const view = await json(`/local/view?as=${encodeURIComponent(as)}`);
      if (as === state.as) {
        state.view = view;
        render();
      }
    } while (again);
  })().finally(() => (refreshing = null));
  return refreshing;
}

function render() {
  if (!state.view) return;
  const conversations = state.view.conversations;
  $('channels').replaceChildren(...conversations.filter((c) => c.kind === 'channel').map((c) => navItem(c, `# ${c.name}`)));
  $('dms').replaceChildren(...conversations.filter((c) => c.kind === 'dm').map((c) => navItem(c, c.name)));
  renderModal();
  const onHome = state.conversation === HOME;
  $('open-home').className = onHome ? 'nav current' : 'nav';
  $('home').hidden = !onHome;
  $('messages').hidden = onHome;
  $('composer').hidden = onHome;
  if (onHome) {
    $('conversation-title').textContent = 'cutover · Home';
    $('thread').hidden = true;
    renderHome();
    return;
  }
  const current = conversations.find((c) => c.id === state.conversation) ?? conversations[0];
  $('conversation-title').textContent = current.kind === 'channel' ? `# ${current.name}` : current.name;
  $('message-input').placeholder = current.kind === 'channel' ? `Message #${current.name} as ${realName(state.as)} — try /migrate help` : 'Slash commands go to the channel';
  fill($('messages'), current.messages, false);
  const parent = state.threadTs ? current.messages.find((m) => m.ts === state.threadTs) : null;
  $('thread').hidden = !parent;
  if (parent) fill($('thread-messages'), [{ ...parent, replies: [] }, ...parent.replies], true);
}

function navItem(conversation, label) {
  const li = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = conversation.id === state.conversation ? 'nav current' : 'nav';
  button.textContent = label;
  const count = conversation.messages.length;
  if (conversation.kind === 'dm' && count > 0) {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = String(count);
    button.append(' ', badge);
  }
  button.addEventListener('click', () => {
    state.conversation = conversation.id;
    state.threadTs = null;
    render();
  });
  li.append(button);
  return li;
}

// What each rendered item was drawn from: an item is redrawn only when its message changed, so a
// button under the pointer is not replaced while a long step reports progress.
const drawnFrom = new WeakMap();

function fill(list, messages, inThread) {
  // New messages arrive at the bottom, where the reader is taken (as in Slack); edits keep the reading position.
  const grew = messages.length > list.children.length;
  const atBottom = grew || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const existing = new Map([...list.children].map((li) => [li.dataset.ts, li]));
  const items = messages.map((m) => {
    const signature = `${state.as}|${JSON.stringify(m)}`;
    const old = existing.get(m.ts);
    if (old && drawnFrom.get(old) === signature) return old;
    const li = messageItem(m, inThread);
    drawnFrom.set(li, signature);
    return li;
  });
  items.forEach((li, i) => {
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] ?? null);
  });
  while (list.children.length > items.length) list.lastElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function messageItem(m, inThread) {
  const li = document.createElement('li');
  li.className = `message${m.ephemeral ? ' ephemeral' : ''}`;
  li.dataset.ts = m.ts;
  const head = document.createElement('div');
  head.className = 'message-head';
  const avatar = document.createElement('span');
  avatar.className = `avatar${m.user === state.info.botUserId ? ' bot' : ''}`;
  avatar.textContent = realName(m.user).slice(0, 1).toUpperCase();
  const author = document.createElement('strong');
  author.textContent = realName(m.user);
  head.append(avatar, author);
  if (m.user === state.info.botUserId) head.append(tag('APP', 'app-tag'));
  head.append(tag(new Date(Number(m.ts.split('.')[0]) * 1000).toLocaleTimeString(), 'time'));
  if (m.edited) head.append(tag('(edited)', 'edited'));
  if (m.ephemeral) head.append(tag('Only visible to you', 'only-you'));
  li.append(head);
  const body = document.createElement('div');
  body.className = 'message-body';
  if (m.blocks && m.blocks.length > 0) {
    body.append(renderBlocks(m.blocks, { ...mrkdwnContext(), onButton: (element, blockIndex, el, selected) => act(m, element, blockIndex, el, selected) }));
  } else if (m.text) {
    const p = document.createElement('div');
    p.className = 'message-text';
    p.append(renderMrkdwn(m.text, mrkdwnContext()));
    body.append(p);
  }
  for (const f of m.files) body.append(fileCard(f));
  if (m.reactions.length > 0) body.append(tag(m.reactions.map((r) => `:${r}:`).join(' '), 'reactions'));
  li.append(body);
  if (!inThread && !m.ephemeral && m.replies.length > 0) {
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'replies';
    open.textContent = `${m.replies.length} ${m.replies.length === 1 ? 'reply' : 'replies'}`;
    open.addEventListener('click', () => {
      state.threadTs = m.ts;
      render();
    });
    li.append(open);
  }
  return li;
}

function tag(text, className) {
  const span = document.createElement('span');
  span.className = className;
  span.textContent = text;
  return span;
}

// As Slack shows files: an image inline; a snippet inline as code; a hosted document (Markdown, text) with a
// preview of its first lines, expandable; a hosted data file (JSON, CSV, …) as a card, never inlined.
const PREVIEW_LINES = 8;

function fileCard(f) {
  const card = document.createElement('div');
  card.className = `file ${f.kind}`;
  const title = document.createElement('div');
  title.className = 'file-title';
  title.textContent = `${f.title} · ${f.name} · ${fileType(f.name)} · ${formatSize(f.size)}`;
  card.append(title);
  if (f.kind === 'image') {
    const link = document.createElement('a');
    link.href = f.url;
    link.target = '_blank';
    const img = document.createElement('img');
    img.src = f.url;
    img.alt = f.title;
    img.className = 'file-image';
    link.append(img);
    card.append(link);
  } else if (f.kind === 'snippet' || f.kind === 'text') {
    const preview = document.createElement('pre');
    preview.className = `file-preview ${f.kind}`;
    preview.textContent = 'loading…';
    card.append(preview);
    fetch(f.url).then((r) => r.text()).then((t) => {
      const lines = t.split('\n');
      if (lines.length <= PREVIEW_LINES) {
        preview.textContent = t;
        return;
      }
      preview.textContent = lines.slice(0, PREVIEW_LINES).join('\n');
      const more = document.createElement('button');
      more.type = 'button';
      more.className = 'file-more';
      more.textContent = `Show all ${lines.length} lines`;
      more.addEventListener('click', () => {
        preview.textContent = t;
        more.remove();
      });
      preview.after(more);
    });
  }
  const actions = document.createElement('div');
  actions.className = 'file-actions';
  const open = Object.assign(document.createElement('a'), { href: f.url, target: '_blank', textContent: 'Open' });
  const download = Object.assign(document.createElement('a'), { href: f.url, textContent: 'Download' });
  download.setAttribute('download', f.name);
  actions.append(open, download);
  card.append(actions);
  return card;
}

function fileType(name) {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return { md: 'Markdown', json: 'JSON', png: 'PNG', csv: 'CSV', txt: 'Plain text', sql: 'SQL' }[ext] ?? (ext ? ext.toUpperCase() : 'File');
}

function formatSize(bytes) {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// A click on a button, or a choice in a select (`selected`), after its confirm dialog if it has one.
async function act(message, element, blockIndex, el, selected) {
  if (element.confirm && !(await confirmDialog(element.confirm))) return;
  el.disabled = true;
  try {
    const action = { as: state.as, channel: message.channel, ts: message.ts, block: blockIndex, actionId: element.action_id, ephemeral: message.ephemeral };
    await json('/local/action', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(selected === undefined ? action : { ...action, selected }),
    });
  } finally {
    el.disabled = false;
  }
}

function confirmDialog(confirm) {
  const dialog = $('confirm');
  $('confirm-title').textContent = confirm.title?.text ?? 'Are you sure?';
  const text = $('confirm-text');
  text.replaceChildren(confirm.text?.type === 'mrkdwn' ? renderMrkdwn(confirm.text.text, mrkdwnContext()) : document.createTextNode(confirm.text?.text ?? ''));
  $('confirm-ok').textContent = confirm.confirm?.text ?? 'Yes';
  $('confirm-ok').className = confirm.style === 'danger' ? 'danger' : 'primary';
  $('confirm-deny').textContent = confirm.deny?.text ?? 'Cancel';
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

async function send(event) {
  event.preventDefault();
  const input = $('message-input');
  const text = input.value.trim();
  if (!text) return;
  const current = state.view?.conversations.find((c) => c.id === state.conversation);
  const channel = current?.kind === 'channel' ? current.id : state.info.channel.id;
  input.value = '';
  input.disabled = true;
  try {
    await json('/local/command', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as: state.as, channel, text }) });
  } finally {
    input.disabled = false;
    input.focus();
  }
}

void start();
