#!/usr/bin/env bash
# `make lint`: ruff, ruff format --check, pylint-odoo (mandatory and OCA's optional checks, see
# .pylintrc), XML well-formedness. `tools/lint.sh pylint` or `tools/lint.sh xml` runs one step
# (the pre-commit hooks do).
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_DIR"
steps="${1:-ruff format pylint xml}"
status=0
run_pylint() {
    # pylint must see the addon under its real name to resolve `odoo.addons.group_therapy`.
    [ -e "$ADDONS_DIR/group_therapy" ] || die "$ADDONS_DIR/group_therapy is missing: run make setup first."
    (cd "$ADDONS_DIR" && "$VENV/bin/pylint" --rcfile="$REPO_DIR/.pylintrc" group_therapy)
}
run_xml() {
    git ls-files -co --exclude-standard '*.xml' | "$VPY" -c '
import sys
from lxml import etree
bad = 0
for path in sys.stdin.read().split():
    try:
        etree.parse(path)
    except etree.XMLSyntaxError as exc:
        print(f"{path}: {exc}")
        bad = 1
sys.exit(bad)
'
}
for step in $steps; do
    case "$step" in
        ruff) say "ruff check"; "$VENV/bin/ruff" check . || status=1 ;;
        format) say "ruff format --check"; "$VENV/bin/ruff" format --check . || status=1 ;;
        pylint) say "pylint-odoo (mandatory and OCA's optional checks)"; run_pylint || status=1 ;;
        xml) say "XML well-formedness"; run_xml || status=1 ;;
        *) die "unknown lint step '$step' (ruff, format, pylint, xml)" ;;
    esac
done
[ "$status" = 0 ] && say "lint: all clean" || printf '\033[31mlint failed\033[0m\n'
exit "$status"
