from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import is_html_empty


class TherapyChartNoteAddendum(models.Model):
    _name = "therapy.chart.note.addendum"
    _description = "Chart Note Addendum"
    _inherit = ["therapy.access.logged.mixin"]
    _order = "date, id"
    _check_company_auto = True
    # Reading or exporting the text is on the clinical access log.
    _therapy_clinical_fields = ("body",)

    note_id = fields.Many2one(
        "therapy.chart.note", string="Chart Note", required=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(related="note_id.partner_id", string="Client")
    company_id = fields.Many2one(related="note_id.company_id", store=True, index=True)
    body = fields.Html(string="Addendum", required=True)
    author_id = fields.Many2one(
        "res.users", required=True, readonly=True, default=lambda self: self.env.user
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)

    @api.constrains("note_id", "body")
    def _check_note_locked_and_text(self):
        """Addenda amend signed notes only, and say something."""
        for addendum in self:
            if addendum.note_id.state != "locked":
                raise ValidationError(
                    self.env._(
                        "%(client)s's chart note is still a draft: change the draft itself "
                        "instead of adding an addendum.",
                        client=addendum.note_id.partner_id.display_name,
                    )
                )
            if is_html_empty(addendum.body):
                raise ValidationError(self.env._("Write the text of the addendum."))

    @api.model_create_multi
    def create(self, vals_list):
        # An addendum is dated and signed by whoever writes it, whatever the client sends.
        now = fields.Datetime.now()
        for vals in vals_list:
            vals.update(author_id=self.env.uid, date=now)
        return super().create(vals_list)

    def write(self, vals):
        if self:
            raise UserError(self._message_immutable())
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_saved(self):
        raise UserError(self._message_immutable())

    def _message_immutable(self):
        return self.env._(
            "An addendum is part of the signed record and cannot be changed or deleted once "
            "saved. Add another addendum to correct it."
        )
