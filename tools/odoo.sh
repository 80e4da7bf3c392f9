#!/usr/bin/env bash
# Runs odoo-bin from ODOO_PATH with the venv and the generated config: tools/odoo.sh [args...]
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec "$VPY" "$ODOO_PATH/odoo-bin" "$@" -c "$ODOO_CONF"
