#!/bin/sh
# Run once by the postgres image, as its superuser, on an empty data volume
# (/docker-entrypoint-initdb.d): govbuy's two roles (govbuy/db_roles.py) and its database.
#   govbuy_owner  owns the database, its public schema and the tables; runs the migrations
#   govbuy_app    what the service connects as: a login that owns nothing
# The same SQL, for a server of your own, is in docs/operations.md. The names may be changed with
# GOVBUY_OWNER_ROLE, GOVBUY_APP_ROLE and GOVBUY_DATABASE (the URLs in docker-compose.yml then too).
set -eu
: "${GOVBUY_OWNER_PASSWORD:?set GOVBUY_OWNER_PASSWORD (see .env.example)}"
: "${GOVBUY_APP_PASSWORD:?set GOVBUY_APP_PASSWORD (see .env.example)}"

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v owner="${GOVBUY_OWNER_ROLE:-govbuy_owner}" -v owner_password="$GOVBUY_OWNER_PASSWORD" \
    -v app="${GOVBUY_APP_ROLE:-govbuy_app}" -v app_password="$GOVBUY_APP_PASSWORD" \
    -v database="${GOVBUY_DATABASE:-govbuy}" <<'SQL'
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION PASSWORD :'app_password';
CREATE DATABASE :"database" OWNER :"owner";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"app";
\connect :"database"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
