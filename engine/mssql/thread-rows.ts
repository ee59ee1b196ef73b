import mssql from 'mssql';
import { CutoverError } from '../../runbook/errors.js';
import type { SourceAdapter } from '../etl/contracts.js';
import { MssqlSource } from './source.js';

/**
 * The mssql source as an encode thread opens it (RowSourceRecipe): a pool of
 * its own with one connection, since a thread reads one chunk at a time.
 * The config holds the password; it crosses only between threads of this
 * process and is never logged.
 */
export async function openRowSource(options: unknown): Promise<SourceAdapter> {
  const config = typeof options === 'object' && options !== null ? Reflect.get(options, 'config') : undefined;
  if (typeof config !== 'object' || config === null || typeof Reflect.get(config, 'server') !== 'string') {
    throw new CutoverError('mssql.thread-recipe', 'an encode thread got no SQL Server connection settings');
  }
  const pool = new mssql.ConnectionPool({ ...(config as mssql.config), pool: { min: 0, max: 1 } });
  // Failures reach the chunk through its request; an idle connection dying must not end the thread.
  pool.on('error', () => undefined);
  return new MssqlSource(await pool.connect(), { ownsPool: true });
}
