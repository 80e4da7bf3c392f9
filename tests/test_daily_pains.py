from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestCancelSession(GroupTherapyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)

    def test_cancel_a_whole_session(self):
        session = self._make_session(self.group, days=1)
        session.therapy_attendance_ids[:1].write(
            {"state": "attended", "product_id": self.cpt_90853.id}
        )
        session.with_user(self.front_desk).action_cancel_session()
        lines = session.therapy_attendance_ids
        self.assertEqual(len(lines), 4)
        self.assertEqual(set(lines.mapped("attendance_status")), {"no_fee"})
        self.assertEqual(set(lines.mapped("billing_status")), {"nothing"})
        self.assertTrue(session.therapy_cancelled)
        self.assertTrue(session.display_name.startswith("Cancelled: "))
        message = session.message_ids[:1]
        self.assertIn("is cancelled", message.body)
        self.assertEqual(message.partner_ids, session.partner_ids)
        self.assertTrue(message.notification_ids, "the members are notified by Odoo's mail")
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
        wizard.action_sign()
        with self.assertRefused(UserError, "signed chart notes took place and cannot be cancelled"):
            charted.with_user(self.front_desk).action_cancel_session()
        self.assertFalse(charted.therapy_cancelled)
        self.assertEqual(set(charted.therapy_attendance_ids.mapped("state")), {"attended"})
        appointment = self.env["calendar.event"].create(
            {"name": "Intake", "start": datetime.now(), "stop": datetime.now() + timedelta(hours=1)}
        )
        with self.assertRefused(UserError, "Only group sessions are cancelled here"):
            appointment.with_user(self.front_desk).action_cancel_session()


@tagged("post_install", "-at_install")
class TestNoShowAlertAndAnalysis(GroupTherapyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=60)
        cls.sessions = [cls._make_session(cls.group, days=-7 * weeks) for weeks in (3, 2, 1)]

    def _no_show(self, session, client):
        session.therapy_attendance_ids.filtered(lambda line: line.partner_id == client).with_user(
            self.front_desk
        ).write({"state": "absent", "product_id": self.no_show.id})

    def _alerts(self):
        return self.group.activity_ids.filtered(
            lambda activity: "no-shows in a row" in (activity.summary or "")
        )

    def test_three_no_shows_in_a_row_alert_the_provider(self):
        client = self.clients[0]
        for session in self.sessions[:2]:
            self._no_show(session, client)
        self.assertFalse(self._alerts(), "two are not yet a pattern")
        self._no_show(self.sessions[2], client)
        alert = self._alerts()
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.user_id, self.provider)
        self.assertIn(client.name, alert.summary)
        # Correcting and re-answering does not pile up alerts.
        self._no_show(self.sessions[2], client)
        self.assertEqual(len(self._alerts()), 1)

    def test_an_attended_session_breaks_the_series_and_zero_switches_off(self):
        client = self.clients[1]
        self._no_show(self.sessions[0], client)
        self.sessions[1].action_mark_all_attended()
        self._no_show(self.sessions[2], client)
        self.assertFalse(self._alerts())
        self.group.no_show_alert_count = 0
        for session in self.sessions:
            session.therapy_attendance_ids.filtered(
                lambda line: line.partner_id == self.clients[2]
            ).write({"state": "absent", "product_id": self.no_show.id})
        self.assertFalse(self._alerts())

    def test_attendance_rate_per_group_and_client(self):
        for session in self.sessions:
            session.action_mark_all_attended()
        self.sessions[0].therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[0]
        ).write({"state": "absent", "product_id": self.no_show.id})
        Attendance = self.env["therapy.attendance"].with_user(self.provider)
        by_client = dict(
            Attendance._read_group(
                [("group_id", "=", self.group.id), ("state", "!=", False)],
                ["partner_id"],
                ["attended_percent:avg"],
            )
        )
        self.assertAlmostEqual(by_client[self.clients[0]], 200 / 3)
        self.assertEqual(by_client[self.clients[1]], 100.0)
        [(rate,)] = Attendance._read_group(
            [("group_id", "=", self.group.id), ("state", "!=", False)], [], ["attended_percent:avg"]
        )
        self.assertAlmostEqual(rate, 1100 / 12)
        self.assertFalse(
            self.env["therapy.attendance"]
            .with_user(self.other_provider)
            .search_count([("group_id", "=", self.group.id)]),
            "another provider's analysis does not include this group",
        )


@tagged("post_install", "-at_install")
class TestWaitlist(GroupTherapyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.capacity = 4  # four members already: full
        cls.waiting = cls.env["res.partner"].create(
            [{"name": "Wanda Wait"}, {"name": "Will Later"}]
        )

    def _wait(self, client, user=None):
        return (
            self.env["therapy.group.waitlist"]
            .with_user(user or self.front_desk)
            .create({"group_id": self.group.id, "partner_id": client.id})
        )

    def test_clients_join_in_order_when_a_place_frees_up(self):
        first, second = self._wait(self.waiting[0]), self._wait(self.waiting[1])
        self.assertEqual((first.state, second.state), ("waiting", "waiting"))
        self.group.member_ids.filtered(
            lambda member: member.partner_id == self.clients[0]
        ).with_user(self.provider).action_end_membership()
        self.assertEqual((first.state, second.state), ("promoted", "waiting"))
        self.assertIn(self.waiting[0], self.group.member_partner_ids)
        self.assertNotIn(self.waiting[1], self.group.member_partner_ids)
        self.group.with_user(self.provider).capacity = 5
        self.assertEqual(second.state, "promoted")
        self.assertIn(self.waiting[1], self.group.member_partner_ids)
        self.assertIn("joined the group from the waitlist", self.group.message_ids[:1].body)

    def test_a_group_with_room_takes_the_client_at_once(self):
        self.group.capacity = 6
        entry = self._wait(self.waiting[0])
        self.assertEqual(entry.state, "promoted")
        self.assertIn(self.waiting[0], self.group.member_partner_ids)

    def test_waitlist_refusals(self):
        with self.assertRefused(ValidationError, "is already a member"):
            self._wait(self.clients[0])
        entry = self._wait(self.waiting[0])
        with self.assertRefused(ValidationError, "is already on the waitlist"):
            self._wait(self.waiting[0])
        entry.action_cancel()
        self.assertEqual(entry.state, "cancelled")
        self.assertEqual(self._wait(self.waiting[0]).state, "waiting", "may wait again")
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self._wait(self.waiting[1], user=self.other_provider)
