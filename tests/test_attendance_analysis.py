from datetime import datetime, timedelta

from odoo.tests import tagged

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
