from odoo import api, fields, models


class TherapyPlbAccount(models.Model):
    _name = "therapy.plb.account"
    _description = "Provider Adjustment Account per Reason"
    _order = "company_id, reason"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    reason = fields.Selection(
        selection="_selection_reason",
        required=True,
        help="The provider-level adjustment reason (PLB03-1) the insurer gives.",
    )
    account_id = fields.Many2one(
        "account.account",
        required=True,
        check_company=True,
        help="Where the adjustments of this reason are booked.",
    )

    _reason_company_uniq = models.Constraint(
        "UNIQUE(company_id, reason)", "Each reason has one account per practice."
    )

    @api.model
    def _selection_reason(self):
        """The PLB reasons, by code and in words."""
        # Imported here: the addon loads its wizards after its models.
        from ..wizards import x12

        return [
            (code, f"{code}: {words}") for code, words in sorted(x12.PROVIDER_ADJUSTMENTS.items())
        ]
