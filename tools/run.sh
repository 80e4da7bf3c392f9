#!/usr/bin/env bash
# `make run`: the demo database (created with the addon and its demo data on the first run,
# updated to the current code afterwards), then the Odoo web client on localhost:$HTTP_PORT
# (WORKERS=N: N worker processes behind nginx, as in production).
set -euo pipefail
source "$(dirname "$0")/env.sh"

db_exists=$("$VPY" - "$DEMO_DB" <<'PY'
import sys, psycopg2
with psycopg2.connect(dbname="postgres") as conn, conn.cursor() as cr:
    cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [sys.argv[1]])
    print("yes" if cr.fetchone() else "no")
PY
)
if [ "$db_exists" = no ]; then
    say "Creating the demo database $DEMO_DB with group_therapy and its demo data (about a minute)"
    "$REPO_DIR/tools/odoo.sh" -d "$DEMO_DB" -i group_therapy --with-demo --stop-after-init --log-level=warn
else
    say "Updating group_therapy in the existing demo database $DEMO_DB"
    "$REPO_DIR/tools/odoo.sh" -d "$DEMO_DB" -u group_therapy --stop-after-init --log-level=warn
fi
# The server's PDF reports carry text (searchable, accessible) only with the report fonts
# installed (README, "PDFs with a text layer"): a missing font is not a reason not to start.
if command -v wkhtmltopdf >/dev/null; then
    (need_report_fonts "PDF reports with a text layer") \
        || say "Starting anyway: PDF reports will be pictures of text until those fonts are installed."
fi
say "Odoo is starting on http://localhost:$HTTP_PORT  (login: admin, password: admin; Ctrl+C stops it)"
# WORKERS=N serves it as in production: N worker processes behind nginx (see tools/serve.sh).
exec "$REPO_DIR/tools/serve.sh" "$DEMO_DB"
