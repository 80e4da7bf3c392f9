from collections import defaultdict

from odoo import models


class MailMessage(models.Model):
    _name = "mail.message"
    _inherit = ["mail.message", "therapy.readable.target.mixin"]
    # Odoo shows a message's author by name as superuser: a message (or a form's onchange)
    # naming a client the user may not read as its author showed the client's name.
    _therapy_readable_target_fields = ("author_id",)
    _therapy_own_record_fields = ("author_id",)

    def _get_forbidden_access(self, operation):
        """A message on a Group Therapy record is written by those who may post there.

        Odoo also lets a follower of the record, a recipient of the message answered, or
        anyone writing a notification (``message_notify``, ``user_notification``) create one.
        On a group, a session, a chart note, a claim or a consent that wrote in a chatter
        closed to them (an accountant following a group they read to invoice) or named the
        record to them (``record_name`` is read as superuser): only the document's own right
        counts there. A notification about any other record is for those who read it (a
        client's contact, by its id, named the client)."""
        forbidden = super()._get_forbidden_access(operation)
        if operation != "create":
            return forbidden
        # {model: {document id: message ids}}, and the notifications among them
        documents = defaultdict(lambda: defaultdict(list))
        notified = defaultdict(set)
        for message in (self - forbidden).sudo():
            if message.model and message.res_id and message.model in self.env:
                documents[message.model][message.res_id].append(message.id)
                if message.message_type == "user_notification":
                    notified[message.model].add(message.res_id)
        for model, message_ids in documents.items():
            records = self.env[model].browse(message_ids)
            guarded = records._therapy_mail_guarded()
            allowed = self._filter_records_for_message_operation(model, guarded.ids, "create")
            refused = guarded - allowed
            # a notification about any other record names it too: to those who read it
            named = records.browse(notified[model]) - guarded
            if named:
                refused |= named - named._filtered_access("read")
            for document in refused:
                forbidden += self.browse(message_ids[document.id])
        return forbidden
