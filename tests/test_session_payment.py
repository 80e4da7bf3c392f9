from datetime import datetime, timedelta

from odoo.tests import Form, tagged

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestSessionPayment(GroupTherapyCommon):
    """Accept payment from the session's roster: a dialog that says who pays for what, the
    amount the client owes, and the practice's cash, card and check journals."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.session = cls._make_session(cls.group, days=-1)
        cls.session.action_mark_all_attended()
        cls.line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.clients[0]
        )

    def _open_dialog(self):
        action = self.line.with_user(self.front_desk).action_register_payment()
        form = Form(
            self.env["account.payment.register"]
            .with_user(self.front_desk)
            .with_context(**action["context"]),
            view=action["views"][0][0],
        )
        return action, form

    def test_dialog_names_the_client_and_the_session(self):
        action, _form = self._open_dialog()
        self.assertIn("Client 01", action["name"])
        self.assertIn("[AAG] Adult Anxiety Group", action["name"])
        self.assertEqual(
            action["views"][0][0],
            self.env.ref("group_therapy.account_payment_register_view_form_session").id,
        )

    def test_amount_is_what_the_client_still_owes(self):
        _action, form = self._open_dialog()
        invoice = self.line.invoice_id
        self.assertEqual(form.amount, invoice.amount_residual)
        form.amount = 10.0
        form.save().action_create_payments()
        self.assertEqual(invoice.payment_state, "partial")
        _action, form = self._open_dialog()
        self.assertEqual(form.amount, invoice.amount_total - 10.0)

    def test_cash_card_and_check_are_offered(self):
        _action, form = self._open_dialog()
        offered = form.save().available_journal_ids
        self.assertIn("cash", offered.mapped("type"))
        self.assertLessEqual({"CARD", "CHK"}, set(offered.mapped("code")))
        cash = offered.filtered(lambda journal: journal.type == "cash")[:1]
        form.journal_id = cash
        form.save().action_create_payments()
        self.assertIn(self.line.payment_state, ("paid", "in_payment"))

    def test_a_new_company_gets_its_payment_journals_with_its_accounts(self):
        company = self.env["res.company"].create({"name": "Second Practice"})
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
        journals = self.env["account.journal"].search([("company_id", "=", company.id)])
        self.assertIn("cash", journals.mapped("type"))
        self.assertLessEqual({"CARD", "CHK"}, set(journals.mapped("code")))
        # Loading the chart again creates no second set.
        company._therapy_ensure_payment_journals()
        self.assertEqual(
            self.env["account.journal"].search_count(
                [("company_id", "=", company.id), ("code", "in", ("CARD", "CHK"))]
            ),
            2,
        )
