/**
 * `${VAR}` / `${VAR:-default}` interpolation over every string of a parsed
 * document, so secrets live in the environment and never in a runbook.
 * `$${` stays a literal `${`.
 */
export interface InterpolationProblem {
  path: Array<string | number>;
  message: string;
}

const PATTERN = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolateString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = text.replace(PATTERN, (whole, escaped: string | undefined, name: string, fallback: string | undefined) => {
    if (escaped) return whole.slice(1);
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return whole;
  });
  return { value, missing };
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
