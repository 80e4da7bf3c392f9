"""Is the committed translation template current? tools/pot_check.py COMMITTED GENERATED

Compares the terms (msgctxt, msgid, plural) and where each one comes from (the references) of
the committed i18n/group_therapy.pot with a template exported from the current code; the
header is ignored. Exits 1 with the differences and "run make pot" when they differ.
"""

import os
import sys

import polib


def terms(path):
    if not os.path.exists(path):
        return {}
    return {
        (entry.msgctxt, entry.msgid, entry.msgid_plural): sorted(
            f"{name}:{line}" if line else name for name, line in entry.occurrences
        )
        for entry in polib.pofile(path)
    }


committed_path, generated_path = sys.argv[1], sys.argv[2]
committed, generated = terms(committed_path), terms(generated_path)
if not generated:
    sys.exit(f"no term exported into {generated_path}")
missing = sorted(set(generated) - set(committed), key=str)
gone = sorted(set(committed) - set(generated), key=str)
moved = sorted(
    (key for key in set(committed) & set(generated) if committed[key] != generated[key]), key=str
)
if not (missing or gone or moved):
    print(f"{committed_path} is current ({len(generated)} terms)")
    sys.exit(0)
for label, keys in (
    ("new term", missing),
    ("term no longer in the code", gone),
    ("references changed", moved),
):
    for key in keys[:10]:
        print(f"  {label}: {key[1][:80]!r}")
    if len(keys) > 10:
        print(f"  ... and {len(keys) - 10} more ({label})")
counts = f"{len(missing)} new, {len(gone)} gone, {len(moved)} moved"
print(f"{committed_path} is stale ({counts}): run make pot")
sys.exit(1)
