"""Regenerate data/therapy.diagnosis.csv: the billable ICD-10-CM codes of chapter 5 (F01-F99,
mental and behavioural disorders) with their descriptions, from the pinned simple-icd-10-cm
package (requirements.txt). Run with the venv's Python after changing the pin:

    ~/.cache/group_therapy/venv/bin/python tools/icd10cm_codes.py
"""

import csv
import pathlib

import simple_icd_10_cm as cm

target = pathlib.Path(__file__).resolve().parent.parent / "data" / "therapy.diagnosis.csv"
# dict.fromkeys: the package lists F99 twice (as its own block and as a category).
codes = list(
    dict.fromkeys(
        code
        for code in cm.get_all_codes(with_dots=True)
        if code.startswith("F") and cm.is_category_or_subcategory(code) and cm.is_leaf(code)
    )
)
with target.open("w", newline="", encoding="utf-8") as handle:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["id", "code", "name"])
    for code in codes:
        xmlid = "therapy_diagnosis_" + code.lower().replace(".", "_")
        writer.writerow([xmlid, code, cm.get_description(code)])
print(f"{len(codes)} codes written to {target}")
