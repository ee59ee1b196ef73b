// Slack's mrkdwn, as the bot uses it, rendered into DOM nodes (never innerHTML):
// *bold*, _italic_, ~strike~, `code`, ```pre```, > quotes, <url|text>, <@U…>,
// <!subteam^S…>, <!here>, <#C…>, <!date^…|fallback> and :emoji: shortcodes.

const EMOJI = {
  white_check_mark: '✅', x: '❌', warning: '⚠️', hourglass: '⌛', hourglass_flowing_sand: '⏳', rotating_light: '🚨',
  large_green_circle: '🟢', large_yellow_circle: '🟡', red_circle: '🔴', large_blue_circle: '🔵', white_circle: '⚪',
  bell: '🔔', pause_button: '⏸️', arrow_forward: '▶️', rewind: '⏪', tada: '🎉', stopwatch: '⏱️', clipboard: '📋',
  page_facing_up: '📄', bar_chart: '📊', lock: '🔒', wave: '👋', eyes: '👀', fire: '🔥', heavy_check_mark: '✔️',
  no_entry: '⛔', no_entry_sign: '🚫', calendar: '📅', alarm_clock: '⏰', telephone_receiver: '📞', floppy_disk: '💾',
};

/** @param {string} text @param {{ userName: (id: string) => string }} ctx @returns {DocumentFragment} */
export function renderMrkdwn(text, ctx) {
  const out = document.createDocumentFragment();
  const parts = String(text).split(/```/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      const pre = document.createElement('pre');
      pre.textContent = part.replace(/^\n/, '');
      out.append(pre);
      return;
    }
    const lines = part.split('\n');
    lines.forEach((line, j) => {
      if (line.startsWith('&gt; ') || line.startsWith('> ')) {
        const quote = document.createElement('blockquote');
        quote.append(inline(line.replace(/^(&gt;|>) /, ''), ctx));
        out.append(quote);
        return;
      }
      out.append(inline(line, ctx));
      if (j < lines.length - 1) out.append(document.createElement('br'));
    });
  });
  return out;
}

/** @param {string} plain */
export function renderPlain(plain) {
  return document.createTextNode(emoji(unescape(String(plain))));
}

function unescape(s) {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function emoji(s) {
  return s.replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] ?? all);
}

const TOKEN = /(<[^<>\n]+>)|(`[^`\n]+`)|(\*[^*\n]+\*)|(\b_[^_\n]+_\b)|(~[^~\n]+~)/;

function inline(line, ctx) {
  const frag = document.createDocumentFragment();
  let rest = line;
  while (rest.length > 0) {
    const m = TOKEN.exec(rest);
    if (!m) {
      frag.append(renderPlain(rest));
      break;
    }
    if (m.index > 0) frag.append(renderPlain(rest.slice(0, m.index)));
    frag.append(token(m[0], ctx));
    rest = rest.slice(m.index + m[0].length);
  }
  return frag;
}

function token(tok, ctx) {
  if (tok.startsWith('<')) return angle(tok.slice(1, -1), ctx);
  const inner = tok.slice(1, -1);
  const tag = tok.startsWith('`') ? 'code' : tok.startsWith('*') ? 'strong' : tok.startsWith('_') ? 'em' : 's';
  const el = document.createElement(tag);
  if (tag === 'code') el.textContent = unescape(inner);
  else el.append(inline(inner, ctx));
  return el;
}

function angle(body, ctx) {
  const [target, label] = splitLabel(body);
  if (target.startsWith('@')) return mention(`@${ctx.userName(target.slice(1))}`);
  // Slack shows a channel link by the channel's name, whatever the sender wrote.
  if (target.startsWith('#')) return mention(`#${label ?? ctx.channelName?.(target.slice(1)) ?? target.slice(1)}`);
  if (target.startsWith('!subteam^')) return mention(`@${label ?? ctx.groupName(target.slice(9))}`);
  if (target.startsWith('!date^')) return document.createTextNode(slackDate(target, label));
  if (target.startsWith('!')) return mention(`@${target.slice(1)}`);
  if (/^(https?:|mailto:)/.test(target)) {
    const a = document.createElement('a');
    a.href = target;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.textContent = unescape(label ?? target);
    return a;
  }
  return document.createTextNode(`<${body}>`);
}

function splitLabel(body) {
  const bar = body.indexOf('|');
  return bar === -1 ? [body, undefined] : [body.slice(0, bar), body.slice(bar + 1)];
}

function mention(text) {
  const span = document.createElement('span');
  span.className = 'mention';
  span.textContent = text;
  return span;
}

// <!date^1700000000^{time_secs}|fallback>: shown in the reader's own zone, as Slack does.
function slackDate(target, fallback) {
  const [, seconds, format = ''] = target.split('^');
  const at = new Date(Number(seconds) * 1000);
  if (Number.isNaN(at.getTime())) return fallback ?? target;
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(format.includes('time_secs') ? { second: '2-digit' } : {}) });
  const date = at.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
  return format.replace('{time_secs}', time).replace('{time}', time).replace(/\{date[a-z_]*\}/g, date);
}
