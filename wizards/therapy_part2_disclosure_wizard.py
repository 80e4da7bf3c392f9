from odoo import api, fields, models


class TherapyPart2DisclosureWizard(models.TransientModel):
    """Print chart notes of a 42 CFR Part 2 program for a named recipient and purpose: the
    client's written consent to that recipient is checked, and the notice printed."""

    _name = "therapy.part2.disclosure.wizard"
    _inherit = ["therapy.input.mixin", "therapy.readable.target.mixin"]
    _description = "Disclose Chart Notes (42 CFR Part 2)"
    _therapy_readable_target_fields = ("note_ids", "recipient_id")

    @api.model
    def _default_note_ids(self):
        """The notes selected where the wizard was opened."""
        if self.env.context.get("active_model") != "therapy.chart.note":
            return []
        return self.env["therapy.chart.note"].browse(self.env.context.get("active_ids", []))

    note_ids = fields.Many2many(
        "therapy.chart.note",
        string="Chart Notes",
        required=True,
        default=lambda self: self._default_note_ids(),
    )
    recipient_id = fields.Many2one(
        "res.partner",
        required=True,
        help="Who receives the notes: the client's consent must name them.",
    )
    purpose = fields.Selection(
        selection=[
            ("treatment", "Treatment"),
            ("payment", "Payment"),
            ("operations", "Health care operations"),
        ],
        required=True,
        default="treatment",
    )

    def action_print(self):
        """The chart note PDF, printed only if each client's consent covers the disclosure."""
        self.ensure_one()
        report = self.env.ref("group_therapy.therapy_chart_note_report").with_context(
            therapy_part2_recipient_id=self.recipient_id.id, therapy_part2_purpose=self.purpose
        )
        # Checked now too, so that a refusal shows here rather than as a failed download.
        report.env["ir.actions.report"]._therapy_part2_consents(report, self.note_ids)
        return report.report_action(self.note_ids)
