from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestBillingCorrection(GroupTherapyCommon):
    """Correcting billed attendance in one action: credit, change, invoice again, or nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.session = cls._make_session(cls.group, days=-3)
        cls.session.action_mark_all_attended()
        cls.line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.clients[0]
        )
        cls.invoice = cls.line.with_user(cls.front_desk).action_invoice()

    def _correct(self, state, product, user=None):
        action = self.line.with_user(user or self.front_desk).action_open_correction()
        form = Form(
            self.env[action["res_model"]]
            .with_user(user or self.front_desk)
            .with_context(**action["context"])
        )
        form.state = state
        form.product_id = product
        return form.save().action_apply()

    def test_attended_client_was_a_no_show(self):
        self.assertEqual(self.invoice.state, "posted")
        self._correct("absent", self.no_show)
        self.assertEqual(self.invoice.payment_state, "reversed")
        credit_note = self.invoice.reversal_move_ids
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.invoice_date, datetime.now().date(), "booked today")
        self.assertEqual(self.line.attendance_status, "no_show")
        new_invoice = self.line.invoice_id
        self.assertNotEqual(new_invoice, self.invoice)
        self.assertEqual(new_invoice.amount_total, self.no_show.lst_price)
        self.assertEqual(
            new_invoice.invoice_date, self.session.therapy_session_date, "the date of service"
        )

    def test_paid_invoice_is_credited_and_nothing_billed_for_no_fee(self):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice.ids
        ).create({}).action_create_payments()
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        self._correct("attended", self.no_fee)
        credit_note = self.env["account.move"].search([("reversed_entry_id", "=", self.invoice.id)])
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.amount_residual, self.invoice.amount_total, "client's credit")
        self.assertEqual(self.line.attendance_status, "no_fee")
        self.assertFalse(self.line.invoice_id)

    def test_all_or_nothing(self):
        medicaid = self.env["res.partner"].create(
            {"name": "State Medicaid", "therapy_payer_type": "medicaid"}
        )
        self.clients[0].therapy_payer_id = medicaid
        with self.assertRefused(UserError, "is Medicaid"):
            self._correct("absent", self.no_show)
        self.assertEqual(self.invoice.state, "posted")
        self.assertEqual(self.invoice.payment_state, "not_paid", "not credited")
        self.assertFalse(self.invoice.reversal_move_ids)
        self.assertEqual(self.line.state, "attended")
        self.assertEqual(self.line.invoice_id, self.invoice)
