import { describe, expect, it } from 'vitest';
import { positionFinder } from '../../cli/lint/positions.js';

/** Where `cutover lint` says a loader path is written: line and column, 1-based. */
describe('positionFinder: a loader path to where the YAML writes it', () => {
  const text = [
    'x-a: &a',              // 1
    '  naming: lower',      // 2
    'x-b: &b',              // 3
    '  target_schema: s',   // 4
    'steps:',               // 5
    '  - id: one',          // 6
    '    params: { <<: [*a, *b], tables: [T1, T2] }', // 7
    '  - id: two',          // 8
    '    params: *a',       // 9
    '    overrides: { dbo.T.c: x, dbo: y }', // 10
  ].join('\n');
  const find = positionFinder(text);

  it('follows keys and indexes to the value', () => {
    expect(find('steps[0].id')).toEqual({ line: 6, column: 9 });
    expect(find('steps[0].params.tables[1]')).toEqual({ line: 7, column: 42 });
  });

  it('finds a merged value where the anchor writes it, from a list of merges too', () => {
    expect(find('steps[0].params.naming')).toEqual({ line: 2, column: 11 });
    expect(find('steps[0].params.target_schema')).toEqual({ line: 4, column: 18 });
    expect(find('steps[1].params.naming')).toEqual({ line: 2, column: 11 });
  });

  it('takes the longest key, so a dotted key is one key', () => {
    expect(find('steps[1].overrides.dbo.T.c')).toEqual({ line: 10, column: 27 });
    expect(find('steps[1].overrides.dbo')).toEqual({ line: 10, column: 35 });
  });

  it('points at the nearest enclosing node for what is missing, and reads a syntax error position as it is', () => {
    expect(find('steps[1].title')).toEqual({ line: 8, column: 5 });
    expect(find('steps[7].id')).toEqual({ line: 6, column: 3 });
    expect(find('line 3, column 7')).toEqual({ line: 3, column: 7 });
    expect(find('(top level)')).toEqual({ line: 1, column: 1 });
  });
});
