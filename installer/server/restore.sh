#!/usr/bin/env bash
# Restore a backup.sh file: the database into an empty (or, with --replace, dropped)
# database, and the data directory. Stop the server first.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
# shellcheck source=installer/server/common.sh
. "$HERE/common.sh"

FROM=""
IDENTITY=""
DB_NAME=intervention_kiosk
OWNER=intervention_kiosk_owner
APP_ROLE=intervention_kiosk_app
DATA_DIR=/var/lib/intervention-kiosk-server
SERVICE_USER=intervention-kiosk-server
REPLACE=no

usage() {
    cat <<USAGE
usage: $PROG --from FILE [--identity AGE_IDENTITY_FILE] [options]
Restore the database and the data directory from a backup.sh file. The roles must exist
(install.sh or setup-postgres.sh made them); the database is created with their privileges.

  --from FILE             the backup (.tar.age, or .tar from --unencrypted)
  --identity FILE         the age identity (secret key) file that decrypts it
  --db-name NAME          database to restore into [$DB_NAME]
  --owner ROLE            its owner role [$OWNER]
  --app-role ROLE         the server's role [$APP_ROLE]
  --data-dir DIR          data directory to restore into [$DATA_DIR]
  --user NAME             the service user who owns the data directory [$SERVICE_USER]
  --replace               drop a non-empty database and move an existing data directory
                          aside (DIR.replaced-<time>) instead of refusing
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
    --replace) REPLACE=yes && shift && continue ;;
    -h | --help) usage && exit 0 ;;
    --from) need_value "$@" && FROM=$2 ;;
    --identity) need_value "$@" && IDENTITY=$2 ;;
    --db-name) need_value "$@" && DB_NAME=$2 ;;
    --owner) need_value "$@" && OWNER=$2 ;;
    --app-role) need_value "$@" && APP_ROLE=$2 ;;
    --data-dir) need_value "$@" && DATA_DIR=$2 ;;
    --user) need_value "$@" && SERVICE_USER=$2 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
    shift 2
done
[ "$(id -u)" -eq 0 ] || die "run as root"
[ -n "$FROM" ] || die "--from is required (see --help)"
[ -r "$FROM" ] || die "cannot read $FROM"
check_identifier --db-name "$DB_NAME"
id -u "$SERVICE_USER" >/dev/null 2>&1 || die "no user $SERVICE_USER"

umask 0077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Decrypt and unpack; every member must match its checksum before anything is touched.
case $FROM in
*.age)
    [ -n "$IDENTITY" ] || die "$FROM is encrypted: give --identity"
    command -v age >/dev/null || die "age is missing (apt install age)"
    age --decrypt --identity "$IDENTITY" --output "$work/backup.tar" "$FROM"
    ;;
*) cp "$FROM" "$work/backup.tar" ;;
esac
mkdir "$work/unpacked"
tar --extract --file "$work/backup.tar" --directory "$work/unpacked"
rm "$work/backup.tar"
shopt -s nullglob
members=("$work"/unpacked/intervention-kiosk-server-*)
[ ${#members[@]} -eq 1 ] || die "$FROM is not a backup.sh file"
backup=${members[0]}
(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || die "$FROM is damaged"

# 2. The database: created empty by setup-postgres.sh, then filled in one transaction.
db_exists=$(run_psql --tuples-only --no-align --dbname postgres \
    --command "SELECT count(*) FROM pg_database WHERE datname = '$DB_NAME'" </dev/null)
if [ "$db_exists" = 1 ]; then
    tables=$(run_psql --tuples-only --no-align --dbname "$DB_NAME" \
        --command "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'" </dev/null)
    if [ "$tables" != 0 ]; then
        [ "$REPLACE" = yes ] ||
            die "database $DB_NAME is not empty: stop the server, then give --replace to drop it"
        run_psql --dbname postgres --command "DROP DATABASE $DB_NAME WITH (FORCE)" </dev/null
        say "dropped database $DB_NAME"
    fi
fi
"$HERE/setup-postgres.sh" --db-name "$DB_NAME" --owner "$OWNER" --app-role "$APP_ROLE" \
    --pg-host "$PG_HOST" --pg-port "$PG_PORT" --pg-superuser "$PG_SUPERUSER" \
    --pg-os-user "$PG_OS_USER" </dev/null
run_pg_tool pg_restore --exit-on-error --single-transaction --dbname "$DB_NAME" \
    <"$backup/database.dump"
say "restored database $DB_NAME"

# 3. The data directory, owned by the service user as install.sh leaves it.
if [ -e "$DATA_DIR" ] && [ -n "$(ls -A "$DATA_DIR")" ]; then
    [ "$REPLACE" = yes ] || die "$DATA_DIR is not empty: give --replace to move it aside"
    aside=$DATA_DIR.replaced-$(date -u +%Y%m%dT%H%M%SZ)
    mv "$DATA_DIR" "$aside"
    say "moved the old data directory to $aside"
fi
install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$DATA_DIR"
tar --extract --file "$backup/data.tar" --directory "$DATA_DIR" --no-same-owner
chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"
say "restored $DATA_DIR; start the server (systemctl start intervention-kiosk-server)"
