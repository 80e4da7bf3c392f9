# Fed to `odoo-bin shell` by tools/pot.sh and tools/test.sh: writes the addon's translation
# template, exported by Odoo from a database where the addon is installed, to $POT_OUTPUT.
# The two dates of the header are emptied so that exporting an unchanged addon again gives the
# same bytes (Odoo's exporter already sorts the terms and writes line number 0 for code terms).
# ruff: noqa: F821  (`env` is provided by odoo-bin shell)
import io
import os
import re
from unittest.mock import patch

from odoo.tools.translate import trans_export

real_walk = os.walk


def walk_without_hidden_folders(top, *args, **kwargs):
    """Odoo scans the addon's folder following symlinks: in a checkout, .build/addons/group_therapy
    links back to the checkout itself, so the scan would loop through it. Odoo loads nothing from
    hidden folders (.build, .git), so they are skipped."""
    for root, folders, files in real_walk(top, *args, **kwargs):
        folders[:] = [folder for folder in folders if not folder.startswith(".")]
        yield root, folders, files


buffer = io.BytesIO()
with patch("os.walk", walk_without_hidden_folders):
    if not trans_export(False, ["group_therapy"], buffer, "po", env):
        raise SystemExit("group_therapy is not installed in this database: nothing to export")
text = buffer.getvalue().decode()
text = re.sub(
    r'^"(POT-Creation-Date|PO-Revision-Date): [^"\\]*\\n"$', r'"\1: \\n"', text, flags=re.M
)
with open(os.environ["POT_OUTPUT"], "w", encoding="utf-8") as pot:
    pot.write(text)
