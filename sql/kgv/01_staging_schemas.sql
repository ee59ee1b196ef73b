-- Seed 000 step 1.1: the schemas the KGV cutover works in. Idempotent, so a
-- re-run after a crash is harmless.
CREATE SCHEMA IF NOT EXISTS migration_staging;
CREATE SCHEMA IF NOT EXISTS data_quality;
CREATE SCHEMA IF NOT EXISTS backup_management;

CREATE TABLE IF NOT EXISTS migration_staging.migration_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id    text        NOT NULL,
    step        text        NOT NULL,
    status      text        NOT NULL,
    message     text,
    logged_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS backup_management.recovery_checkpoints (
    checkpoint_name text        PRIMARY KEY,
    description     text,
    checkpoint_time timestamptz NOT NULL DEFAULT now(),
    lsn_position    pg_lsn      NOT NULL
);
