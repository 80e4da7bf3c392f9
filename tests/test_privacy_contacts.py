from contextlib import contextmanager
from datetime import timedelta

from odoo import Command, fields
from odoo.addons.mail.tools.discuss import Store
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestClientContactAccess(GroupTherapyCommon):
    """Being a client of the practice is protected health information: a client's contact (name,
    e-mail, address) is seen by those who serve the client, by every route, as that user over
    the ORM (the methods RPC calls). Contacts that are not clients stay shared."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.staff = new_test_user(
            cls.env, "gt_contacts_staff", groups="base.group_user", name="Staff Stu"
        )
        cls.auditor = new_test_user(
            cls.env, "gt_contacts_auditor", groups="account.group_account_readonly"
        )
        # clients[0..3]: the provider's (shared) group; clients[4]: the other provider's group
        cls.own, cls.others = cls.clients[0], cls.clients[4]
        cls.past = Partner.create({"name": "Past Member", "email": "past@example.com"})
        cls.env["therapy.group.member"].create(
            {
                "group_id": cls.group.id,
                "partner_id": cls.past.id,
                "date_start": fields.Date.today() - timedelta(days=90),
                "date_end": fields.Date.today() - timedelta(days=30),
            }
        )
        cls.waiting = Partner.create({"name": "Waiting Walter", "email": "wait@example.com"})
        cls.env["therapy.group.waitlist"].create(
            {"group_id": cls.group.id, "partner_id": cls.waiting.id}
        )
        # registered by the front desk, in no group yet
        cls.intake = (
            Partner.with_user(cls.front_desk)
            .with_context(default_therapy_client=True)
            .create({"name": "Intake Ingrid", "email": "intake@example.com"})
        )
        # not clients: an insurer, a guardian, a colleague
        cls.insurer = Partner.create({"name": "Blue Shield", "is_company": True})
        cls.guardian = Partner.create({"name": "Gail Guardian"})
        cls.colleague = cls.other_provider.partner_id
        # a client of the other group who pays online
        cls.portal_client = new_test_user(
            cls.env, "gt_contacts_portal", groups="base.group_portal", partner_id=cls.others.id
        )
        export = cls.env.ref("base.group_allow_export")
        for user in (
            cls.provider,
            cls.shared_provider,
            cls.other_provider,
            cls.front_desk,
            cls.accountant,
            cls.staff,
        ):
            user.group_ids = [Command.link(export.id)]

    def _rows(self):
        P, S, OTHER, FD, M = (
            self.provider,
            self.shared_provider,
            self.other_provider,
            self.front_desk,
            self.manager,
        )
        ACC, AUDIT, STAFF, PORTAL = self.accountant, self.auditor, self.staff, self.portal_client
        own, others, past, waiting, intake = (
            self.own,
            self.others,
            self.past,
            self.waiting,
            self.intake,
        )
        sees, hidden = True, False
        return [
            # providers: the clients of the groups they run or share, current and past, waitlist
            (P, own, sees),
            (P, past, sees),
            (P, waiting, sees),
            (P, others, hidden),
            (P, intake, hidden),
            (S, own, sees),
            (S, waiting, sees),
            (S, others, hidden),
            (OTHER, others, sees),
            (OTHER, own, hidden),
            (OTHER, past, hidden),
            (OTHER, waiting, hidden),
            # front desk and administrators: every client
            (FD, own, sees),
            (FD, others, sees),
            (FD, intake, sees),
            (M, others, sees),
            (M, intake, sees),
            # accountants invoice and collect from every client
            (ACC, own, sees),
            (ACC, intake, sees),
            (AUDIT, others, sees),
            # no Group Therapy role: no client
            (STAFF, own, hidden),
            (STAFF, past, hidden),
            (STAFF, waiting, hidden),
            (STAFF, intake, hidden),
            # a client on the portal: themselves, nobody else
            (PORTAL, others, sees),
            (PORTAL, own, hidden),
            # not clients: everyone inside the practice
            *(
                (user, contact, sees)
                for user in (P, OTHER, STAFF, ACC)
                for contact in (self.insurer, self.guardian, self.colleague)
            ),
        ]

    @contextmanager
    def assertRefusedAccess(self):
        """The block raises AccessError (Odoo's assertRaises rolls it back)."""
        with (
            self.assertRaises(AccessError),
            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
        ):
            yield

    def test_contact_matrix(self):
        """Every role x search_read, name_search, read, read_group, export, write: as the
        README's role table says."""
        for user, contact, sees in self._rows():
            with self.subTest(user=user.login, contact=contact.name):
                self.env.invalidate_all()
                Partner = self.env["res.partner"].with_user(user)
                record = contact.with_user(user)
                listed = Partner.search_read([("id", "=", contact.id)], ["name", "email"])
                self.assertEqual(bool(listed), sees)
                found = Partner.name_search(contact.name, limit=None)
                self.assertEqual(contact.id in [id_ for id_, _name in found], sees)
                grouped = Partner.formatted_read_group(
                    [("id", "=", contact.id)], ["email"], ["__count"]
                )
                self.assertEqual(bool(grouped), sees)
                if sees:
                    self.assertEqual(record.read(["name"])[0]["name"], contact.name)
                else:
                    with self.assertRefusedAccess():
                        record.read(["name", "email"])
                    with self.assertRefusedAccess():
                        record.write({"email": "changed@example.com"})
                if not user.has_group("base.group_allow_export"):
                    continue
                if sees:
                    self.assertIn(contact.name, str(record.export_data(["name"])["datas"]))
                else:
                    with self.assertRefusedAccess():
                        record.export_data(["name", "email"])

    def test_providers_contacts_list_is_their_clients_and_non_clients(self):
        """The Clients menu of a provider lists the clients of their groups only."""
        Partner = self.env["res.partner"].with_user(self.provider)
        everyone = self.clients | self.past | self.waiting | self.intake | self.guardian
        clients = Partner.search([("therapy_client", "=", True), ("id", "in", everyone.ids)])
        self.assertEqual(clients, self.clients[:4] | self.past | self.waiting)
        # searching by a hidden client's e-mail finds nothing
        self.assertFalse(Partner.search([("email", "=", self.intake.email)]))
        self.assertFalse(Partner.search([("name", "=", self.others.name)]))
        self.assertFalse(Partner.search_count([("name", "ilike", "Intake")]))

    def test_a_client_the_provider_registers_stays_theirs_until_placed(self):
        """A provider registering a client from the Clients menu sees them (and their own
        group's members); once the client joins only a colleague's group, no longer."""
        Partner = self.env["res.partner"].with_user(self.provider)
        client = Partner.with_context(default_therapy_client=True).create({"name": "New Nina"})
        self.assertEqual(Partner.search([("name", "=", "New Nina")]), client)
        with self.assertRefusedAccess():
            client.with_user(self.other_provider).read(["name"])
        self.env["therapy.group.member"].create(
            {"group_id": self.other_group.id, "partner_id": client.id}
        )
        self.env.invalidate_all()
        self.assertFalse(Partner.search([("name", "=", "New Nina")]))
        self.assertTrue(
            self.env["res.partner"]
            .with_user(self.other_provider)
            .search([("name", "=", "New Nina")])
        )

    def test_session_attendees_and_attendance_name_the_provider_s_clients(self):
        """A provider's session lists every client on it, past members included, through the
        attendees, the attendance lines and the event's partners, as the calendar reads them."""
        members = self.group.member_ids.filtered(lambda member: member.partner_id in self.clients)
        members.date_start = fields.Date.today() - timedelta(days=30)
        session = self._make_session(self.group, days=-1)
        clients = session.therapy_attendance_ids.partner_id
        self.assertEqual(clients, self.clients[:4])
        # a member who left after the session keeps their line
        self.group.member_ids.filtered(
            lambda m: m.partner_id == self.clients[3]
        ).date_end = fields.Date.today()
        for user in (self.provider, self.shared_provider, self.front_desk):
            with self.subTest(user=user.login):
                self.env.invalidate_all()
                event = session.with_user(user)
                (values,) = event.web_read(
                    {
                        "partner_ids": {"fields": {"display_name": {}, "email": {}}},
                        "attendee_ids": {"fields": {"partner_id": {}, "state": {}}},
                        "therapy_attendance_ids": {
                            "fields": {"partner_id": {"fields": {"display_name": {}}}}
                        },
                    }
                )
                names = {partner["display_name"] for partner in values["partner_ids"]}
                self.assertLessEqual(set(clients.mapped("name")), names)
                attendance_names = {
                    line["partner_id"]["display_name"] for line in values["therapy_attendance_ids"]
                }
                self.assertEqual(attendance_names, set(clients.mapped("name")))
                Attendance = self.env["therapy.attendance"].with_user(user)
                lines = Attendance.search_read([("event_id", "=", session.id)], ["partner_id"])
                self.assertEqual({line["partner_id"][0] for line in lines}, set(clients.ids))
                attendees = (
                    self.env["calendar.attendee"]
                    .with_user(user)
                    .search([("event_id", "=", session.id), ("partner_id.name", "ilike", "Client")])
                )
                self.assertEqual(attendees.partner_id, clients)

    def test_odoo_screens_of_a_colleague_without_a_role_do_not_break(self):
        """A colleague outside Group Therapy who met a client (their own meeting), got an e-mail
        from one or follows a record with one: names through many2one fields and message
        authors, never the contact itself."""
        client = self.own
        meeting = self.env["calendar.event"].create(
            {
                "name": "Intro call",
                "start": fields.Datetime.now() + timedelta(days=1),
                "stop": fields.Datetime.now() + timedelta(days=1, hours=1),
                "user_id": self.staff.id,
                "partner_ids": [Command.set([self.staff.partner_id.id, client.id])],
            }
        )
        message = meeting.message_post(
            body="Thanks for the call", author_id=client.id, message_type="comment"
        )
        self.env.invalidate_all()
        meeting_as_staff = meeting.with_user(self.staff)
        (values,) = meeting_as_staff.web_read(
            {
                "partner_ids": {"fields": {"display_name": {}}},
                "attendee_ids": {"fields": {"partner_id": {"fields": {"display_name": {}}}}},
                "user_id": {"fields": {"display_name": {}}},
            }
        )
        # the meeting keeps the client: the colleague sees the name on their own meeting only
        self.assertIn(
            client.name,
            [attendee["partner_id"]["display_name"] for attendee in values["attendee_ids"]],
        )
        store = Store().add(message.with_user(self.staff)).get_result()
        self.assertIn(message.id, [values["id"] for values in store["mail.message"]])
        # saving the meeting does not drop the client the colleague cannot list
        meeting_as_staff.write({"name": "Intro call (moved)"})
        self.env.invalidate_all()  # x2many values are cached per transaction, not per user
        self.assertIn(client, meeting.partner_ids)
        # but the client is not theirs to list, open or search
        Partner = self.env["res.partner"].with_user(self.staff)
        self.assertFalse(Partner.search([("id", "=", client.id)]))
        with self.assertRefusedAccess():
            client.with_user(self.staff).read(["email"])

    def test_accountant_reads_clients_on_invoices_and_payments(self):
        """Invoices, payments and the receivable name the client for accounting."""
        self._ensure_chart_of_accounts()
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.others.id,
                "invoice_line_ids": [
                    Command.create({"product_id": self.cpt_90853.id, "price_unit": 80.0})
                ],
            }
        )
        invoice.action_post()
        Move = self.env["account.move"].with_user(self.accountant)
        (values,) = Move.browse(invoice.id).web_read(
            {"partner_id": {"fields": {"display_name": {}, "email": {}}}}
        )
        self.assertEqual(values["partner_id"]["email"], self.others.email)
        receivable = (
            self.env["account.move.line"]
            .with_user(self.accountant)
            .formatted_read_group(
                [("move_id", "=", invoice.id), ("account_type", "=", "asset_receivable")],
                ["partner_id"],
                ["amount_residual:sum"],
            )
        )
        self.assertEqual(receivable[0]["partner_id"][0], self.others.id)
