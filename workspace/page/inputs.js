// Input blocks of a modal as Slack draws them: label, the element (plain_text_input, static_select,
// checkboxes, datetimepicker, datepicker, timepicker, channels_select), hint, and the error Slack
// shows under the field after `response_action: errors`. Values are read back by block_id.
import { renderPlain } from './mrkdwn.js';

function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

/**
 * @param {object} block an input block
 * @param {{ errors: Record<string, string>, channels: Array<{id: string, name: string}> }} ctx
 */
export function renderInput(block, index, ctx) {
  const blockId = block.block_id ?? `b${index}`;
  const element = block.element ?? {};
  const wrap = el('div', 'block-input');
  wrap.dataset.blockId = blockId;
  wrap.dataset.type = element.type ?? '';
  const id = `input-${blockId}`;
  const label = el('label', 'input-label', renderPlain(block.label?.text ?? ''));
  label.htmlFor = id;
  if (block.optional) label.append(el('span', 'optional', ' (optional)'));
  wrap.append(label, field(element, id, ctx));
  if (block.hint) wrap.append(el('div', 'input-hint', renderPlain(block.hint.text ?? '')));
  const error = ctx.errors?.[blockId];
  if (error) {
    wrap.classList.add('has-error');
    wrap.append(el('div', 'input-error', `⚠ ${error}`));
  }
  return wrap;
}

function option(value, text, selected) {
  return Object.assign(document.createElement('option'), { value, textContent: text, selected });
}

function field(element, id, ctx) {
  switch (element.type) {
    case 'plain_text_input': {
      const input = document.createElement(element.multiline ? 'textarea' : 'input');
      input.id = id;
      input.className = 'input-text';
      if (element.max_length) input.maxLength = element.max_length;
      if (element.placeholder) input.placeholder = element.placeholder.text ?? '';
      if (element.initial_value) input.value = element.initial_value;
      return input;
    }
    case 'static_select':
    case 'channels_select': {
      const select = el('select', 'input-select');
      select.id = id;
      const placeholder = option('', element.placeholder?.text ?? 'Select an item', true);
      placeholder.disabled = true;
      select.append(placeholder);
      const choices = element.type === 'channels_select'
        ? ctx.channels.map((c) => ({ value: c.id, text: `# ${c.name}` }))
        : (element.options ?? []).map((o) => ({ value: o.value, text: o.text?.text ?? o.value }));
      const initial = element.type === 'channels_select' ? element.initial_channel : element.initial_option?.value;
      for (const c of choices) select.append(option(c.value, c.text, c.value === initial));
      return select;
    }
    case 'checkboxes': {
      const list = el('div', 'input-checkboxes');
      for (const o of element.options ?? []) {
        const box = Object.assign(document.createElement('input'), { type: 'checkbox', value: o.value });
        const text = el('span', '', renderPlain(o.text?.text ?? o.value));
        const item = el('label', 'checkbox', box, text);
        if (o.description) item.append(el('span', 'checkbox-description', renderPlain(o.description.text ?? '')));
        list.append(item);
      }
      return list;
    }
    case 'datetimepicker':
    case 'datepicker':
    case 'timepicker': {
      const input = Object.assign(document.createElement('input'), { type: { datetimepicker: 'datetime-local', datepicker: 'date', timepicker: 'time' }[element.type], id });
      input.className = 'input-text';
      return input;
    }
    default:
      return el('div', 'block-unknown', `[${element.type ?? 'unknown'} element]`);
  }
}

/** What was entered, by block_id, as the workspace builds state.values from it. */
export function readInputs(root) {
  const values = {};
  for (const wrap of root.querySelectorAll('.block-input')) {
    const type = wrap.dataset.type;
    if (type === 'checkboxes') {
      values[wrap.dataset.blockId] = [...wrap.querySelectorAll('input[type=checkbox]:checked')].map((b) => b.value);
      continue;
    }
    const input = wrap.querySelector('input, textarea, select');
    const raw = input?.value ?? '';
    if (type === 'datetimepicker') {
      // The browser's local time, as Slack's picker takes the person's own time zone; Slack sends unix seconds.
      values[wrap.dataset.blockId] = raw ? String(Math.floor(new Date(raw).getTime() / 1000)) : null;
    } else {
      values[wrap.dataset.blockId] = raw === '' ? null : raw;
    }
  }
  return values;
}

/** Keeps what the person typed across a redraw (errors arrive by a redraw of the same modal). */
export function carryInputs(from, to) {
  for (const wrap of from.querySelectorAll('.block-input')) {
    const target = to.querySelector(`.block-input[data-block-id="${CSS.escape(wrap.dataset.blockId)}"]`);
    if (!target) continue;
    const sources = wrap.querySelectorAll('input, textarea, select');
    const targets = target.querySelectorAll('input, textarea, select');
    sources.forEach((s, i) => {
      const t = targets[i];
      if (!t) return;
      if (s.type === 'checkbox') t.checked = s.checked;
      else t.value = s.value;
    });
  }
}
