import { describe, expect, it } from 'vitest';
import { decodeButtonValue, encodeButtonValue, STEP_BUTTON_ACTIONS } from '../../bot/button-value.js';

describe('step button values', () => {
  it('round-trips run, step and attempt', () => {
    const value = { runId: 'run-demo-1', stepId: 'load-districts', attempt: 3 };
    expect(decodeButtonValue(encodeButtonValue(value))).toEqual(value);
  });

  it('round-trips ids with characters that need JSON escaping', () => {
    const value = { runId: 'r"1\\x', stepId: 'step with "quotes"', attempt: 1 };
    expect(decodeButtonValue(encodeButtonValue(value))).toEqual(value);
  });

  it('stays well under Slack’s 2000-character button value limit', () => {
    expect(encodeButtonValue({ runId: 'kgv-20240309-2200-abcdef', stepId: 'load-antrag-positions', attempt: 12 }).length).toBeLessThan(200);
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['not JSON', 'approve'],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['an array', '["r","s",1]'],
    ['missing attempt', '{"r":"run","s":"step"}'],
    ['attempt as a string', '{"r":"run","s":"step","a":"1"}'],
    ['attempt zero', '{"r":"run","s":"step","a":0}'],
    ['fractional attempt', '{"r":"run","s":"step","a":1.5}'],
    ['empty run id', '{"r":"","s":"step","a":1}'],
    ['extra field', '{"r":"run","s":"step","a":1,"cmd":"rm -rf"}'],
    ['prototype pollution attempt', '{"__proto__":{"a":1},"r":"run","s":"step"}'],
    ['truncated JSON', '{"r":"run","s":"st'],
  ])('decodes garbage (%s) to null', (_label, raw) => {
    expect(decodeButtonValue(raw)).toBeNull();
  });

  it('names the step actions a button may carry', () => {
    expect([...STEP_BUTTON_ACTIONS]).toEqual(['approve', 'hold', 'release', 'retry', 'skip']);
  });
});
