#!/usr/bin/env bash
# Install or upgrade the sync server on one Debian host: user, venv, database, units, proxy.
#
# Run as root from a checkout of the project. Every step is safe to repeat, so an upgrade
# is the same command run again from the new checkout (it migrates the database). With
# --admin it reads the first administrator's password from the first line of standard
# input (or prompts for it on a terminal); the password is never an argument.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
# shellcheck source=installer/server/common.sh
. "$HERE/common.sh"

SOURCE=$(readlink -f "$HERE/../..")
PREFIX=/opt/intervention-kiosk-server
VENV=""
PYTHON=/usr/bin/python3
PIP=yes
SERVICE_USER=intervention-kiosk-server
ETC_DIR=/etc/intervention-kiosk-server
DATA_DIR=/var/lib/intervention-kiosk-server
BACKUP_DIR=/var/backups/intervention-kiosk-server
SBIN_DIR=/usr/local/sbin
SYSTEMD_DIR=/etc/systemd/system
NGINX_DIR=/etc/nginx/sites-available
NGINX_LOG_DIR=/var/log/nginx
SERVER_NAME=""
TLS_CERT=""
TLS_KEY=""
LISTEN_V4=0.0.0.0
LISTEN_V6="[::]"
HTTP_PORT=80
HTTPS_PORT=443
APP_PORT=""
WORKERS=""
DB_NAME=intervention_kiosk
OWNER=intervention_kiosk_owner
APP_ROLE=intervention_kiosk_app
ADMIN=""
START=yes

usage() {
    cat <<USAGE
usage: $PROG --server-name NAME [options] [< admin-password]
Install (or upgrade: run it again) the Intervention Kiosk sync server on this host.

  --server-name NAME      the server's DNS name, as kiosks and staff reach it (required)
  --tls-cert FILE         certificate chain for NAME [$ETC_DIR/tls/fullchain.pem]
  --tls-key FILE          its private key [$ETC_DIR/tls/privkey.pem]
  --admin USERNAME        create the first administrator (password: stdin's first line)
  --workers N             uvicorn worker processes [$(nproc), the CPU count]
  --source DIR            the project to install [$SOURCE]
  --prefix DIR            where the venv and the operator scripts go [$PREFIX]
  --venv DIR              the virtual environment [PREFIX/venv]
  --python FILE           interpreter for a new venv [$PYTHON]
  --no-pip                use the venv as it is (it must hold sync-server already)
  --user NAME             system user the server runs as [$SERVICE_USER]
  --etc-dir DIR           settings and database credentials [$ETC_DIR]
  --data-dir DIR          keys, packs, uploads [$DATA_DIR]
  --backup-dir DIR        where backup.sh writes [$BACKUP_DIR]
  --sbin-dir DIR          where intervention-kiosk-server-admin goes [$SBIN_DIR]
  --systemd-dir DIR       where the units go [$SYSTEMD_DIR]
  --nginx-dir DIR         where the nginx site goes [$NGINX_DIR]
  --nginx-log-dir DIR     nginx access and error logs [$NGINX_LOG_DIR]
  --http-port PORT        nginx plain HTTP port (redirects only) [$HTTP_PORT]
  --https-port PORT       nginx HTTPS port [$HTTPS_PORT]
  --listen-v4 ADDRESS     nginx's IPv4 address [$LISTEN_V4: all]
  --listen-v6 ADDRESS     nginx's IPv6 address, in brackets [$LISTEN_V6: all]
  --app-port PORT         the server's loopback port behind nginx [8000]
  --db-name NAME          database [$DB_NAME]
  --owner ROLE            database owner role, used for migrations [$OWNER]
  --app-role ROLE         database role the server uses [$APP_ROLE]
$PG_OPTIONS_HELP
  --no-start              write everything but do not enable or (re)start any service
  -h, --help              this help
USAGE
}

while [ $# -gt 0 ]; do
    if parse_pg_option "$@"; then
        shift 2
        continue
    fi
    case $1 in
    --no-pip) PIP=no && shift && continue ;;
    --no-start) START=no && shift && continue ;;
    -h | --help) usage && exit 0 ;;
    --server-name) need_value "$@" && SERVER_NAME=$2 ;;
    --tls-cert) need_value "$@" && TLS_CERT=$2 ;;
    --tls-key) need_value "$@" && TLS_KEY=$2 ;;
    --admin) need_value "$@" && ADMIN=$2 ;;
    --workers) need_value "$@" && WORKERS=$2 ;;
    --source) need_value "$@" && SOURCE=$2 ;;
    --prefix) need_value "$@" && PREFIX=$2 ;;
    --venv) need_value "$@" && VENV=$2 ;;
    --python) need_value "$@" && PYTHON=$2 ;;
    --user) need_value "$@" && SERVICE_USER=$2 ;;
    --etc-dir) need_value "$@" && ETC_DIR=$2 ;;
    --data-dir) need_value "$@" && DATA_DIR=$2 ;;
    --backup-dir) need_value "$@" && BACKUP_DIR=$2 ;;
    --sbin-dir) need_value "$@" && SBIN_DIR=$2 ;;
    --systemd-dir) need_value "$@" && SYSTEMD_DIR=$2 ;;
    --nginx-dir) need_value "$@" && NGINX_DIR=$2 ;;
    --nginx-log-dir) need_value "$@" && NGINX_LOG_DIR=$2 ;;
    --http-port) need_value "$@" && HTTP_PORT=$2 ;;
    --https-port) need_value "$@" && HTTPS_PORT=$2 ;;
    --listen-v4) need_value "$@" && LISTEN_V4=$2 ;;
    --listen-v6) need_value "$@" && LISTEN_V6=$2 ;;
    --app-port) need_value "$@" && APP_PORT=$2 ;;
    --db-name) need_value "$@" && DB_NAME=$2 ;;
    --owner) need_value "$@" && OWNER=$2 ;;
    --app-role) need_value "$@" && APP_ROLE=$2 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
    shift 2
done

[ "$(id -u)" -eq 0 ] || die "run as root"
# The port and workers live in server.env once it exists: edit it there (and pass the same
# --app-port here, for nginx and the health check), not by running this with other values.
if [ -f "$ETC_DIR/server.env" ]; then
    for setting in "SYNC_SERVER_PORT:--app-port:$APP_PORT" \
        "SYNC_SERVER_WORKERS:--workers:$WORKERS"; do
        IFS=: read -r key option given <<<"$setting"
        current=$(env_value "$ETC_DIR/server.env" "$key")
        [ -z "$given" ] || [ "$given" = "$current" ] ||
            die "$option $given differs from $key=$current in $ETC_DIR/server.env: edit that"
    done
    APP_PORT=$(env_value "$ETC_DIR/server.env" SYNC_SERVER_PORT)
    WORKERS=$(env_value "$ETC_DIR/server.env" SYNC_SERVER_WORKERS)
fi
APP_PORT=${APP_PORT:-8000}
WORKERS=${WORKERS:-$(nproc)}
[ -n "$SERVER_NAME" ] || die "--server-name is required (see --help)"
[[ $SERVER_NAME =~ ^[A-Za-z0-9.-]+$ ]] || die "--server-name must be a DNS name"
for port in "$WORKERS" "$HTTP_PORT" "$HTTPS_PORT" "$APP_PORT"; do
    [[ $port =~ ^[0-9]+$ ]] || die "ports and --workers are numbers, not '$port'"
done
[[ $LISTEN_V4 =~ ^[0-9.]+$ ]] || die "--listen-v4 must be an IPv4 address"
[[ $LISTEN_V6 =~ ^\[[0-9a-fA-F:]+\]$ ]] || die "--listen-v6 must be an IPv6 address in brackets"
[[ $SERVICE_USER =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "--user must be a system user name"
[ -z "$ADMIN" ] || [[ $ADMIN =~ ^[A-Za-z0-9._@-]+$ ]] || die "--admin must be a user name"
VENV=${VENV:-$PREFIX/venv}
LIBEXEC=$PREFIX/libexec
TLS_CERT=${TLS_CERT:-$ETC_DIR/tls/fullchain.pem}
TLS_KEY=${TLS_KEY:-$ETC_DIR/tls/privkey.pem}
# Paths are written into units and configs unquoted: no spaces or shell specials.
for path in "$SOURCE" "$PREFIX" "$VENV" "$ETC_DIR" "$DATA_DIR" "$BACKUP_DIR" "$SBIN_DIR" \
    "$SYSTEMD_DIR" "$NGINX_DIR" "$NGINX_LOG_DIR" "$TLS_CERT" "$TLS_KEY" "$PG_HOST"; do
    [[ $path =~ ^[A-Za-z0-9/._-]+$ ]] || die "paths may hold only A-Z a-z 0-9 / . _ -: '$path'"
done

# Read the administrator's password first, before any step can consume standard input.
admin_password=""
if [ -n "$ADMIN" ] && [ ! -t 0 ]; then
    IFS= read -r admin_password || [ -n "$admin_password" ] ||
        die "--admin: no password on standard input"
    [ -n "$admin_password" ] || die "--admin: the password on standard input is empty"
fi

# 1. The system user: no shell, no login, home is the data directory.
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "Intervention Kiosk sync server" "$SERVICE_USER"
    say "created system user $SERVICE_USER"
fi

# 2. Directories: settings readable by the service's group, data its own, backups root's.
install -d -m 0755 "$PREFIX" "$LIBEXEC"
install -d -m 0750 -o root -g "$SERVICE_USER" "$ETC_DIR"
install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$DATA_DIR"
install -d -m 0700 -o root -g root "$BACKUP_DIR"
install -d -m 0755 "$SBIN_DIR" "$SYSTEMD_DIR" "$NGINX_DIR"
install -d -m 0755 "$NGINX_LOG_DIR"

# 3. The virtual environment with the server's dependencies (not editable: a copy).
if [ "$PIP" = yes ]; then
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" </dev/null
    "$VENV/bin/python" -m pip install --quiet --upgrade pip </dev/null
    "$VENV/bin/python" -m pip install --quiet --upgrade "${SOURCE}[server]" </dev/null
    say "installed $("$VENV/bin/sync-server" --version) into $VENV"
fi
[ -x "$VENV/bin/sync-server" ] || die "$VENV/bin/sync-server is missing (drop --no-pip?)"

# 4. The operator scripts the units and the guide call.
for script in common.sh setup-postgres.sh backup.sh restore.sh healthcheck.sh; do
    install -m 0755 "$HERE/$script" "$LIBEXEC/$script"
done

# 5. Database credentials: made once, kept on upgrade. The server's file is readable by its
# group (intervention-kiosk-server-admin runs as the service user); the owner's by root.
url() { # url ROLE PASSWORD
    printf 'postgresql+psycopg://%s:%s@/%s?host=%s&port=%s' "$1" "$2" "$DB_NAME" \
        "$PG_HOST" "$PG_PORT"
}
owner_password=""
app_password=""
if [ ! -f "$ETC_DIR/server.env" ]; then
    owner_password=$(new_password)
    app_password=$(new_password)
    old_umask=$(umask)
    umask 0077
    cat >"$ETC_DIR/migrate.env.tmp" <<ENV
# Database owner: used by install.sh to migrate, and by nothing that serves requests.
SYNC_SERVER_DB="$(url "$OWNER" "$owner_password")"
SYNC_SERVER_DATA_DIR="$DATA_DIR"
ENV
    cat >"$ETC_DIR/server.env.tmp" <<ENV
# Intervention Kiosk sync server settings: read by systemd (EnvironmentFile=) and by
# intervention-kiosk-server-admin. Restart the service after a change.
SYNC_SERVER_DB="$(url "$APP_ROLE" "$app_password")"
SYNC_SERVER_DATA_DIR="$DATA_DIR"
SYNC_SERVER_HOST="127.0.0.1"
SYNC_SERVER_PORT="$APP_PORT"
SYNC_SERVER_WORKERS="$WORKERS"
# The proxies whose X-Forwarded-For/-Proto the server believes (nginx on this host).
FORWARDED_ALLOW_IPS="127.0.0.1"
ENV
    umask "$old_umask"
    chown root:root "$ETC_DIR/migrate.env.tmp"
    chown root:"$SERVICE_USER" "$ETC_DIR/server.env.tmp"
    chmod 0600 "$ETC_DIR/migrate.env.tmp"
    chmod 0640 "$ETC_DIR/server.env.tmp"
    mv "$ETC_DIR/migrate.env.tmp" "$ETC_DIR/migrate.env"
    mv "$ETC_DIR/server.env.tmp" "$ETC_DIR/server.env"
    say "wrote $ETC_DIR/server.env and $ETC_DIR/migrate.env (new database passwords)"
fi

# 6. Roles and database (passwords on the pipe, not in arguments); then the schema.
pg_args=(--pg-host "$PG_HOST" --pg-port "$PG_PORT" --pg-superuser "$PG_SUPERUSER"
    --pg-os-user "$PG_OS_USER")
printf '%s\n%s\n' "$owner_password" "$app_password" |
    "$HERE/setup-postgres.sh" --db-name "$DB_NAME" --owner "$OWNER" --app-role "$APP_ROLE" \
        "${pg_args[@]}"

# sync-server with one of the environment files, as root: migrate and create-staff touch
# only the database, so nothing in the data directory ends up owned by root.
sync_server_with() { # sync_server_with ENV_FILE ARGS...
    local db data_dir
    db=$(env_value "$1" SYNC_SERVER_DB)
    data_dir=$(env_value "$1" SYNC_SERVER_DATA_DIR)
    shift
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYNC_SERVER_DB="$db" \
        SYNC_SERVER_DATA_DIR="$data_dir" "$VENV/bin/sync-server" "$@"
}
sync_server_with "$ETC_DIR/migrate.env" migrate </dev/null

# 7. The first administrator.
if [ -n "$ADMIN" ]; then
    if [ -t 0 ]; then
        sync_server_with "$ETC_DIR/server.env" create-staff "$ADMIN" --role admin
    else
        printf '%s\n' "$admin_password" |
            sync_server_with "$ETC_DIR/server.env" create-staff "$ADMIN" --role admin
    fi
fi

# 8. Units, the admin command and the nginx site, filled in from the options above.
values=(
    "USER=$SERVICE_USER" "VENV=$VENV" "LIBEXEC=$LIBEXEC" "ETC_DIR=$ETC_DIR"
    "DATA_DIR=$DATA_DIR" "BACKUP_DIR=$BACKUP_DIR" "DB_NAME=$DB_NAME"
    "PG_HOST=$PG_HOST" "PG_PORT=$PG_PORT" "PG_SUPERUSER=$PG_SUPERUSER" "PG_OS_USER=$PG_OS_USER"
    "SERVER_NAME=$SERVER_NAME" "TLS_CERT=$TLS_CERT" "TLS_KEY=$TLS_KEY"
    "HTTP_PORT=$HTTP_PORT" "HTTPS_PORT=$HTTPS_PORT" "APP_PORT=$APP_PORT"
    "LISTEN_V4=$LISTEN_V4" "LISTEN_V6=$LISTEN_V6"
    "NGINX_LOG_DIR=$NGINX_LOG_DIR"
    # Redirects name the HTTPS port unless it is the default one.
    "HTTPS_AUTHORITY_PORT=$([ "$HTTPS_PORT" = 443 ] || echo ":$HTTPS_PORT")"
)
UNITS=(intervention-kiosk-server.service intervention-kiosk-server-healthcheck.service
    intervention-kiosk-server-healthcheck.timer intervention-kiosk-server-backup.service
    intervention-kiosk-server-backup.timer)
for unit in "${UNITS[@]}"; do
    render "$HERE/$unit" "$SYSTEMD_DIR/$unit" 0644 "${values[@]}"
done
render "$HERE/intervention-kiosk-server-admin" "$SBIN_DIR/intervention-kiosk-server-admin" 0755 \
    "${values[@]}"
render "$HERE/nginx.conf" "$NGINX_DIR/intervention-kiosk-server" 0644 "${values[@]}"
say "wrote the units to $SYSTEMD_DIR and the nginx site to $NGINX_DIR/intervention-kiosk-server"

if [ "$START" = no ]; then
    say "--no-start: nothing enabled or started"
    exit 0
fi

# 9. Start (or restart onto the new code) and enable the site.
if [ ! -r "$TLS_CERT" ] || [ ! -r "$TLS_KEY" ]; then
    die "no certificate at $TLS_CERT / $TLS_KEY: install them, then run this again"
fi
systemctl daemon-reload
systemctl enable --quiet intervention-kiosk-server.service \
    intervention-kiosk-server-healthcheck.timer intervention-kiosk-server-backup.timer
systemctl restart intervention-kiosk-server.service
systemctl start intervention-kiosk-server-healthcheck.timer intervention-kiosk-server-backup.timer
ln -sfn "$NGINX_DIR/intervention-kiosk-server" /etc/nginx/sites-enabled/intervention-kiosk-server
nginx -t -q
systemctl reload nginx
"$LIBEXEC/healthcheck.sh" --url "http://127.0.0.1:$APP_PORT/health" --wait 30
say "the sync server is running: https://$SERVER_NAME$([ "$HTTPS_PORT" = 443 ] ||
    echo ":$HTTPS_PORT")/dashboard/"
