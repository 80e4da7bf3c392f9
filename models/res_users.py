import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResUsers(models.Model):
    _inherit = "res.users"

    therapy_credentials = fields.Char(
        string="Credentials",
        help="The provider's licence or degree as it follows the name on a signed chart note, "
        "e.g. LCSW, PsyD, LMFT.",
    )
    therapy_npi = fields.Char(
        string="NPI",
        help="The provider's National Provider Identifier (10 digits), printed as rendering "
        "provider on claims and superbills.",
    )

    @api.constrains("therapy_npi")
    def _check_therapy_npi(self):
        """An NPI is 10 digits."""
        for user in self.filtered("therapy_npi"):
            if not re.fullmatch(r"\d{10}", user.therapy_npi):
                raise ValidationError(
                    self.env._(
                        "%(user)s's NPI “%(npi)s” is not valid: an NPI has exactly 10 digits.",
                        user=user.name,
                        npi=user.therapy_npi,
                    )
                )
