from datetime import datetime, timedelta

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import GroupTherapyCommon


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
        self.assertEqual(
            alert.activity_type_id,
            self.env.ref("group_therapy.mail_activity_type_no_show_follow_up"),
            "its own activity type, which the practice can plan and report on",
        )
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
class TestAttendanceAnalysisPeriod(GroupTherapyCommon):
    """Reporting → Attendance: the last 12 months by default, cancelled sessions left out."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)

    def test_cancelled_sessions_do_not_lower_attendance_rates(self):
        held = self._make_session(self.group, days=-2)
        held.action_mark_all_attended()
        cancelled = self._make_session(self.group, days=3)
        cancelled.action_cancel_session()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.therapy_attendance_action_analysis"
        )
        domain = [*safe_eval(action["domain"]), ("group_id", "=", self.group.id)]
        [(rate,)] = self.env["therapy.attendance"]._read_group(domain, [], ["attended_percent:avg"])
        self.assertEqual(rate, 100.0)

    def test_attendance_analysis_opens_on_the_last_12_months(self):
        self.group.member_ids.date_start = datetime.now().date() - timedelta(days=500)
        last_year = self._make_session(self.group, days=-400)
        last_year.action_mark_all_attended()
        this_week = self._make_session(self.group, days=-2)
        this_week.action_mark_all_attended()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.therapy_attendance_action_analysis"
        )
        self.assertTrue(safe_eval(action["context"]).get("search_default_filter_last_12_months"))
        views = (
            self.env["therapy.attendance"].with_user(self.provider).get_views([(False, "search")])
        )
        [period] = etree.fromstring(views["views"]["search"]["arch"]).xpath(
            "//filter[@name='filter_last_12_months']"
        )
        domain = [*safe_eval(action["domain"]), ("group_id", "=", self.group.id)]
        lines = self.env["therapy.attendance"].with_user(self.provider).search(domain)
        self.assertEqual(lines.event_id, last_year | this_week, "without the filter: all time")
        lines = lines.search([*domain, *safe_eval(period.get("domain"))])
        self.assertEqual(lines.event_id, this_week)
