import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIONS, type CrashRecovery } from '../../runbook/action-catalog.js';

/**
 * What a worker does with each action's step after a crash (issue 12, part 2),
 * as the catalog declares it; docs/crash-recovery.md has the table in words.
 * Params are parsed by the action's own schema, so these are runbook-shaped.
 */
const recoveryOf = (action: string, params: unknown): CrashRecovery => {
  const spec = ACTIONS[action];
  if (!spec) throw new Error(`no action ${action}`);
  return spec.recovery(spec.params.parse(params));
};

describe('crash recovery per action', () => {
  it('an effect that is one database transaction is asked of the effect ledger on the database it changes', () => {
    expect(recoveryOf('sql', { connection: 'target', sql: 'INSERT INTO t VALUES (1)' })).toEqual({ kind: 'ledger', connection: 'target' });
    expect(recoveryOf('schema.apply', { source: 'src', target: 'target', phase: 'pre-load' })).toEqual({ kind: 'ledger', connection: 'target' });
    expect(recoveryOf('rollback.truncate_loaded', { target: 'target' })).toEqual({ kind: 'ledger', connection: 'target' });
  });

  it('an effect made of several commits either resumes from its own checkpoints or waits for a person, never re-runs blind', () => {
    expect(recoveryOf('sql', { connection: 'target', sql: 'VACUUM', transaction: false }).kind).toBe('ask');
    expect(recoveryOf('schema.apply', { source: 'src', target: 'target', phase: 'post-load' })).toMatchObject({ kind: 'ask', why: expect.stringContaining('commit one by one') });
    expect(recoveryOf('etl.copy', { source: 'src', target: 'target' }).kind).toBe('resumes');
    expect(recoveryOf('etl.sync', { source: 'src', target: 'target' }).kind).toBe('resumes');
    expect(recoveryOf('load', { dir: '/tmp/snapshot', target: 'target' }).kind).toBe('resumes');
  });

  it('switch: a transactional sql flip resumes from the ledger; a shell, http or non-transactional flip waits for a person', () => {
    const smoke = [{ action: 'sql', params: { connection: 'target', sql: 'SELECT 1' } }];
    expect(recoveryOf('switch', { flip: { action: 'sql', params: { connection: 'target', sql: 'UPDATE app SET db = 1' } }, smoke }).kind).toBe('resumes');
    expect(recoveryOf('switch', { flip: { action: 'sql', params: { connection: 'target', sql: 'UPDATE app SET db = 1', transaction: false } }, smoke }).kind).toBe('ask');
    expect(recoveryOf('switch', { flip: { action: 'shell', params: { argv: ['flip'] } }, smoke })).toMatchObject({ kind: 'ask', why: 'the shell flip may have happened before the worker stopped' });
    expect(recoveryOf('switch', { flip: { action: 'http', params: { url: 'http://app/flip', method: 'POST' } }, smoke }).kind).toBe('ask');
  });

  it('shell and http re-run only when harmless', () => {
    expect(recoveryOf('shell', { argv: ['true'] }).kind).toBe('ask');
    expect(recoveryOf('shell', { argv: ['true'], idempotent: true }).kind).toBe('rerun');
    expect(recoveryOf('http', { url: 'http://x/' }).kind).toBe('rerun');
    expect(recoveryOf('http', { url: 'http://x/', method: 'HEAD' }).kind).toBe('rerun');
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(recoveryOf('http', { url: 'http://x/', method }).kind).toBe('ask');
    expect(recoveryOf('restore.postgres', { target: 'target', from: 'backup.before-switch' }).kind).toBe('ask');
  });

  it('freeze.source by the runbook\'s own statements waits for a person (or its done_when): nothing adopts a freeze, a re-run runs the statements again', () => {
    const byStatements = recoveryOf('freeze.source', {
      connection: 'src', set_read_only: true, statements: ['ALTER LOGIN app DISABLE'], unfreeze_statements: ['ALTER LOGIN app ENABLE'], verify_sql: 'SELECT 1',
    });
    expect(byStatements).toMatchObject({ kind: 'ask', why: expect.stringContaining('may not be safe to run twice') });
    expect(byStatements).toMatchObject({ why: expect.stringContaining('done_when') });
    expect(recoveryOf('freeze.source', { connection: 'src', set_read_only: true, file: 'freeze.sql', unfreeze_file: 'unfreeze.sql', probe_sql: 'INSERT INTO t VALUES (1)' }).kind).toBe('ask');
    // The built-in freeze sets the same settings again; listing sessions changes nothing.
    expect(recoveryOf('freeze.source', { connection: 'src', set_read_only: true, app_roles: ['app'] })).toMatchObject({ kind: 'rerun', why: expect.stringContaining('same read-only settings') });
    expect(recoveryOf('freeze.source', { connection: 'src' })).toEqual({ kind: 'rerun', why: 'it only lists the sessions' });
  });

  it('docs/crash-recovery.md has a row for every action of the catalog', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'crash-recovery.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Per action'));
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    const named = new Set(rows.flatMap((r) => [...(r.split('|')[1] ?? '').matchAll(/`([a-z_.]+)`/g)].map((m) => m[1])));
    const missing = Object.keys(ACTIONS).filter((id) => !named.has(id));
    expect(missing).toEqual([]);
  });
});
