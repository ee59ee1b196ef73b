import { Document, isAlias, isMap, isScalar, isSeq, Pair, Scalar, YAMLMap, YAMLSeq, type Node } from 'yaml';
import type { Yamlish } from './plan-context.js';

/** Collections whose one-line form is at most this long are written inline (`{ connection: target, sql: … }`), as people write runbooks. */
const FLOW_MAX = 110;

/**
 * The planned runbook as YAML text, shaped like the shipped runbooks: a
 * header comment, a comment before each mapping that carries a '#' key, the
 * shared conversion options under `x-conversion` as the anchor every step
 * merges (`<<: *conversion`), short collections inline.
 */
export function renderRunbook(doc: Yamlish, header: string): string {
  const document = new Document();
  const anchors = new Map<string, Node>();
  const conversion = doc['x-conversion'];
  if (conversion !== undefined) {
    const node = build(document, conversion, anchors);
    node.anchor = 'conversion';
    anchors.set('*conversion', node);
  }
  document.contents = build(document, doc, anchors) as YAMLMap;
  document.commentBefore = commentText(header);
  return document.toString({ lineWidth: 0, flowCollectionPadding: true, indentSeq: true });
}

function build(document: Document, value: unknown, anchors: Map<string, Node>): Node {
  if (Array.isArray(value)) {
    const seq = new YAMLSeq();
    for (const item of value) {
      const node = build(document, item, anchors);
      const comment = commentOf(item);
      if (comment) node.commentBefore = comment;
      seq.items.push(node);
    }
    return inlineIfShort(seq);
  }
  if (value !== null && typeof value === 'object') {
    const existing = anchors.get('*conversion');
    const map = new YAMLMap();
    for (const [key, child] of Object.entries(value)) {
      if (key === '#' || child === undefined) continue;
      if (key === '<<' && typeof child === 'string' && anchors.has(child)) {
        map.items.push(new Pair(new Scalar('<<'), document.createAlias(anchors.get(child) as YAMLMap, child.slice(1))));
        continue;
      }
      // The anchor itself is built once, before the rest, so its aliases can point at it.
      const node = key === 'x-conversion' && existing ? existing : build(document, child, anchors);
      const keyNode = new Scalar(key);
      const comment = Array.isArray(child) ? null : commentOf(child);
      if (comment) keyNode.commentBefore = comment;
      map.items.push(new Pair(keyNode, node));
    }
    return inlineIfShort(map);
  }
  return document.createNode(value) as Node;
}

function commentOf(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const text = (value as Yamlish)['#'];
  return typeof text === 'string' ? commentText(text) : null;
}

/** yaml writes each line of a comment after '#': a leading space reads as people write comments. */
const commentText = (text: string): string =>
  text
    .split('\n')
    .map((line) => (line === '' ? '' : ` ${line}`))
    .join('\n');

function inlineIfShort(node: YAMLMap | YAMLSeq): Node {
  const values: unknown[] = isMap(node) ? node.items.map((p) => (p as Pair).value) : node.items;
  const keys: unknown[] = isMap(node) ? node.items.map((p) => (p as Pair).key) : node.items;
  const blockInside = values.some((v) => (isMap(v) || isSeq(v)) && !(v as YAMLMap | YAMLSeq).flow);
  const commented = keys.some((k) => Boolean((k as Node | null)?.commentBefore));
  const multiline = values.some((v) => isScalar(v) && typeof v.value === 'string' && v.value.includes('\n'));
  node.flow = node.items.length === 0 || (!blockInside && !commented && !multiline && inlineLength(node) <= FLOW_MAX);
  return node;
}

/** About how long the collection is written on one line (an alias counts as `*name`; nothing is stringified, so aliases need no document). */
function inlineLength(node: unknown): number {
  if (isAlias(node)) return node.source.length + 1;
  if (isScalar(node)) return JSON.stringify(node.value ?? null).length;
  if (isMap(node)) return 4 + node.items.reduce((n, p) => n + inlineLength(p.key) + 2 + inlineLength(p.value) + 2, 0);
  if (isSeq(node)) return 4 + node.items.reduce((n: number, i) => n + inlineLength(i) + 2, 0);
  return 0;
}
