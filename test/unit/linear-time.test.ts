import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../config/logger.js';
import { statementText } from '../../engine/health/statement-text.js';
import { MAX_DURATION_CHARS, parseDuration } from '../../runbook/duration.js';
import { interpolateString } from '../../runbook/interpolate.js';

const MB = 1 << 20;

/** `unit` repeated to exactly `size` characters, as one flat string (a repeated string is a rope until first read). */
const fill = (unit: string, size = MB): string => Buffer.from(unit.repeat(Math.ceil(size / unit.length)).slice(0, size)).toString();

/**
 * The fastest of a few attempts, in CPU time of this process: on a loaded machine an attempt
 * may wait for a core (wall time), but the work itself does not grow, while a quadratic pattern
 * is slow every time (a 64 KB word took 8 s before issue 14).
 */
function bestMs(text: string, attempts = 5, scan: (text: string) => unknown = redactSecrets): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < attempts; i++) {
    const before = process.cpuUsage();
    scan(text);
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

describe('redactSecrets runs in linear time (issue 14)', () => {
  it('redacts 1 MB in under 50 ms: the slash-command word logged in an ENAMETOOLONG error, and a mixed log', () => {
    const word = fill('a');
    // What pino wrote when `/migrate start <1 MB word>` failed: the word in the message and the stack.
    const errorLine = JSON.stringify({ level: 50, err: { message: `ENAMETOOLONG: name too long, open 'config/runbooks/${word}.yaml'`, stack: `Error: ENAMETOOLONG ${word}` }, msg: 'slash command failed' });
    const mixed = fill(`user=bob password=hunter2 at postgres://cutover:Tr0ub4dor3@pg:5432/app with xoxb-1-abc {"token":"abc","n":1} ${'x'.repeat(40)} `);
    for (const text of [word, errorLine.slice(0, MB), mixed]) expect(bestMs(text)).toBeLessThan(50);
    expect(redactSecrets(mixed)).not.toContain('Tr0ub4dor3');
    expect(redactSecrets(mixed)).not.toContain('hunter2');
  });

  it('stays linear on every shape that made a pattern rescan a run: 1 MB of each in well under a second', () => {
    const hostile = {
      'a letters run': fill('a'),
      'a digits run': fill('7'),
      'scheme starts': fill('a://'),
      'scheme and user, no @': fill('a://b:'),
      'key=value pairs': fill('password='),
      'key names, no =': fill('passwordtoken'),
      'token prefixes': fill('xoxb-'),
      quotes: fill('"'),
      'JSON secret keys': fill('"token":"'),
      'an unclosed JSON secret': `"token":"${fill('x')}`,
      'escaped JSON secret keys': fill('\\"token\\":\\"'),
      backslashes: fill('\\'),
      'whitespace run': fill(' \t'),
    };
    // A quadratic pattern takes minutes on 1 MB; linear ones take milliseconds even on a loaded machine.
    for (const [shape, text] of Object.entries(hostile)) expect({ shape, ms: bestMs(text, 3) < 500 }).toEqual({ shape, ms: true });
  });

  it('still finds a secret at the very end of a 1 MB word, and after a scheme that starts with a digit', () => {
    expect(redactSecrets(`${fill('a')} postgres://u:pw1@h/db`)).toMatch(/postgres:\/\/u:\*\*\*@h\/db$/);
    expect(redactSecrets('2postgres://u:pw2@h')).toBe('2postgres://u:***@h');
    expect(redactSecrets(`${fill('x', 1000)}password=pw3`)).not.toContain('pw3');
    expect(redactSecrets(`{"db_token":"${fill('q', 1000)}\\"end"}`)).toBe('{"db_token":"***"}');
  });
});

describe('other patterns over outside text run in linear time (issue 14)', () => {
  it('interpolates a runbook string of 1 MB of unclosed defaults (`${A:-${A:-…`) at once, and still interpolates', () => {
    expect(bestMs(fill('${A:-'), 3, (t) => interpolateString(t, {}))).toBeLessThan(500);
    expect(interpolateString('a ${A:-x} $${B} ${C:-${D}', { A: 'va' })).toEqual({ value: 'a va ${B} ${D', missing: [] });
    expect(interpolateString('${A:-${B', {})).toEqual({ value: '${A:-${B', missing: [] });
    expect(interpolateString('$$${A}', { A: 'v' })).toEqual({ value: '$${A}', missing: [] });
  });

  it('refuses an over-long duration without scanning it, and parses the short ones as before', () => {
    expect(bestMs(`${fill('7', 64 * 1024)}x`, 3, parseDuration)).toBeLessThan(50);
    expect(parseDuration('7'.repeat(MAX_DURATION_CHARS + 1))).toBeNull();
    expect([parseDuration('1h 30m'), parseDuration('90s'), parseDuration('1.5h'), parseDuration('5'), parseDuration('1h x'), parseDuration('')]).toEqual([5400, 90, 5400, 300, null, null]);
  });

  it('masks a session statement of 1 MB (unclosed dollar quotes, literals) in one pass, showing only its head', () => {
    for (const text of [fill('$a$ '), fill("'"), fill('x '), `SELECT $body$ ${fill('secret ')}`]) expect(bestMs(text, 3, statementText)).toBeLessThan(500);
    expect(statementText(`SELECT $body$ ${fill('secret ')}`)).toBe('SELECT $…$');
  });
});
