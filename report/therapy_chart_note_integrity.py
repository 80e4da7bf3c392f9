from odoo import api, fields, models
from odoo.tools import format_datetime


class ReportChartNoteIntegrity(models.AbstractModel):
    """Verify chart note integrity: per company, whether every signed note and addendum still
    matches its chained hash, and which ones do not (the first broken link first)."""

    _name = "report.group_therapy.report_chart_note_integrity"
    _description = "Chart Note Integrity Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        Chain = self.env["therapy.chart.note.chain"]
        # Before anything is read: the report reads every company's notes with sudo.
        Chain._therapy_check_access_verify()
        allowed = self.env.user.company_ids
        companies = self.env["res.company"].browse(docids or self.env.companies.ids)
        companies = companies.filtered(lambda company: company in allowed)
        return {
            "doc_ids": companies.ids,
            "doc_model": "res.company",
            "docs": companies,
            "results": Chain._therapy_check_integrity(companies),
            "printed_on": format_datetime(self.env, fields.Datetime.now()),
        }
