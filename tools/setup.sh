#!/usr/bin/env bash
# Idempotent set-up shared by `make run`, `make test`, `make lint`: finds (or clones) Odoo 19,
# builds the venv, checks PostgreSQL, and presents this checkout to Odoo as `group_therapy`.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# --- Odoo 19 ----------------------------------------------------------------------------
if [ -f "$ODOO_PATH/odoo-bin" ] && [ -f "$ODOO_PATH/odoo/release.py" ]; then
    :
elif [ -e "$ODOO_PATH" ] && [ -n "$(ls -A "$ODOO_PATH" 2>/dev/null)" ]; then
    die "ODOO_PATH=$ODOO_PATH exists but holds no Odoo (no odoo-bin / odoo/release.py).
       Point ODOO_PATH at an Odoo 19 source tree, or remove that folder to let 'make' clone one."
else
    say "No Odoo at $ODOO_PATH: cloning branch $ODOO_BRANCH of $ODOO_REPO_URL (a few minutes)"
    mkdir -p "$(dirname "$ODOO_PATH")"
    git clone --depth 1 --single-branch -b "$ODOO_BRANCH" "$ODOO_REPO_URL" "$ODOO_PATH" \
        || die "Could not clone Odoo from $ODOO_REPO_URL. Set ODOO_PATH to an existing Odoo 19 tree,
       or ODOO_REPO_URL to a reachable copy of https://github.com/odoo/odoo."
fi
odoo_series=$(sed -n 's/^version_info = (\([0-9]*\), \([0-9]*\),.*/\1.\2/p' "$ODOO_PATH/odoo/release.py")
[ "$odoo_series" = "19.0" ] || die "ODOO_PATH=$ODOO_PATH is Odoo $odoo_series; this addon needs Odoo 19.0."

# --- Debian build headers -----------------------------------------------------------------
# Odoo's requirements compile psycopg2 (libpq) and python-ldap (OpenLDAP + SASL headers) with a C
# compiler and Python's own headers, and Debian's python3 makes virtual environments only with
# python3-venv. On a bare Debian/Ubuntu machine all of these are missing: install them when
# running as root, otherwise say exactly what to run.
if command -v dpkg-query >/dev/null; then
    missing=()
    for pkg in libpq-dev libldap2-dev libsasl2-dev; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    command -v gcc >/dev/null || missing+=(gcc)
    "$PYTHON" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
        || missing+=(python3-dev)
    [ -x "$VPY" ] || "$PYTHON" -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "Installing Debian's build headers for Odoo's requirements: ${missing[*]}"
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null \
                || die "Could not install ${missing[*]} with apt-get."
        else
            die "Odoo's requirements need build headers that are missing. Run:
       sudo apt-get install ${missing[*]}"
        fi
    fi
fi

# --- Python virtual environment -----------------------------------------------------------
if [ ! -x "$VPY" ]; then
    "$PYTHON" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 13)))' \
        || die "$PYTHON is $("$PYTHON" -V 2>&1); Odoo 19 needs Python 3.10 to 3.13 (set PYTHON=...)."
    say "Creating the virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
requirements=("$ODOO_PATH/requirements.txt" "$REPO_DIR/requirements.txt" "$REPO_DIR/tools/requirements-dev.txt")
wanted=$(cat "${requirements[@]}" | sha256sum | cut -c1-16)
# One stamp per set of requirements: checkouts of different versions sharing this venv each
# install their set once instead of reinstalling in turn, and one install runs at a time.
stamp="$VENV/.group_therapy-requirements-$wanted"
if [ ! -e "$stamp" ]; then
    exec 8>"$VENV/.group_therapy-install.lock"
    command -v flock >/dev/null && flock 8
    if [ ! -e "$stamp" ]; then
        say "Installing Odoo's and the addon's requirements and the test tools into $VENV (first run: a few minutes)"
        # Odoo 19 pins gevent 22.10 for Python 3.11, which imports pkg_resources: setuptools 81+
        # no longer ships it and a multi-worker server's long-polling worker would crash-loop.
        "$VPY" -m pip install -q --upgrade pip wheel "setuptools<81"
        "$VPY" -m pip install -q "${requirements[@]/#/--requirement=}" \
            || die "pip could not install Odoo's requirements. On Debian/Ubuntu install the build headers:
       apt-get install gcc python3-dev libpq-dev libldap2-dev libsasl2-dev"
        touch "$stamp"
    fi
    exec 8>&-
fi

# --- PostgreSQL ---------------------------------------------------------------------------
pg_error=$("$VPY" - <<'PY' 2>&1
import psycopg2, sys
try:
    conn = psycopg2.connect(dbname="postgres")
except psycopg2.OperationalError as exc:
    sys.exit(str(exc).strip())
with conn.cursor() as cr:
    cr.execute("SELECT current_user, rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
    user, can_create = cr.fetchone()
if user == "postgres":
    sys.exit("Odoo refuses to run as the 'postgres' role: set DB_USER to another role.")
if not can_create:
    sys.exit(f"The PostgreSQL role '{user}' may not create databases: ALTER ROLE \"{user}\" CREATEDB;")
PY
) || die "PostgreSQL is not usable: $pg_error
       Start it (e.g. 'pg_ctlcluster 15 main start' or 'systemctl start postgresql'), and make sure
       your role exists and may create databases: sudo -u postgres createuser --createdb \$USER
       (or set DB_HOST / DB_PORT / DB_USER)."

# --- present the checkout to Odoo as `group_therapy` -------------------------------------
mkdir -p "$ADDONS_DIR" "$BUILD_DIR/data"
ln -sfn "$REPO_DIR" "$ADDONS_DIR/group_therapy"
# A development key for the chart notes' integrity hashes (README, "The integrity key"), made
# once per checkout and kept beside its databases' files: `make run`, the tests and the dev
# loop sign with it. `make clean` deletes it; notes signed with it then cannot be verified.
integrity_key_file="$BUILD_DIR/integrity.key"
if [ ! -s "$integrity_key_file" ]; then
    (umask 077 && "$VPY" -c 'import secrets; print(secrets.token_hex(32))' > "$integrity_key_file")
fi
(umask 077 && cat > "$ODOO_CONF" <<CONF
[options]
addons_path = $ODOO_PATH/odoo/addons,$ODOO_PATH/addons,$ADDONS_DIR
data_dir = $BUILD_DIR/data
http_interface = 127.0.0.1
http_port = $HTTP_PORT
CONF
)
chmod 600 "$ODOO_CONF"
[ -z "$DB_HOST" ] || echo "db_host = $DB_HOST" >> "$ODOO_CONF"
[ -z "$DB_PORT" ] || echo "db_port = $DB_PORT" >> "$ODOO_CONF"
[ -z "$DB_USER" ] || echo "db_user = $DB_USER" >> "$ODOO_CONF"
printf '\n[group_therapy]\nintegrity_key = %s\n' "$(cat "$integrity_key_file")" >> "$ODOO_CONF"
