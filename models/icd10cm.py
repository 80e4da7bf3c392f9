"""The ICD-10-CM code set, from the pinned simple-icd-10-cm package (requirements.txt).

The package parses its 10 MB tabular file when imported (seconds): it is imported on first use,
once per process, never when Odoo loads the addon.
"""

import functools
import re
import warnings

CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")


@functools.cache
def _code_set():
    # Imported here on purpose, not at the top: see the module docstring. Its loader uses
    # importlib.resources' legacy API: not our warning to log on every start.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm
    return simple_icd_10_cm


def normalize(code):
    """'f43.10 ' -> 'F43.10' (the dotted form claims use)."""
    code = (code or "").strip().upper()
    if CODE_SHAPE.match(code) and "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


def is_billable(code):
    """A billable code: a category or subcategory with no children (a leaf of the code set)."""
    if not CODE_SHAPE.match(code or ""):
        return False
    code_set = _code_set()
    return (
        code_set.is_valid_item(code)
        and code_set.is_category_or_subcategory(code)
        and code_set.is_leaf(code)
    )


def is_known(code):
    """A code of the code set, billable or not (a category such as F43.1)."""
    return bool(CODE_SHAPE.match(code or "")) and _code_set().is_valid_item(code)


def description(code):
    return _code_set().get_description(code)


def billable_children(code):
    """The billable codes under a category, to suggest in an error message."""
    code_set = _code_set()
    return [
        child
        for child in code_set.get_descendants(code)
        if code_set.is_category_or_subcategory(child) and code_set.is_leaf(child)
    ]
