from odoo import fields, models


class TherapyCosignReturnWizard(models.TransientModel):
    """The supervisor's Return: waiting notes go back to their signer, with what to change."""

    _name = "therapy.cosign.return.wizard"
    _inherit = ["therapy.input.mixin", "therapy.readable.target.mixin"]
    _description = "Return Chart Notes to their Signer"
    _therapy_readable_target_fields = ("note_ids",)

    note_ids = fields.Many2many(
        "therapy.chart.note", string="Chart Notes", required=True, readonly=True
    )
    note_count = fields.Integer(compute="_compute_note_count")
    comment = fields.Text(
        required=True,
        help="What the signer should change. Kept on each note for its signer (internal, "
        "never sent to a client; reading it is on the access log).",
    )

    def _compute_note_count(self):
        """How many notes go back."""
        for wizard in self:
            wizard.note_count = len(wizard.note_ids)

    def action_return(self):
        """Return the notes to their signer as drafts, with the comment."""
        self.ensure_one()
        self.note_ids._return_to_signer(self.comment)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "%(count)s chart notes returned to their signer.", count=len(self.note_ids)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
