#!/usr/bin/env bash
# `make pot`: regenerates i18n/group_therapy.pot from a fresh database with the addon installed
# (POT_DB, default group_therapy_pot; dropped again afterwards). The result is deterministic:
# running it again on an unchanged addon changes nothing. `make test` fails when the committed
# file no longer matches the code ("run make pot").
set -euo pipefail
source "$(dirname "$0")/env.sh"
POT_DB="${POT_DB:-group_therapy_pot}"
POT_FILE="$REPO_DIR/i18n/group_therapy.pot"

drop_pot_db() {
    "$VPY" - "$POT_DB" <<'PY'
import sys, psycopg2
conn = psycopg2.connect(dbname="postgres")
conn.autocommit = True
with conn.cursor() as cr:
    cr.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[1].replace('"', ''))
PY
    rm -rf "$BUILD_DIR/data/filestore/$POT_DB"
}
drop_pot_db
trap 'drop_pot_db; rm -f "$POT_FILE.new"' EXIT
say "Installing group_therapy into a fresh database $POT_DB (about a minute)"
"$REPO_DIR/tools/odoo.sh" -d "$POT_DB" -i group_therapy --stop-after-init --no-http --log-level=warn
mkdir -p "$(dirname "$POT_FILE")"
rm -f "$POT_FILE.new"
POT_OUTPUT="$POT_FILE.new" "$REPO_DIR/tools/odoo.sh" shell -d "$POT_DB" --no-http --log-level=warn \
    < "$REPO_DIR/tools/pot_export.py" > /dev/null
mv "$POT_FILE.new" "$POT_FILE"
say "Wrote ${POT_FILE#"$REPO_DIR/"} ($(grep -c '^msgid ' "$POT_FILE") terms)"
