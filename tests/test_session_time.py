from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_charting import ChartingCommon


@tagged("post_install", "-at_install")
class TestSessionTimeRule(ChartingCommon):
    """Nothing is marked attended, invoiced, charted or signed before the session starts; a late
    cancel, or cancelling the session, can be recorded ahead of time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.future = cls._make_session(cls.group, days=2)
        cls.future_lines = {line.partner_id: line for line in cls.future.therapy_attendance_ids}

    def test_front_desk_cannot_mark_a_future_session_attended(self):
        line = self.future_lines[self.clients[0]].with_user(self.front_desk)
        message = "once the session has started"
        for values in (
            {"state": "attended", "product_id": self.cpt_90853.id},
            {"state": "attended", "product_id": self.no_fee.id},
            {"state": "attended"},
            {"state": "absent", "product_id": self.no_show.id},
        ):
            with self.subTest(values=values), self.assertRefused(UserError, message):
                line.write(values)
        session = self.future.with_user(self.front_desk)
        with self.assertRefused(UserError, message):
            session.action_mark_all_attended()
        # Nor through the session's lines, as the web client's form sends them.
        with self.assertRefused(UserError, message):
            session.write(
                {
                    "therapy_attendance_ids": [
                        Command.update(
                            line.id, {"state": "attended", "product_id": self.cpt_90853.id}
                        )
                    ]
                }
            )
        # Nor by creating the line already answered.
        line.unlink()
        with self.assertRefused(UserError, message):
            self.env["therapy.attendance"].with_user(self.front_desk).create(
                {
                    "event_id": self.future.id,
                    "partner_id": self.clients[0].id,
                    "state": "attended",
                    "product_id": self.cpt_90853.id,
                }
            )
        self.assertEqual(set(self.future.therapy_attendance_ids.mapped("state")), {False})
        self.assertEqual(self.future.therapy_attended_count, 0)

    def test_late_cancel_ahead_of_time_is_invoiced_once_the_session_took_place(self):
        line = self.future_lines[self.clients[0]].with_user(self.front_desk)
        line.write({"state": "absent", "product_id": self.late_cancel.id})
        self.assertEqual(line.attendance_status, "late_cancel")
        self.assertEqual(line.billing_status, "to_invoice")
        message = "invoiced once the session has taken place"
        with self.assertRefused(UserError, message):
            line.action_invoice()
        with self.assertRefused(UserError, message):
            line.action_register_payment()
        others = self.future.therapy_attendance_ids - line
        others.with_user(self.front_desk).write({"state": "absent", "product_id": self.no_fee.id})
        with self.assertRefused(UserError, message):
            self.future.with_user(self.front_desk).action_invoice_attendance()
        self.assertFalse(line.invoice_id)
        self.assertFalse(
            self.env["account.move"].search([("therapy_event_id", "=", self.future.id)])
        )
        # Once the session has started, the same fee is invoiced.
        with freeze_time(self.future.start + timedelta(minutes=1)):
            invoice = line.action_invoice()
        self.assertEqual(line.invoice_id, invoice)
        self.assertEqual(invoice.invoice_line_ids.product_id, self.late_cancel)

    def test_front_desk_cancels_a_future_session(self):
        self.future_lines[self.clients[1]].with_user(self.front_desk).write(
            {"state": "absent", "product_id": self.late_cancel.id}
        )
        self.future.with_user(self.front_desk).action_cancel_session()
        self.assertTrue(self.future.therapy_cancelled)
        self.assertEqual(
            set(self.future.therapy_attendance_ids.mapped("attendance_status")), {"no_fee"}
        )

    def test_provider_cannot_chart_a_future_session(self):
        with self.assertRefused(UserError, "it is charted once it has taken place"):
            self.future.with_user(self.provider).action_open_charting()
        self.assertFalse(
            self.env["therapy.charting.wizard"].search([("event_id", "=", self.future.id)])
        )

    def test_notes_are_not_signed_before_the_session_starts(self):
        """Yesterday's drafts, signed by a clock set before the session (a note "signed Nov 29"
        for a session of Nov 30)."""
        wizard = self._chart()
        notes = self.session.therapy_chart_note_ids
        message = "its chart notes are signed once it has taken place"
        with freeze_time(self.session.start - timedelta(minutes=5)):
            with self.assertRefused(UserError, message):
                wizard._sign()
            with self.assertRefused(UserError, message):
                notes.with_user(self.provider)._sign()
            with self.assertRefused(UserError, "it is charted once it has taken place"):
                self.session.with_user(self.provider).action_open_charting()
        self.assertEqual(set(notes.mapped("state")), {"draft"})
        self.assertFalse(any(notes.mapped("signed_on")))
        # Once the session has started, the provider signs.
        wizard._sign()
        self.assertEqual(set(notes.mapped("state")), {"locked"})
        self.assertTrue(all(note.signed_on >= self.session.start for note in notes))

    def test_a_session_with_answers_does_not_move_into_the_future(self):
        session = self.session.with_user(self.front_desk)
        start, stop = self.session.start, self.session.stop
        later = self.future.start + timedelta(days=1)
        with self.assertRefused(UserError, "which is still to come"):
            session.write({"start": later, "stop": later + timedelta(hours=1)})
        self.assertEqual((self.session.start, self.session.stop), (start, stop))
        self.assertLess(self.session.start, fields.Datetime.now())
        # A future session with only a late cancel recorded moves freely.
        self.future_lines[self.clients[0]].with_user(self.front_desk).write(
            {"state": "absent", "product_id": self.late_cancel.id}
        )
        self.future.with_user(self.front_desk).write(
            {"start": later, "stop": later + timedelta(hours=1)}
        )
        self.assertEqual(self.future.start, later)
