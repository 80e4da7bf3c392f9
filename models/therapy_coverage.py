from odoo import api, fields, models
from odoo.exceptions import ValidationError

THERAPY_BILLING_GROUPS = "group_therapy.group_therapy_user,account.group_account_invoice"


class TherapyCoverage(models.Model):
    _name = "therapy.coverage"
    _inherit = ["therapy.input.mixin"]
    _description = "Insurance Coverage"
    _order = "partner_id, priority, id"
    _check_company_auto = True

    # who is covered, by whom
    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, index=True, ondelete="cascade"
    )
    payer_id = fields.Many2one(
        "res.partner",
        string="Insurer",
        required=True,
        index=True,
        ondelete="restrict",
        help="The insurance company that receives the claim; its payer ID is on its contact.",
    )
    payer_code = fields.Char(related="payer_id.therapy_payer_code", string="Payer ID")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)
    # the card
    member_ident = fields.Char(
        string="Member ID", required=True, help="The subscriber's ID on the insurance card."
    )
    group_number = fields.Char(help="The plan's group number on the card, if any.")
    priority = fields.Selection(
        selection=[("primary", "Primary"), ("secondary", "Secondary")],
        required=True,
        default="primary",
        help="Primary is billed first; what the primary insurer leaves to the client is then "
        "claimed from the secondary (coordination of benefits).",
    )
    relationship = fields.Selection(
        selection=[("self", "Self"), ("spouse", "Spouse"), ("child", "Child"), ("other", "Other")],
        string="Client Is the Subscriber's",
        required=True,
        default="self",
        help="Self: the client holds the policy. Otherwise the policy holder is the subscriber.",
    )
    subscriber_id = fields.Many2one(
        "res.partner",
        help="The policy holder when it is not the client (a parent or spouse).",
    )
    # money
    currency_id = fields.Many2one(related="company_id.currency_id")
    copay_amount = fields.Monetary(
        string="Copay",
        help="What the client pays per session; the rest of the charge is billed to the insurer.",
    )

    _member_ident_uniq = models.Constraint(
        "UNIQUE(partner_id, payer_id, member_ident, company_id)",
        "The client already has this coverage with this insurer.",
    )
    _copay_positive = models.Constraint("CHECK(copay_amount >= 0)", "A copay cannot be negative.")

    @api.depends("payer_id", "member_ident", "priority")
    def _compute_display_name(self):
        priorities = dict(self._fields["priority"]._description_selection(self.env))
        for coverage in self:
            coverage.display_name = (
                f"{coverage.payer_id.name or ''} {coverage.member_ident or ''} "
                f"({priorities.get(coverage.priority, '')})"
            )

    @api.constrains("partner_id", "priority", "active", "company_id")
    def _check_one_coverage_per_priority(self):
        """One active primary and one active secondary per client and practice."""
        for coverage in self.filtered("active"):
            count = self.sudo().search_count(
                [
                    ("partner_id", "=", coverage.partner_id.id),
                    ("priority", "=", coverage.priority),
                    ("company_id", "=", coverage.company_id.id),
                ]
            )
            if count > 1:
                raise ValidationError(
                    self.env._(
                        "%(client)s already has an active %(priority)s coverage. Archive the old "
                        "one before adding the new card.",
                        client=coverage.partner_id.display_name,
                        priority=coverage.priority,
                    )
                )

    @api.constrains("payer_id", "partner_id")
    def _check_payer_is_not_client(self):
        """The insurer is another contact than the client."""
        for coverage in self:
            if coverage.payer_id == coverage.partner_id:
                raise ValidationError(
                    self.env._(
                        "%(client)s cannot be their own insurer: choose the insurance company.",
                        client=coverage.partner_id.display_name,
                    )
                )
