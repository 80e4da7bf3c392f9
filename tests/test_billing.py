from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestBilling(GroupTherapyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        # Clients who joined a month ago, for sessions of the last days.
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.session = cls._make_session(cls.group, days=-1)
        cls.lines = cls.session.therapy_attendance_ids

    def _line(self, client, session=None):
        return (session or self.session).therapy_attendance_ids.filtered(
            lambda line: line.partner_id == client
        )

    def _take_attendance(self):
        """Client 01 attended with 90853 + 90785, 02 no-show, 03 late cancel, 04 no fee."""
        self._line(self.clients[0]).write(
            {
                "state": "attended",
                "product_id": self.cpt_90853.id,
                "addon_product_ids": [(6, 0, self.cpt_90785.ids)],
            }
        )
        self._line(self.clients[1]).write({"state": "absent", "product_id": self.no_show.id})
        self._line(self.clients[2]).write({"state": "absent", "product_id": self.late_cancel.id})
        self._line(self.clients[3]).write({"state": "attended", "product_id": self.no_fee.id})

    def test_per_client_invoices_with_the_right_lines(self):
        self._take_attendance()
        self.session.with_user(self.front_desk).action_invoice_attendance()
        attended = self._line(self.clients[0]).invoice_id
        self.assertEqual(attended.partner_id, self.clients[0], "each client their own invoice")
        self.assertEqual(attended.state, "posted")
        self.assertEqual(attended.move_type, "out_invoice")
        self.assertEqual(attended.therapy_group_id, self.group)
        self.assertEqual(attended.therapy_event_id, self.session)
        self.assertEqual(attended.therapy_provider_id, self.provider)
        self.assertEqual(attended.invoice_line_ids.mapped("therapy_code"), ["90853", "90785"])
        self.assertEqual(attended.invoice_line_ids.mapped("quantity"), [1.0, 1.0])
        self.assertEqual(attended.amount_total, self.cpt_90853.lst_price + self.cpt_90785.lst_price)
        self.assertIn("AAG group session", attended.invoice_line_ids[0].name)
        # Fees are charged without any CPT code.
        no_show_invoice = self._line(self.clients[1]).invoice_id
        self.assertEqual(no_show_invoice.amount_total, self.no_show.lst_price)
        self.assertFalse(no_show_invoice.invoice_line_ids.therapy_code)
        self.assertNotRegex(no_show_invoice.invoice_line_ids.name, r"\d{5}")
        self.assertEqual(
            self._line(self.clients[2]).invoice_id.amount_total, self.late_cancel.lst_price
        )
        # No fee bills nothing.
        self.assertFalse(self._line(self.clients[3]).invoice_id)
        self.assertEqual(self._line(self.clients[3]).billing_status, "nothing")
        self.assertEqual(len(self.lines.invoice_id), 3)

    def test_waived_fees(self):
        self._take_attendance()
        self.late_cancel.therapy_fee_waived = True
        self.clients[1].therapy_fee_exempt = True
        self.session.action_invoice_attendance()
        self.assertEqual(self._line(self.clients[1]).billing_status, "waived")
        self.assertEqual(self._line(self.clients[2]).billing_status, "waived")
        self.assertFalse((self._line(self.clients[1]) | self._line(self.clients[2])).invoice_id)
        with self.assertRefused(UserError, "fee is waived: there is nothing to pay"):
            self._line(self.clients[1]).action_register_payment()

    def test_billing_contact_and_pricelist(self):
        guardian = self.env["res.partner"].create({"name": "Guardian Gail"})
        pricelist = self.env["product.pricelist"].create(
            {
                "name": "Sliding scale",
                "item_ids": [
                    (
                        0,
                        0,
                        {
                            "applied_on": "0_product_variant",
                            "product_id": self.cpt_90853.id,
                            "compute_price": "fixed",
                            "fixed_price": 40.0,
                        },
                    )
                ],
            }
        )
        self.clients[0].write({"therapy_billing_partner_id": guardian.id})
        guardian.property_product_pricelist = pricelist
        self._take_attendance()
        self.session.action_invoice_attendance()
        invoice = self._line(self.clients[0]).invoice_id
        self.assertEqual(invoice.partner_id, guardian)
        self.assertEqual(invoice.invoice_line_ids[0].price_unit, 40.0)

    def test_batch_over_many_sessions_and_never_twice(self):
        second = self._make_session(self.group, days=-2)
        self._take_attendance()
        second.action_mark_all_attended()
        sessions = self.session | second
        sessions.with_user(self.front_desk).action_invoice_attendance()
        self.assertEqual(len(sessions.therapy_attendance_ids.invoice_id), 7)
        with self.assertRefused(UserError, "Nothing to invoice"):
            sessions.with_user(self.front_desk).action_invoice_attendance()
        self.assertEqual(
            self.env["account.move"].search_count([("therapy_event_id", "in", sessions.ids)]), 7
        )

    def test_unanswered_attendance_blocks_invoicing(self):
        with self.assertRefused(UserError, "Take the attendance of"):
            self.session.action_invoice_attendance()
        self.assertFalse(self.lines.invoice_id)

    def test_invoiced_code_cannot_change_until_credited(self):
        self._take_attendance()
        self.session.action_invoice_attendance()
        line = self._line(self.clients[0])
        invoice = line.invoice_id
        with self.assertRefused(UserError, "Credit that invoice first"):
            line.with_user(self.front_desk).product_id = self.cpt_90849
        self.assertEqual(line.product_id, self.cpt_90853)
        # A credit note frees the line, which is invoiced again with the new code.
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "wrong code"})
        )
        reversal.refund_moves()
        invoice.reversal_move_ids.action_post()
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertFalse(line.invoice_id)
        line.write({"product_id": self.cpt_90849.id, "addon_product_ids": [(5,)]})
        line.action_invoice()
        self.assertEqual(line.invoice_id.invoice_line_ids.therapy_code, "90849")

    def test_accept_payment_through_odoos_wizard(self):
        self._line(self.clients[0]).write({"state": "attended", "product_id": self.cpt_90853.id})
        line = self._line(self.clients[0]).with_user(self.front_desk)
        action = line.action_register_payment()
        self.assertEqual(action["res_model"], "account.payment.register")
        invoice = line.invoice_id
        self.assertEqual(invoice.state, "posted", "invoiced and posted on the way")
        wizard = Form(
            self.env["account.payment.register"]
            .with_user(self.front_desk)
            .with_context(**action["context"])
        ).save()
        wizard.action_create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertIn(line.payment_state, ("paid", "in_payment"))
        with self.assertRefused(UserError, "is already paid"):
            line.action_register_payment()

    def test_no_payment_on_a_no_fee_line(self):
        self._line(self.clients[3]).write({"state": "attended", "product_id": self.no_fee.id})
        with self.assertRefused(UserError, "nothing is billed, so there is nothing to pay"):
            self._line(self.clients[3]).with_user(self.front_desk).action_register_payment()
        with self.assertRefused(UserError, "before taking a payment"):
            self._line(self.clients[2]).action_register_payment()
        self.assertFalse(self.lines.invoice_id)

    def test_provider_without_accounting_rights_cannot_invoice(self):
        self._take_attendance()
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self.session.with_user(self.provider).action_invoice_attendance()
        self.assertFalse(self.lines.invoice_id)

    def test_invoice_list_from_a_session_shows_the_customer(self):
        self._ensure_chart_of_accounts()
        session = self._make_session(self.group, days=-1)
        session.action_mark_all_attended()
        action = session.with_user(self.front_desk).action_invoice_attendance()
        self.assertEqual(action["context"]["default_move_type"], "out_invoice")
        self.assertFalse(action["context"]["create"])
