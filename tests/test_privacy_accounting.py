from contextlib import contextmanager
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon
from .test_era_835 import Era835Common


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


@tagged("post_install", "-at_install")
class TestAccountingClaimsWithoutCoverage(Era835Common):
    """An accountant without a Group Therapy role posts and reconciles claims by their insurer,
    client, amounts, claim numbers, status and invoices. The coverage (member ID, plan,
    subscriber) is the front desk's: closed to the accountant by every route, each run as the
    accountant over the ORM (the methods RPC calls)."""

    CLAIM_FIELDS = [
        "name",
        "partner_id",
        "payer_id",
        "date_of_service",
        "amount_charge",
        "amount_copay",
        "amount_paid",
        "amount_residual",
        "state",
        "payer_claim_ref",
        "invoice_id",
    ]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.group_allow_export").user_ids = [Command.link(cls.accountant.id)]
        cls.member_ident = cls.ann_coverage.member_ident

    @contextmanager
    def assertRefusedAccess(self):
        with (
            self.assertRaises(AccessError),
            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
        ):
            yield

    def test_the_claim_is_read_without_its_coverage(self):
        """What the accountant works with, and no coverage field in the model or its views."""
        self.env.invalidate_all()
        Claim = self.env["therapy.claim"].with_user(self.accountant)
        (row,) = Claim.search_read([("id", "=", self.ann_claim.id)], self.CLAIM_FIELDS)
        self.assertEqual(row["payer_id"][0], self.blue_shield.id)
        self.assertEqual(row["partner_id"][0], self.ann.id)
        self.assertEqual(row["invoice_id"][0], self.ann_claim.invoice_id.id)
        self.assertEqual(row["amount_charge"], self.ann_claim.amount_charge)
        self.assertEqual(row["state"], "submitted")
        self.assertNotIn("coverage_id", list(Claim.fields_get()))
        views = Claim.get_views([(False, "list"), (False, "form"), (False, "search")])["views"]
        for view_type, view in views.items():
            with self.subTest(view=view_type):
                self.assertNotIn("coverage_id", view["arch"])
        # the form as the web client loads it: nothing of the card
        form = Form(self.ann_claim.with_user(self.accountant))
        self.assertEqual(form.name, self.ann_claim.name)
        self.assertNotIn(self.member_ident, str(form._values))
        # the front desk still reads it
        coverage = self.ann_claim.with_user(self.front_desk).read(["coverage_id"])[0]
        self.assertEqual(coverage["coverage_id"][0], self.ann_coverage.id)
        self.assertIn(self.member_ident, coverage["coverage_id"][1])

    def test_the_coverage_is_refused_by_every_route(self):
        self.env.invalidate_all()
        claim = self.ann_claim.with_user(self.accountant)
        Claim = claim.browse()
        era_line = self._import(self._blue_shield_file()).era_id.line_ids.filtered(
            lambda line: line.claim_id == self.ann_claim
        )
        coverage_spec = {"coverage_id": {"fields": {"display_name": {}}}}
        routes = {
            "read": lambda: claim.read(["coverage_id"]),
            "search_read": lambda: Claim.search_read([], ["name", "coverage_id"]),
            "web_read": lambda: claim.web_read(coverage_spec),
            "web_search_read": lambda: Claim.web_search_read([], coverage_spec),
            "read_group": lambda: Claim.formatted_read_group([], ["coverage_id"], ["__count"]),
            "search by member ID": lambda: Claim.search(
                [("coverage_id.member_ident", "=", self.member_ident)]
            ),
            "export": lambda: claim.export_data(["name", "coverage_id"]),
            "export of the member ID": lambda: claim.export_data(["coverage_id/member_ident"]),
            "invoice's claim": lambda: claim.invoice_id.web_read(
                {"therapy_claim_id": {"fields": coverage_spec}}
            ),
            "invoices by member ID": lambda: self.env["account.move"]
            .with_user(self.accountant)
            .search([("therapy_claim_id.coverage_id.member_ident", "=", self.member_ident)]),
            "remittance line's claim": lambda: era_line.with_user(self.accountant).web_read(
                {"claim_id": {"fields": coverage_spec}}
            ),
        }
        for route, call in routes.items():
            with self.subTest(route=route), self.assertRefusedAccess():
                call()

    def test_remittances_create_secondary_claims_the_accountant_cannot_look_into(self):
        """The 835 import as the accountant still claims the rest from the secondary insurer:
        the server reads the coverage; the accountant gets the claim, not the card."""
        cigna = self.env["res.partner"].create(
            {"name": "Cigna", "is_company": True, "therapy_payer_code": "62308"}
        )
        secondary_coverage = self.env["therapy.coverage"].create(
            {
                "partner_id": self.ann.id,
                "payer_id": cigna.id,
                "member_ident": "CIG777",
                "priority": "secondary",
            }
        )
        self._import(self._blue_shield_file())
        secondary = self.ann_claim.secondary_claim_ids
        self.assertEqual(secondary.coverage_id, secondary_coverage)
        self.assertEqual(secondary.payer_id, cigna)
        self.assertEqual(secondary.create_uid, self.accountant)
        self.env.invalidate_all()
        (row,) = (
            self.env["therapy.claim"]
            .with_user(self.accountant)
            .search_read([("id", "=", secondary.id)], self.CLAIM_FIELDS)
        )
        self.assertEqual(row["payer_id"][0], cigna.id)
        self.assertNotIn("CIG777", str(row))
        with self.assertRefusedAccess():
            secondary.with_user(self.accountant).read(["coverage_id"])
