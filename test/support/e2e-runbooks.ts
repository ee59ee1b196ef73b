/** Runbooks the end-to-end suites install; each writes into its own schema so runs never collide. */

const roles = `
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
`;

/**
 * The head of a test runbook: its title, a lead (U0LEAD), two DBAs (U0DBA1, U0DBA2, so one may approve what the
 * other started) and the test database as `target`. Phases follow.
 */
export function runbookHead(title: string): string {
  return `title: ${title}
roles:
  lead: { title: Migration lead, members: [U0LEAD] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
`;
}

/** create table → insert one marker row → manual sign-off by the lead. */
export function markerRunbook(schema: string): string {
  return `title: E2E cutover ${schema}
${roles}
phases:
  - id: load
    title: Load
    steps:
      - id: create
        title: Create marker table
        approve: dba
        action: sql
        params:
          connection: target
          sql: |
            DROP SCHEMA IF EXISTS ${schema} CASCADE;
            CREATE SCHEMA ${schema};
            CREATE TABLE ${schema}.applied (step text NOT NULL, at timestamptz NOT NULL DEFAULT now());
      - id: insert
        title: Insert marker row
        approve: dba
        action: sql
        params: { connection: target, sql: "INSERT INTO ${schema}.applied (step) VALUES ('insert') RETURNING step" }
  - id: finish
    title: Finish
    steps:
      - id: signoff
        title: Lead signs off
        approve: lead
        action: manual
`;
}

/** Steps that take a while, to kill the worker while they run. */
export function slowRunbook(schema: string): string {
  return `title: E2E slow steps ${schema}
${roles}
phases:
  - id: slow
    title: Slow
    steps:
      - id: create
        title: Create marker table
        approve: dba
        action: sql
        params:
          connection: target
          sql: |
            DROP SCHEMA IF EXISTS ${schema} CASCADE;
            CREATE SCHEMA ${schema};
            CREATE TABLE ${schema}.applied (step text NOT NULL);
      - id: slow-insert
        title: Slow insert in one transaction
        approve: dba
        action: sql
        params: { connection: target, sql: "SELECT pg_sleep(3); INSERT INTO ${schema}.applied (step) VALUES ('slow-insert');" }
      - id: ledger-insert
        title: Insert in one transaction (the test kills the worker right after its COMMIT)
        approve: dba
        action: sql
        params: { connection: target, sql: "INSERT INTO ${schema}.applied (step) VALUES ('ledger-insert');" }
      - id: slow-shell
        title: Slow shell command (not idempotent)
        approve: dba
        action: shell
        params: { argv: [sleep, "4"] }
      - id: probed-shell
        title: Slow shell command with a done_when probe
        approve: dba
        action: shell
        # Two -c flags: the INSERT commits at once, then psql sleeps, so a crash can land after the effect.
        params: { argv: [psql, "\${TEST_DATABASE_URL}", -c, "INSERT INTO ${schema}.applied (step) VALUES ('probed-shell')", -c, "SELECT pg_sleep(4)"] }
        done_when: { connection: target, sql: "SELECT 1 FROM ${schema}.applied WHERE step = 'probed-shell'" }
`;
}
