/**
 * `${VAR}` / `${VAR:-default}` interpolation over every string of a parsed
 * document, so secrets live in the environment and never in a runbook.
 * `$${` stays a literal `${`.
 */
export interface InterpolationProblem {
  path: Array<string | number>;
  message: string;
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * One left-to-right pass, each character read a bounded number of times: a default that never
 * closes (`${A:-${A:-${A:-…`) once made a backtracking pattern rescan the rest of the text from
 * every `${`, quadratic in a runbook's size (issue 14).
 */
export function interpolateString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): { value: string; missing: string[] } {
  const missing: string[] = [];
  let out = '';
  let copied = 0;
  // The next "}" at or after a position: found once and reused, so unclosed defaults cost one scan in all.
  let brace = -1;
  let noBraceLeft = false;
  const braceFrom = (from: number): number => {
    if (noBraceLeft) return -1;
    if (brace < from) {
      brace = text.indexOf('}', from);
      noBraceLeft = brace === -1;
    }
    return brace;
  };
  for (let at = text.indexOf('${'); at !== -1; at = text.indexOf('${', at + 1)) {
    const escaped = at > copied && text[at - 1] === '$';
    NAME.lastIndex = at + 2;
    const name = NAME.exec(text)?.[0];
    if (name === undefined) continue;
    let end = at + 2 + name.length;
    let fallback: string | undefined;
    if (text.startsWith(':-', end)) {
      const close = braceFrom(end + 2);
      if (close < 0) continue;
      fallback = text.slice(end + 2, close);
      end = close;
    }
    if (text[end] !== '}') continue;
    const start = escaped ? at - 1 : at;
    out += text.slice(copied, start);
    copied = end + 1;
    if (escaped) {
      out += text.slice(at, end + 1);
    } else {
      const found = env[name];
      if (found !== undefined && found !== '') out += found;
      else if (fallback !== undefined) out += fallback;
      else {
        missing.push(name);
        out += text.slice(at, end + 1);
      }
    }
    at = end;
  }
  return { value: out + text.slice(copied), missing };
}

export function interpolateTree(
  node: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: Array<string | number> = [],
  problems: InterpolationProblem[] = [],
): { value: unknown; problems: InterpolationProblem[] } {
  if (typeof node === 'string') {
    const { value, missing } = interpolateString(node, env);
    for (const name of missing) {
      problems.push({ path, message: `environment variable ${name} is not set and has no default (write \${${name}:-default})` });
    }
    return { value, problems };
  }
  if (Array.isArray(node)) {
    return { value: node.map((item, i) => interpolateTree(item, env, [...path, i], problems).value), problems };
  }
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      out[key] = interpolateTree(child, env, [...path, key], problems).value;
    }
    return { value: out, problems };
  }
  return { value: node, problems };
}
