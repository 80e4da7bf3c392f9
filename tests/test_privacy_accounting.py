from contextlib import contextmanager
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestAccountingWithoutSessions(GroupTherapyCommon):
    """An accountant without a Group Therapy role reconciles what the sessions produce with
    Odoo's own tools, and reads no group session, attendee, attendance line or note: each run as
    the accountant over the ORM (the methods RPC calls)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        members = cls.group.member_ids.filtered(lambda member: member.partner_id in cls.clients)
        members.date_start = fields.Date.today() - timedelta(days=30)
        cls.session = cls._make_session(cls.group, days=-1)
        cls.session.action_mark_all_attended()
        cls.line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.clients[0]
        )
        cls.invoice = cls.line.with_user(cls.front_desk).action_invoice()
        cls.env.ref("base.group_allow_export").user_ids = [Command.link(cls.accountant.id)]

    @contextmanager
    def assertRefusedAccess(self):
        with (
            self.assertRaises(AccessError),
            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
        ):
            yield

    def test_sessions_attendees_attendance_and_notes_are_closed(self):
        """search_read, read_group, export and read by id: nothing of the session."""
        user = self.accountant
        session, line = self.session, self.line
        attendee = session.attendee_ids[:1]
        for model, record, groupby in (
            ("calendar.event", session, "therapy_group_id"),
            ("calendar.attendee", attendee, "partner_id"),
            ("therapy.attendance", line, "partner_id"),
        ):
            with self.subTest(model=model):
                self.env.invalidate_all()
                Model = self.env[model].with_user(user)
                self.assertFalse(Model.search_read([("id", "=", record.id)], ["display_name"]))
                self.assertFalse(
                    Model.formatted_read_group([("id", "=", record.id)], [groupby], ["__count"])
                )
                with self.assertRefusedAccess():
                    record.with_user(user).read(["display_name"])
                with self.assertRefusedAccess():
                    record.with_user(user).export_data(["display_name"])
        # not through the session's clients either
        client = self.clients[0].with_user(user)
        self.assertFalse(client.meeting_ids & session)
        with self.assertRefusedAccess():
            self.env["therapy.chart.note"].with_user(user).search_read([], ["body"])

    def test_invoice_names_its_session_without_opening_it(self):
        """The invoice says which session, group, provider and day of service it bills, and
        invoices group and search by them."""
        self.env.invalidate_all()
        Move = self.env["account.move"].with_user(self.accountant)
        (values,) = Move.browse(self.invoice.id).web_read(
            {
                "partner_id": {"fields": {"display_name": {}}},
                "therapy_event_id": {"fields": {"display_name": {}}},
                "therapy_group_id": {"fields": {"display_name": {}}},
                "therapy_provider_id": {"fields": {"display_name": {}}},
                "therapy_session_date": {},
                "invoice_line_ids": {
                    "fields": {"therapy_attendance_id": {"fields": {"display_name": {}}}}
                },
            }
        )
        self.assertEqual(values["therapy_event_id"]["id"], self.session.id)
        self.assertTrue(values["therapy_event_id"]["display_name"])
        self.assertEqual(values["therapy_group_id"]["id"], self.group.id)
        self.assertEqual(values["therapy_provider_id"]["id"], self.provider.id)
        self.assertEqual(values["therapy_session_date"], self.session.therapy_session_date)
        self.assertEqual(values["partner_id"]["id"], self.clients[0].id)
        groups = Move.formatted_read_group(
            [("id", "=", self.invoice.id)], ["therapy_event_id"], ["__count"]
        )
        self.assertEqual(groups[0]["therapy_event_id"][0], self.session.id)
        found = Move.search(
            [
                ("therapy_session_date", "=", self.session.therapy_session_date),
                ("therapy_group_id", "=", self.group.id),
            ]
        )
        self.assertEqual(found, self.invoice)

    def test_payment_and_receivable(self):
        """Odoo's payment register pays the session's invoice; the receivable names the client."""
        invoice = self.invoice.with_user(self.accountant)
        register = (
            self.env["account.payment.register"]
            .with_user(self.accountant)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        register.action_create_payments()
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        receivable = (
            self.env["account.move.line"]
            .with_user(self.accountant)
            .formatted_read_group(
                [("move_id", "=", self.invoice.id), ("account_type", "=", "asset_receivable")],
                ["partner_id"],
                ["balance:sum"],
            )
        )
        self.assertEqual(receivable[0]["partner_id"][0], self.clients[0].id)
