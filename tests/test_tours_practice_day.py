from datetime import datetime, time, timedelta

from odoo.tests import HttpCase, tagged

from .common import GroupTherapyCommon, save_tour_screenshots


@tagged("post_install", "-at_install")
class TestPracticeDayTours(HttpCase, GroupTherapyCommon):
    """The practice's day in Chromium: the week's calendar, sharing from a colleague's calendar,
    the session roster with payments, and charting."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.group.color = 3
        cls.other_group.color = 8
        for user in cls.front_desk | cls.provider | cls.other_provider:
            user.tz = "UTC"  # the browser of the tests runs in UTC

    def setUp(self):
        super().setUp()
        save_tour_screenshots(self)

    @classmethod
    def _session_today(cls, group, hour, minutes=60):
        """A session of the group today (UTC) at `hour`, on its provider's calendar."""
        start = datetime.combine(datetime.now().date(), time(hour))
        return cls.env["calendar.event"].create(
            {
                "therapy_group_id": group.id,
                "start": start,
                "stop": start + timedelta(minutes=minutes),
                "user_id": group.provider_id.id,
            }
        )

    def _build_week(self):
        """Today's sessions: one to take, one taken, another provider's, a cancelled one."""
        self._session_today(self.group, 9)
        # Attendance is taken after the session: this one ended before the test runs (it
        # starts at midnight when the suite runs in the first hours of the day).
        start = max(
            datetime.combine(datetime.now().date(), time(0)),
            datetime.now().replace(microsecond=0) - timedelta(hours=2),
        )
        taken = self.env["calendar.event"].create(
            {
                "therapy_group_id": self.group.id,
                "start": start,
                "stop": start + timedelta(minutes=30),
                "user_id": self.provider.id,
            }
        )
        taken.action_mark_all_attended()
        self._session_today(self.other_group, 12)
        self._session_today(self.group, 16).action_cancel_session()

    def test_front_desk_week(self):
        """Front desk sees every session of the week once, in its group's colour."""
        self._build_week()
        self.start_tour(
            "/odoo/action-group_therapy.calendar_event_action_session_open",
            "group_therapy_week_tour",
            login=self.front_desk.login,
        )

    def test_front_desk_shares_from_a_colleagues_calendar(self):
        """Front desk pulls up Other Olga's calendar and books Pat's group there: shared."""
        self._session_today(self.group, 9)
        self._session_today(self.other_group, 12)
        self.start_tour(
            "/odoo/action-group_therapy.calendar_event_action_session_open",
            "group_therapy_share_tour",
            login=self.front_desk.login,
        )
        session = self.env["calendar.event"].search(
            [("therapy_group_id", "=", self.group.id), ("user_id", "=", self.other_provider.id)]
        )
        self.assertEqual(len(session), 1)
        self.assertEqual(session.user_id, self.other_provider)
        self.assertIn(self.other_provider, self.group.shared_provider_ids)
        self.assertEqual(len(session.therapy_attendance_ids), 4)
        # Olga's own Sessions calendar shows it.
        self.start_tour(
            "/odoo/action-group_therapy.calendar_event_action_session_open",
            "group_therapy_shared_calendar_tour",
            login=self.other_provider.login,
        )

    def test_roster_and_payment_at_the_desk_and_on_a_phone(self):
        """One row per client at 1440 px, cards at 390 px; the payment dialog says who pays."""
        self._ensure_chart_of_accounts()
        session = self._make_session(self.group, days=-1)
        session.action_mark_all_attended()
        lines = {line.partner_id: line for line in session.therapy_attendance_ids}
        lines[self.clients[1]].write({"state": "absent", "product_id": self.no_show.id})
        self.browser_size = "1440x900"
        self.start_tour(
            f"/odoo/calendar.event/{session.id}",
            "group_therapy_roster_tour",
            login=self.front_desk.login,
        )
        paid = lines[self.clients[0]]
        self.assertIn(paid.payment_state, ("paid", "in_payment"))
        payments = paid.invoice_id._get_reconciled_payments()
        self.assertEqual(payments.journal_id.type, "cash")
        self.browser_size = "390x844"
        self.touch_enabled = True
        self.start_tour(
            f"/odoo/calendar.event/{session.id}",
            "group_therapy_roster_mobile_tour",
            login=self.front_desk.login,
        )
        paid_by_card = lines[self.clients[2]]
        self.assertIn(paid_by_card.payment_state, ("paid", "in_payment"))
        self.assertEqual(paid_by_card.invoice_id._get_reconciled_payments().journal_id.code, "CARD")

    def test_charting_on_a_phone(self):
        """Charting at 390 px: every editor fits, nothing scrolls sideways, review reads."""
        session = self._make_session(self.group, days=-1)
        session.action_mark_all_attended()
        self.browser_size = "390x844"
        self.touch_enabled = True
        self.start_tour(
            f"/odoo/calendar.event/{session.id}",
            "group_therapy_charting_phone_tour",
            login=self.provider.login,
        )
        self.assertEqual(set(session.therapy_chart_note_ids.mapped("state")), {"draft"})
