#!/usr/bin/env bash
# Prepare a Debian/Ubuntu machine to run and test the project; safe to run again.
#
#  - Debian packages: PostgreSQL with PostGIS (and contrib: pg_trgm, unaccent),
#    python3-venv when the system Python needs it, and chromium for the browser tests
#    when the dev extra is installed (Playwright drives it; it never downloads one).
#    Installed with apt-get when root, with `sudo -n` when allowed, otherwise we stop
#    and name the packages to install.
#  - .venv with the project installed in editable mode, extras from OUTAGE_EXTRAS
#    (default "dev,simbench"; empty for none). Reinstalled only when pyproject.toml,
#    the extras or the Python change.
#
# Environment: PYTHON (default python3), OUTAGE_EXTRAS, VENV (default .venv).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
EXTRAS="${OUTAGE_EXTRAS-dev,simbench}"

if [ -t 2 ]; then B=$'\033[1m' R=$'\033[1;31m' N=$'\033[0m'; else B="" R="" N=""; fi
say() { printf '%sbootstrap:%s %s\n' "$B" "$N" "$*" >&2; }
die() { printf '%sbootstrap: error:%s %s\n' "$R" "$N" "$*" >&2; exit 1; }

# --- Debian packages --------------------------------------------------------------------

APT_UPDATED=0

apt_lists_empty() {
    ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

apt_install() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "missing Debian packages: $*. Install them as root, e.g.:
    sudo apt-get install -y $*
then run this script again."
        fi
    fi
    command -v apt-get >/dev/null 2>&1 \
        || die "no apt-get on this machine; install these (or their equivalents): $*"
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
    if apt_lists_empty && [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update (package lists are empty)"
        "${apt[@]}" update -q && APT_UPDATED=1
    fi
    say "apt-get install $*"
    if ! "${apt[@]}" install -y -q --no-install-recommends --no-upgrade "$@"; then
        [ "$APT_UPDATED" -eq 0 ] || die "apt-get install $* failed"
        say "install failed; apt-get update and retry"
        "${apt[@]}" update -q && APT_UPDATED=1
        "${apt[@]}" install -y -q --no-install-recommends --no-upgrade "$@" \
            || die "apt-get install $* failed"
    fi
}

# Newest PostgreSQL major version whose server is installed (empty when none).
pg_major() {
    local d v best=""
    for d in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$d" ] || continue
        v="${d#/usr/lib/postgresql/}"
        v="${v%%/*}"
        case "$v" in '' | *[!0-9]*) continue ;; esac
        if [ -z "$best" ] || [ "$v" -gt "$best" ]; then best="$v"; fi
    done
    printf '%s' "$best"
}

has_ext() { [ -f "/usr/share/postgresql/$1/extension/$2.control" ]; }

ensure_postgres() {
    local v
    v="$(pg_major)"
    if [ -z "$v" ]; then
        apt_install postgresql postgresql-contrib
        v="$(pg_major)"
        [ -n "$v" ] || die "postgresql installed but no server found under /usr/lib/postgresql"
    fi
    local want=()
    has_ext "$v" postgis || want+=("postgresql-$v-postgis-3")
    { has_ext "$v" pg_trgm && has_ext "$v" unaccent; } || want+=(postgresql-contrib)
    if [ "${#want[@]}" -gt 0 ]; then
        apt_install "${want[@]}"
    fi
    has_ext "$v" postgis || die "PostGIS for PostgreSQL $v is still missing"
    say "PostgreSQL $v with PostGIS: ok"
}

# The browser tests drive the system's Chromium; only developers need it.
ensure_chromium() {
    case ",$EXTRAS," in
        *,dev,*) ;;
        *) return 0 ;;
    esac
    command -v chromium >/dev/null 2>&1 || apt_install chromium
    command -v chromium >/dev/null 2>&1 || die "chromium installed but not on PATH"
    say "Chromium for the browser tests: ok"
}

# --- Python -------------------------------------------------------------------------------

ensure_python() {
    command -v "$PYTHON" >/dev/null 2>&1 \
        || die "$PYTHON not found: install Python 3.11 or newer (Debian: apt-get install python3)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$("$PYTHON" -V 2>&1) is too old: Python 3.11 or newer is needed (set PYTHON=...)"
    if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        [ "$(command -v "$PYTHON")" = /usr/bin/python3 ] \
            || die "$PYTHON cannot create virtual environments (no ensurepip/venv module)"
        apt_install python3-venv
    fi
}

ensure_venv() {
    if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        say "$VENV is broken; recreating it"
        rm -rf "$VENV"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV with $("$PYTHON" -V 2>&1)"
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$VENV has $("$VENV/bin/python" -V 2>&1); remove it and run again"

    local target="."
    [ -z "$EXTRAS" ] || target=".[$EXTRAS]"
    local stamp="$VENV/.outage-bootstrap"
    local want
    want="$(
        {
            printf '%s\n' "$target"
            "$VENV/bin/python" -VV
            cat pyproject.toml
        } | sha256sum | cut -d' ' -f1
    )"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
        && [ -x "$VENV/bin/outage" ]; then
        say "$VENV is up to date"
        return
    fi
    say "pip install -e '$target'"
    "$VENV/bin/python" -m pip install -e "$target"
    printf '%s\n' "$want" >"$stamp"
}

ensure_postgres
ensure_chromium
ensure_python
ensure_venv
say "ready: $VENV/bin/outage"
