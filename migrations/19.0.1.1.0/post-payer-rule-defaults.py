"""19.0.1.1.0: the shipped payer rules as new databases have them.

The payer rules are `noupdate` data, so a database installed at 19.0.1.0.0 kept their first form:
"90853 once per client and day" blocking, although no payer rule that forbids billing 90853 twice
a day was found (README, "Billing rules"), and one telehealth rule for every payer, without the
audio-only modifier. Where the practice has not changed a rule since it was installed, it gets
the shipped form: the once-per-day rule warns, the telehealth rule is the commercial default
(95, audio-only 93; Medicare has its own rule, created by the upgrade). A rule the practice
changed stays as it is (Configuration → Payer Rules).
"""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)

# xml id: (the values 19.0.1.0.0 shipped, the values shipped now)
SHIPPED = {
    "group_therapy.therapy_payer_rule_90853_once_per_day": (
        {"severity": "block"},
        {"severity": "warning"},
    ),
    "group_therapy.therapy_payer_rule_telehealth_95": (
        {"name": "Telehealth lines carry modifier 95", "audio_only_modifiers": False},
        {
            "name": "Telehealth, commercial default: modifier 95 (audio-only: 93)",
            "audio_only_modifiers": "93",
        },
    ),
}


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid, (before, now) in SHIPPED.items():
        rule = env.ref(xmlid, raise_if_not_found=False)
        if not rule or any(rule[name] != value for name, value in before.items()):
            continue
        if rule.write_date != rule.create_date:
            _logger.info("Payer rule %s was changed by the practice: kept as it is", rule.id)
            continue
        rule.write(now)
        _logger.info("Payer rule %s now has its shipped form: %s", rule.id, now)
