from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .res_company import TAXONOMY_CODE, is_valid_npi


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
    therapy_taxonomy_code = fields.Char(
        string="Taxonomy Code",
        help="The provider's own Health Care Provider Taxonomy code (NUCC), sent with the "
        "rendering provider on claims, e.g. 101YM0800X (mental health counselor) or 1041C0700X "
        "(clinical social worker). Empty: claims name no taxonomy for the provider; the billing "
        "provider's is the practice's.",
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

    @api.constrains("therapy_taxonomy_code")
    def _check_therapy_taxonomy_code(self):
        """A provider's taxonomy code as the NUCC list writes it."""
        for user in self.filtered("therapy_taxonomy_code"):
            if not TAXONOMY_CODE.match(user.therapy_taxonomy_code):
                raise ValidationError(
                    self.env._(
                        "“%(code)s”, %(user)s's taxonomy code, is not a taxonomy code: it has 10 "
                        "characters (3 digits, 6 letters or digits) and ends in X, like "
                        "101YM0800X. Copy it from the provider's NPI registry entry (NPPES).",
                        code=user.therapy_taxonomy_code,
                        user=user.name,
                    )
                )
