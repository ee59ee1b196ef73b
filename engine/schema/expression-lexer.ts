/** Tokens of the T-SQL expressions the catalog holds ([quoted] names, N'strings', numbers, operators). */

/** Thrown inside the translator; becomes `{ ok: false, reason }`. */
export class Untranslatable extends Error {}

const TOKEN =
  /\s+|\[((?:[^\]]|\]\])+)\]|"((?:[^"]|"")+)"|N?'((?:[^']|'')*)'|(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_][\w@#$]*)|(<=|>=|<>|!=|[=<>+\-*/%(),])/y;

export type Token = { k: 'id' | 'qid' | 'str' | 'num' | 'op'; v: string };

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new Untranslatable(`cannot read "${text.slice(at, at + 12)}"`);
    if (m[1] !== undefined) out.push({ k: 'qid', v: m[1].replaceAll(']]', ']') });
    else if (m[2] !== undefined) out.push({ k: 'qid', v: m[2].replaceAll('""', '"') });
    else if (m[3] !== undefined) out.push({ k: 'str', v: m[3].replaceAll("''", "'") });
    else if (m[4] !== undefined) out.push({ k: 'num', v: m[4] });
    else if (m[5] !== undefined) out.push({ k: 'id', v: m[5] });
    else if (m[6] !== undefined) out.push({ k: 'op', v: m[6] });
  }
  return out;
}
