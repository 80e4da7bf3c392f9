from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

CLAIM_STATES = [
    ("to_submit", "To submit"),
    ("submitted", "Submitted"),
    ("paid", "Paid"),
    ("partial", "Partially paid"),
    ("denied", "Denied"),
]


class TherapyClaim(models.Model):
    _name = "therapy.claim"
    _description = "Insurance Claim"
    _inherit = ["mail.thread"]
    _order = "date_of_service desc, id desc"
    _check_company_auto = True

    # what is claimed
    name = fields.Char(
        string="Claim ID",
        required=True,
        readonly=True,
        copy=False,
        default="/",
        index=True,
        help="Sent to the insurer as the claim's reference (CLM01); the remittance names it back.",
    )
    attendance_id = fields.Many2one(
        "therapy.attendance",
        string="Service",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    event_id = fields.Many2one(related="attendance_id.event_id", string="Session", store=True)
    partner_id = fields.Many2one(
        related="attendance_id.partner_id", string="Client", store=True, index=True
    )
    coverage_id = fields.Many2one(
        "therapy.coverage",
        required=True,
        readonly=True,
        ondelete="restrict",
        check_company=True,
    )
    payer_id = fields.Many2one(
        "res.partner", string="Insurer", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_of_service = fields.Date(
        required=True, readonly=True, index=True, help="The session's local day."
    )
    # money
    amount_charge = fields.Monetary(
        string="Charge", readonly=True, help="The full charge sent to the insurer."
    )
    amount_copay = fields.Monetary(string="Copay", readonly=True, help="Invoiced to the client.")
    amount_paid = fields.Monetary(string="Paid by Insurer", readonly=True)
    amount_contractual = fields.Monetary(
        string="Contractual Adjustment", readonly=True, help="Written off (CO adjustments)."
    )
    amount_patient = fields.Monetary(
        string="Patient Responsibility",
        readonly=True,
        help="What the insurer says the client owes (deductible, coinsurance, copay).",
    )
    invoice_id = fields.Many2one(
        "account.move", string="Insurer Invoice", readonly=True, copy=False, index=True
    )
    copay_invoice_id = fields.Many2one("account.move", readonly=True, copy=False)
    amount_residual = fields.Monetary(
        related="invoice_id.amount_residual", string="Insurer Balance"
    )
    # where it stands
    state = fields.Selection(
        selection=CLAIM_STATES,
        required=True,
        default="to_submit",
        readonly=True,
        index=True,
        tracking=True,
    )
    frequency_code = fields.Selection(
        selection=[("1", "1 - Original"), ("7", "7 - Replacement")],
        default="1",
        required=True,
        readonly=True,
        help="Replacement: a corrected claim that replaces the original at the insurer.",
    )
    payer_claim_ref = fields.Char(
        string="Insurer's Claim Number",
        readonly=True,
        copy=False,
        help="The insurer's reference for the claim, from its remittance; a corrected claim "
        "quotes it.",
    )
    submitted_on = fields.Datetime(readonly=True, copy=False)
    export_attachment_id = fields.Many2one(
        "ir.attachment", string="Submitted File", readonly=True, copy=False
    )
    denial_reason = fields.Text(readonly=True, copy=False)
    age_days = fields.Integer(
        string="Age (days)", compute="_compute_age_days", help="Days since the date of service."
    )

    _name_company_uniq = models.Constraint(
        "UNIQUE(name, company_id)", "A claim ID is used once per practice."
    )

    @api.depends("date_of_service")
    def _compute_age_days(self):
        """How long the claim has been waiting for money, as the biller counts it."""
        today = fields.Date.context_today(self)
        for claim in self:
            claim.age_days = (today - claim.date_of_service).days if claim.date_of_service else 0

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("therapy.claim") or "/"
        return super().create(vals_list)

    def action_open_invoice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.invoice_id.id,
            "view_mode": "form",
        }

    def action_resubmit(self):
        """A corrected claim: sent again as a replacement (frequency 7) of the insurer's claim."""
        for claim in self:
            if claim.state not in ("denied", "partial", "submitted"):
                raise UserError(
                    self.env._(
                        "Claim %(claim)s has not been sent yet: submit it as it is.",
                        claim=claim.name,
                    )
                )
            if not claim.payer_claim_ref:
                raise UserError(
                    self.env._(
                        "Claim %(claim)s has no claim number from %(payer)s yet: a corrected "
                        "claim must quote it. Wait for the remittance, or call the insurer.",
                        claim=claim.name,
                        payer=claim.payer_id.name,
                    )
                )
        self.write({"state": "to_submit", "frequency_code": "7"})
        return True

    # -- creation at invoicing ---------------------------------------------------------------

    @api.model
    def _create_from_attendances(self, lines, prices):
        """For each insured line: the claim, its invoice to the insurer, and the client's copay.

        The insurer's invoice carries the full charge less the copay, so that the two
        receivables add up to the charge: no revenue is counted twice.
        """
        claims = self.browse()
        Move = self.env["account.move"]
        for line in lines:
            coverage = line._therapy_primary_coverage()
            session_day = line._session_day()
            products = line.product_id | line.addon_product_ids
            charge = sum(prices[line][product] for product in products)
            copay = min(coverage.copay_amount, charge)
            claim = self.create(
                {
                    "attendance_id": line.id,
                    "coverage_id": coverage.id,
                    "payer_id": coverage.payer_id.id,
                    "company_id": line.company_id.id,
                    "date_of_service": session_day,
                    "amount_charge": charge,
                    "amount_copay": copay,
                }
            )
            header = {
                "move_type": "out_invoice",
                "invoice_date": session_day,
                "company_id": line.company_id.id,
                "invoice_user_id": line.group_id.provider_id.id,
                "therapy_event_id": line.event_id.id,
                "therapy_group_id": line.group_id.id,
                "therapy_provider_id": line.rendering_provider_id.id,
                "invoice_origin": line.event_id.display_name,
                "therapy_claim_id": claim.id,
            }
            day = format_date(self.env, session_day)
            invoice_lines = [
                Command.create(
                    {
                        "product_id": product.id,
                        "name": self.env._(
                            "%(code)s %(name)s for %(client)s, %(group)s group session of %(date)s",
                            code=product.therapy_code,
                            name=product.name,
                            client=line.partner_id.name,
                            group=line.group_id.code,
                            date=day,
                        ),
                        "quantity": 1.0,
                        "price_unit": prices[line][product],
                        "tax_ids": [Command.clear()],
                        "therapy_attendance_id": line.id,
                    }
                )
                for product in products
            ]
            if copay:
                invoice_lines.append(
                    Command.create(
                        {
                            "name": self.env._("Copay billed to the client"),
                            "quantity": 1.0,
                            "price_unit": -copay,
                            "tax_ids": [Command.clear()],
                        }
                    )
                )
            invoice = Move.create(
                {**header, "partner_id": coverage.payer_id.id, "invoice_line_ids": invoice_lines}
            )
            values = {"invoice_id": invoice.id}
            if copay:
                client = line.partner_id.sudo().therapy_billing_partner_id or line.partner_id
                values["copay_invoice_id"] = Move.create(
                    {
                        **header,
                        "therapy_claim_id": False,
                        "partner_id": client.id,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": self.env._(
                                        "Copay, %(group)s group session of %(date)s "
                                        "(insured by %(payer)s)",
                                        group=line.group_id.code,
                                        date=day,
                                        payer=coverage.payer_id.name,
                                    ),
                                    "quantity": 1.0,
                                    "price_unit": copay,
                                    "tax_ids": [Command.clear()],
                                    "therapy_attendance_id": line.id,
                                }
                            )
                        ],
                    }
                ).id
            claim.write(values)
            claims |= claim
        (claims.invoice_id | claims.copay_invoice_id).action_post()
        return claims
