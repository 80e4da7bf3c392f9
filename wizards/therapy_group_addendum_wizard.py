from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import is_html_empty


class TherapyGroupAddendumWizard(models.TransientModel):
    _name = "therapy.group.addendum.wizard"
    _inherit = ["therapy.input.mixin", "therapy.readable.target.mixin"]
    _description = "Group Addendum"
    _therapy_readable_target_fields = ("event_id",)

    event_id = fields.Many2one("calendar.event", string="Session", required=True, readonly=True)
    note_count = fields.Integer(compute="_compute_note_count")
    body = fields.Html(string="Addendum", required=True)

    def _compute_note_count(self):
        """How many signed notes the addendum goes into."""
        for wizard in self:
            wizard.note_count = len(wizard._locked_notes())

    def action_add(self):
        """One addendum, recorded in every signed note of the session with author and date."""
        self.ensure_one()
        if is_html_empty(self.body):
            raise UserError(self.env._("Write the text of the addendum."))
        notes = self._locked_notes()
        if not notes:
            raise UserError(
                self.env._(
                    "%(session)s has no signed chart note yet: sign the notes first, or change "
                    "the drafts directly.",
                    session=self.event_id.display_name,
                )
            )
        self.env["therapy.chart.note.addendum"].create(
            [{"note_id": note.id, "body": self.body} for note in notes]
        )
        return {"type": "ir.actions.act_window_close"}

    def _locked_notes(self):
        return self.event_id.therapy_chart_note_ids.filtered(lambda note: note.state == "locked")
