from odoo import models
from odoo.exceptions import AccessError


class MailComposeMessage(models.TransientModel):
    _name = "mail.compose.message"
    _inherit = ["mail.compose.message", "therapy.readable.target.mixin"]
    # the author is shown by name as superuser, as on the message (models/mail_message.py)
    _therapy_readable_target_fields = ("author_id",)
    _therapy_own_record_fields = ("author_id",)

    def _action_send_mail_mass_mail(self, res_ids, auto_commit=False):
        """Refuse e-mails written on Group Therapy records the user may not post on.

        In mass-mail mode Odoo creates the e-mails (and their messages in each record's
        chatter) as superuser once the records have been read for rendering; the right to post
        on them, which ``message_post`` asks for, is checked here the same way."""
        self._therapy_check_mail_post(res_ids)
        return super()._action_send_mail_mass_mail(res_ids, auto_commit=auto_commit)

    def _therapy_check_mail_post(self, res_ids):
        """Refuse when the user may not post on a Group Therapy record among ``res_ids``."""
        if self.env.su or not self.model or self.model not in self.env:
            return
        guarded = self.env[self.model].browse(res_ids)._therapy_mail_guarded()
        if not guarded:
            return
        allowed = self.env["mail.message"]._filter_records_for_message_operation(
            self.model, guarded.ids, "create"
        )
        if guarded - allowed:
            raise AccessError(
                self.env._(
                    "You cannot send e-mails from these %(documents)s: only those who may "
                    "post in their chatter can. Ask their provider or the front desk.",
                    documents=self.env[self.model]._description,
                )
            )
