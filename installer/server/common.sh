# Shared by the server installer scripts (sourced, not run): messages, options, templates, psql.
# shellcheck shell=bash

# The name each message starts with: the script that sourced this file.
PROG=$(basename "$0")

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}

say() {
    echo "$PROG: $*"
}

# need_value OPTION "$@": the option's value, or a one-line refusal.
need_value() {
    if [ $# -lt 2 ] || [ -z "$2" ]; then
        die "$1 needs a value"
    fi
}

# Identifiers go into SQL unquoted, so only plain lower-case names are accepted.
check_identifier() {
    [[ $2 =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "$1 must be a lower-case SQL name, not '$2'"
}

# Passwords go into a connection URL and SQL unescaped: long, URL-safe and quote-free.
check_password() {
    [[ $2 =~ ^[A-Za-z0-9_-]{20,}$ ]] ||
        die "$1 must be at least 20 characters of A-Z a-z 0-9 _ - (got ${#2} characters)"
}

# A random password of 32 URL-safe characters (192 bits).
new_password() {
    head -c 24 /dev/urandom | base64 | tr '+/' '-_'
}

# psql as the PostgreSQL superuser: as PG_OS_USER through runuser (peer authentication on
# Debian's local socket) when that is set, else as the calling user.
run_psql() {
    local command=(psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --host "$PG_HOST"
        --port "$PG_PORT" --username "$PG_SUPERUSER")
    as_pg_os_user "${command[@]}" "$@"
}

# As run_psql, for the PostgreSQL client tools (pg_dump, pg_restore).
run_pg_tool() {
    local tool=$1
    shift
    local command=("$tool" --host "$PG_HOST" --port "$PG_PORT" --username "$PG_SUPERUSER")
    as_pg_os_user "${command[@]}" "$@"
}

# Run a command as PG_OS_USER (from / so it need not see the caller's directory); files pass
# through standard input and output, which stay the caller's.
as_pg_os_user() {
    (
        cd /
        if [ -n "$PG_OS_USER" ] && [ "$(id -un)" != "$PG_OS_USER" ]; then
            exec runuser -u "$PG_OS_USER" -- "$@"
        fi
        exec "$@"
    )
}

# The options every script that reaches PostgreSQL as the superuser takes.
PG_HOST=/var/run/postgresql
PG_PORT=5432
PG_SUPERUSER=postgres
PG_OS_USER=postgres
# shellcheck disable=SC2034 # for the usage text of the scripts that source this file
PG_OPTIONS_HELP="  --pg-host HOST|DIR      PostgreSQL host or socket directory [$PG_HOST]
  --pg-port PORT          PostgreSQL port [$PG_PORT]
  --pg-superuser ROLE     a PostgreSQL superuser role [$PG_SUPERUSER]
  --pg-os-user USER       OS user that runs psql/pg_dump (peer authentication); empty: the
                          calling user, with ~/.pgpass or PGPASSWORD [$PG_OS_USER]"

# parse_pg_option "$@": consumes one --pg-* option into the PG_* variables; returns how many
# words it used (0 when the first word is not a --pg-* option).
parse_pg_option() {
    case $1 in
    --pg-host) need_value "$@" && PG_HOST=$2 ;;
    --pg-port) need_value "$@" && PG_PORT=$2 ;;
    --pg-superuser) need_value "$@" && PG_SUPERUSER=$2 ;;
    --pg-os-user)
        [ $# -ge 2 ] || die "$1 needs a value"
        PG_OS_USER=$2
        ;;
    *) return 1 ;;
    esac
}

# render TEMPLATE DEST MODE KEY=VALUE...: TEMPLATE with every @KEY@ replaced, written
# atomically to DEST with MODE; a placeholder left unfilled is an error.
render() {
    local template=$1 dest=$2 mode=$3
    shift 3
    local text pair key value
    text=$(<"$template")
    for pair in "$@"; do
        key=${pair%%=*}
        value=${pair#*=}
        # Quoted replacement: `&` in a value stays literal (bash 5.2 patsub_replacement).
        text=${text//"@${key}@"/"$value"}
    done
    if [[ $text =~ @[A-Z_]+@ ]]; then
        die "$template: no value for ${BASH_REMATCH[0]}"
    fi
    local tmp
    tmp=$(mktemp "$(dirname "$dest")/.tmp-XXXXXX")
    printf '%s\n' "$text" >"$tmp"
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$dest"
}

# env_value FILE KEY: the value of KEY="..." in an environment file written by install.sh.
env_value() {
    local line
    line=$(grep -E "^$2=" "$1" | tail -n 1) || die "$1 sets no $2"
    line=${line#*=}
    line=${line#\"}
    printf '%s\n' "${line%\"}"
}
