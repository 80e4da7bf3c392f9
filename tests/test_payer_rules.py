from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestPayerRules(GroupTherapyCommon):
    """The shipped rules, each refusing what it should, and each switched off."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.session = cls._make_session(cls.group)
        cls.rule_head_count = cls.env.ref("group_therapy.therapy_payer_rule_90853_head_count")
        cls.rule_once = cls.env.ref("group_therapy.therapy_payer_rule_90853_once_per_day")
        cls.rule_addon = cls.env.ref("group_therapy.therapy_payer_rule_90785_primary")
        cls.rule_fee = cls.env.ref("group_therapy.therapy_payer_rule_fee_forbidden")
        cls.rule_telehealth = cls.env.ref("group_therapy.therapy_payer_rule_telehealth_95")
        cls.medicare = cls.env["res.partner"].create(
            {"name": "Medicare", "is_company": True, "therapy_forbids_fees": True}
        )

    def _line(self, client, session=None):
        return (session or self.session).therapy_attendance_ids.filtered(
            lambda line: line.partner_id == client
        )

    def _invoice_as_front_desk(self, session=None):
        return (session or self.session).with_user(self.front_desk).action_invoice_attendance()

    def _invoices(self, session=None):
        return self.env["account.move"].search(
            [("therapy_event_id", "=", (session or self.session).id)]
        )

    def test_thirteen_clients_block_90853_until_overridden(self):
        extra = self.env["res.partner"].create([{"name": f"Extra {i}"} for i in range(9)])
        self.group.sudo().allow_over_capacity = True
        self.env["therapy.group.member"].create(
            [
                {"group_id": self.group.id, "partner_id": client.id, "date_start": "2020-01-01"}
                for client in extra
            ]
        )
        session = self._make_session(self.group, days=-2)
        session.action_mark_all_attended()
        self.assertEqual(session.therapy_attended_count, 13)
        self.assertIn(
            "13 participants present in a session billing 90853", session.therapy_rule_report
        )
        self.assertIn("⛔", session.therapy_attendance_ids[0].rule_flags)
        with self.assertRefused(UserError, "Invoicing is stopped by the payer rules"):
            self._invoice_as_front_desk(session)
        self.assertFalse(self._invoices(session))
        # Front desk cannot override; an administrator can, on that session only.
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            session.with_user(self.front_desk).therapy_rule_override = True
        session.with_user(self.manager).therapy_rule_override = True
        self._invoice_as_front_desk(session)
        self.assertEqual(len(self._invoices(session)), 13)
        self.assertIn("13 participants present", session.message_ids[:1].body)

    def test_head_count_rule_switched_off(self):
        self.rule_head_count.max_count = 3
        self.session.action_mark_all_attended()
        with self.assertRefused(
            UserError, "4 participants present in a session billing 90853, more than 3"
        ):
            self._invoice_as_front_desk()
        self.rule_head_count.with_user(self.manager).active = False
        self._invoice_as_front_desk()
        self.assertEqual(len(self._invoices()), 4)

    def test_90853_once_per_day(self):
        self.rule_once.severity = "block"  # a practice whose payer wants it blocking
        self.session.action_mark_all_attended()
        later = self.session.copy(
            {
                "start": self.session.start + timedelta(hours=3),
                "stop": self.session.stop + timedelta(hours=3),
            }
        )
        later.action_mark_all_attended()
        with self.assertRefused(UserError, "90853 billed more than once on the same day"):
            self._invoice_as_front_desk(later)
        self.assertFalse(self._invoices(later))
        self.rule_once.active = False
        self._invoice_as_front_desk(later)
        self.assertEqual(len(self._invoices(later)), 4)

    def test_90785_only_with_an_allowed_primary(self):
        self.session.action_mark_all_attended()
        self._line(self.clients[0]).write(
            {"product_id": self.cpt_90849.id, "addon_product_ids": [(6, 0, self.cpt_90785.ids)]}
        )
        with self.assertRefused(UserError, "90785 is not allowed with 90849") as catcher:
            self._invoice_as_front_desk()
        self.assertIn("remove the add-on code, or bill it with 90853", str(catcher.exception))
        self.assertFalse(self._invoices())
        self.rule_addon.active = False
        self._invoice_as_front_desk()
        self.assertEqual(len(self._invoices()), 4)

    def test_no_fee_when_the_payer_forbids_it(self):
        self.session.action_mark_all_attended()
        self.clients[1].therapy_payer_id = self.medicare
        self._line(self.clients[1]).write({"state": "absent", "product_id": self.no_show.id})
        with self.assertRefused(UserError, "Medicare forbids charging No-show fee"):
            self._invoice_as_front_desk()
        self.assertFalse(self._invoices())
        # A rule for another payer does not apply to this client; nor does a switched-off one.
        self.rule_fee.payer_ids = self.env["res.partner"].create({"name": "Other payer"})
        self.env.invalidate_all()  # findings are computed when read, as the web client does
        self.assertNotIn("forbids", self._line(self.clients[1]).rule_flags or "")
        self.rule_fee.payer_ids = self.medicare
        self.env.invalidate_all()
        self.assertIn("forbids", self._line(self.clients[1]).rule_flags)
        self.rule_fee.active = False
        self._invoice_as_front_desk()
        self.assertEqual(
            self._line(self.clients[1]).invoice_id.amount_total, self.no_show.lst_price
        )

    def test_telehealth_modifier_warns_and_logs(self):
        self.session.action_mark_all_attended()
        line = self._line(self.clients[0])
        line.place_of_service = "10"
        self.assertIn("without modifier 95", line.rule_flags)
        self.assertIn("⚠", line.rule_flags)
        self._invoice_as_front_desk()
        self.assertEqual(len(self._invoices()), 4, "a warning does not stop invoicing")
        self.assertIn("without modifier 95", self.session.message_ids[:1].body)
        line.modifiers = "HQ, 95"
        self.assertFalse(line.rule_flags)
        self.rule_telehealth.active = False
        self._line(self.clients[1]).place_of_service = "02"
        self.assertFalse(self.session.therapy_rule_report)

    def test_blocking_rule_stops_signing(self):
        self.rule_head_count.max_count = 2
        self.session.action_mark_all_attended()
        action = self.session.with_user(self.provider).action_open_charting()
        wizard = self.env[action["res_model"]].with_user(self.provider).browse(action["res_id"])
        wizard.group_note = "<p>Notes</p>"
        with self.assertRefused(UserError, "Signing is stopped by the payer rules"):
            wizard._sign()
        self.assertFalse(
            self.session.therapy_chart_note_ids.filtered(lambda note: note.state == "locked")
        )
