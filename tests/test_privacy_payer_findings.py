from datetime import datetime, timedelta

from odoo.tests import tagged

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestPayerFindingsPrivacy(GroupTherapyCommon):
    """Payer-rule findings name clients on the session, for Group Therapy users only; the
    chatter line names none."""

    def test_chatter_line_names_no_client(self):
        self.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        session = self._make_session(self.group)
        session.action_mark_all_attended()
        lines = session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id in self.clients[:2]
        )
        lines.place_of_service = "10"
        session.with_user(self.front_desk).action_invoice_attendance()
        self.env.invalidate_all()
        logged = session.message_ids.filtered(lambda m: "payer rule" in (m.body or ""))
        self.assertEqual(len(logged), 1)
        self.assertIn(
            "without modifier 95: add it to the line's modifiers (2 clients)", logged.body
        )
        self.assertTrue(logged.subtype_id.internal, "an internal note, not mailed to clients")
        self.assertFalse(logged.partner_ids)
        for client in self.clients:
            self.assertNotIn(client.name, logged.body)
        # who is concerned is on the session, for those who serve the group
        report = session.with_user(self.provider).therapy_rule_report
        self.assertIn(self.clients[0].name, report)
        self.assertEqual(
            self.env["calendar.event"]._fields["therapy_rule_report"].groups,
            "group_therapy.group_therapy_user",
        )
