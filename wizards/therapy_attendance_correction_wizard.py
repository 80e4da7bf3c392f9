from odoo import Command, api, fields, models
from odoo.tools.misc import clean_context, format_date

from ..models.therapy_attendance import KINDS_BY_STATE


class TherapyAttendanceCorrectionWizard(models.TransientModel):
    _name = "therapy.attendance.correction.wizard"
    _inherit = ["therapy.input.mixin", "therapy.readable.target.mixin"]
    _description = "Correct Billed Attendance"
    _therapy_readable_target_fields = ("attendance_id",)

    attendance_id = fields.Many2one("therapy.attendance", required=True, ondelete="cascade")
    # Read as the user, not as superuser (Odoo's default for related fields): the wizard can be
    # created, or given to an onchange, with any attendance line's id.
    partner_id = fields.Many2one(
        related="attendance_id.partner_id", string="Client", compute_sudo=False
    )
    invoice_id = fields.Many2one(
        related="attendance_id.invoice_id", string="Invoice", compute_sudo=False
    )
    state = fields.Selection(
        selection=[("attended", "Attended"), ("absent", "Did not attend")],
        string="Attended?",
        required=True,
    )
    product_id = fields.Many2one(
        "product.product",
        string="Code",
        required=True,
        domain=[("therapy_code_kind", "!=", False), ("therapy_addon_only", "=", False)],
    )
    addon_product_ids = fields.Many2many(
        "product.product",
        string="Add-on Codes",
        domain=[("therapy_code_kind", "=", "cpt"), ("therapy_addon_only", "=", True)],
    )

    @api.model
    def default_get(self, fields_list):
        """Start from the line's current answer and codes."""
        values = super().default_get(fields_list)
        line = self.env["therapy.attendance"].browse(values.get("attendance_id"))
        if line:
            values.setdefault("state", line.state)
            values.setdefault("product_id", line.product_id.id)
            values.setdefault("addon_product_ids", [Command.set(line.addon_product_ids.ids)])
        return values

    @api.onchange("state")
    def _onchange_state(self):
        """A code that no longer fits the answer is cleared."""
        if self.product_id.therapy_code_kind not in KINDS_BY_STATE.get(self.state, ()):
            self.product_id = False
        if self.state != "attended":
            self.addon_product_ids = False

    def action_apply(self):
        """Credit the invoice, record the right answer and code, invoice again: all or none."""
        self.ensure_one()
        # The wizard's default_* keys must not reach the credit note and the new invoice.
        self.attendance_id.with_env(
            self.env(context=clean_context(self.env.context))
        )._correct_billed(
            {
                "state": self.state,
                "product_id": self.product_id.id,
                "addon_product_ids": [Command.set(self.addon_product_ids.ids)],
            }
        )
        self._ask_for_late_entry()
        return {"type": "ir.actions.act_window_close"}

    def _ask_for_late_entry(self):
        """A client found to have attended after the session's notes were signed has no note:
        the provider is asked to chart a late entry (the signed notes stay as they are)."""
        line = self.attendance_id
        event = line.event_id
        others_signed = (event.therapy_attendance_ids - line).filtered("note_signed")
        if line.state != "attended" or line.note_signed or not others_signed:
            return
        # Front desk corrects billing without access to the provider's activities; sessions
        # carry none, so the group does (as for the no-show follow-up).
        event_sudo = event.sudo()
        event_sudo.therapy_group_id.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._(
                "Late entry: chart %(client)s (%(date)s)",
                client=line.partner_id.name,
                date=format_date(self.env, event_sudo.therapy_session_date),
            ),
            note=self.env._(
                "%(client)s's attendance was corrected to attended after the notes of the "
                "session of %(date)s were signed. Open that session and click Chart to write "
                "and sign a late-entry note for %(client)s.",
                client=line.partner_id.name,
                date=format_date(self.env, event_sudo.therapy_session_date),
            ),
            user_id=(event_sudo.user_id or event_sudo.therapy_group_id.provider_id).id,
        )
