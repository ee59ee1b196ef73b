import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';

/** 1-based, as editors and CI annotations count. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Finds where a loader problem's path (`phases[2].steps[0].params.url`) is
 * written in the YAML text, using the yaml package's node ranges. A value
 * merged in with `<<: *anchor` is found where the anchor writes it; a path to
 * something missing points at the nearest enclosing node that exists. Keys may
 * contain dots (`overrides: { dbo.Antrag.an_PLZ: … }`), so each step matches
 * the longest key of the mapping rather than splitting the path on dots.
 */
export function positionFinder(text: string): (path: string) => Position {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { merge: true, uniqueKeys: false, lineCounter, prettyErrors: false });
  const at = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  return (path) => {
    const written = /^line (\d+), column (\d+)$/.exec(path);
    if (written) return { line: Number(written[1]), column: Number(written[2]) };
    const root = doc.contents;
    if (!root || path === '(top level)') return at(root?.range?.[0] ?? 0);
    return at(deepest(doc, root as Node, path).range?.[0] ?? 0);
  };
}

/** The node the path leads to, or the last one on the way that exists. */
function deepest(doc: Document, start: Node, path: string): Node {
  let node = resolve(doc, start);
  let rest = path;
  while (rest !== '') {
    const index = /^\[(\d+)\]/.exec(rest);
    if (index) {
      const item = isSeq(node) ? node.items[Number(index[1])] : undefined;
      if (!item || typeof item !== 'object') return node;
      node = resolve(doc, item as Node);
      rest = rest.slice(index[0].length);
    } else {
      const key = rest.startsWith('.') ? rest.slice(1) : rest;
      const pair = isMap(node) ? longestKey(doc, node, key) : null;
      if (!pair) return node;
      const value = pair.pair.value;
      rest = key.slice(pair.key.length);
      // A key written without a value (`title:`) is found at the key.
      if (!value || typeof value !== 'object' || !('range' in value) || !value.range) return pair.pair.key as Node;
      node = resolve(doc, value as Node);
    }
  }
  return node;
}

function resolve(doc: Document, node: Node): Node {
  if (!isAlias(node)) return node;
  const target = node.resolve(doc);
  return target ?? node;
}

/** The pair whose key is the longest prefix of `path` at a segment boundary; explicit keys before merged ones. */
function longestKey(doc: Document, map: YAMLMap, path: string): { key: string; pair: Pair } | null {
  let best: { key: string; pair: Pair } | null = null;
  for (const pair of pairsOf(doc, map)) {
    const key = keyText(pair);
    if (key === null || (best && best.key.length >= key.length)) continue;
    const next = path.charAt(key.length);
    if (path.startsWith(key) && (next === '' || next === '.' || next === '[')) best = { key, pair };
  }
  return best;
}

const isMergeKey = (pair: Pair): boolean => isScalar(pair.key) && typeof pair.key.value === 'symbol';

function keyText(pair: Pair): string | null {
  if (isScalar(pair.key)) return typeof pair.key.value === 'symbol' ? null : String(pair.key.value);
  return typeof pair.key === 'string' || typeof pair.key === 'number' ? String(pair.key) : null;
}

/** A mapping's own pairs, then those of the mappings merged into it (`<<: *a` or `<<: [*a, *b]`), depth first. */
function pairsOf(doc: Document, map: YAMLMap, seen = new Set<YAMLMap>()): Pair[] {
  if (seen.has(map)) return [];
  seen.add(map);
  const own = map.items.filter((p) => !isMergeKey(p));
  const merged: Pair[] = [];
  for (const pair of map.items.filter(isMergeKey)) {
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const resolved = source && typeof source === 'object' ? resolve(doc, source as Node) : null;
      if (resolved && isMap(resolved)) merged.push(...pairsOf(doc, resolved, seen));
    }
  }
  return [...own, ...merged];
}
