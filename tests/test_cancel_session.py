from datetime import datetime, timedelta

from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestCancelSession(GroupTherapyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)

    def test_cancel_a_whole_session(self):
        session = self._make_session(self.group, days=1)
        # Ahead of time, one client already called in a late cancel.
        session.therapy_attendance_ids[:1].write(
            {"state": "absent", "product_id": self.late_cancel.id}
        )
        session.with_user(self.front_desk).action_cancel_session()
        lines = session.therapy_attendance_ids
        self.assertEqual(len(lines), 4)
        self.assertEqual(set(lines.mapped("attendance_status")), {"no_fee"})
        self.assertEqual(set(lines.mapped("billing_status")), {"nothing"})
        self.assertTrue(session.therapy_cancelled)
        self.assertTrue(session.display_name.startswith("Cancelled: "))
        self.env.invalidate_all()
        message = session.message_ids.filtered(lambda m: "is cancelled" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertFalse(message.partner_ids, "the chatter note is for the practice")
        # each client is told in a message of their own (see test_privacy_mail)
        messages = self.env["mail.message"].search(
            [("model", "=", "calendar.event"), ("res_id", "=", session.id)]
        )
        for client in session.therapy_attendance_ids.partner_id:
            told = messages.filtered(lambda m, c=client: m.partner_ids == c and m.subject)
            self.assertIn("Cancelled", " ".join(told.mapped("subject")), client.name)
        with self.assertRefused(UserError, "Nothing to invoice"):
            session.with_user(self.front_desk).action_invoice_attendance()

    def test_cancel_refused_once_invoiced_or_signed(self):
        session = self._make_session(self.group, days=-1)
        session.action_mark_all_attended()
        self.assertTrue(session.therapy_attendance_ids[:1].action_invoice())
        with self.assertRefused(UserError, "Credit the invoices first"):
            session.with_user(self.front_desk).action_cancel_session()
        self.assertFalse(session.therapy_cancelled)
        self.assertEqual(set(session.therapy_attendance_ids.mapped("state")), {"attended"})
        # A session whose notes are signed took place: it cannot be cancelled either.
        charted = self._make_session(self.group, days=-2)
        charted.action_mark_all_attended()
        action = charted.with_user(self.provider).action_open_charting()
        wizard = self.env[action["res_model"]].with_user(self.provider).browse(action["res_id"])
        wizard.group_note = "<p>Worked on grounding skills.</p>"
        wizard._sign()
        with self.assertRefused(UserError, "has signed chart notes: it took place") as refusal:
            charted.with_user(self.front_desk).action_cancel_session()
        self.assertIn("addendum", str(refusal.exception))
        self.assertIn("credits the invoice", str(refusal.exception))
        self.assertFalse(charted.therapy_cancelled)
        self.assertEqual(set(charted.therapy_attendance_ids.mapped("state")), {"attended"})
        self.assertEqual(set(charted.therapy_chart_note_ids.mapped("state")), {"locked"})
        appointment = self.env["calendar.event"].create(
            {"name": "Intake", "start": datetime.now(), "stop": datetime.now() + timedelta(hours=1)}
        )
        with self.assertRefused(UserError, "Only group sessions are cancelled here"):
            appointment.with_user(self.front_desk).action_cancel_session()

    def test_cancel_discards_the_sessions_draft_invoices(self):
        """A draft invoice bills nobody: cancelling used to refuse ("Credit the invoices
        first"); the session's own drafts are now discarded, and named in its chatter."""
        session = self._make_session(self.group, days=-1)
        session.action_mark_all_attended()
        cara, dan = session.therapy_attendance_ids[:2]
        draft = cara.action_invoice()
        draft.button_draft()
        # the same client's draft invoice of another session is not this session's to discard
        other = self._make_session(self.group, days=-2)
        other.action_mark_all_attended()
        other_line = other.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cara.partner_id
        )
        other_draft = other_line.action_invoice()
        other_draft.button_draft()
        # a posted invoice still refuses, and nothing is discarded then
        posted = dan.action_invoice()
        with self.assertRefused(UserError, "Credit the invoices first"):
            session.with_user(self.front_desk).action_cancel_session()
        self.assertTrue(draft.exists())
        self.assertFalse(session.therapy_cancelled)
        posted.button_draft()
        draft_names = draft.display_name, posted.display_name
        session.with_user(self.front_desk).action_cancel_session()
        self.assertTrue(session.therapy_cancelled)
        # the first draft keeps its number (others follow it in the sequence): cancelled, as
        # Odoo refuses to delete it; the last one is deleted
        self.assertEqual(draft.state, "cancel")
        self.assertFalse(posted.exists())
        self.assertEqual(set(session.therapy_attendance_ids.mapped("billing_status")), {"nothing"})
        self.assertEqual(other_line.invoice_id, other_draft, "another session's draft stays")
        self.env.invalidate_all()
        note = session.message_ids.filtered(lambda m: "Draft invoices discarded" in (m.body or ""))
        self.assertEqual(len(note), 1)
        for name in draft_names:
            self.assertIn(name, note.body)
        self.assertNotIn(cara.partner_id.name, note.body, "the chatter names no client")

    def test_cancel_refused_while_a_provider_has_draft_notes(self):
        """Cancelling used to delete the provider's drafts silently: now it names who wrote them."""
        session = self._make_session(self.group, days=-1)
        session.action_mark_all_attended()
        action = session.with_user(self.shared_provider).action_open_charting()
        wizard = self.env[action["res_model"]].with_user(self.shared_provider)
        wizard = wizard.browse(action["res_id"])
        wizard.group_note = "<p>Worked on grounding skills.</p>"
        wizard.action_review()
        drafts = session.therapy_chart_note_ids
        self.assertEqual(len(drafts), 4)
        desk = session.with_user(self.front_desk)
        with self.assertRefused(
            UserError, "has draft chart notes written by Shared Sam"
        ) as refusal:
            desk.action_cancel_session()
        self.assertIn("Ask Shared Sam to sign the notes", str(refusal.exception))
        self.assertNotIn("grounding", str(refusal.exception), "no clinical text for the desk")
        self.assertFalse(session.therapy_cancelled)
        self.assertEqual(drafts.exists(), drafts)
        self.assertEqual(set(drafts.mapped("state")), {"draft"})
        self.assertEqual(set(session.therapy_attendance_ids.mapped("state")), {"attended"})
        # The provider deletes the drafts (the session did not take place): front desk cancels.
        drafts.with_user(self.shared_provider).unlink()
        desk.action_cancel_session()
        self.assertTrue(session.therapy_cancelled)
        self.assertEqual(
            set(session.therapy_attendance_ids.mapped("attendance_status")), {"no_fee"}
        )

    def test_cancelled_sessions_are_marked_in_the_list(self):
        arch = etree.fromstring(self.env.ref("group_therapy.calendar_event_view_list_session").arch)
        self.assertEqual(arch.get("decoration-muted"), "therapy_cancelled")
