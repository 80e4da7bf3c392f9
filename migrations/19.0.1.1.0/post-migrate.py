"""19.0.1.1.0: signed chart notes and addenda are chained, per company, at signing.

Notes signed before carry a hash of their own only (computed again whenever the note was
read). They are chained once, here, in the order they were signed, followed by the addenda in
the order they were written: the chain then vouches for them as they stand at the upgrade.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    Chain = env["therapy.chart.note.chain"]
    notes = env["therapy.chart.note"].search(
        [("state", "=", "locked"), ("integrity_sequence", "=", False)], order="signed_on, id"
    )
    Chain._therapy_append(notes)
    Chain._therapy_append(
        env["therapy.chart.note.addendum"].search(
            [("integrity_sequence", "=", False)], order="date, id"
        )
    )
