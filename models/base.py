from odoo import models

from .therapy_clinical_reference_mixin import log_references, reference_target


class Base(models.AbstractModel):
    _inherit = "base"

    def _therapy_mail_guarded(self):
        """The records of ``self`` whose messages only those who may post there write, by
        every route (Group Therapy records: see ``mail.message``); none on Odoo's models."""
        return self.browse()

    def export_data(self, fields_to_export):
        """An export of any record reaching clinical text of other records (a client's notes
        by ``therapy_chart_note_ids/body``, a client's goals by ``therapy_goal_ids``, which
        exports their names) is on the access log, under those records. Clinical models and
        those showing clinical text log their own exports."""
        registry = self.env.registry
        if isinstance(
            self,
            (registry["therapy.access.logged.mixin"], registry["therapy.clinical.reference.mixin"]),
        ):
            return super().export_data(fields_to_export)
        with self.env["therapy.access.log"]._batch():
            result = super().export_data(fields_to_export)
            references = [
                (path, *target)
                for path in fields_to_export
                if (target := reference_target(self, path.split("/")))
            ]
            if references and self:
                log_references(self, references, "export")
        return result
