"""19.0.1.2.0: the shipped chart note template's guidance gets the current wording.

The template is `noupdate` data, so a database installed before 19.0.1.1.0 kept its first
wording, written as findings ("Safety concerns assessed; none reported unless noted below")
from the time the template's text was copied into every note. Where the practice has not changed
that text, it is replaced by the wording the module ships now (data/therapy_chart_template_data.xml,
read from the file: one definition of it). A template the practice edited, deleted or copied
stays as it is.
"""

import logging
import re

from lxml import etree

from odoo import SUPERUSER_ID, api
from odoo.tools.misc import file_path

_logger = logging.getLogger(__name__)

TEMPLATE_XMLID = "therapy_chart_template_group_progress"
DATA_FILE = "group_therapy/data/therapy_chart_template_data.xml"
# The wording the template was shipped with from 19.0.1.0.0 until 19.0.1.1.0.
SHIPPED_BEFORE = (
    """<div>
    <h3>Focus of the session</h3>
    <p>Topic and goals addressed in group.</p>
    <h3>Interventions</h3>
    <p>Therapeutic techniques used (e.g. CBT, DBT skills, psychoeducation, process).</p>
    <h3>Response and participation</h3>
    <p>Client's participation, mood and affect, progress toward treatment plan goals.</p>
    <h3>Risk</h3>
    <p>Safety concerns assessed; none reported unless noted below.</p>
    <h3>Plan</h3>
    <p>Continue group as scheduled; follow-up items.</p>
</div>""",
)


def normalized(html):
    """The text as the template stores it, whatever the whitespace between and inside tags."""
    html = re.sub(r">\s+", ">", re.sub(r"\s+<", "<", html or ""))
    return re.sub(r"\s+", " ", html).strip()


def shipped_body():
    """The template's guidance as the module's data file ships it now."""
    tree = etree.parse(file_path(DATA_FILE))
    [field] = tree.xpath(f"//record[@id='{TEMPLATE_XMLID}']/field[@name='body']")
    return "".join(etree.tostring(child, encoding="unicode") for child in field).strip()


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    template = env.ref(f"group_therapy.{TEMPLATE_XMLID}", raise_if_not_found=False)
    if not template:
        return
    body_field = env["therapy.chart.template"]._fields["body"]
    # Compared as written and as the field stores them (sanitized), so the HTML cleaner's
    # rewriting does not make an untouched template look edited.
    untouched = set()
    for body in SHIPPED_BEFORE:
        untouched |= {normalized(body), normalized(body_field.convert_to_column(body, template))}
    current = normalized(template.body)
    if current not in untouched:
        if current != normalized(body_field.convert_to_column(shipped_body(), template)):
            _logger.info("Chart template %s was edited by the practice: kept as it is", template.id)
        return
    template.body = shipped_body()
    _logger.info("Chart template %s: its guidance now has the shipped wording", template.id)
