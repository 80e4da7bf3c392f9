#!/usr/bin/env bash
# `make test`: a fresh test database with the addon installed, Odoo's own test runner on the
# addon's tests, pytest-odoo on the same database, a multi-worker smoke test on a copy of it,
# then an uninstall check. Exits non-zero on any failure, error, ERROR/CRITICAL log line, or
# warning logged by the addon itself, and ends with one summary line in pytest's form:
# "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/env.sh"

LOG_DIR="$BUILD_DIR/test-logs"
TEST_HTTP_PORT="${TEST_HTTP_PORT:-8169}"
mkdir -p "$LOG_DIR"
passed=0
failed=0
problems=()

# Tours drive a headless Chromium (Debian's package is the only browser we use); chart notes and
# superbills are PDFs rendered by wkhtmltopdf, as in any Odoo, with the report fonts installed so
# that they carry text, which the tests read back with pdftotext.
command -v chromium-browser >/dev/null || need_debian_package chromium chromium "the browser tours"
need_debian_package wkhtmltopdf wkhtmltopdf "the PDF report tests"
need_debian_package pdftotext poppler-utils "the PDF report tests"
need_report_fonts "the PDF report tests"

say "Creating a fresh database $TEST_DB"
"$VPY" - "$TEST_DB" <<'PY' || die "Could not drop the old test database $TEST_DB (is a server still using it?)"
import sys, psycopg2
conn = psycopg2.connect(dbname="postgres")
conn.autocommit = True
with conn.cursor() as cr:
    cr.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[1].replace('"', ''))
PY
rm -rf "$BUILD_DIR/data/filestore/$TEST_DB"

# --- 1. Odoo's runner: install the addon (and its dependencies) and run its tests ----------
odoo_log="$LOG_DIR/odoo.log"
say "Installing group_therapy and running its tests with Odoo's runner (log: $odoo_log)"
# Odoo 19's tag parser reads "/group_therapy" as a file path because the name ends in "py"
# (its regex has an unescaped ".py"), which selects no test at all. The module name as a tag
# selects exactly this addon's tests, so that is what we pass.
"$REPO_DIR/tools/odoo.sh" -d "$TEST_DB" -i group_therapy --test-enable --test-tags group_therapy \
    --stop-after-init --log-level=test --http-port="$TEST_HTTP_PORT" \
    --screenshots="$BUILD_DIR/screenshots" 2>&1 \
    | tee "$odoo_log" | grep -E --line-buffered " (ERROR|CRITICAL|WARNING) | odoo\.addons\.group_therapy\.| tests when loading database|^(FAIL|ERROR):" \
    | grep -v "odoo.modules.loading: loading" || true
report=$(grep -oE "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database" "$odoo_log" | tail -1)
if [ -z "$report" ]; then
    problems+=("Odoo's runner did not finish (no test report in $odoo_log)")
    failed=$((failed + 1))
else
    read -r o_failed o_errors o_total < <(echo "$report" | sed -E 's/([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/')
    passed=$((passed + o_total - o_failed - o_errors))
    failed=$((failed + o_failed + o_errors))
    say "Odoo's runner: $((o_total - o_failed - o_errors)) passed, $((o_failed + o_errors)) failed"
    [ "$o_total" -gt 0 ] || problems+=("Odoo's runner ran no test")
fi
# Any ERROR/CRITICAL line fails the run; so does a warning our own addon logs.
log_errors=$(grep -cE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$odoo_log")
addon_warnings=$(grep -cE "^[0-9-]+ [0-9:,]+ [0-9]+ WARNING \S+ odoo\.addons\.group_therapy" "$odoo_log")
[ "$log_errors" = 0 ] || problems+=("$log_errors ERROR/CRITICAL line(s) in $odoo_log")
[ "$addon_warnings" = 0 ] || problems+=("$addon_warnings warning(s) logged by group_therapy in $odoo_log")

# --- 2. pytest-odoo on the same database ------------------------------------------------
pytest_log="$LOG_DIR/pytest.log"
say "Running the same tests with pytest-odoo (log: $pytest_log)"
# Give pytest the path through the symlink: the module name comes from the folder name.
(cd "$BUILD_DIR" && "$VENV/bin/pytest" -p no:cacheprovider -q --rootdir="$BUILD_DIR" \
    --odoo-config="$ODOO_CONF" --odoo-database="$TEST_DB" --odoo-log-level=warn \
    -W "ignore:the load_module() method is deprecated:DeprecationWarning" \
    "$ADDONS_DIR/group_therapy/tests") 2>&1 | tee "$pytest_log" | tail -n 25
p_line=$(grep -E "^=*\s*[0-9]+ (passed|failed|error)" "$pytest_log" | tail -1)
count() { echo "$p_line" | grep -oE "[0-9]+ ($1)" | awk '{n += $1} END {print n + 0}'; }
p_passed=$(count passed)
p_failed=$(count "failed|errors?")
if [ -z "$p_line" ]; then
    problems+=("pytest-odoo ran no test (see $pytest_log)")
    failed=$((failed + 1))
fi
passed=$((passed + p_passed))
failed=$((failed + p_failed))

# --- 3. the committed translation template is current ---------------------------------------
# Exported from the test database (the addon is installed there already), compared term by term.
pot_log="$LOG_DIR/pot.log"
say "Checking i18n/group_therapy.pot against the code (log: $pot_log)"
if POT_OUTPUT="$LOG_DIR/group_therapy.pot" "$REPO_DIR/tools/odoo.sh" shell -d "$TEST_DB" --no-http \
        --log-level=warn < "$REPO_DIR/tools/pot_export.py" > "$pot_log" 2>&1 \
        && "$VPY" "$REPO_DIR/tools/pot_check.py" "$REPO_DIR/i18n/group_therapy.pot" \
            "$LOG_DIR/group_therapy.pot" >> "$pot_log" 2>&1; then
    passed=$((passed + 1))
    tail -n 1 "$pot_log"
else
    failed=$((failed + 1))
    tail -n 25 "$pot_log"
    problems+=("i18n/group_therapy.pot does not match the code: run make pot (see $pot_log)")
fi

# --- 4. a production-style server: worker processes, gevent worker, nginx -------------------
# A copy of the test database, served by tools/serve.sh (what `WORKERS=N make run` runs) on a free
# port in its own process group, driven over HTTP by tools/smoke.py, then stopped: whatever
# happens, nothing of it is left running and the copy is dropped.
smoke_db="${TEST_DB}_smoke"
smoke_log="$LOG_DIR/smoke-server.log"
smoke_pid=
copy_database() {  # source target ("" as source: drop the target only)
    "$VPY" - "$1" "$2" <<'PY'
import sys, psycopg2
source, target = sys.argv[1], sys.argv[2]
conn = psycopg2.connect(dbname="postgres")
conn.autocommit = True
with conn.cursor() as cr:
    cr.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % target.replace('"', ''))
    if source:
        cr.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (target.replace('"', ''), source.replace('"', '')))
PY
    rm -rf "$BUILD_DIR/data/filestore/$2"
    if [ -n "$1" ] && [ -d "$BUILD_DIR/data/filestore/$1" ]; then
        cp -a "$BUILD_DIR/data/filestore/$1" "$BUILD_DIR/data/filestore/$2"
    fi
}
stop_smoke_server() {
    [ -n "$smoke_pid" ] || return 0
    kill -TERM "$smoke_pid" 2>/dev/null  # serve.sh stops Odoo and nginx in order
    for _ in $(seq 60); do kill -0 -- "-$smoke_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$smoke_pid" 2>/dev/null  # anything of its process group still there
    wait "$smoke_pid" 2>/dev/null
    smoke_pid=
}
trap 'stop_smoke_server; copy_database "" "$smoke_db" >/dev/null 2>&1' EXIT
smoke_port=$(free_ports 1)
say "Smoke test: WORKERS=2 server on port $smoke_port (log: $smoke_log)"
if copy_database "$TEST_DB" "$smoke_db"; then
    WORKERS=2 HTTP_PORT="$smoke_port" setsid "$REPO_DIR/tools/serve.sh" "$smoke_db" \
        --max-cron-threads=0 --log-level=info > "$smoke_log" 2>&1 < /dev/null &
    smoke_pid=$!
    if "$VPY" "$REPO_DIR/tools/smoke.py" "http://127.0.0.1:$smoke_port" "$smoke_db" "$smoke_pid" \
            "$smoke_log"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        problems+=("the multi-worker smoke test failed (see $smoke_log)")
        tail -n 20 "$smoke_log"
    fi
    stop_smoke_server
else
    failed=$((failed + 1))
    problems+=("could not copy $TEST_DB to $smoke_db for the smoke test")
fi
copy_database "" "$smoke_db"

# --- 5. the addon uninstalls cleanly --------------------------------------------------------
uninstall_log="$LOG_DIR/uninstall.log"
say "Uninstalling group_therapy from $TEST_DB (log: $uninstall_log)"
if "$REPO_DIR/tools/odoo.sh" shell -d "$TEST_DB" --no-http --log-level=warn \
        < "$REPO_DIR/tools/check_uninstall.py" > "$uninstall_log" 2>&1 \
        && grep -q "^UNINSTALL OK" "$uninstall_log" \
        && ! grep -qE " (ERROR|CRITICAL) " "$uninstall_log"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    problems+=("the addon does not uninstall cleanly (see $uninstall_log)")
    tail -n 20 "$uninstall_log"
fi

# --- 6. the demo database of `make run` installs ------------------------------------------------
# The tests build their own data; demo data is loaded only here. Odoo also checks that every mail
# template renders (on an empty record) when demo data is installed.
demo_db="${TEST_DB}_demo"
demo_log="$LOG_DIR/demo-install.log"
say "Installing group_therapy with its demo data into $demo_db (log: $demo_log)"
copy_database "" "$demo_db"
if "$REPO_DIR/tools/odoo.sh" -d "$demo_db" -i group_therapy --with-demo --stop-after-init \
        --no-http --log-level=warn > "$demo_log" 2>&1 \
        && ! grep -qE " (ERROR|CRITICAL) " "$demo_log"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    problems+=("the demo database of make run does not install (see $demo_log)")
    grep -E " (ERROR|CRITICAL) |Error" "$demo_log" | head -n 20
fi
copy_database "" "$demo_db"

for problem in "${problems[@]}"; do printf '\033[31mFAILED:\033[0m %s\n' "$problem"; done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ ${#problems[@]} = 0 ]
