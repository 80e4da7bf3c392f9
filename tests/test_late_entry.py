from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import format_date, format_datetime, html2plaintext

from .test_charting import ChartingCommon


@tagged("post_install", "-at_install")
class TestLateEntry(ChartingCommon):
    """A client found to have attended after the notes were signed gets a late entry of their
    own, written and signed through the charting flow; the signed notes stay as they are."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.session.therapy_attendance_ids.with_user(cls.front_desk).action_invoice()
        cls._chart()._sign()
        cls.late_client = cls.clients[2]
        cls.late_line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.late_client
        )
        cls.signed_notes = cls.session.therapy_chart_note_ids

    def _correct_to_attended(self):
        """The front desk corrects the no-show to attended, 90853, with the billing wizard."""
        action = self.late_line.with_user(self.front_desk).action_open_correction()
        form = Form(
            self.env[action["res_model"]]
            .with_user(self.front_desk)
            .with_context(**action["context"])
        )
        form.state = "attended"
        form.product_id = self.cpt_90853
        form.save().action_apply()

    def _late_note(self):
        return self._note(self.late_client)

    def test_late_attendee_gets_a_late_entry_signed_separately(self):
        before = {
            note: (note.body, note.content_hash, note.signed_on) for note in self.signed_notes
        }
        self.assertEqual(set(self.signed_notes.mapped("state")), {"locked"})
        self._correct_to_attended()
        self.assertEqual(self.late_line.state, "attended")
        self.assertEqual(self.late_line.invoice_id.invoice_line_ids.product_id, self.cpt_90853)
        self.assertFalse(self._late_note(), "no note until the provider writes it")
        session = self.session.with_user(self.provider)
        self.assertEqual(session.therapy_chart_state, "late")
        todo = self.group.activity_ids.filtered(lambda act: act.user_id == self.provider)
        day = format_date(self.env, self.session.therapy_session_date)
        self.assertEqual(todo.summary, f"Late entry: chart Client 03 ({day})")

        wizard = self._open_wizard()
        self.assertTrue(wizard.late_entry)
        self.assertEqual(wizard.line_ids.partner_id, self.late_client, "only the late client")
        self.assertIn("distress tolerance", wizard.group_note, "starts from the signed notes")
        wizard.line_ids.note = "<p>Arrived after check-in; took part in the skills practice.</p>"
        wizard.action_review()
        note = self._late_note()
        self.assertEqual(wizard.note_ids, note)
        self.assertEqual(note.state, "draft")
        self.assertTrue(note.late_entry)
        self.assertIn("Late entry", note.body)

        signed = wizard._sign()
        self.assertEqual(signed, note)
        self.assertEqual(note.state, "locked")
        self.assertEqual(note.signed_by_id, self.provider)
        self.assertTrue(note.late_entry_on)
        self.assertTrue(note.hash_verified)
        text = html2plaintext(note.body).replace("*", "")
        written = format_datetime(self.env, note.late_entry_on, dt_format="short")
        self.assertIn(f"Late entry written on {written}", text)
        self.assertIn("skills practice", text)
        self.assertTrue(self.late_line.note_signed)
        for other, facts in before.items():
            self.assertEqual((other.body, other.content_hash, other.signed_on), facts)
            self.assertFalse(other.late_entry)
            self.assertTrue(other.hash_verified)
        self.assertEqual(session.therapy_chart_state, "locked")
        with self.assertRefused(UserError, "write an addendum"):
            session.action_open_charting()

    def test_late_entry_on_the_form_and_the_pdf(self):
        self._correct_to_attended()
        wizard = self._open_wizard()
        wizard.line_ids.note = "<p>Participated.</p>"
        wizard._sign()
        note = self._late_note().with_user(self.provider)
        report = self.env.ref("group_therapy.therapy_chart_note_report")
        html, _kind = report.with_user(self.provider)._render_qweb_html(report, note.ids)
        text = html2plaintext(html.decode()).replace("*", "")
        self.assertIn("Late entry, written on", text)
        self.assertIn(format_datetime(self.env, note.late_entry_on), text, "dated in the header")
        others, _kind = report.with_user(self.provider)._render_qweb_html(
            report, self.signed_notes.ids
        )
        self.assertNotIn("Late entry", others.decode())
        form = self.env.ref("group_therapy.therapy_chart_note_view_form")
        arch = note.get_views([(form.id, "form")])["views"]["form"]["arch"]
        self.assertIn('name="late_entry_on"', arch)

    def test_late_entry_only_through_charting(self):
        self._correct_to_attended()
        Note = self.env["therapy.chart.note"].with_user(self.provider)
        with self.assertRefused(UserError, "Chart notes are written by charting the session"):
            Note.create(
                {
                    "event_id": self.session.id,
                    "partner_id": self.late_client.id,
                    "attendance_id": self.late_line.id,
                    "late_entry": True,
                }
            )
        wizard = self._open_wizard()
        wizard.action_review()
        with self.assertRefused(UserError, "is set by the application itself"):
            self._late_note().with_user(self.provider).write({"late_entry": False})
        with self.assertRefused(UserError, "can no longer change"):
            self.signed_notes[:1].with_user(self.provider).write({"late_entry": True})
        # The front desk corrects billing but does not chart.
        with self.assertRaises(UserError):
            self.session.with_user(self.front_desk).action_open_charting()

    def test_a_late_entry_needs_its_own_note_text(self):
        """The late client's note is checked before signing like any other."""
        self._correct_to_attended()
        wizard = self._open_wizard()
        wizard.group_note = False
        self.assertIn("Client 03: the note is empty", wizard.presign_report)
        self.assertNotIn("Client 01", wizard.presign_report, "signed notes are not checked again")
        with self.assertRefused(UserError, "cannot be signed yet"):
            wizard._sign()
        self.assertFalse(self._late_note().filtered(lambda note: note.state == "locked"))
