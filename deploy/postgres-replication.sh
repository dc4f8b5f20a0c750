#!/bin/sh
# docker-compose.yml's "scaled" profile: the primary's side of streaming replication. The
# official postgres image runs this once, on an empty volume, as the superuser: a role that
# may only replicate, and the pg_hba line that lets it connect for replication. Without
# REPLICATION_PASSWORD (the default profile) it does nothing.
set -eu
if [ -z "${REPLICATION_PASSWORD:-}" ]; then
  exit 0
fi
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
