import base64
import json
from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import GroupTherapyCommon


def sign_session_notes(session, provider):
    """Chart the session and sign every attending client's note, as the provider does."""
    action = session.with_user(provider).action_open_charting()
    wizard = session.env[action["res_model"]].with_user(provider).browse(action["res_id"])
    wizard.group_note = "<p>Worked on coping skills; everyone took part.</p>"
    wizard.action_review()
    # `_sign()` is the signing itself (the button asks for the password first, over HTTP).
    if hasattr(type(wizard), "_sign"):
        wizard._sign()
    else:
        wizard.action_sign()
    return wizard


@tagged("post_install", "-at_install")
class TestFeesAndClaims(GroupTherapyCommon):
    """Medicaid and Medicare fee rules; claims only for signed, documented services."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.session = cls._make_session(cls.group, days=-1)
        cls.session.action_mark_all_attended()
        cls.medicaid = cls.env["res.partner"].create(
            {"name": "State Medicaid", "is_company": True, "therapy_payer_type": "medicaid"}
        )
        cls.medicare = cls.env["res.partner"].create(
            {"name": "Medicare Part B", "is_company": True, "therapy_payer_type": "medicare"}
        )

    def _line(self, client, session=None):
        return (session or self.session).therapy_attendance_ids.filtered(
            lambda line: line.partner_id == client
        )

    def _flags(self, client):
        self.env.invalidate_all()
        return self._line(client).with_user(self.front_desk).rule_flags or ""

    def test_no_show_fee_refused_for_medicaid(self):
        client = self.clients[1]
        client.therapy_payer_id = self.medicaid
        self._line(client).with_user(self.front_desk).write(
            {"state": "absent", "product_id": self.no_show.id}
        )
        with self.assertRefused(UserError, "State Medicaid is Medicaid") as catcher:
            self.session.with_user(self.front_desk).action_invoice_attendance()
        self.assertIn("42 CFR 447.15", str(catcher.exception))
        self.assertIn("answer “No fee” instead", str(catcher.exception))
        self.assertFalse(self.session.therapy_attendance_ids.invoice_id)
        with self.assertRefused(UserError, "State Medicaid is Medicaid"):
            self._line(client).with_user(self.front_desk).action_register_payment()
        self._line(client).with_user(self.front_desk).write({"product_id": self.no_fee.id})
        self.session.with_user(self.front_desk).action_invoice_attendance()
        self.assertFalse(self._line(client).invoice_id)
        self.assertEqual(len(self.session.therapy_attendance_ids.invoice_id), 3)

    def test_medicare_fee_other_than_the_policy_amount_warns(self):
        medicare_client, other_client = self.clients[1:3]
        medicare_client.therapy_payer_id = self.medicare
        for client in (medicare_client, other_client):
            self._line(client).write({"state": "absent", "product_id": self.no_show.id})
        self.assertIn("no fee policy amount is set", self._flags(medicare_client))
        self.company.therapy_no_show_fee_amount = 40.0
        flags = self._flags(medicare_client)
        self.assertIn("⚠ No-show fee of", flags)
        self.assertIn("50.00 differs from the practice's policy amount", flags)
        self.assertIn("charge every client the same amount", flags)
        self.assertEqual(self._flags(other_client), "", "only Medicare's condition")
        self.session.with_user(self.front_desk).action_invoice_attendance()
        self.assertEqual(
            len(self.session.therapy_attendance_ids.invoice_id),
            4,
            "a warning: invoiced, and logged on the session",
        )
        self.assertIn(
            "differs from the practice's policy amount", self.session.message_ids[:1].body
        )
        self.company.therapy_no_show_fee_amount = 50.0
        late = self._make_session(self.group, days=-2)
        late.therapy_attendance_ids.filtered(lambda line: line.partner_id == medicare_client).write(
            {"state": "absent", "product_id": self.no_show.id}
        )
        self.env.invalidate_all()
        self.assertFalse(late.therapy_rule_report)

    def test_claims_only_for_signed_notes(self):
        Wizard = self.env["therapy.claim.export.wizard"].with_user(self.front_desk)
        today = datetime.now().date()
        period = {"date_from": today - timedelta(days=7), "date_to": today}
        with self.assertRefused(UserError, "No service to claim") as catcher:
            Wizard.create(period).action_export()
        self.assertIn("Left out:", str(catcher.exception))
        self.assertIn("export the period again", str(catcher.exception))
        self.assertIn(
            f"{self.clients[0].name} (90853, AAG): no chart note for this client and session",
            str(catcher.exception),
        )
        sign_session_notes(self.session, self.provider)
        # Another session charted but not signed: its services wait.
        drafted = self._make_session(self.group, days=-2)
        drafted.action_mark_all_attended()
        action = drafted.with_user(self.provider).action_open_charting()
        draft_wizard = self.env[action["res_model"]].with_user(self.provider)
        draft_wizard = draft_wizard.browse(action["res_id"])
        draft_wizard.group_note = "<p>Draft</p>"
        draft_wizard.action_review()
        wizard = Wizard.create({**period, "file_format": "json"})
        wizard.action_export()
        payload = json.loads(base64.b64decode(wizard.data))
        self.assertEqual(len(payload["claim_lines"]), 4)
        self.assertEqual(
            {row["date_of_service"] for row in payload["claim_lines"]},
            {str(self.session.therapy_session_date)},
        )
        self.assertEqual(len(payload["left_out"]), 4)
        self.assertEqual(
            {item["reason"] for item in payload["left_out"]}, {"chart note not signed yet"}
        )
        self.assertIn("chart note not signed yet", wizard.left_out)
        self.assertIn(self.clients[0].name, wizard.left_out)
