-- Seed 000 step 1.1 for the local rehearsal (kgv-local.yaml): the schemas of
-- the night, the migration log, and the application's settings table.
--
-- kgv_app.settings stands in for the application's appsettings.json: the
-- data source the KGV application reads ('mssql' until the go-live switch
-- flips it to 'postgresql') and its maintenance mode. On the real night the
-- switch edits the configuration file instead (kgv.yaml step 6.1).
--
-- Idempotent: a rehearsal repeated against the same database keeps the schemas
-- and tables that are there, and puts the application's settings back where a
-- cutover night starts (on SQL Server, not in maintenance), whatever the last
-- rehearsal left: a completed one leaves 'postgresql', and the pre-go-live
-- rollback's check that the application still reads SQL Server could never pass.

CREATE SCHEMA IF NOT EXISTS migration_staging;
CREATE SCHEMA IF NOT EXISTS data_quality;
CREATE SCHEMA IF NOT EXISTS backup_management;
CREATE SCHEMA IF NOT EXISTS kgv;
CREATE SCHEMA IF NOT EXISTS kgv_app;

CREATE TABLE IF NOT EXISTS migration_staging.migration_log (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch_id   text        NOT NULL,
  step       text        NOT NULL,
  status     text        NOT NULL,
  message    text,
  logged_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS kgv_app.settings (
  key        text PRIMARY KEY,
  value      text        NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by text        NOT NULL DEFAULT current_user
);

INSERT INTO kgv_app.settings (key, value) VALUES
  ('datasource', 'mssql'),
  ('maintenance_mode', 'off')
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, changed_at = now(), changed_by = current_user
  WHERE kgv_app.settings.value IS DISTINCT FROM EXCLUDED.value;
