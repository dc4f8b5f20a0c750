#!/bin/sh
# docker-compose.yml: the official postgres image runs this once, on an empty volume, as the
# superuser. It applies deploy/postgres-roles.sql with the passwords from the environment.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$OWNER_PASSWORD" \
  -v app_password="$APP_PASSWORD" \
  -v reporting_password="$REPORTING_PASSWORD" \
  -f /deploy/postgres-roles.sql
