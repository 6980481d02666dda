#!/usr/bin/env bash
# Create the server's PostgreSQL roles and database with least privilege; safe to run again.
#
# Two roles: the OWNER owns the schema and is used only to migrate; the APP role, which the
# running server uses, may read and write rows but not change the schema or reach any other
# database. Passwords come from standard input (line 1: owner, line 2: app role), never
# from arguments; a role that already exists keeps its password when no line is given.
set -euo pipefail
# shellcheck source=installer/server/common.sh
. "$(dirname "$(readlink -f "$0")")/common.sh"

DB_NAME=intervention_kiosk
OWNER=intervention_kiosk_owner
APP_ROLE=intervention_kiosk_app

usage() {
    cat <<USAGE
usage: $PROG [options] < passwords
Create (or bring up to date) the roles and the database of the sync server.
Standard input: the owner's password on line 1 and the app role's on line 2; needed
for a role that does not exist yet, optional otherwise (it then keeps its password).

  --db-name NAME          database [$DB_NAME]
  --owner ROLE            role that owns the schema and runs migrations [$OWNER]
  --app-role ROLE         role the server runs as: rows only, no DDL [$APP_ROLE]
$PG_OPTIONS_HELP
  -h, --help              this help
USAGE
}

while [ $# -gt 0 ]; do
    if parse_pg_option "$@"; then
        shift 2
        continue
    fi
    case $1 in
    --db-name) need_value "$@" && DB_NAME=$2 && shift ;;
    --owner) need_value "$@" && OWNER=$2 && shift ;;
    --app-role) need_value "$@" && APP_ROLE=$2 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
check_identifier --db-name "$DB_NAME"
check_identifier --owner "$OWNER"
check_identifier --app-role "$APP_ROLE"
[ "$OWNER" != "$APP_ROLE" ] || die "--owner and --app-role must differ"

owner_password=""
app_password=""
if [ ! -t 0 ]; then
    IFS= read -r owner_password || true
    IFS= read -r app_password || true
fi
[ -z "$owner_password" ] || check_password "the owner's password" "$owner_password"
[ -z "$app_password" ] || check_password "the app role's password" "$app_password"

role_exists() {
    [ "$(run_psql --tuples-only --no-align --dbname postgres \
        --command "SELECT 1 FROM pg_roles WHERE rolname = '$1'" </dev/null)" = 1 ]
}

# CREATE ROLE or ALTER ROLE ... PASSWORD, as SQL for standard input (not an argument).
role_sql() {
    local role=$1 password=$2 label=$3
    local attributes="LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    if role_exists "$role"; then
        echo "ALTER ROLE $role $attributes;"
        [ -z "$password" ] || echo "ALTER ROLE $role PASSWORD '$password';"
    else
        [ -n "$password" ] || die "role $role does not exist: give $label password on stdin"
        echo "CREATE ROLE $role $attributes PASSWORD '$password';"
    fi
}

owner_sql=$(role_sql "$OWNER" "$owner_password" "the owner's (line 1)")
app_sql=$(role_sql "$APP_ROLE" "$app_password" "the app role's (line 2)")

# The roles, then the database (CREATE DATABASE cannot run inside a DO block: \gexec).
run_psql --dbname postgres <<SQL
$owner_sql
$app_sql
SELECT 'CREATE DATABASE $DB_NAME OWNER $OWNER ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB_NAME') \gexec
REVOKE ALL ON DATABASE $DB_NAME FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE $DB_NAME TO $OWNER;
GRANT CONNECT ON DATABASE $DB_NAME TO $APP_ROLE;
SQL

# Inside the database: only the owner may create objects; whatever the owner creates (every
# migration) is readable and writable by the app role, and nothing more.
run_psql --dbname "$DB_NAME" <<SQL
ALTER SCHEMA public OWNER TO $OWNER;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO $APP_ROLE;
ALTER DEFAULT PRIVILEGES FOR ROLE $OWNER IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO $APP_ROLE;
ALTER DEFAULT PRIVILEGES FOR ROLE $OWNER IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO $APP_ROLE;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $APP_ROLE;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO $APP_ROLE;
SQL

say "database $DB_NAME ready: owner $OWNER (migrations), app role $APP_ROLE (rows only)"
