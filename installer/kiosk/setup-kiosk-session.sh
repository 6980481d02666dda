#!/usr/bin/env bash
# Make a Debian 12 machine an Intervention Kiosk: the Debian packages the app's libraries come
# from (packages.txt), a locked `kiosk` account, the app bundle in /opt/intervention-kiosk, the
# kiosk's 0700 data folder, and a systemd unit that signs the account in on tty1 and runs the
# app alone in the cage compositor, again whenever it ends.
#
# Usage, as root:
#
#   setup-kiosk-session.sh [--root DIR] [--now] BUNDLE
#
#   BUNDLE      the PyInstaller one-folder bundle (`make bundle` makes build/bundle/kiosk-app):
#               the folder holding the `kiosk-app` program, or a .tar.gz of that folder
#   --root DIR  prepare the system image under DIR instead of this machine: DIR/etc/passwd,
#               group, shadow and gshadow must exist; nothing outside DIR changes and nothing
#               is started
#   --now       start (or restart) the kiosk session on tty1 at the end
#
# Run again, it changes nothing unless the bundle or these files changed; a different bundle
# replaces the installed one whole. What it does and how to check it: docs/kiosk-deployment.md.
set -euo pipefail

readonly KIOSK_USER=kiosk
readonly APP_DIR=/opt/intervention-kiosk
readonly PROGRAM=kiosk-app
readonly DATA_DIR=/var/lib/intervention-kiosk
readonly UNIT=intervention-kiosk.service
readonly UNIT_DIR=/etc/systemd/system
readonly SYSCTL_FILE=/etc/sysctl.d/90-intervention-kiosk.conf
# The Debian packages whose libraries the bundle links but leaves to the OS, next to this script.
readonly PACKAGES_FILE=packages.txt
readonly NOLOGIN=/usr/sbin/nologin
# Consoles and keys a participant must not reach: the getty the kiosk replaces, and the
# Ctrl+Alt+Del reboot (live while cage restarts and tty1 is briefly a text console).
readonly MASKED_UNITS=(getty@tty1.service ctrl-alt-del.target)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE

say() { echo "setup-kiosk-session: $*"; }
die() {
    echo "setup-kiosk-session: $*" >&2
    exit 1
}
usage() { sed -n '6,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

root=""
start_now=false
bundle=""
while (($#)); do
    case "$1" in
    --root)
        (($# >= 2)) || die "--root needs a folder"
        root=$2
        shift 2
        ;;
    --root=*)
        root=${1#--root=}
        shift
        ;;
    --now)
        start_now=true
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
        [ -z "$bundle" ] || die "give one bundle, not two ($bundle, $1)"
        bundle=$1
        shift
        ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "run this as root: it creates an account and installs system files"
[ -n "$bundle" ] || die "name the bundle: the kiosk-app folder, or a .tar.gz of it (see --help)"
if [ -n "$root" ]; then
    [ -d "$root" ] || die "--root $root is not a folder"
    root=$(cd "$root" && pwd -P)
    [ "$root" != / ] || root=""
fi
if [ -n "$root" ]; then
    ! $start_now || die "--now starts the session on this machine; it makes no sense with --root"
    for name in passwd group shadow gshadow; do
        [ -f "$root/etc/$name" ] || die "$root/etc/$name is missing: --root must be a system image"
    done
else
    [ -d /run/systemd/system ] || die "systemd is not running here; prepare an image with --root"
fi

changed=false
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# -- the bundle, staged: root's, readable by all, writable by none but root, no set-id bits ----

stage_bundle() {
    local src=$1 unpacked="$work/unpacked" entries
    mkdir "$unpacked"
    if [ -d "$src" ]; then
        cp -a --no-preserve=ownership "$src/." "$unpacked/"
    elif [ -f "$src" ]; then
        case "$src" in
        *.tar.gz | *.tgz) tar -xzf "$src" -C "$unpacked" --no-same-owner || die "cannot unpack $src" ;;
        *) die "$src is neither a folder nor a .tar.gz" ;;
        esac
    else
        die "there is no bundle at $src"
    fi
    if [ -f "$unpacked/$PROGRAM" ]; then
        staged=$unpacked
    else # an archive usually holds the kiosk-app folder itself
        mapfile -t entries < <(find "$unpacked" -mindepth 1 -maxdepth 1)
        if ((${#entries[@]} == 1)) && [ -f "${entries[0]}/$PROGRAM" ]; then
            staged=${entries[0]}
        else
            die "$src holds no $PROGRAM program: expected the PyInstaller one-folder bundle"
        fi
    fi
    [ -x "$staged/$PROGRAM" ] || die "$PROGRAM in $src is not executable"
    chown -R --no-dereference 0:0 "$staged"
    chmod -R u=rwX,go=rX "$staged"
}

# Paths, types, modes, owners and link targets, one line each, in a stable order.
tree_listing() { (cd "$1" && find . -printf '%P\t%y\t%m\t%U\t%G\t%l\n' | LC_ALL=C sort); }

same_tree() {
    [ -d "$2" ] && [ ! -L "$2" ] || return 1
    [ "$(tree_listing "$1")" = "$(tree_listing "$2")" ] || return 1
    diff -r --no-dereference -q "$1" "$2" >/dev/null 2>&1
}

install_bundle() {
    local dest="$root$APP_DIR"
    if same_tree "$staged" "$dest"; then
        say "app: $APP_DIR is up to date"
        return
    fi
    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest.new" "$dest.old"
    cp -a "$staged" "$dest.new"
    if [ -e "$dest" ] || [ -L "$dest" ]; then
        mv "$dest" "$dest.old"
    fi
    mv "$dest.new" "$dest"
    rm -rf "$dest.old"
    changed=true
    say "app: installed in $APP_DIR"
}

# -- the account --------------------------------------------------------------------------------

prefix=()
[ -z "$root" ] || prefix=(--prefix "$root")

passwd_line() {
    if [ -n "$root" ]; then
        awk -F: -v u="$KIOSK_USER" '$1 == u' "$root/etc/passwd"
    else
        getent passwd "$KIOSK_USER" || true
    fi
}

shadow_password() {
    if [ -n "$root" ]; then
        awk -F: -v u="$KIOSK_USER" '$1 == u { print $2 }' "$root/etc/shadow"
    else
        getent shadow "$KIOSK_USER" | cut -d: -f2
    fi
}

# The groups that list the account as a member (its own primary group does not).
supplementary_groups() {
    # shellcheck disable=SC2016 # an awk program, not a shell expression
    local members='{ n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) print $1 }'
    if [ -n "$root" ]; then
        awk -F: -v u="$KIOSK_USER" "$members" "$root/etc/group"
    else
        getent group | awk -F: -v u="$KIOSK_USER" "$members"
    fi
}

ensure_account() {
    local line groups _name _password home shell
    line=$(passwd_line)
    if [ -z "$line" ]; then
        # A system account: no password ageing, no subordinate ids, on no greeter.
        useradd "${prefix[@]}" --system --user-group --no-create-home --home-dir "$DATA_DIR" \
            --shell "$NOLOGIN" --comment "Intervention Kiosk session" "$KIOSK_USER"
        changed=true
        say "account: created $KIOSK_USER"
        line=$(passwd_line)
    fi
    IFS=: read -r _name _password kiosk_uid kiosk_gid _ home shell <<<"$line"
    [ "$kiosk_uid" -ne 0 ] || die "the $KIOSK_USER account has uid 0; refusing to use it"
    if [ "$shell" != "$NOLOGIN" ] || [ "$home" != "$DATA_DIR" ]; then
        usermod "${prefix[@]}" --shell "$NOLOGIN" --home "$DATA_DIR" "$KIOSK_USER"
        changed=true
        say "account: shell set to $NOLOGIN, home to $DATA_DIR"
    fi
    case "$(shadow_password)" in
    '!' | '*' | '!*' | '!!') ;;
    *)
        usermod "${prefix[@]}" --password '!' "$KIOSK_USER"
        changed=true
        say "account: password removed and locked"
        ;;
    esac
    groups=$(supplementary_groups)
    if [ -n "$groups" ]; then
        usermod "${prefix[@]}" --groups '' "$KIOSK_USER"
        changed=true
        say "account: taken out of the groups $(echo "$groups" | paste -sd, -)"
    fi
}

# -- the data folder ----------------------------------------------------------------------------

ensure_data_dir() {
    local dir="$root$DATA_DIR" stranger
    [ ! -L "$dir" ] || die "$dir is a symbolic link; refusing to use it"
    if [ ! -d "$dir" ]; then
        mkdir -p "$(dirname "$dir")"
        install -d -m 0700 -o "$kiosk_uid" -g "$kiosk_gid" "$dir"
        changed=true
        say "data: created $DATA_DIR (mode 0700, the $KIOSK_USER account's)"
    elif [ "$(stat -c '%u:%g %a' "$dir")" != "$kiosk_uid:$kiosk_gid 700" ]; then
        chown "$kiosk_uid:$kiosk_gid" "$dir"
        chmod 0700 "$dir"
        changed=true
        say "data: $DATA_DIR made the $KIOSK_USER account's, mode 0700"
    fi
    # Not changed here: a recursive chown by root inside a folder another account writes to
    # is how hard-link tricks take over files. Say what is wrong instead.
    stranger=$(find "$dir" -mindepth 1 ! -uid "$kiosk_uid" -print -quit)
    if [ -n "$stranger" ]; then
        say "warning: ${stranger#"$root"} is not the $KIOSK_USER account's, so the kiosk cannot" \
            "use it (was kiosk-app run as root?); see docs/kiosk-deployment.md"
    fi
}

# -- systemd units and settings -----------------------------------------------------------------

# Copy SRC to DEST with MODE unless it is there already; true if it copied.
install_file() {
    local src=$1 dest=$2 mode=$3
    if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s "$src" "$dest" &&
        [ "$(stat -c '%u:%g %a' "$dest")" = "0:0 ${mode#0}" ]; then
        return 1
    fi
    mkdir -p "$(dirname "$dest")"
    install -m "$mode" -o 0 -g 0 "$src" "$dest"
    say "file: installed ${dest#"$root"}"
}

systemctl_() {
    if [ -n "$root" ]; then
        systemctl --root="$root" "$@"
    else
        systemctl "$@"
    fi
}

unit_state() { systemctl_ is-enabled "$1" 2>/dev/null || true; }

ensure_units() {
    if install_file "$HERE/$UNIT" "$root$UNIT_DIR/$UNIT" 0644; then
        changed=true
        units_changed=true
    fi
    if install_file "$HERE/$(basename "$SYSCTL_FILE")" "$root$SYSCTL_FILE" 0644; then
        changed=true
        sysctl_changed=true
    fi
    if [ "$(unit_state "$UNIT")" != enabled ]; then
        systemctl_ --quiet enable "$UNIT"
        changed=true
        say "systemd: $UNIT enabled"
    fi
    for unit in "${MASKED_UNITS[@]}"; do
        if [ "$(unit_state "$unit")" != masked ]; then
            systemctl_ --quiet mask "$unit"
            changed=true
            say "systemd: $unit masked"
        fi
    done
    if [ "$(systemctl_ get-default)" != graphical.target ]; then
        systemctl_ --quiet set-default graphical.target
        changed=true
        say "systemd: boots to graphical.target"
    fi
}

# cage, and Xwayland: Debian 12's cage (0.1.4) will not start without it ("Cannot create
# XWayland server"), yet its package does not depend on it.
ensure_cage() {
    if [ -n "$root" ]; then
        [ -x "$root/usr/bin/cage" ] || say "warning: $root/usr/bin/cage is missing: put the" \
            "Debian package cage in the image"
        [ -x "$root/usr/bin/Xwayland" ] || say "warning: $root/usr/bin/Xwayland is missing:" \
            "put the Debian package xwayland in the image (cage will not start without it)"
    elif ! command -v cage >/dev/null || ! command -v Xwayland >/dev/null; then
        command -v apt-get >/dev/null || die "install the Wayland kiosk compositor cage and" \
            "xwayland first"
        say "installing the Debian packages cage and xwayland"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q cage xwayland >/dev/null
        changed=true
    fi
}

# -- the Debian packages the app's libraries come from ------------------------------------------

# The packages packages.txt names, one a line.
listed_packages() { sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$HERE/$PACKAGES_FILE"; }

# Those of them not installed, by the package database in ADMINDIR.
missing_packages() {
    local admindir=$1 installed
    # shellcheck disable=SC2016 # a dpkg-query format, not a shell expression
    installed=$(dpkg-query --admindir="$admindir" -W -f='${Package}\t${db:Status-Status}\n' \
        2>/dev/null | awk -F'\t' '$2 == "installed" { print $1 }' | LC_ALL=C sort -u) || true
    LC_ALL=C comm -23 <(listed_packages | LC_ALL=C sort -u) <(printf '%s\n' "$installed")
}

ensure_packages() {
    local admindir="$root/var/lib/dpkg" missing
    [ -f "$HERE/$PACKAGES_FILE" ] || die "$HERE/$PACKAGES_FILE is missing: copy the whole" \
        "installer/kiosk folder"
    if [ -n "$root" ] && [ ! -f "$admindir/status" ]; then
        say "warning: $root has no Debian package database: put the packages in" \
            "$PACKAGES_FILE in the image"
        return
    fi
    mapfile -t missing < <(missing_packages "$admindir")
    ((${#missing[@]})) || return 0
    if [ -n "$root" ]; then
        say "warning: the image lacks Debian packages the app needs: ${missing[*]}"
    else
        command -v apt-get >/dev/null || die "install the Debian packages ${missing[*]} first"
        say "installing the Debian packages the app needs: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >/dev/null
        changed=true
    fi
}

# -- in order: check everything that can be wrong before changing anything -------------------------

staged=""
kiosk_uid=""
kiosk_gid=""
units_changed=false
sysctl_changed=false

stage_bundle "$bundle"
ensure_cage
ensure_packages
ensure_account
install_bundle
ensure_data_dir
ensure_units

if [ -z "$root" ]; then
    if $units_changed; then
        systemctl daemon-reload
    fi
    if $sysctl_changed; then
        sysctl --quiet --load "$SYSCTL_FILE"
    fi
    if $start_now; then
        systemctl restart "$UNIT"
        say "the kiosk session is starting on tty1"
    elif $changed && systemctl --quiet is-active "$UNIT"; then
        say "the running session keeps the old version until 'systemctl restart $UNIT'"
    fi
fi

if $changed; then
    say "done"
else
    say "done; nothing needed changing"
fi
