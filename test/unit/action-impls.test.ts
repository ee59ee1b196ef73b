import { expect, it } from 'vitest';
import { actionImplOf, catalogMismatches, createActions } from '../../engine/actions/index.js';
import { ConnectionRegistry } from '../../engine/connections.js';
import { ACTIONS } from '../../runbook/action-catalog.js';

const actions = createActions({ connections: (specs, log) => new ConnectionRegistry(specs, log) });

it('implements every action of the catalog, under the same id, and nothing else', () => {
  expect(catalogMismatches(actions.impls)).toEqual([]);
  for (const id of Object.keys(ACTIONS)) expect(actionImplOf(actions.impls, id)?.id).toBe(id);
});

it('names what is out of sync with the catalog', () => {
  const { manual: _manual, ...withoutManual } = actions.impls;
  expect(catalogMismatches({ ...withoutManual, teleport: { id: 'teleport', run: async () => ({ summary: '' }) } })).toEqual([
    'no implementation for "manual"',
    '"teleport" is not in the catalog',
  ]);
});

it('finds no action for an id the engine lacks, nor for a property every object has', () => {
  expect(actionImplOf(actions.impls, 'teleport')).toBeNull();
  expect(actionImplOf(actions.impls, 'toString')).toBeNull();
});
