// Block Kit as the bot sends it: header, section (text, fields, accessory),
// context, divider, actions (buttons with style and confirm, static selects),
// image, and a fallback line for anything else. Text goes in as text nodes only.
import { renderMrkdwn, renderPlain } from './mrkdwn.js';

/**
 * @param {unknown[]} blocks
 * @param {{ userName: (id: string) => string, groupName: (id: string) => string,
 *           onButton: (element: object, blockIndex: number, el: HTMLElement, selected?: string) => void }} ctx
 */
export function renderBlocks(blocks, ctx) {
  const root = document.createElement('div');
  root.className = 'blocks';
  blocks.forEach((block, index) => {
    const el = renderBlock(block, index, ctx);
    if (el) root.append(el);
  });
  return root;
}

function textObject(obj, ctx) {
  if (!obj || typeof obj.text !== 'string') return document.createTextNode('');
  return obj.type === 'mrkdwn' ? renderMrkdwn(obj.text, ctx) : renderPlain(obj.text);
}

function div(className, ...children) {
  const el = document.createElement('div');
  el.className = className;
  el.append(...children);
  return el;
}

function renderBlock(block, index, ctx) {
  switch (block?.type) {
    case 'header': {
      const h = document.createElement('h3');
      h.className = 'block-header';
      h.append(textObject(block.text, ctx));
      return h;
    }
    case 'section': {
      const section = div('block-section');
      const body = div('section-body');
      if (block.text) body.append(div('section-text', textObject(block.text, ctx)));
      if (Array.isArray(block.fields)) body.append(div('section-fields', ...block.fields.map((f) => div('field', textObject(f, ctx)))));
      section.append(body);
      if (block.accessory) {
        const accessory = renderElement(block.accessory, index, ctx);
        if (accessory) section.append(div('section-accessory', accessory));
      }
      return section;
    }
    case 'context':
      return div('block-context', ...(block.elements ?? []).map((e) => (e.type === 'image' ? image(e, 'context-image') : div('context-item', textObject(e, ctx)))));
    case 'divider':
      return document.createElement('hr');
    case 'actions':
      return div('block-actions', ...(block.elements ?? []).map((e) => renderElement(e, index, ctx)).filter(Boolean));
    case 'image': {
      const figure = document.createElement('figure');
      figure.className = 'block-image';
      if (block.title) figure.append(div('image-title', textObject(block.title, ctx)));
      figure.append(image(block, ''));
      return figure;
    }
    case 'input':
      return ctx.renderInput ? ctx.renderInput(block, index) : div('block-unknown', document.createTextNode('[input block]'));
    default:
      return div('block-unknown', document.createTextNode(`[${block?.type ?? 'unknown'} block]`));
  }
}

function image(el, className) {
  const img = document.createElement('img');
  img.src = el.image_url ?? '';
  img.alt = el.alt_text ?? '';
  if (className) img.className = className;
  return img;
}

function renderElement(el, blockIndex, ctx) {
  if (el?.type === 'image') return image(el, 'accessory-image');
  if (el?.type === 'static_select') return select(el, blockIndex, ctx);
  if (el?.type !== 'button') return null;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `block-button${el.style ? ` ${el.style}` : ''}`;
  button.append(renderPlain(el.text?.text ?? el.action_id));
  button.dataset.actionId = el.action_id ?? '';
  if (el.url) {
    button.addEventListener('click', () => window.open(el.url, '_blank', 'noopener'));
    return button;
  }
  button.addEventListener('click', () => ctx.onButton(el, blockIndex, button));
  return button;
}

// A static_select: choosing an option sends it at once, as in Slack.
function select(el, blockIndex, ctx) {
  const box = document.createElement('select');
  box.className = 'block-select';
  box.dataset.actionId = el.action_id ?? '';
  const placeholder = document.createElement('option');
  placeholder.textContent = el.placeholder?.text ?? 'Select…';
  placeholder.value = '';
  placeholder.disabled = true;
  placeholder.selected = true;
  box.append(placeholder);
  const groups = Array.isArray(el.option_groups) ? el.option_groups : [{ options: el.options ?? [] }];
  for (const group of groups) {
    const parent = group.label ? Object.assign(document.createElement('optgroup'), { label: group.label.text ?? '' }) : box;
    for (const option of group.options ?? []) {
      parent.append(Object.assign(document.createElement('option'), { value: option.value, textContent: option.text?.text ?? option.value }));
    }
    if (parent !== box) box.append(parent);
  }
  box.addEventListener('change', () => {
    const chosen = box.value;
    box.value = '';
    if (chosen) ctx.onButton(el, blockIndex, box, chosen);
  });
  return box;
}
