import { describe, expect, it } from 'vitest';
import { cellText, expectationFailure, lineOfPosition, shapeRows, splitGoBatches } from '../../engine/actions/sql-result.js';

describe('splitGoBatches', () => {
  it('splits on GO lines the way sqlcmd does, case-insensitively and with comments', () => {
    const script = 'CREATE TABLE a (x int)\nGO\nINSERT a VALUES (1)\n  go -- next\nSELECT 1\n';
    expect(splitGoBatches(script)).toEqual(['CREATE TABLE a (x int)', 'INSERT a VALUES (1)', 'SELECT 1']);
  });

  it('repeats a batch for GO n, drops empty batches, and keeps GO inside words', () => {
    expect(splitGoBatches('GO\nINSERT a DEFAULT VALUES\nGO 3\nSELECT GOTO_FLAG FROM cargo\r\nGO\n')).toEqual([
      'INSERT a DEFAULT VALUES',
      'INSERT a DEFAULT VALUES',
      'INSERT a DEFAULT VALUES',
      'SELECT GOTO_FLAG FROM cargo',
    ]);
  });
});

describe('cellText', () => {
  it.each([
    [null, null],
    [undefined, null],
    [12n, '12'],
    [1.5, '1.5'],
    [false, 'false'],
    [new Date('2024-03-01T12:00:00Z'), '2024-03-01T12:00:00.000Z'],
    [Buffer.from([0xde, 0xad]), '\\xdead'],
    [{ a: [1] }, '{"a":[1]}'],
  ])('%s → %s', (value, text) => {
    expect(cellText(value)).toBe(text);
  });

  it('truncates long values so details stay small', () => {
    expect(cellText('x'.repeat(1000))).toHaveLength(200);
  });
});

it('shapeRows keeps the first 10 rows only', () => {
  expect(shapeRows(Array.from({ length: 12 }, (_, i) => [i]))).toEqual(Array.from({ length: 10 }, (_, i) => [String(i)]));
});

describe('expectationFailure', () => {
  it('accepts what meets the expectation', () => {
    expect(expectationFailure(undefined, 0)).toBeNull();
    expect(expectationFailure({ rows: 2, min_rows: 1 }, 2)).toBeNull();
    expect(expectationFailure({ min_rows: 1 }, 5)).toBeNull();
  });

  it('says what was expected and what came', () => {
    expect(expectationFailure({ rows: 0 }, 1)).toBe('expected exactly 0 rows from the last statement, got 1');
    expect(expectationFailure({ min_rows: 1 }, 0)).toBe('expected at least 1 row from the last statement, got 0');
  });
});

it('lineOfPosition counts lines up to a 1-based character position', () => {
  const text = 'SELECT 1;\nSELECT 2;\nSELEC 3;';
  expect(lineOfPosition(text, 1)).toBe(1);
  expect(lineOfPosition(text, text.indexOf('SELEC 3') + 1)).toBe(3);
});
