-- Seed 000 step 3.2 / seed 001's run_full_migration: the staged legacy tables
-- (migration_staging, as loaded from the extract) into the target model (kgv).
-- One transaction (the sql step's default): it empties the target tables and
-- fills them again, so a retried or repeated transformation never doubles a row.
--
-- What it normalises, and nothing more: names and addresses trimmed (SQL
-- Server ignored trailing blanks, PostgreSQL does not), empty strings where
-- the legacy forms meant "unknown" become NULL, e-mail addresses lower-case,
-- phone numbers E.164, char(1)/bit flags boolean. Katasterbezirke that lost
-- their district (kb_Bezirk NULL) get it from Bezirke_Katasterbezirke.
-- The last statement reports seed 000's table: processed / success / error per entity.

TRUNCATE kgv.application_history, kgv.applications, kgv.file_references, kgv.entry_numbers,
         kgv.cadastral_districts, kgv.identifiers, kgv.users, kgv.field_mappings, kgv.districts;

INSERT INTO kgv.districts (legacy_id, code, name)
SELECT bez_id, 'B' || bez_id, btrim(bez_name)
FROM migration_staging.bezirk;

INSERT INTO kgv.cadastral_districts (legacy_id, district_id, number, name)
SELECT kb.kb_id, d.id, btrim(kb.kb_nummer), nullif(btrim(kb.kb_name), '')
FROM migration_staging.katasterbezirk kb
LEFT JOIN kgv.districts d ON d.legacy_id = coalesce(
  kb.kb_bezirk,
  (SELECT min(bk.bk_bezirk) FROM migration_staging.bezirke_katasterbezirke bk WHERE bk.bk_katasterbezirk = kb.kb_id));

INSERT INTO kgv.users (id, login, display_name, photo, is_admin, legacy_version)
SELECT pe_id, btrim(pe_login), nullif(btrim(pe_name), ''), pe_foto, lower(btrim(pe_login)) = 'admin', pe_version
FROM migration_staging.personen;

INSERT INTO kgv.identifiers (legacy_id, identifier, user_id, is_active)
SELECT ke.ke_id, ke.ke_kennung, u.id, ke.ke_aktiv
FROM migration_staging.kennungen ke
LEFT JOIN kgv.users u ON lower(u.login) = lower(ke.ke_kennung);

-- Templates keep '' and NULL apart: an empty mail-merge field prints nothing, a NULL one is unset.
INSERT INTO kgv.field_mappings (field_name, value)
SELECT btrim(mf_feld), mf_wert
FROM migration_staging.mischenfelder;

INSERT INTO kgv.file_references (legacy_id, district_id, number, year, reference, note)
SELECT az.az_id, d.id, az.az_nummer, az.az_jahr,
       'B' || az.az_bezirk || '-' || lpad(az.az_nummer::text, 4, '0') || '/' || az.az_jahr,
       nullif(btrim(az.az_text), '')
FROM migration_staging.aktenzeichen az
JOIN kgv.districts d ON d.legacy_id = az.az_bezirk;

INSERT INTO kgv.entry_numbers (legacy_id, number, fee, received_at)
SELECT en_id, en_nummer, en_gebuehr, en_eingang
FROM migration_staging.eingangsnummer;

INSERT INTO kgv.applications (
  legacy_id, file_reference, file_reference_id, waiting_list_number_32, waiting_list_number_33,
  salutation, title, first_name, last_name, salutation_2, title_2, first_name_2, last_name_2,
  letter_salutation, street, postal_code, city,
  phone, mobile_phone, business_phone, mobile_phone_2, email,
  application_date, confirmation_date, current_offer_date, deletion_date,
  wishes, notes, is_active, deactivated_at, birth_date, birth_date_2, district_id)
SELECT an.an_id, nullif(btrim(an.an_aktenzeichen), ''), fr.id,
       nullif(btrim(an.an_wartelistennr32), ''), nullif(btrim(an.an_wartelistennr33), ''),
       nullif(btrim(an.an_anrede), ''), nullif(btrim(an.an_titel), ''), nullif(btrim(an.an_vorname), ''), btrim(an.an_nachname),
       nullif(btrim(an.an_anrede2), ''), nullif(btrim(an.an_titel2), ''), nullif(btrim(an.an_vorname2), ''), nullif(btrim(an.an_nachname2), ''),
       nullif(btrim(an.an_briefanrede), ''), nullif(btrim(an.an_strasse), ''), nullif(btrim(an.an_plz), ''), nullif(btrim(an.an_ort), ''),
       kgv.normalise_phone(an.an_telefon), kgv.normalise_phone(an.an_mobiltelefon),
       kgv.normalise_phone(an.an_geschtelefon), kgv.normalise_phone(an.an_mobiltelefon2),
       lower(nullif(btrim(an.an_email), '')),
       an.an_bewerbungsdatum, an.an_bestaetigungsdatum, an.an_aktuellesangebot, an.an_loeschdatum,
       an.an_wunsch, an.an_vermerk, an.an_aktiv = '1', an.an_deaktiviertam, an.an_geburtstag, an.an_geburtstag2, d.id
FROM migration_staging.antrag an
LEFT JOIN kgv.file_references fr ON fr.reference = btrim(an.an_aktenzeichen)
LEFT JOIN kgv.districts d ON d.legacy_id = an.an_bezirk;

INSERT INTO kgv.application_history (legacy_id, application_id, event_type, event_date, is_read, note)
SELECT ve.ve_id, a.id, btrim(ve.ve_art), ve.ve_datum, ve.ve_gelesen, ve.ve_text
FROM migration_staging.verlauf ve
JOIN kgv.applications a ON a.legacy_id = ve.ve_antrag;

INSERT INTO migration_staging.migration_log (batch_id, step, status, message)
SELECT to_char(now(), 'YYYYMMDDHH24MISS'), 'TRANSFORM', 'SUCCESS', count(*) || ' applications transformed'
FROM kgv.applications;

SELECT entity,
       CASE WHEN processed = success THEN 'SUCCESS' ELSE 'ERRORS' END AS status,
       processed AS records_processed, success AS records_success, processed - success AS records_error
FROM (VALUES
  (1, 'Districts',           (SELECT count(*) FROM migration_staging.bezirk),         (SELECT count(*) FROM kgv.districts)),
  (2, 'Cadastral Districts', (SELECT count(*) FROM migration_staging.katasterbezirk), (SELECT count(*) FROM kgv.cadastral_districts)),
  (3, 'Users',               (SELECT count(*) FROM migration_staging.personen),       (SELECT count(*) FROM kgv.users)),
  (4, 'Identifiers',         (SELECT count(*) FROM migration_staging.kennungen),      (SELECT count(*) FROM kgv.identifiers)),
  (5, 'File References',     (SELECT count(*) FROM migration_staging.aktenzeichen),   (SELECT count(*) FROM kgv.file_references)),
  (6, 'Entry Numbers',       (SELECT count(*) FROM migration_staging.eingangsnummer), (SELECT count(*) FROM kgv.entry_numbers)),
  (7, 'Applications',        (SELECT count(*) FROM migration_staging.antrag),         (SELECT count(*) FROM kgv.applications)),
  (8, 'Application History', (SELECT count(*) FROM migration_staging.verlauf),        (SELECT count(*) FROM kgv.application_history)),
  (9, 'Field Mappings',      (SELECT count(*) FROM migration_staging.mischenfelder),  (SELECT count(*) FROM kgv.field_mappings))
) AS e (ord, entity, processed, success)
ORDER BY ord;
