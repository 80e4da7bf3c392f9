from odoo import api, fields, models

THERAPY_GROUPS = "group_therapy.group_therapy_user"
# Who bills: the therapy roles and Odoo's invoicing users (the practice's accountant).
THERAPY_BILLING_GROUPS = f"{THERAPY_GROUPS},account.group_account_invoice"


class ResPartner(models.Model):
    _inherit = "res.partner"

    therapy_client = fields.Boolean(
        string="Group Therapy Client",
        groups=THERAPY_GROUPS,
        help="A client of the practice's groups; set when the contact joins a group.",
    )
    therapy_member_ids = fields.One2many(
        "therapy.group.member",
        "partner_id",
        string="Group Membership",
        groups=THERAPY_GROUPS,
    )
    therapy_billing_partner_id = fields.Many2one(
        "res.partner",
        string="Bill Group Sessions To",
        groups=THERAPY_GROUPS,
        help="The contact who receives this client's invoices (e.g. a parent or guardian). "
        "Empty: the client.",
    )
    therapy_fee_exempt = fields.Boolean(
        string="Exempt From No-show Fees",
        groups=THERAPY_GROUPS,
        help="No-show and late-cancel fees are recorded but never charged to this client "
        "(e.g. the client's payer forbids them).",
    )
    therapy_diagnosis_line_ids = fields.One2many(
        "therapy.client.diagnosis",
        "partner_id",
        string="Diagnoses",
        groups=THERAPY_GROUPS,
        help="The client's ICD-10-CM diagnoses in claim order: the first is the primary; at most "
        "12. Claim lines point at them by letter (A = primary).",
    )
    therapy_diagnosis_ids = fields.Many2many(
        "therapy.diagnosis",
        string="Diagnoses (ICD-10)",
        compute="_compute_therapy_diagnosis_ids",
        inverse="_inverse_therapy_diagnosis_ids",
        groups=THERAPY_GROUPS,
        help="The client's diagnosis codes in claim order (the first is primary).",
    )
    therapy_payer_id = fields.Many2one(
        "res.partner",
        string="Payer",
        groups=THERAPY_GROUPS,
        help="The client's insurance or other payer, for the payer rules (e.g. Medicare).",
    )
    therapy_payer_type = fields.Selection(
        selection=[
            ("medicare", "Medicare"),
            ("medicaid", "Medicaid"),
            ("commercial", "Commercial"),
            ("other", "Other"),
        ],
        string="Payer Type",
        groups=THERAPY_GROUPS,
        help="On a payer: which payer rules apply to its clients. Medicare: telehealth without "
        "modifier 95 and one no-show fee policy for all; Medicaid: no no-show or late-cancel fees.",
    )
    therapy_forbids_fees = fields.Boolean(
        string="Forbids No-show Fees",
        groups=THERAPY_GROUPS,
        help="On a payer: its clients may not be charged no-show or late-cancel fees. A payer "
        "rule stops such fees before invoicing.",
    )
    # insurance (claims)
    therapy_birthdate = fields.Date(
        string="Date of Birth", groups=THERAPY_BILLING_GROUPS, help="Required on insurance claims."
    )
    therapy_sex = fields.Selection(
        selection=[("female", "Female"), ("male", "Male"), ("unknown", "Unknown")],
        string="Administrative Sex",
        groups=THERAPY_BILLING_GROUPS,
        help="As the insurer has it on file; required on insurance claims.",
    )
    therapy_coverage_ids = fields.One2many(
        "therapy.coverage",
        "partner_id",
        string="Insurance Coverage",
        groups=THERAPY_BILLING_GROUPS,
        help="No coverage: the client pays for the sessions (self-pay).",
    )
    therapy_payer_code = fields.Char(
        string="Payer ID",
        help="On an insurance company: its payer ID at the clearinghouse, printed on claims.",
    )
    therapy_claim_filing_code = fields.Selection(
        selection=[
            ("CI", "Commercial insurance"),
            ("BL", "Blue Cross / Blue Shield"),
            ("HM", "HMO"),
            ("MB", "Medicare Part B"),
            ("MC", "Medicaid"),
            ("CH", "TRICARE"),
            ("VA", "Veterans Affairs"),
            ("WC", "Workers' compensation"),
        ],
        string="Claim Filing Indicator",
        help="On an insurance company: the kind of plan, sent on claims (SBR09). Empty: "
        "commercial insurance.",
    )
    therapy_line_rendering = fields.Boolean(
        string="Rendering Provider on Each Line",
        help="On an insurance company that asks for it: its claims name the rendering provider "
        "on every service line (837P loop 2420A) as well as on the claim. Otherwise a line "
        "names one only when it differs from the claim's.",
    )
    therapy_group_count = fields.Integer(
        string="Therapy Groups", compute="_compute_therapy_group_count", groups=THERAPY_GROUPS
    )

    therapy_chart_note_ids = fields.One2many(
        "therapy.chart.note",
        "partner_id",
        string="Chart Notes",
        groups="group_therapy.group_therapy_provider",
    )
    therapy_chart_note_count = fields.Integer(
        string="Chart Note Count",
        compute="_compute_therapy_chart_note_count",
        groups="group_therapy.group_therapy_provider",
    )

    @api.depends("therapy_diagnosis_line_ids.sequence", "therapy_diagnosis_line_ids.diagnosis_id")
    def _compute_therapy_diagnosis_ids(self):
        """The diagnoses in claim order, primary first."""
        for partner in self:
            partner.therapy_diagnosis_ids = partner.therapy_diagnosis_line_ids.sorted(
                lambda line: (line.sequence, line._origin.id or 0)
            ).diagnosis_id

    def _inverse_therapy_diagnosis_ids(self):
        """Setting the codes keeps the order given: the first becomes the primary."""
        # Read every wanted list first: changing one client's lines recomputes the others.
        wanted_by_partner = {partner: partner.therapy_diagnosis_ids for partner in self}
        for partner, wanted in wanted_by_partner.items():
            lines = partner.therapy_diagnosis_line_ids
            lines.filtered(lambda line, wanted=wanted: line.diagnosis_id not in wanted).unlink()
            kept = {line.diagnosis_id: line for line in partner.therapy_diagnosis_line_ids}
            for position, diagnosis in enumerate(wanted, start=1):
                if diagnosis in kept:
                    kept[diagnosis].sequence = position
                else:
                    self.env["therapy.client.diagnosis"].create(
                        {
                            "partner_id": partner.id,
                            "diagnosis_id": diagnosis.id,
                            "sequence": position,
                        }
                    )

    @api.depends("therapy_member_ids.date_start", "therapy_member_ids.date_end")
    def _compute_therapy_group_count(self):
        """Groups the client is a member of today."""
        counts = dict(
            self.env["therapy.group.member"]._read_group(
                [("partner_id", "in", self.ids), ("is_current", "=", True)],
                groupby=["partner_id"],
                aggregates=["group_id:count_distinct"],
            )
        )
        for partner in self:
            partner.therapy_group_count = counts.get(partner, 0)

    @api.depends("therapy_chart_note_ids")
    def _compute_therapy_chart_note_count(self):
        """The client's chart notes the user may read, in one query."""
        counts = dict(
            self.env["therapy.chart.note"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.therapy_chart_note_count = counts.get(partner, 0)

    def _therapy_is_client(self):
        """A contact outside the practice's staff (no internal user): told about group
        sessions alone, never a follower of one."""
        self.ensure_one()
        users = self.sudo().with_context(active_test=False).user_ids
        return not users.filtered(lambda user: not user.share)

    def action_open_therapy_chart_notes(self):
        """The client's chart notes, newest session first."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.therapy_chart_note_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_print_therapy_superbill(self):
        """The client's superbill: their services of the last twelve months."""
        self.ensure_one()
        return self.env.ref("group_therapy.therapy_superbill_report_client").report_action(self)

    def action_open_therapy_groups(self):
        """The groups the client belongs to (current and past)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Groups of %(client)s", client=self.display_name),
            "res_model": "therapy.group",
            "view_mode": "list,kanban,form",
            "domain": [("member_ids.partner_id", "=", self.id)],
            "context": {"active_test": False},
        }
