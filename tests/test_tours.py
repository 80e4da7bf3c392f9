import pathlib
import subprocess
from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .common import GroupTherapyCommon, pdf_text, save_tour_screenshots


@tagged("post_install", "-at_install")
class TestTours(HttpCase, GroupTherapyCommon):
    """The practice's workflow in a real browser (headless Chromium), one role at a time.

    A tour step that logs ``screenshot:<name>`` gets a PNG of the screen, saved as
    ``<screenshots dir>/group_therapy/<name>.png`` for the README.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)

    def setUp(self):
        super().setUp()
        save_tour_screenshots(self)

    def test_front_desk_creates_a_group_and_adds_a_client(self):
        self.start_tour(
            "/odoo/action-group_therapy.therapy_group_action/new",
            "group_therapy_group_tour",
            login=self.front_desk.login,
        )
        group = self.env["therapy.group"].search([("code", "=", "GSG")])
        self.assertEqual(group.provider_id, self.provider)
        self.assertEqual(group.member_partner_ids, self.clients[4])

    def test_front_desk_adds_a_group_from_the_client_profile(self):
        client = self.clients[5]
        self.start_tour(
            f"/odoo/res.partner/{client.id}",
            "group_therapy_profile_tour",
            login=self.front_desk.login,
        )
        self.assertIn(client, self.group.member_partner_ids)

    def test_front_desk_schedules_takes_attendance_and_payment(self):
        # Attendance is taken once the session has started: the new session's form proposes
        # one that began an hour ago (Odoo's own default is the next half hour).
        start = datetime.now().replace(second=0, microsecond=0) - timedelta(hours=1)
        for fname, value in (("start", start), ("stop", start + timedelta(hours=1))):
            self.env["ir.default"].set("calendar.event", fname, fields.Datetime.to_string(value))
        self.start_tour(
            "/odoo/action-group_therapy.calendar_event_action_session/new",
            "group_therapy_session_tour",
            login=self.front_desk.login,
        )
        session = self.env["calendar.event"].search([("therapy_group_id", "=", self.group.id)])
        self.assertEqual(len(session), 1)
        lines = {line.partner_id: line for line in session.therapy_attendance_ids}
        self.assertEqual(lines[self.clients[1]].attendance_status, "no_show")
        self.assertEqual(lines[self.clients[0]].attendance_status, "attended")
        self.assertIn(lines[self.clients[0]].payment_state, ("paid", "in_payment"))

    def test_provider_charts_reviews_and_signs(self):
        template = self.env.ref("group_therapy.therapy_chart_template_group_progress")
        template.section_ids = [
            Command.create({"name": "Risk assessment", "hint": "Ideation, plan, intent"})
        ]
        session = self._make_session(self.group)
        session.action_mark_all_attended()
        session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[1]
        ).write({"state": "absent", "product_id": self.no_show.id})
        self.start_tour(
            f"/odoo/calendar.event/{session.id}",
            "group_therapy_charting_tour",
            login=self.provider.login,
        )
        notes = session.therapy_chart_note_ids
        self.assertEqual(notes.partner_id, self.clients[:4] - self.clients[1])
        self.assertEqual(set(notes.mapped("state")), {"locked"})
        client_note = notes.filtered(lambda note: note.partner_id == self.clients[0])
        self.assertIn("referral to a psychiatrist", client_note.body)
        self.assertIn("No safety concerns reported", client_note.body)
        self.assertNotIn("referral", (notes - client_note)[0].body)

    def test_charting_is_kept_while_typing_even_if_the_browser_goes_away(self):
        """Typed, autosaved, the page reloaded without closing the dialog: the text is back,
        and so is the progress chosen on a client's treatment-plan goal."""
        self.env["therapy.treatment.goal"].create(
            {"partner_id": self.clients[0].id, "problem": "Anxiety", "name": "Uses coping skills"}
        )
        session = self._make_session(self.group)
        session.action_mark_all_attended()
        self.start_tour(
            f"/odoo/calendar.event/{session.id}",
            "group_therapy_charting_autosave_tour",
            login=self.provider.login,
        )
        notes = session.therapy_chart_note_ids
        self.assertEqual(set(notes.mapped("state")), {"draft"}, "autosave never signs")
        client_note = notes.filtered(lambda note: note.partner_id == self.clients[0])
        self.assertIn("Slept better", client_note.client_note)
        self.assertIn("grounding skills", client_note.group_note)
        self.assertEqual(client_note.goal_progress_ids.mapped("rating"), ["progressing"])

    def test_closing_charting_that_cannot_be_kept_asks(self):
        """Closing a page that cannot become drafts asks: stay, or close and lose it."""
        session = self._make_session(self.group)
        session.action_mark_all_attended()
        self.start_tour(
            f"/odoo/calendar.event/{session.id}",
            "group_therapy_charting_not_kept_tour",
            login=self.provider.login,
        )
        self.assertFalse(session.therapy_chart_note_ids)

    def test_front_desk_cancels_a_session(self):
        session = self._make_session(self.group, days=2)
        self.start_tour(
            f"/odoo/calendar.event/{session.id}",
            "group_therapy_cancel_tour",
            login=self.front_desk.login,
        )
        self.assertTrue(session.therapy_cancelled)
        self.assertEqual(
            set(session.therapy_attendance_ids.mapped("attendance_status")), {"no_fee"}
        )

    def test_chart_note_pdf(self):
        """The PDF a provider prints: rendered by wkhtmltopdf through the running server."""
        session = self._make_session(self.group)
        session.action_mark_all_attended()
        action = session.with_user(self.provider).action_open_charting()
        wizard = self.env[action["res_model"]].with_user(self.provider).browse(action["res_id"])
        wizard.group_note = "<p>We practised distress tolerance skills (TIPP).</p>"
        wizard._sign()
        note = session.therapy_chart_note_ids[:1]
        note.write({"addendum_ids": [(0, 0, {"body": "<p>Client called: sleeping better.</p>"})]})
        self.assertEqual(len(note.addendum_ids), 1)
        report = self.env.ref("group_therapy.therapy_chart_note_report").with_user(self.provider)
        self.assertEqual(report.get_wkhtmltopdf_state(), "ok", "wkhtmltopdf is installed")
        text = self._render_pdf(report, note.ids, self.provider, "chart_note")
        self.assertIn("distress tolerance skills (TIPP)", text)
        self.assertIn("Client called: sleeping better.", text)

    def test_superbill_pdf(self):
        """The superbill a client takes to their payer, rendered like any Odoo report."""
        self.clients[0].therapy_diagnosis_ids = self.env.ref(
            "group_therapy.therapy_diagnosis_f41_1"
        )
        session = self._make_session(self.group)
        session.action_mark_all_attended()
        lines = session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[0]
        )
        report = self.env.ref("group_therapy.therapy_superbill_report").with_user(self.front_desk)
        text = self._render_pdf(report, lines.ids, self.front_desk, "superbill")
        self.assertIn("Superbill", text)
        self.assertIn(self.clients[0].name, text)
        self.assertIn("F41.1", text)

    def _render_pdf(self, report, ids, user, name):
        """Render a real PDF as `user` (wkhtmltopdf fetches its styles from the running
        server), keep it, and a picture of its first page, with the tours' screenshots; return
        the PDF's text."""
        self.authenticate(user.login, user.login)
        pdf, kind = report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report.report_name, ids
        )
        self.assertEqual(kind, "pdf")
        text = pdf_text(pdf)  # fails saying what to install when poppler-utils is missing
        screenshots_dir = pathlib.Path(config["screenshots"]) / "group_therapy"
        screenshots_dir.mkdir(parents=True, exist_ok=True)
        (screenshots_dir / f"{name}.pdf").write_bytes(pdf)
        # A picture of the first page for the README (pdftoppm: poppler-utils, as pdftotext).
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-singlefile", f"{name}.pdf", f"{name}_pdf"],
            cwd=screenshots_dir,
            check=True,
        )
        return text
