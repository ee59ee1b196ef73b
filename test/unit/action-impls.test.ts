import { expect, it } from 'vitest';
import { ACTION_IMPLS, actionImpl, assertCatalogImplemented, catalogMismatches } from '../../engine/actions/index.js';
import { ACTIONS } from '../../runbook/action-catalog.js';

it('implements every action of the catalog, under the same id, and nothing else', () => {
  expect(catalogMismatches()).toEqual([]);
  expect(() => assertCatalogImplemented()).not.toThrow();
  for (const id of Object.keys(ACTIONS)) expect(ACTION_IMPLS[id]?.id).toBe(id);
});

it('names an action the engine lacks', () => {
  expect(() => actionImpl('teleport')).toThrow('the engine has no action "teleport"');
});
