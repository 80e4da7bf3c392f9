from collections import defaultdict

from odoo import models


class MailMessage(models.Model):
    _inherit = "mail.message"

    def _get_forbidden_access(self, operation):
        """A message on a Group Therapy record is written by those who may post there.

        Odoo also lets a follower of the record, a recipient of the message answered, or
        anyone writing a notification (``message_notify``, ``user_notification``) create one.
        On a group, a session, a chart note, a claim or a consent that wrote in a chatter
        closed to them (an accountant following a group they read to invoice) or named the
        record to them (``record_name`` is read as superuser): only the document's own right
        counts there."""
        forbidden = super()._get_forbidden_access(operation)
        if operation != "create":
            return forbidden
        # {model: {document id: message ids}}
        documents = defaultdict(lambda: defaultdict(list))
        for message in (self - forbidden).sudo():
            if message.model and message.res_id and message.model in self.env:
                documents[message.model][message.res_id].append(message.id)
        for model, message_ids in documents.items():
            guarded = self.env[model].browse(message_ids)._therapy_mail_guarded()
            if not guarded:
                continue
            allowed = self._filter_records_for_message_operation(model, guarded.ids, "create")
            for document in guarded - allowed:
                forbidden += self.browse(message_ids[document.id])
        return forbidden
