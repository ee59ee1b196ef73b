import type { ConnectionRegistry } from '../connections.js';
import type { LedgerEntry } from './effect-key.js';
import { findMssql } from './mssql-ledger.js';
import { findPg } from './pg-ledger.js';

/** Which database a ledger lives on: the connection's name for messages, its redacted URL to remember it by. */
export const ledgerWhere = (registry: ConnectionRegistry, connection: string): { connection: string; database: string } => ({
  connection,
  database: `${registry.kind(connection)}:${registry.describe(connection)}`,
});

/** Asks the ledger on `connection` whether any attempt of this step committed its effect. */
export async function findEffect(registry: ConnectionRegistry, connection: string, runId: string, stepId: string): Promise<LedgerEntry | null> {
  return registry.kind(connection) === 'postgres'
    ? findPg(registry.postgres(connection), runId, stepId)
    : findMssql(await registry.mssql(connection), runId, stepId);
}
