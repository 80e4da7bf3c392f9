from odoo import api, fields, models
from odoo.exceptions import UserError


class TherapyEra(models.Model):
    _name = "therapy.era"
    _description = "Insurance Remittance (835)"
    _order = "payment_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", required=True, readonly=True)
    payer_id = fields.Many2one("res.partner", string="Insurer", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    trace_number = fields.Char(
        required=True,
        readonly=True,
        help="The check or EFT trace number (TRN02): a remittance is posted once.",
    )
    payment_date = fields.Date(readonly=True)
    amount = fields.Monetary(string="Amount Paid", readonly=True)
    payment_id = fields.Many2one("account.payment", readonly=True)
    amount_provider_adjustments = fields.Monetary(
        string="Provider Adjustments",
        readonly=True,
        help="Withheld from the payment (positive) or added to it (negative, e.g. interest) by "
        "the insurer, not for one claim (PLB).",
    )
    provider_adjustments = fields.Text(
        string="Provider Adjustment Reasons", readonly=True, help="The PLB reasons, in words."
    )
    provider_adjustment_move_id = fields.Many2one(
        "account.move", string="Provider Adjustments Entry", readonly=True
    )
    attachment_id = fields.Many2one("ir.attachment", string="835 File", readonly=True)
    line_ids = fields.One2many("therapy.era.line", "era_id", string="Claims", readonly=True)
    claim_count = fields.Integer(compute="_compute_claim_count")

    _trace_uniq = models.Constraint(
        "UNIQUE(company_id, payer_id, trace_number)",
        "This remittance is already posted.",
    )

    @api.depends("line_ids")
    def _compute_claim_count(self):
        """How many claims the remittance answers."""
        for era in self:
            era.claim_count = len(era.line_ids)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        """A remittance is posted when imported: its payment and entries are in the books and
        its claims settled by it, and its 835 file is the insurer's own word for it."""
        if self:
            raise UserError(
                self.env._(
                    "Remittance %(era)s is posted: what %(payer)s paid is in the books, and "
                    "its claims were settled by it. It cannot be deleted: a correction comes "
                    "from the insurer as another 835 (a reversal), imported like this one.",
                    era=self[0].name,
                    payer=self[0].payer_id.name,
                )
            )


class TherapyEraLine(models.Model):
    _name = "therapy.era.line"
    _description = "Insurance Remittance Claim"
    _order = "era_id, id"

    era_id = fields.Many2one("therapy.era", required=True, ondelete="cascade", index=True)
    claim_id = fields.Many2one("therapy.claim", required=True, readonly=True, index=True)
    partner_id = fields.Many2one(related="claim_id.partner_id", string="Client")
    company_id = fields.Many2one(related="era_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="era_id.currency_id")
    status = fields.Char(readonly=True, help="What the insurer did with the claim.")
    amount_charge = fields.Monetary(string="Charge", readonly=True)
    amount_paid = fields.Monetary(string="Paid", readonly=True)
    amount_contractual = fields.Monetary(string="Written Off", readonly=True)
    amount_patient = fields.Monetary(string="Patient Responsibility", readonly=True)
    reasons = fields.Text(readonly=True, help="The adjustment reasons and remarks, in words.")
