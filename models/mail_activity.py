from collections import defaultdict

from odoo import api, models
from odoo.exceptions import AccessError


class MailActivity(models.Model):
    """An activity names its document by model and id, and Odoo computes the document's name
    (``res_name``) as superuser: a form sent with the id of a session, group or client the
    user may not read showed its name (``onchange``), and so did an activity of their own moved
    to that id (``write``; Odoo checks the document on create only). The document named is a
    record the user reads, as the addon's own fields (``therapy.readable.target.mixin``)."""

    _name = "mail.activity"
    _inherit = ["mail.activity", "therapy.readable.target.mixin"]
    # The assignee is shown by name as superuser: a client's portal login is a user named as
    # the client.
    _therapy_readable_target_fields = ("user_id",)
    _therapy_own_record_fields = ("user_id",)

    @api.model
    def _therapy_named_model(self, vals, defaults):
        """The document model ``vals`` names (by name or by ``ir.model`` id), else None."""
        context = self.env.context if defaults else {}
        model = vals.get("res_model") or (
            not vals.get("res_model_id") and context.get("default_res_model")
        )
        model_id = vals.get("res_model_id") or (not model and context.get("default_res_model_id"))
        if not model and type(model_id) is int:
            model = self.env["ir.model"].sudo().browse(model_id).model
        return model or None

    def _therapy_check_readable_document(self, vals_list, defaults=False):
        """Refuse values naming a document the user may not read; what an activity already
        names is not new to the user."""
        if self.env.su:
            return
        keys = {"res_model", "res_model_id", "res_id"}
        context_keys = {f"default_{key}" for key in keys} if defaults else set()
        named = defaultdict(set)
        for vals in vals_list:
            if not (keys & vals.keys() or context_keys & self.env.context.keys()):
                continue
            model = self._therapy_named_model(vals, defaults)
            res_id = vals.get("res_id") or (defaults and self.env.context.get("default_res_id"))
            for activity in self or [self]:
                document_model = model or (activity and activity.res_model)
                document_id = res_id or (activity and activity.res_id)
                if not document_model or type(document_id) is not int or not document_id:
                    continue
                if activity and (activity.res_model, activity.res_id) == (
                    document_model,
                    document_id,
                ):
                    continue
                named[document_model].add(document_id)
        for model, ids in named.items():
            if model not in self.env:
                continue
            documents = self.env[model].browse(ids)
            if documents - documents._filtered_access("read"):
                raise AccessError(
                    self.env._(
                        "This activity names a document you cannot see. Schedule it from a "
                        "record you can open."
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._therapy_check_readable_document(vals_list, defaults=True)
        return super().create(vals_list)

    def write(self, vals):
        self._therapy_check_readable_document([vals])
        return super().write(vals)

    def onchange(self, values, field_names, fields_spec):
        self._therapy_check_readable_document([values], defaults=not field_names)
        return super().onchange(values, field_names, fields_spec)
