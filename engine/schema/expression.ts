import type { ValueKind } from '../etl/contracts.js';
import { tokenize, Untranslatable, type Token } from './expression-lexer.js';
import { quoteIdent, quoteLiteral } from './naming.js';

/**
 * Translates the small T-SQL expressions the catalog holds for check
 * constraints, filtered indexes and computed columns: columns, literals,
 * arithmetic, string concatenation, comparisons, IN, BETWEEN, simple LIKE,
 * IS NULL, AND/OR/NOT and a few functions. Anything whose meaning could
 * differ in PostgreSQL is refused with a reason rather than approximated.
 */

export interface ExprColumn {
  /** Target column name (unquoted). */
  target: string;
  kind: ValueKind;
  /** char/nchar: SQL Server keeps the padding when concatenating, PostgreSQL's text cast drops it. */
  fixedChar: boolean;
  /** A case-insensitive collation in the source. */
  caseInsensitive: boolean;
  computed: boolean;
}

export interface ExprContext {
  /** Resolves a source column name (case-insensitive); null: not present in the target. */
  column(name: string): ExprColumn | null;
}

export type ExprTranslation =
  | { ok: true; sql: string; columns: string[]; comparesCaseInsensitiveText: boolean }
  | { ok: false; reason: string };

type ValueType = 'text' | 'number' | 'bool' | 'null' | 'other' | 'pred';

interface Frag {
  sql: string;
  vt: ValueType;
  atom: boolean;
  fixedChar?: boolean;
  ci?: boolean;
  /** The literal's value, for bit comparisons with 0/1. */
  literal?: string;
}

const KIND_TYPE: Record<ValueKind, ValueType> = {
  int: 'number', exact: 'number', float: 'number', bool: 'bool', text: 'text', bytes: 'other',
  date: 'other', time: 'other', timestamp: 'other', timestamptz: 'other', uuid: 'other',
};
const FUNCTIONS: Record<string, { pg: string; arity: number | 'n'; in: ValueType; out: ValueType | 'same' }> = {
  len: { pg: 'length', arity: 1, in: 'text', out: 'number' },
  upper: { pg: 'upper', arity: 1, in: 'text', out: 'text' },
  lower: { pg: 'lower', arity: 1, in: 'text', out: 'text' },
  ltrim: { pg: 'ltrim', arity: 1, in: 'text', out: 'text' },
  rtrim: { pg: 'rtrim', arity: 1, in: 'text', out: 'text' },
  abs: { pg: 'abs', arity: 1, in: 'number', out: 'number' },
  isnull: { pg: 'coalesce', arity: 2, in: 'other', out: 'same' },
  coalesce: { pg: 'coalesce', arity: 'n', in: 'other', out: 'same' },
};
const ISO_LITERAL = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?$|^\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$/;

export function translateExpression(text: string, ctx: ExprContext, mode: 'predicate' | 'value'): ExprTranslation {
  try {
    const parser = new Parser(tokenize(text), ctx, mode);
    const frag = parser.parse();
    return { ok: true, sql: frag.sql, columns: [...parser.columns], comparesCaseInsensitiveText: parser.ciText };
  } catch (err) {
    if (err instanceof Untranslatable) return { ok: false, reason: err.message };
    throw err;
  }
}

const wrap = (f: Frag): string => (f.atom ? f.sql : `(${f.sql})`);
const pred = (sql: string): Frag => ({ sql, vt: 'pred', atom: false });
const hasCase = (s: string): boolean => s.toLowerCase() !== s.toUpperCase();

class Parser {
  private i = 0;
  readonly columns = new Set<string>();
  ciText = false;

  constructor(private readonly toks: Token[], private readonly ctx: ExprContext, private readonly mode: 'predicate' | 'value') {}

  parse(): Frag {
    const f = this.or();
    if (this.i < this.toks.length) throw new Untranslatable(`unexpected "${this.toks[this.i]?.v}"`);
    if (this.mode === 'predicate' && f.vt !== 'pred') throw new Untranslatable('not a condition');
    if (this.mode === 'value' && f.vt === 'pred') throw new Untranslatable('a condition where a value was expected');
    return f;
  }

  private peek(): Token | undefined {
    return this.toks[this.i];
  }
  private isWord(w: string, offset = 0): boolean {
    const t = this.toks[this.i + offset];
    return t?.k === 'id' && t.v.toLowerCase() === w;
  }
  private isOp(op: string): boolean {
    const t = this.peek();
    return t?.k === 'op' && t.v === op;
  }
  private eatOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }
  private eatWord(w: string): boolean {
    if (!this.isWord(w)) return false;
    this.i++;
    return true;
  }
  private expectOp(op: string): void {
    if (!this.eatOp(op)) throw new Untranslatable(`expected "${op}"`);
  }

  private logical(word: 'or' | 'and', next: () => Frag): Frag {
    let l = next();
    while (this.eatWord(word)) {
      const r = next();
      if (l.vt !== 'pred' || r.vt !== 'pred') throw new Untranslatable(`${word.toUpperCase()} of non-conditions`);
      l = pred(`${wrap(l)} ${word.toUpperCase()} ${wrap(r)}`);
    }
    return l;
  }
  private or(): Frag {
    return this.logical('or', () => this.and());
  }
  private and(): Frag {
    return this.logical('and', () => this.not());
  }
  private not(): Frag {
    if (!this.eatWord('not')) return this.predicate();
    const e = this.not();
    if (e.vt !== 'pred') throw new Untranslatable('NOT of a non-condition');
    return pred(`NOT ${wrap(e)}`);
  }

  private predicate(): Frag {
    const l = this.additive();
    const t = this.peek();
    if (t?.k === 'op' && ['=', '<>', '!=', '<', '>', '<=', '>='].includes(t.v)) {
      this.i++;
      const r = this.additive();
      const [a, b] = this.comparable(l, r);
      return pred(`${wrap(a)} ${t.v === '!=' ? '<>' : t.v} ${wrap(b)}`);
    }
    if (this.eatWord('is')) {
      const negated = this.eatWord('not');
      if (!this.eatWord('null')) throw new Untranslatable('IS without NULL');
      return pred(`${wrap(l)} IS ${negated ? 'NOT ' : ''}NULL`);
    }
    const negated = this.isWord('not') && ['in', 'like', 'between'].some((w) => this.isWord(w, 1));
    if (negated) this.i++;
    const not = negated ? 'NOT ' : '';
    if (this.isWord('in')) return pred(`${wrap(l)} ${not}IN (${this.inList(l).join(', ')})`);
    if (this.eatWord('between')) {
      const [e, lo] = this.comparable(l, this.additive());
      if (!this.eatWord('and')) throw new Untranslatable('BETWEEN without AND');
      const hi = this.comparable(l, this.additive())[1];
      return pred(`${wrap(e)} ${not}BETWEEN ${wrap(lo)} AND ${wrap(hi)}`);
    }
    if (this.eatWord('like')) {
      const p = this.additive();
      // PostgreSQL's LIKE has no [a-z] classes and treats backslash as escape; SQL Server does neither.
      if (l.vt !== 'text' || p.literal === undefined || /[[\\]/.test(p.literal)) throw new Untranslatable('LIKE with a pattern PostgreSQL reads differently');
      if (l.ci && hasCase(p.literal)) this.ciText = true;
      return pred(`${wrap(l)} ${not}LIKE ${p.sql}`);
    }
    return l;
  }

  private inList(l: Frag): string[] {
    this.i++;
    this.expectOp('(');
    const items: string[] = [];
    do items.push(wrap(this.comparable(l, this.additive())[1]));
    while (this.eatOp(','));
    this.expectOp(')');
    return items;
  }

  /** Both sides of a comparison, made comparable in PostgreSQL or refused (T-SQL's implicit conversions differ). */
  private comparable(a: Frag, b: Frag): [Frag, Frag] {
    if (a.vt === 'bool' || b.vt === 'bool') return [this.asBool(a), this.asBool(b)];
    if (a.vt === 'null' || b.vt === 'null' || a.vt === b.vt) {
      if (a.vt === 'text' && b.vt === 'text' && (a.ci || b.ci) && !isCaseless(a) && !isCaseless(b)) this.ciText = true;
      return [a, b];
    }
    const iso = (f: Frag): boolean => f.vt === 'text' && f.literal !== undefined && ISO_LITERAL.test(f.literal);
    if ((a.vt === 'other' && iso(b)) || (b.vt === 'other' && iso(a))) return [a, b];
    throw new Untranslatable(`compares ${a.vt} with ${b.vt}`);
  }

  private asBool(f: Frag): Frag {
    if (f.vt === 'bool' || f.vt === 'null') return f;
    if (f.literal === '1' || f.literal === '0') return { sql: f.literal === '1' ? 'true' : 'false', vt: 'bool', atom: true };
    throw new Untranslatable('compares a bit column with something other than 0 or 1');
  }

  private additive(): Frag {
    let l = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.toks[this.i++]?.v ?? '';
      const r = this.multiplicative();
      if (l.vt === 'number' && r.vt === 'number') l = { sql: `${wrap(l)} ${op} ${wrap(r)}`, vt: 'number', atom: false };
      else if (op === '+' && l.vt === 'text' && r.vt === 'text') {
        if (l.fixedChar || r.fixedChar) throw new Untranslatable('concatenates a char column (padding differs)');
        l = { sql: `${wrap(l)} || ${wrap(r)}`, vt: 'text', atom: false, ci: (l.ci ?? false) || r.ci };
      } else throw new Untranslatable(`"${op}" on ${l.vt} and ${r.vt}`);
    }
    return l;
  }

  private multiplicative(): Frag {
    let l = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.toks[this.i++]?.v ?? '';
      const r = this.unary();
      if (l.vt !== 'number' || r.vt !== 'number') throw new Untranslatable(`"${op}" on ${l.vt} and ${r.vt}`);
      l = { sql: `${wrap(l)} ${op} ${wrap(r)}`, vt: 'number', atom: false };
    }
    return l;
  }

  private unary(): Frag {
    if (!this.isOp('-')) return this.primary();
    this.i++;
    const e = this.unary();
    if (e.vt !== 'number') throw new Untranslatable('minus on a non-number');
    return e.literal !== undefined ? { ...e, sql: `-${e.sql}`, literal: `-${e.literal}` } : { sql: `-${wrap(e)}`, vt: 'number', atom: false };
  }

  private primary(): Frag {
    const t = this.toks[this.i++];
    if (!t) throw new Untranslatable('ends too early');
    if (t.k === 'num') return { sql: t.v, vt: 'number', atom: true, literal: t.v };
    if (t.k === 'str') return { sql: quoteLiteral(t.v), vt: 'text', atom: true, literal: t.v };
    if (t.k === 'op' && t.v === '(') {
      const inner = this.or();
      this.expectOp(')');
      return inner;
    }
    if (t.k === 'id' && t.v.toLowerCase() === 'null') return { sql: 'NULL', vt: 'null', atom: true };
    if (t.k === 'id' && this.isOp('(')) return this.call(t.v);
    if (t.k === 'id' || t.k === 'qid') return this.column(t.v);
    throw new Untranslatable(`unexpected "${t.v}"`);
  }

  private column(name: string): Frag {
    const col = this.ctx.column(name);
    if (!col) throw new Untranslatable(`refers to ${name}, which is not in the target`);
    if (col.computed && this.mode === 'value') throw new Untranslatable(`refers to the computed column ${name}`);
    this.columns.add(col.target);
    return { sql: quoteIdent(col.target), vt: KIND_TYPE[col.kind], atom: true, fixedChar: col.fixedChar, ci: col.caseInsensitive };
  }

  private call(name: string): Frag {
    const fn = FUNCTIONS[name.toLowerCase()];
    if (!fn) throw new Untranslatable(`uses ${name}()`);
    this.expectOp('(');
    const args: Frag[] = [];
    if (!this.isOp(')')) {
      do args.push(this.additive());
      while (this.eatOp(','));
    }
    this.expectOp(')');
    if (fn.arity !== 'n' && args.length !== fn.arity) throw new Untranslatable(`${name}() with ${args.length} arguments`);
    if (fn.in !== 'other' && args.some((a) => a.vt !== fn.in && a.vt !== 'null')) throw new Untranslatable(`${name}() on a non-${fn.in}`);
    const types = new Set(args.map((a) => a.vt).filter((v) => v !== 'null'));
    if (fn.out === 'same' && types.size > 1) throw new Untranslatable(`${name}() mixes types`);
    const list = args.map((a) => a.sql).join(', ');
    // LEN ignores trailing spaces; length() counts them.
    const sql = name.toLowerCase() === 'len' ? `length(rtrim(${list}))` : `${fn.pg}(${list})`;
    const vt: ValueType = fn.out === 'same' ? ([...types][0] ?? 'null') : fn.out;
    return { sql, vt, atom: true, ci: args.some((a) => a.ci) && vt === 'text' };
  }
}

const isCaseless = (f: Frag): boolean => f.literal !== undefined && !hasCase(f.literal);
