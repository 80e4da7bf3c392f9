from odoo import models

# The reports that print clinical content: a chart note (its text) and a superbill (diagnoses
# and services). What they print is in the rendering values' ``docs``: the notes, or the
# attendance lines billed.
THERAPY_LOGGED_REPORTS = {
    "group_therapy.therapy_chart_note_report_document",
    "group_therapy.report_superbill",
    "group_therapy.report_superbill_session",
    "group_therapy.report_superbill_client",
}


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _get_rendering_context(self, report, docids, data):
        """Printing a chart note or a superbill goes on the clinical access log, whatever
        the output (PDF, HTML preview) and whichever menu printed it."""
        data = super()._get_rendering_context(report, docids, data)
        if report.report_name in THERAPY_LOGGED_REPORTS:
            docs = data.get("docs")
            if isinstance(docs, models.BaseModel) and "partner_id" in docs._fields:
                self.env["therapy.access.log"]._log(docs, "print", detail=report.name)
        return data
