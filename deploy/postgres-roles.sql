-- The three PostgreSQL roles of OneEnglish (README "Security"), for a DBA to run once as a
-- superuser on a new server. Replace the passwords (psql: \set app_password '...' etc.).
--   psql -v owner_password=... -v app_password=... -v reporting_password=... -f postgres-roles.sql
-- Then, as the owner: `oneenglish migrate` (with MIGRATION_DATABASE_URL set to the owner,
-- DATABASE_APP_ROLE=oneenglish_app, DATABASE_REPORTING_ROLE=oneenglish_reporting) creates the
-- tables and grants exactly db/privileges.py (`oneenglish db privileges` prints that SQL).

-- Owns every object and runs the migrations; nothing else connects as it.
CREATE ROLE oneenglish LOGIN NOINHERIT PASSWORD :'owner_password';
-- The API and the workers: rows only (no DDL, no TRUNCATE), as each table needs.
CREATE ROLE oneenglish_app LOGIN NOINHERIT PASSWORD :'app_password';
-- Analysts and admin UIs: read-only, never secrets.
CREATE ROLE oneenglish_reporting LOGIN NOINHERIT PASSWORD :'reporting_password';

CREATE DATABASE oneenglish OWNER oneenglish;
REVOKE ALL ON DATABASE oneenglish FROM PUBLIC;
GRANT CONNECT ON DATABASE oneenglish TO oneenglish, oneenglish_app, oneenglish_reporting;
\connect oneenglish
ALTER SCHEMA public OWNER TO oneenglish;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO oneenglish_app, oneenglish_reporting;

-- Query auditing (needs shared_preload_libraries = 'pgaudit' in postgresql.conf):
CREATE EXTENSION IF NOT EXISTS pgaudit;
ALTER SYSTEM SET pgaudit.log = 'ddl, role';
ALTER SYSTEM SET pgaudit.log_parameter = off;
ALTER ROLE oneenglish_reporting SET pgaudit.log = 'write, ddl, role';
SELECT pg_reload_conf();
