"""19.0.1.1.0: "90853 once per client and day" warns by default instead of blocking.

The payer rules are `noupdate` data, so a database installed at 19.0.1.0.0 kept the rule blocking,
although no payer rule that forbids billing 90853 twice a day was found (README, "Billing
rules"). Where the practice has not changed the rule since it was installed, it now warns, as on
a new database; a rule the practice changed keeps its severity (a practice whose payer wants it
blocking sets it back in Configuration → Payer Rules).
"""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)

RULE_XMLID = "group_therapy.therapy_payer_rule_90853_once_per_day"


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    rule = env.ref(RULE_XMLID, raise_if_not_found=False)
    if not rule or rule.severity != "block":
        return
    if rule.write_date != rule.create_date:
        _logger.info("Payer rule %s was changed by the practice: it keeps blocking", rule.id)
        return
    rule.severity = "warning"
    _logger.info("Payer rule %s (90853 once per client and day) now warns", rule.id)
