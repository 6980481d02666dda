#!/usr/bin/env bash
# Back up the sync server: the database (pg_dump -Fc) and the data directory (escrow key,
# certificate key, publisher keys, packs) in one file, encrypted with age.
set -euo pipefail
# shellcheck source=installer/server/common.sh
. "$(dirname "$(readlink -f "$0")")/common.sh"

DB_NAME=intervention_kiosk
DATA_DIR=/var/lib/intervention-kiosk-server
BACKUP_DIR=/var/backups/intervention-kiosk-server
RECIPIENTS=()
RECIPIENTS_FILE=""
UNENCRYPTED=no
KEEP_DAYS=""

usage() {
    cat <<USAGE
usage: $PROG (--recipient AGE_RECIPIENT... | --recipients-file FILE | --unencrypted) [options]
Write BACKUP_DIR/intervention-kiosk-server-<UTC time>.tar.age (mode 0600): a tar of database.dump
(pg_dump custom format), data.tar (the data directory) and SHA256SUMS, encrypted with age.

  --recipient R           an age recipient (age1...) that can decrypt it; repeatable
  --recipients-file FILE  a file of age recipients, one per line
  --unencrypted           write a plain .tar instead (it holds personal data and keys)
  --db-name NAME          database [$DB_NAME]
  --data-dir DIR          the server's data directory [$DATA_DIR]
  --backup-dir DIR        where backups go [$BACKUP_DIR]
  --keep-days N           then delete backups in BACKUP_DIR older than N days
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
    --unencrypted) UNENCRYPTED=yes && shift && continue ;;
    -h | --help) usage && exit 0 ;;
    --recipient) need_value "$@" && RECIPIENTS+=("$2") ;;
    --recipients-file) need_value "$@" && RECIPIENTS_FILE=$2 ;;
    --db-name) need_value "$@" && DB_NAME=$2 ;;
    --data-dir) need_value "$@" && DATA_DIR=$2 ;;
    --backup-dir) need_value "$@" && BACKUP_DIR=$2 ;;
    --keep-days) need_value "$@" && KEEP_DAYS=$2 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
    shift 2
done
check_identifier --db-name "$DB_NAME"
[ -z "$KEEP_DAYS" ] || [[ $KEEP_DAYS =~ ^[1-9][0-9]*$ ]] || die "--keep-days takes a number of days"
[ -d "$DATA_DIR" ] || die "no data directory $DATA_DIR"
[ -d "$BACKUP_DIR" ] || die "no backup directory $BACKUP_DIR"

age_args=()
for recipient in "${RECIPIENTS[@]}"; do
    age_args+=(--recipient "$recipient")
done
if [ -n "$RECIPIENTS_FILE" ]; then
    [ -s "$RECIPIENTS_FILE" ] ||
        die "no recipients in $RECIPIENTS_FILE: put the backup key's age recipient there"
    age_args+=(--recipients-file "$RECIPIENTS_FILE")
fi
if [ ${#age_args[@]} -eq 0 ] && [ "$UNENCRYPTED" = no ]; then
    die "a backup holds personal data and the server's keys: give --recipient or" \
        "--recipients-file (age), or --unencrypted to store it in the clear"
fi
[ ${#age_args[@]} -eq 0 ] || command -v age >/dev/null || die "age is missing (apt install age)"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
name=intervention-kiosk-server-$stamp
umask 0077
work=$(mktemp -d "$BACKUP_DIR/.work-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/$name"

# The database first: a pack file is in place before its row commits and is never deleted,
# so every pack the dump names is in the copy of the directory taken after it.
run_pg_tool pg_dump --format=custom --dbname "$DB_NAME" </dev/null >"$work/$name/database.dump"
tar --create --file "$work/$name/data.tar" --directory "$DATA_DIR" \
    --exclude=./uploads --exclude='.tmp-*' .
(cd "$work/$name" && sha256sum database.dump data.tar >SHA256SUMS)

if [ ${#age_args[@]} -gt 0 ]; then
    out=$BACKUP_DIR/$name.tar.age
    tar --create --file - --directory "$work" "$name" |
        age --encrypt "${age_args[@]}" --output "$work/out"
else
    out=$BACKUP_DIR/$name.tar
    tar --create --file "$work/out" --directory "$work" "$name"
fi
chmod 0600 "$work/out"
mv "$work/out" "$out"
say "wrote $out ($(stat -c %s "$out") bytes)"

if [ -n "$KEEP_DAYS" ]; then
    find "$BACKUP_DIR" -maxdepth 1 -type f -name 'intervention-kiosk-server-*.tar*' \
        -mtime +"$KEEP_DAYS" -print -delete | sed "s/^/$PROG: deleted /"
fi
