import { describe, expect, it } from 'vitest';
import {
  killLoginSessionsSql,
  loginStateSql,
  loginsSql,
  nLiteral,
  probeSql,
  SESSIONS_SQL,
  setReadOnlySql,
  setReadWriteSql,
  UPDATEABILITY_SQL,
  VIEW_SERVER_STATE_SQL,
} from '../../engine/freeze/mssql-freeze-sql.js';
import { noSessionsCheck } from '../../engine/freeze/proof.js';
import { sessionsBlock } from '../../engine/freeze/report.js';
import { freezeSql, probeTable, SESSIONS_SQL as PG_SESSIONS_SQL, unfreezeSql } from '../../engine/freeze/pg-freeze-sql.js';
import { freezeSourceParams } from '../../runbook/actions/freeze-source.js';

describe('freeze.source T-SQL', () => {
  it('freezes from master with ROLLBACK IMMEDIATE and undoes with READ_WRITE, bracket-quoting the database name', () => {
    expect(setReadOnlySql('KGV')).toBe('USE [master];\nALTER DATABASE [KGV] SET READ_ONLY WITH ROLLBACK IMMEDIATE;');
    expect(setReadWriteSql('KGV')).toBe('USE [master];\nALTER DATABASE [KGV] SET READ_WRITE WITH ROLLBACK IMMEDIATE;');
    // A ] in a name is doubled, as QUOTENAME does: the name cannot end the identifier and start a statement.
    expect(setReadOnlySql('kgv]; DROP DATABASE x; --')).toBe('USE [master];\nALTER DATABASE [kgv]]; DROP DATABASE x; --] SET READ_ONLY WITH ROLLBACK IMMEDIATE;');
    expect(() => setReadOnlySql('')).toThrow(RangeError);
    expect(() => setReadOnlySql('x'.repeat(129))).toThrow(RangeError);
  });

  it('lists sessions of the database by @db, leaving out its own session (@@SPID) and system sessions, one row per session', () => {
    expect(SESSIONS_SQL).toContain('s.database_id = DB_ID(@db)');
    expect(SESSIONS_SQL).toContain('s.session_id <> @@SPID');
    expect(SESSIONS_SQL).toContain('s.is_user_process = 1');
    expect(SESSIONS_SQL).toContain('OUTER APPLY (SELECT TOP (1)');
    for (const dmv of ['sys.dm_exec_sessions', 'sys.dm_exec_connections', 'sys.dm_exec_requests']) expect(SESSIONS_SQL).toContain(dmv);
    expect(UPDATEABILITY_SQL).toContain("DATABASEPROPERTYEX(@db, 'Updateability')");
    expect(VIEW_SERVER_STATE_SQL).toContain("HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')");
  });

  it('an empty session list seen without VIEW SERVER STATE proves nothing: "no sessions" fails and the report says why', () => {
    const caveat = 'this login lacks VIEW SERVER STATE, so it sees only its own sessions: other sessions may be connected unseen';
    expect(noSessionsCheck([], caveat)).toEqual({ name: 'no sessions', ok: false, message: `cannot tell whether a session is connected: ${caveat}` });
    expect(noSessionsCheck([]).ok).toBe(true);
    const ours = { id: '51', login: 'migrator', host: 'worker1', program: 'cutover', status: 'sleeping', command: null, idleSeconds: 5, openTransactions: 0 };
    expect(noSessionsCheck([ours]).ok).toBe(true);
    expect(sessionsBlock('Sessions on KGV', [ours], caveat)).toBe(`*Sessions on KGV:* 1 (0 not cutover's)\n⚠️ ${caveat}\n• \`51\` migrator@worker1 (cutover) [cutover] — last request 5s ago, sleeping`);
  });

  it('disables and enables logins by bracketed name and kills their sessions with N-quoted literals', () => {
    expect(loginsSql(['kgv_app', "o'brien"], 'DISABLE')).toBe("ALTER LOGIN [kgv_app] DISABLE;\nALTER LOGIN [o'brien] DISABLE;");
    expect(loginsSql(['DOMAIN\\kgv svc'], 'ENABLE')).toBe('ALTER LOGIN [DOMAIN\\kgv svc] ENABLE;');
    expect(nLiteral("o'brien")).toBe("N'o''brien'");
    expect(killLoginSessionsSql(['kgv_app', "o'brien"])).toContain("login_name IN (N'kgv_app', N'o''brien') AND session_id <> @@SPID");
    expect(killLoginSessionsSql(['a'])).toContain('EXEC sys.sp_executesql @kill;');
    expect(loginStateSql(["o'brien"])).toContain("name IN (N'o''brien')");
  });

  it('probes with a write inside a transaction that is always rolled back, in the frozen database', () => {
    const probe = probeSql('KGV', undefined, 'run_1');
    expect(probe).toBe('SET XACT_ABORT ON;\nUSE [KGV];\nBEGIN TRANSACTION;\nCREATE TABLE dbo.[cutover_freeze_probe_run_1] (probe int);\nROLLBACK TRANSACTION;');
    expect(probeSql('KGV', 'UPDATE dbo.Antrag SET an_ID = an_ID WHERE an_ID = 1;', 't')).toContain('BEGIN TRANSACTION;\nUPDATE dbo.Antrag SET an_ID = an_ID WHERE an_ID = 1;\nROLLBACK TRANSACTION;');
  });
});

describe('freeze.source on PostgreSQL: SQL', () => {
  it('takes LOGIN from the app roles before making the database read-only, all in one transaction, after turning its own session writable', () => {
    expect(freezeSql('kgv', ['kgv_app', 'We"ird'])).toEqual([
      'SET default_transaction_read_only = off',
      'BEGIN',
      'ALTER ROLE "kgv_app" NOLOGIN',
      'ALTER ROLE "We""ird" NOLOGIN',
      'ALTER DATABASE "kgv" SET default_transaction_read_only = on',
      'COMMIT',
    ]);
    expect(unfreezeSql('kgv', ['kgv_app'])).toEqual(['SET default_transaction_read_only = off', 'BEGIN', 'ALTER DATABASE "kgv" RESET default_transaction_read_only', 'ALTER ROLE "kgv_app" LOGIN', 'COMMIT']);
    expect(probeTable('r1')).toBe('CREATE TABLE "cutover_freeze_probe_r1" (probe int)');
    // Only the statement's first word is listed: literals in a query may hold personal data.
    expect(PG_SESSIONS_SQL).toContain("CASE WHEN state = 'active' THEN upper(substring(ltrim(query) FROM '^[A-Za-z]+')) END AS command");
    expect(PG_SESSIONS_SQL).toContain('pid <> pg_backend_pid()');
  });
});

describe('freeze.source params', () => {
  const parse = (p: Record<string, unknown>) => freezeSourceParams.safeParse({ connection: 'source', ...p });
  const messages = (p: Record<string, unknown>) => {
    const r = parse(p);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('changes nothing without the runbook\'s consent: statements and app roles need set_read_only', () => {
    expect(parse({}).success).toBe(true);
    expect(messages({ app_roles: ['kgv_app'] })).toEqual(['app_roles: "app_roles" changes the source; it runs only with set_read_only: true (the runbook\'s consent to freeze)']);
  });

  it('a freeze by statements needs its undo and a proof', () => {
    expect(messages({ set_read_only: true, statements: ['ALTER LOGIN [kgv_app] DISABLE'] })).toEqual([
      'unfreeze_statements: a freeze by statements needs its undo: "unfreeze_statements" or "unfreeze_file", run by unfreeze.source in every rollback',
      'verify_sql: a freeze by statements must be proven: give "verify_sql" (must return 1 once frozen) and/or "probe_sql" (a write that must fail)',
    ]);
    expect(parse({ set_read_only: true, file: 'kgv/freeze.sql', unfreeze_file: 'kgv/unfreeze.sql', verify_sql: "SELECT is_disabled FROM sys.server_principals WHERE name = 'kgv_app'" }).success).toBe(true);
    expect(messages({ set_read_only: true, file: '../etc/x.sql', unfreeze_file: 'a.sql', probe_sql: 'x' })[0]).toContain('without ".."');
  });
});
