#!/usr/bin/env bash
# `make lint`: ruff, ruff format --check, pylint-odoo's mandatory checks, XML well-formedness.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_DIR"
status=0
say "ruff check"; "$VENV/bin/ruff" check . || status=1
say "ruff format --check"; "$VENV/bin/ruff" format --check . || status=1
say "pylint-odoo (mandatory checks)"
# pylint must see the addon under its real name to resolve `odoo.addons.group_therapy`.
(cd "$ADDONS_DIR" && "$VENV/bin/pylint" --rcfile="$REPO_DIR/.pylintrc" group_therapy) || status=1
say "XML well-formedness"
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
' || status=1
[ "$status" = 0 ] && say "lint: all clean" || printf '\033[31mlint failed\033[0m\n'
exit "$status"
