-- Seed 001's target model (01_schema_core.sql) in schema kgv: UUID keys, the
-- legacy key kept as legacy_id for tracing and for the totals, foreign keys,
-- checks for the business rules, created_at/updated_at on every table (the
-- post-go-live rollback exports what changed after go-live by updated_at).
--
-- Seed 001 also partitions applications and application_history by date and
-- adds PostGIS and full-text search; at the sample's size they would only
-- add noise, so they are left out here.
--
-- Idempotent (IF NOT EXISTS / OR REPLACE): a repeated rehearsal keeps the model
-- and the transformation (03_transform.sql) empties and refills it.

CREATE SCHEMA IF NOT EXISTS kgv;

CREATE OR REPLACE FUNCTION kgv.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- Legacy phone numbers in any spelling → E.164 (+4930…); a number without an
-- area code was written down in Berlin. NULL for no digits at all.
CREATE OR REPLACE FUNCTION kgv.normalise_phone(raw text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN d = '' THEN NULL
    WHEN d LIKE '+%' THEN d
    WHEN d LIKE '00%' THEN '+' || substr(d, 3)
    WHEN d LIKE '0%' THEN '+49' || substr(d, 2)
    ELSE '+4930' || d
  END
  FROM (SELECT regexp_replace(coalesce(raw, ''), '[^0-9+]', '', 'g') AS d) AS digits
$$;

CREATE TABLE IF NOT EXISTS kgv.districts (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  legacy_id   integer UNIQUE,
  code        varchar(10)  NOT NULL UNIQUE,
  name        varchar(100) NOT NULL,
  description text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS kgv.cadastral_districts (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  legacy_id   integer UNIQUE,
  district_id uuid REFERENCES kgv.districts (id),
  number      varchar(10) NOT NULL UNIQUE,
  name        varchar(100),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS kgv.users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  login          varchar(50) NOT NULL UNIQUE,
  display_name   varchar(100),
  photo          bytea,
  is_admin       boolean NOT NULL DEFAULT false,
  is_active      boolean NOT NULL DEFAULT true,
  legacy_version bytea,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS kgv.identifiers (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  legacy_id   integer UNIQUE,
  identifier  varchar(20) NOT NULL UNIQUE,
  user_id     uuid REFERENCES kgv.users (id) ON DELETE SET NULL,
  is_active   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS kgv.field_mappings (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  field_name  varchar(50) NOT NULL UNIQUE,
  value       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS kgv.file_references (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  legacy_id   integer UNIQUE,
  district_id uuid NOT NULL REFERENCES kgv.districts (id),
  number      integer  NOT NULL CHECK (number > 0),
  year        smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
  reference   varchar(20) NOT NULL UNIQUE,
  note        varchar(200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (district_id, year, number)
);

CREATE TABLE IF NOT EXISTS kgv.entry_numbers (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  legacy_id   bigint UNIQUE,
  number      numeric(18,0) NOT NULL,
  fee         numeric(19,4),
  received_at timestamp(6)  NOT NULL CHECK (extract(year FROM received_at) BETWEEN 1990 AND 2100),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS kgv.applications (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  legacy_id              integer UNIQUE,
  file_reference         varchar(20) UNIQUE,
  file_reference_id      uuid REFERENCES kgv.file_references (id),
  waiting_list_number_32 varchar(20),
  waiting_list_number_33 varchar(20),
  salutation             varchar(10),
  title                  varchar(20),
  first_name             varchar(50),
  last_name              varchar(50) NOT NULL,
  salutation_2           varchar(10),
  title_2                varchar(20),
  first_name_2           varchar(50),
  last_name_2            varchar(50),
  letter_salutation      varchar(150),
  street                 varchar(50),
  postal_code            varchar(5),
  city                   varchar(50),
  phone                  varchar(30),
  mobile_phone           varchar(30),
  business_phone         varchar(30),
  mobile_phone_2         varchar(30),
  email                  varchar(100),
  application_date       timestamp(3) NOT NULL,
  confirmation_date      timestamp(3),
  current_offer_date     timestamp(3),
  deletion_date          timestamp(3),
  wishes                 varchar(600),
  notes                  text,
  is_active              boolean NOT NULL DEFAULT true,
  deactivated_at         timestamp(3),
  birth_date             date,
  birth_date_2           date,
  district_id            uuid REFERENCES kgv.districts (id),
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT applications_deletion_after_application CHECK (deletion_date IS NULL OR deletion_date >= application_date)
);
CREATE INDEX IF NOT EXISTS applications_name_idx ON kgv.applications (last_name, first_name);
CREATE INDEX IF NOT EXISTS applications_waiting_list_idx ON kgv.applications (waiting_list_number_32) WHERE is_active AND waiting_list_number_32 IS NOT NULL;
CREATE INDEX IF NOT EXISTS applications_district_idx ON kgv.applications (district_id);

CREATE TABLE IF NOT EXISTS kgv.application_history (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  legacy_id      integer UNIQUE,
  application_id uuid NOT NULL REFERENCES kgv.applications (id) ON DELETE CASCADE,
  event_type     varchar(2)   NOT NULL,
  event_date     timestamp(3) NOT NULL,
  is_read        boolean NOT NULL DEFAULT false,
  note           text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS application_history_application_idx ON kgv.application_history (application_id, event_date);

CREATE OR REPLACE TRIGGER districts_touch BEFORE UPDATE ON kgv.districts FOR EACH ROW EXECUTE FUNCTION kgv.touch_updated_at();
CREATE OR REPLACE TRIGGER cadastral_districts_touch BEFORE UPDATE ON kgv.cadastral_districts FOR EACH ROW EXECUTE FUNCTION kgv.touch_updated_at();
CREATE OR REPLACE TRIGGER users_touch BEFORE UPDATE ON kgv.users FOR EACH ROW EXECUTE FUNCTION kgv.touch_updated_at();
CREATE OR REPLACE TRIGGER identifiers_touch BEFORE UPDATE ON kgv.identifiers FOR EACH ROW EXECUTE FUNCTION kgv.touch_updated_at();
CREATE OR REPLACE TRIGGER field_mappings_touch BEFORE UPDATE ON kgv.field_mappings FOR EACH ROW EXECUTE FUNCTION kgv.touch_updated_at();
CREATE OR REPLACE TRIGGER file_references_touch BEFORE UPDATE ON kgv.file_references FOR EACH ROW EXECUTE FUNCTION kgv.touch_updated_at();
CREATE OR REPLACE TRIGGER entry_numbers_touch BEFORE UPDATE ON kgv.entry_numbers FOR EACH ROW EXECUTE FUNCTION kgv.touch_updated_at();
CREATE OR REPLACE TRIGGER applications_touch BEFORE UPDATE ON kgv.applications FOR EACH ROW EXECUTE FUNCTION kgv.touch_updated_at();
CREATE OR REPLACE TRIGGER application_history_touch BEFORE UPDATE ON kgv.application_history FOR EACH ROW EXECUTE FUNCTION kgv.touch_updated_at();
