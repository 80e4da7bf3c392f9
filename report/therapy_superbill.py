from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class ReportSuperbill(models.AbstractModel):
    """A superbill per client: what a client hands their insurer to be reimbursed."""

    _name = "report.group_therapy.report_superbill"
    _description = "Superbill"

    @api.model
    def _get_services(self, docids):
        """The attendance lines to print (here: the selected lines themselves)."""
        return self.env["therapy.attendance"].browse(docids)

    @api.model
    def _get_report_values(self, docids, data=None):
        lines = self._get_services(docids)
        lines.check_access("read")
        # The superbill carries the clients' diagnoses, payer and birth date, read as
        # superuser below: only for those who serve every client on it.
        lines.partner_id._therapy_check_clinical_access()
        services = lines.filtered(
            lambda line: line.state == "attended" and line.product_id.therapy_code_kind == "cpt"
        )
        if not services:
            raise UserError(
                self.env._(
                    "There is no service to put on a superbill: a superbill lists the sessions a "
                    "client attended with a CPT code (no-show and late-cancel fees are not "
                    "services). Record the attendance first."
                )
            )
        superbills = [
            self._superbill_values(client, client_lines)
            for client, client_lines in services.grouped("partner_id").items()
        ]
        return {
            "doc_ids": docids,
            "doc_model": self._name,
            "docs": services,
            "superbills": sorted(superbills, key=lambda superbill: superbill["client"].name),
        }

    @api.model
    def _superbill_values(self, client, lines):
        """Practice, client, diagnoses, one row per code billed, totals, paid and balance; the
        language the client's page prints in (theirs, as their invoices)."""
        lines = lines.sorted(lambda line: (line.session_date, line.event_start))
        company = lines[:1].company_id or self.env.company
        client_sudo = client.sudo()
        rows = self.env["report.group_therapy.claim_lines"]._get_rows(lines)
        total = sum(row["charge"] for row in rows)
        invoices_sudo = lines.sudo().invoice_id.filtered(lambda move: move.state == "posted")
        paid = sum(invoices_sudo.mapped("amount_total")) - sum(
            invoices_sudo.mapped("amount_residual")
        )
        diagnosis_lines = client_sudo.therapy_diagnosis_line_ids.sorted(
            lambda line: (line.sequence, line.id)
        )
        return {
            "client": client,
            "client_sudo": client_sudo,
            "lang": client.lang or self.env.lang,
            "company": company,
            "currency": company.currency_id,
            "diagnoses": [
                {"pointer": line.pointer, "code": line.code, "name": line.diagnosis_id.name}
                for line in diagnosis_lines
            ],
            "rows": rows,
            "total": total,
            "paid": paid,
            "balance": total - paid,
            "statement_date": fields.Date.context_today(self),
            "date_from": lines[:1].session_date,
            "date_to": lines[-1:].session_date,
        }


class ReportSuperbillSession(models.AbstractModel):
    """The superbills of every client of the selected sessions (Print menu of a session)."""

    _name = "report.group_therapy.report_superbill_session"
    _inherit = "report.group_therapy.report_superbill"
    _description = "Superbill (session)"

    @api.model
    def _get_services(self, docids):
        return self.env["calendar.event"].browse(docids).therapy_attendance_ids


class ReportSuperbillClient(models.AbstractModel):
    """A client's superbill for their services of the last twelve months (client form)."""

    _name = "report.group_therapy.report_superbill_client"
    _inherit = "report.group_therapy.report_superbill"
    _description = "Superbill (client)"

    @api.model
    def _get_services(self, docids):
        since = fields.Date.context_today(self) - relativedelta(months=12)
        return self.env["therapy.attendance"].search(
            [("partner_id", "in", docids), ("session_date", ">=", since)]
        )
