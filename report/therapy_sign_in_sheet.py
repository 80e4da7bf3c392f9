from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import format_time


class ReportSignInSheet(models.AbstractModel):
    """A session's printed roster: each member signs in (initials or names per practice)."""

    _name = "report.group_therapy.report_sign_in_sheet"
    _description = "Sign-in Sheet"

    @api.model
    def _get_report_values(self, docids, data=None):
        sessions = self.env["calendar.event"].browse(docids).filtered("therapy_group_id")
        if not sessions:
            raise UserError(
                self.env._("A sign-in sheet is printed for a group session: open one first.")
            )
        sessions.check_access("read")
        return {
            "doc_ids": sessions.ids,
            "doc_model": "calendar.event",
            "docs": sessions,
            "sheets": [self._sheet_values(session) for session in sessions],
        }

    @api.model
    def _sheet_values(self, session):
        company = session.therapy_group_id.company_id or self.env.company
        show_names = company.therapy_sign_in_names == "names"
        lines = session.therapy_attendance_ids.sorted("partner_name")
        tz = session._therapy_practice_tz()  # the session's own day and hour, like its invoices
        return {
            "session": session,
            "company": company,
            "group": session.therapy_group_id,
            "date": session.therapy_session_date,
            "time": format_time(self.env, session.start, tz=tz, time_format="short"),
            "provider": session.user_id or session.therapy_group_id.provider_id,
            "show_names": show_names,
            "clients": [
                line.partner_id.name if show_names else self._initials(line.partner_id.name)
                for line in lines
            ],
        }

    @api.model
    def _initials(self, name):
        """“Jane Q. Doe” -> “J. Q. D.”: members do not read each other's names on the sheet."""
        return " ".join(f"{word[0].upper()}." for word in (name or "").split() if word[0].isalpha())
