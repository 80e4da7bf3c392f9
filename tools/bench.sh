#!/usr/bin/env bash
# `make bench`: a fresh database with the addon, then tools/bench.py in an Odoo shell. Prints one
# `bench N=...` line per size and one `open_session ...` line; writes nothing to the repository.
set -euo pipefail
source "$(dirname "$0")/env.sh"
BENCH_DB="${BENCH_DB:-group_therapy_bench}"

say "Creating a fresh database $BENCH_DB with group_therapy (about a minute)"
"$VPY" - "$BENCH_DB" <<'PY'
import sys, psycopg2
conn = psycopg2.connect(dbname="postgres")
conn.autocommit = True
with conn.cursor() as cr:
    cr.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[1].replace('"', ''))
PY
"$REPO_DIR/tools/odoo.sh" -d "$BENCH_DB" -i group_therapy --stop-after-init --log-level=warn --no-http
say "Running the benchmark (a few minutes)"
"$REPO_DIR/tools/odoo.sh" shell -d "$BENCH_DB" --no-http --log-level=warn < "$REPO_DIR/tools/bench.py" \
    | grep -E "^(==|bench |bench-detail |bench-steps |open_session |paths-)"
