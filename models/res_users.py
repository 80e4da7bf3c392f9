from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .res_company import is_valid_npi


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
        """An NPI: 10 digits whose last is the Luhn check digit over prefix 80840 (CMS)."""
        for user in self.filtered("therapy_npi"):
            if not is_valid_npi(user.therapy_npi):
                raise ValidationError(
                    self.env._(
                        "%(user)s's NPI “%(npi)s” is not valid: an NPI has 10 digits and its "
                        "last digit checks the others. Copy it again from the NPI registry "
                        "(NPPES).",
                        user=user.name,
                        npi=user.therapy_npi,
                    )
                )
