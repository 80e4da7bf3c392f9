"""Routes an attacker with a legitimate login found over JSON-RPC (call_kw and /json/2 run the
same ORM methods as these tests, as the user): each test is one route that used to hand out a
colleague's clients or let a role forge billing records, and now refuses."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon
from .test_charting import ChartingCommon
from .test_insurance_claims import ClaimsCommon

MUTED = ("odoo.models", "odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")


@tagged("post_install", "-at_install")
class TestMembershipNeedsAClientYouSee(GroupTherapyCommon):
    """Other Olga runs the Family Recovery Group (Client 05). Clients 01-04 are only in Provider
    Pat's group: Olga does not see them. Membership opens a client's record to the group's
    providers, so Olga must not be able to add them by their id."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hidden = cls.clients[0]
        cls.Member = cls.env["therapy.group.member"].with_user(cls.other_provider)
        cls.Waitlist = cls.env["therapy.group.waitlist"].with_user(cls.other_provider)

    def _reads_hidden_client(self):
        self.env.invalidate_all()
        Diagnosis = self.env["therapy.client.diagnosis"].with_user(self.other_provider)
        return bool(
            Diagnosis.search([("partner_id", "=", self.hidden.id)])
            or self.env["res.partner"]
            .with_user(self.other_provider)
            .search([("id", "=", self.hidden.id)])
        )

    def test_provider_cannot_add_a_colleagues_client_by_id(self):
        self.assertFalse(self._reads_hidden_client())
        with (
            self.assertRaisesRegex(AccessError, "Ask the front desk"),
            mute_logger(*MUTED),
        ):
            self.Member.create({"group_id": self.other_group.id, "partner_id": self.hidden.id})
        self.assertFalse(
            self.other_group.member_ids.filtered(lambda m: m.partner_id == self.hidden)
        )
        self.assertFalse(self._reads_hidden_client(), "nothing of the client opened up")

    def test_provider_cannot_waitlist_a_colleagues_client(self):
        """A waitlisted client is promoted to member as soon as there is a place."""
        with (
            self.assertRaisesRegex(AccessError, "Ask the front desk"),
            mute_logger(*MUTED),
        ):
            self.Waitlist.create({"group_id": self.other_group.id, "partner_id": self.hidden.id})
        self.assertFalse(self.other_group.waitlist_ids)
        self.assertFalse(self._reads_hidden_client())

    def test_provider_cannot_repoint_a_membership_to_a_colleagues_client(self):
        own = self.other_group.member_ids.with_user(self.other_provider)
        with (
            self.assertRaisesRegex(AccessError, "Ask the front desk"),
            mute_logger(*MUTED),
        ):
            own.write({"partner_id": self.hidden.id})
        self.assertEqual(own.partner_id, self.clients[4])
        self.assertFalse(self._reads_hidden_client())

    def test_front_desk_and_own_clients_still_join(self):
        """The front desk adds any client; a provider adds the clients they see: their groups'
        clients and a contact they registered."""
        self.env["therapy.group.member"].with_user(self.front_desk).create(
            {"group_id": self.other_group.id, "partner_id": self.hidden.id}
        )
        self.assertTrue(self._reads_hidden_client(), "served from now on")
        newcomer = (
            self.env["res.partner"].with_user(self.other_provider).create({"name": "Newcomer"})
        )
        self.Member.create({"group_id": self.other_group.id, "partner_id": newcomer.id})
        self.assertIn(newcomer, self.other_group.member_ids.partner_id)


@tagged("post_install", "-at_install")
class TestWizardFieldsReadAsTheUser(ChartingCommon):
    """Related fields of a wizard are computed as superuser unless told otherwise: a wizard
    line (or an onchange) given another group's attendance line or goal showed its code,
    place of service, measure score, client or goal text."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.goal = cls.env["therapy.treatment.goal"].create(
            {"partner_id": cls.clients[0].id, "problem": "Panic", "name": "Rides the bus alone"}
        )
        cls.line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.clients[1]
        )
        cls.other_group.member_ids.date_start = fields.Date.today() - timedelta(days=30)
        cls.other_session = cls._make_session(cls.other_group)
        cls.other_session.action_mark_all_attended()

    def test_goal_text_of_a_colleagues_client_through_onchange(self):
        Goal = self.env["therapy.charting.wizard.goal"].with_user(self.other_provider)
        spec = {"goal_id": {}, "problem": {}, "goal_name": {}}
        with self.assertRaises(AccessError), mute_logger(*MUTED):
            result = Goal.onchange({"goal_id": self.goal.id}, ["goal_id"], spec)
            self.assertNotIn("Rides the bus", str(result))
        # the goal's own provider still gets it
        result = (
            self.env["therapy.charting.wizard.goal"]
            .with_user(self.provider)
            .onchange({"goal_id": self.goal.id}, ["goal_id"], spec)
        )
        self.assertEqual(result["value"]["goal_name"], "Rides the bus alone")

    def test_attendance_of_a_colleagues_session_through_a_charting_line(self):
        wizard = self._open_wizard(user=self.other_provider, session=self.other_session)
        own_line = wizard.line_ids.attendance_id
        for values in (
            # another group's attendance line: its code, place of service, measure score
            {"attendance_id": self.line.id, "partner_id": self.clients[4].id},
            # a contact the user does not see: the line would show the client's name
            {"attendance_id": own_line.id, "partner_id": self.clients[1].id},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError), mute_logger(*MUTED):
                wizard.write({"line_ids": [(0, 0, values)]})
        Line = self.env["therapy.charting.wizard.line"].with_user(self.other_provider)
        with self.assertRaises(AccessError), mute_logger(*MUTED):
            Line.onchange(
                {"attendance_id": self.line.id},
                ["attendance_id"],
                {"attendance_id": {}, "product_id": {}, "place_of_service": {}},
            )
        # the session's own lines read as before
        self.assertEqual(wizard.line_ids.attendance_id, own_line)
        self.assertEqual(set(wizard.line_ids.mapped("product_id.therapy_code")), {"90849"})

    def test_accountant_learns_no_client_from_the_correction_wizard(self):
        """Accountants read no attendance line (README, "What accounting sees")."""
        Wizard = self.env["therapy.attendance.correction.wizard"].with_user(self.accountant)
        with self.assertRaises(AccessError), mute_logger(*MUTED):
            Wizard.onchange(
                {"attendance_id": self.line.id},
                ["attendance_id"],
                {"attendance_id": {}, "partner_id": {}, "invoice_id": {}},
            )
        with self.assertRaises(AccessError), mute_logger(*MUTED):
            Wizard.create(
                {
                    "attendance_id": self.line.id,
                    "state": "attended",
                    "product_id": self.cpt_90853.id,
                }
            )
        # the front desk, who corrects billing, still sees the client
        wizard = (
            self.env["therapy.attendance.correction.wizard"]
            .with_user(self.front_desk)
            .create(
                {
                    "attendance_id": self.line.id,
                    "state": "attended",
                    "product_id": self.cpt_90853.id,
                }
            )
        )
        self.assertEqual(wizard.partner_id, self.clients[1])


@tagged("post_install", "-at_install")
class TestGroupChatterIsForThoseWhoServeIt(GroupTherapyCommon):
    """A group's chatter logs who joined and left; its activities who missed sessions. An
    accountant reads groups (to invoice and export claims), not their chatter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.activity_schedule(
            "mail.mail_activity_data_todo",
            summary="Follow up with Client 01: 3 no-shows in a row",
            user_id=cls.provider.id,
        )

    def _messages(self, user):
        self.env.invalidate_all()
        return (
            self.env["mail.message"]
            .with_user(user)
            .search([("model", "=", "therapy.group"), ("res_id", "=", self.group.id)])
        )

    def _activities(self, user):
        self.env.invalidate_all()
        return (
            self.env["mail.activity"]
            .with_user(user)
            .search([("res_model", "=", "therapy.group"), ("res_id", "=", self.group.id)])
        )

    def test_accountant_reads_the_group_not_its_chatter(self):
        logged = self.env["mail.message"].search(
            [
                ("model", "=", "therapy.group"),
                ("res_id", "=", self.group.id),
                ("body", "ilike", "joined the group"),
            ]
        )
        self.assertIn("Client 01 joined the group", " ".join(logged.mapped("body")))
        self.assertEqual(
            self.group.with_user(self.accountant).read(["name"])[0]["name"], self.group.name
        )
        self.assertFalse(self._messages(self.accountant))
        self.assertFalse(self._activities(self.accountant))
        with self.assertRaises(AccessError), mute_logger(*MUTED):
            logged[:1].with_user(self.accountant).read(["body"])
        for user in (self.provider, self.shared_provider, self.front_desk, self.manager):
            with self.subTest(user=user.name):
                self.assertFalse(logged - self._messages(user), "every membership log")
                self.assertTrue(self._activities(user))
        self.assertFalse(self._messages(self.other_provider))


@tagged("post_install", "-at_install")
class TestClaimsAreTheServers(ClaimsCommon):
    """Claims are created by invoicing and settled by the 835 import: a claim created or
    changed over RPC billed an insurer for nothing, marked a claim paid, or moved it (and its
    client) to another attendance line, which the accountant then read through it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session = cls._invoice(cls._attended_session())
        cls.claim = cls._claim(cls.session, cls.ann)
        cls.cara_line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.cara
        )

    def test_invoicing_still_creates_the_claims(self):
        self.assertEqual(self.claim.state, "to_submit")
        self.assertEqual(self.claim.coverage_id, self.ann_coverage)
        self.assertTrue(self.claim.invoice_id)

    def test_no_claim_by_hand(self):
        for user in (self.accountant, self.front_desk):
            with (
                self.subTest(user=user.name),
                self.assertRaisesRegex(UserError, "created by invoicing"),
                mute_logger(*MUTED),
            ):
                self.env["therapy.claim"].with_user(user).create(
                    {
                        "attendance_id": self.cara_line.id,
                        "coverage_id": self.ann_coverage.id,
                        "payer_id": self.blue_shield.id,
                        "company_id": self.company.id,
                        "date_of_service": fields.Date.today() - timedelta(days=1),
                    }
                )
        self.assertFalse(self.cara_line.therapy_claim_ids)

    def test_no_claim_changed_by_hand(self):
        for user in (self.accountant, self.front_desk):
            for vals in (
                {"state": "paid"},
                {"amount_paid": 999.0},
                {"attendance_id": self.cara_line.id},
                {"denial_reason": "Forged"},
            ):
                with (
                    self.subTest(user=user.name, vals=vals),
                    self.assertRaisesRegex(UserError, "set by the application itself"),
                    mute_logger(*MUTED),
                ):
                    self.claim.with_user(user).write(vals)
        self.assertEqual(self.claim.state, "to_submit")
        self.assertEqual(self.claim.partner_id, self.ann)
        self.assertFalse(self.claim.amount_paid)


@tagged("post_install", "-at_install")
class TestInvoiceLinksAreTheServers(GroupTherapyCommon):
    """An invoice's session and claim, and an invoice line's attendance line, are set by
    invoicing: an invoice typed over RPC with them counted as that client's billing (the line
    showed invoiced and was never billed) and showed the session's group, provider and day."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.group.member_ids.date_start = fields.Date.today() - timedelta(days=30)
        cls.session = cls._make_session(cls.group)
        cls.session.action_mark_all_attended()
        cls.billed, cls.unbilled = cls.session.therapy_attendance_ids[:2]
        cls.invoice = cls.billed.with_user(cls.front_desk).action_invoice()

    def _invoice_values(self, **values):
        return {
            "move_type": "out_invoice",
            "partner_id": self.clients[1].id,
            "invoice_line_ids": [(0, 0, {"name": "Session", "price_unit": 10.0})],
            **values,
        }

    def test_invoicing_still_links_them(self):
        self.assertEqual(self.invoice.therapy_event_id, self.session)
        self.assertEqual(self.billed.invoice_id, self.invoice)
        self.assertEqual(self.invoice.therapy_group_id, self.group)

    def test_no_link_by_hand(self):
        for user in (self.accountant, self.front_desk):
            Move = self.env["account.move"].with_user(user)
            for values in (
                {"therapy_event_id": self.session.id},
                {"therapy_group_id": self.group.id},
                {
                    "invoice_line_ids": [
                        (
                            0,
                            0,
                            {
                                "name": "Session",
                                "price_unit": 10.0,
                                "therapy_attendance_id": self.unbilled.id,
                            },
                        )
                    ]
                },
            ):
                with (
                    self.subTest(user=user.name, values=values),
                    self.assertRaisesRegex(UserError, "set by the application itself"),
                    mute_logger(*MUTED),
                ):
                    Move.create(self._invoice_values(**values))
            with (
                self.subTest(user=user.name, write="invoice"),
                self.assertRaisesRegex(UserError, "set by the application itself"),
                mute_logger(*MUTED),
            ):
                self.invoice.with_user(user).write({"therapy_event_id": False})
            line = self.invoice.invoice_line_ids.filtered("therapy_attendance_id")
            with (
                self.subTest(user=user.name, write="line"),
                self.assertRaisesRegex(UserError, "set by the application itself"),
                mute_logger(*MUTED),
            ):
                line.with_user(user).write({"therapy_attendance_id": self.unbilled.id})
        self.env.invalidate_all()
        self.assertFalse(self.unbilled.invoice_id)
        self.assertEqual(self.unbilled.billing_status, "to_invoice")
        self.assertEqual(self.invoice.therapy_event_id, self.session)
        # an ordinary invoice is still the accountant's to make
        plain = self.env["account.move"].with_user(self.accountant).create(self._invoice_values())
        self.assertFalse(plain.therapy_event_id)


@tagged("post_install", "-at_install")
class TestAttendeeNeedsAContactYouSee(GroupTherapyCommon):
    """A colleague without a Group Therapy role lists no client; an attendee created on their
    own meeting with a client's id showed the client's name and e-mail (related fields read as
    superuser) and invited the client."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.colleague = cls.env["res.users"].create(
            {
                "name": "Colleague Nora",
                "login": "gt_colleague_nora",
                "group_ids": [(6, 0, [cls.env.ref("base.group_user").id])],
            }
        )
        cls.meeting = (
            cls.env["calendar.event"]
            .with_user(cls.colleague)
            .create(
                {
                    "name": "Budget review",
                    "start": fields.Datetime.now() + timedelta(days=2),
                    "stop": fields.Datetime.now() + timedelta(days=2, hours=1),
                }
            )
        )

    def test_no_attendee_for_a_hidden_client(self):
        client = self.clients[0]
        Attendee = self.env["calendar.attendee"].with_user(self.colleague)
        self.assertFalse(
            self.env["res.partner"].with_user(self.colleague).search_count([("id", "=", client.id)])
        )
        with (
            self.assertRaisesRegex(AccessError, "not one you can see"),
            mute_logger(*MUTED),
        ):
            Attendee.create({"event_id": self.meeting.id, "partner_id": client.id})
        with (
            self.assertRaisesRegex(AccessError, "not one you can see"),
            mute_logger(*MUTED),
        ):
            self.meeting.with_user(self.colleague).write(
                {"attendee_ids": [(0, 0, {"partner_id": client.id})]}
            )
        own = self.meeting.attendee_ids[:1].with_user(self.colleague)
        with (
            self.assertRaisesRegex(AccessError, "not one you can see"),
            mute_logger(*MUTED),
        ):
            own.write({"partner_id": client.id})
        self.assertNotIn(client, self.meeting.attendee_ids.partner_id)

    def test_colleagues_and_served_clients_are_still_invited(self):
        Attendee = self.env["calendar.attendee"].with_user(self.colleague)
        Attendee.create({"event_id": self.meeting.id, "partner_id": self.provider.partner_id.id})
        self.assertIn(self.provider.partner_id, self.meeting.attendee_ids.partner_id)
        session = self._make_session(self.group, days=3)
        self.assertTrue(set(self.clients[:4]) <= set(session.attendee_ids.partner_id))


@tagged("post_install", "-at_install")
class TestGroupFilesAreForThoseWhoServeIt(GroupTherapyCommon):
    """A file posted in a group's chatter (a roster, a handout with names) was found, read and
    downloaded by an accountant, who reads groups to invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.roster = (
            cls.env["ir.attachment"]
            .with_user(cls.provider)
            .create(
                {
                    "name": "roster.txt",
                    "raw": b"Client 01, Client 02",
                    "res_model": "therapy.group",
                    "res_id": cls.group.id,
                }
            )
        )

    def _finds(self, user):
        self.env.invalidate_all()
        return (
            self.env["ir.attachment"]
            .with_user(user)
            .search([("res_model", "=", "therapy.group"), ("res_id", "=", self.group.id)])
        )

    def test_accountant_finds_and_reads_no_group_file(self):
        self.assertFalse(self._finds(self.accountant))
        self.assertNotIn(
            self.roster, self.env["ir.attachment"].with_user(self.accountant).search([])
        )
        with self.assertRaises(AccessError), mute_logger(*MUTED):
            self.roster.with_user(self.accountant).read(["raw"])
        for user in (self.provider, self.shared_provider, self.front_desk, self.manager):
            with self.subTest(user=user.name):
                self.assertEqual(self._finds(user), self.roster)
        self.assertFalse(self._finds(self.other_provider))


@tagged("post_install", "-at_install")
class TestWaitlistStatusIsTheServers(GroupTherapyCommon):
    """A waitlist entry's status is what happened to it: promoted by the server when a place
    frees up, cancelled by its button; a provider sent "waiting" for a cancelled entry over RPC
    and put the client back in the queue."""

    def test_status_follows_the_buttons_only(self):
        self.other_group.capacity = 1  # full: Client 05
        Waitlist = self.env["therapy.group.waitlist"].with_user(self.other_provider)
        client = self.env["res.partner"].with_user(self.other_provider).create({"name": "Waiting"})
        entry = Waitlist.create({"group_id": self.other_group.id, "partner_id": client.id})
        self.assertEqual(entry.state, "waiting")
        entry.action_cancel()
        self.assertEqual(entry.state, "cancelled")
        for state in ("waiting", "promoted"):
            with (
                self.subTest(state=state),
                self.assertRaisesRegex(UserError, "set by the application itself"),
                mute_logger(*MUTED),
            ):
                entry.write({"state": state})
        with (
            self.assertRaisesRegex(UserError, "set by the application itself"),
            mute_logger(*MUTED),
        ):
            Waitlist.create(
                {"group_id": self.other_group.id, "partner_id": client.id, "state": "promoted"}
            )
        self.assertEqual(entry.state, "cancelled")
        # a place frees up: the server promotes whoever waits, as before
        second = Waitlist.create({"group_id": self.other_group.id, "partner_id": client.id})
        self.other_group.member_ids.with_user(self.other_provider).action_end_membership()
        self.env["therapy.group.member"].invalidate_model()
        self.assertEqual(second.state, "promoted")


@tagged("post_install", "-at_install")
class TestContactsSearchedByHiddenRecords(GroupTherapyCommon):
    """Odoo searches a condition naming ids of a one2many or many2many (``meeting_ids in [8]``)
    on those records as superuser: an accountant who reads every contact, and the session's id
    on an invoice, listed the session's roster, and a provider learned which of their own
    clients are in a colleague's group, by the session's or the chart note's id."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Client 05 is in both groups: Other Olga sees the contact, not the AAG session.
        cls.env["therapy.group.member"].create(
            {"group_id": cls.group.id, "partner_id": cls.clients[4].id}
        )
        cls.session = cls._make_session(cls.group, days=1)
        cls.roster = cls.clients[:5]
        cls.client_login = cls.env["res.users"].create(
            {
                "name": "Client 01",
                "login": "gt_client_01",
                "partner_id": cls.clients[0].id,
                "group_ids": [(6, 0, cls.env.ref("base.group_portal").ids)],
            }
        )

    def _search(self, user, domain):
        self.env.invalidate_all()
        return self.env["res.partner"].with_user(user).search(domain)

    def test_accountant_gets_no_roster_from_a_session_id(self):
        self.assertEqual(self.session.partner_ids & self.clients, self.roster)
        for domain in (
            [("meeting_ids", "in", self.session.ids)],
            [("meeting_ids", "=", self.session.id)],
        ):
            with self.subTest(domain=domain):
                self.assertFalse(self._search(self.accountant, domain) & self.clients)
        self.assertEqual(
            self.env["res.partner"]
            .with_user(self.accountant)
            .search_count(
                [("meeting_ids", "not in", self.session.ids), ("id", "in", self.roster.ids)]
            ),
            len(self.roster),
            "excluding a session the accountant cannot read excludes nobody",
        )
        # A user's contact is searched through res.users without the contacts' rules.
        for domain in (
            [("meeting_ids", "in", self.session.ids)],
            [("partner_id.meeting_ids", "in", self.session.ids)],
        ):
            with self.subTest(domain=domain):
                self.assertNotIn(
                    self.client_login,
                    self.env["res.users"].with_user(self.accountant).search(domain),
                )

    def test_provider_learns_no_membership_of_a_colleagues_group(self):
        self.assertIn(self.clients[4], self._search(self.other_provider, []))
        self.assertFalse(
            self._search(self.other_provider, [("meeting_ids", "in", self.session.ids)])
        )
        membership = self.group.member_ids.filtered(lambda m: m.partner_id == self.clients[4])
        self.assertFalse(
            self._search(self.other_provider, [("therapy_member_ids", "in", membership.ids)])
        )

    def test_those_who_see_the_session_still_find_its_clients(self):
        for user in (self.provider, self.shared_provider, self.front_desk):
            with self.subTest(user=user.name):
                self.assertEqual(
                    self._search(user, [("meeting_ids", "in", self.session.ids)]) & self.clients,
                    self.roster,
                )
        self.assertEqual(
            self._search(
                self.provider, [("meeting_ids", "=", False), ("id", "in", self.clients.ids)]
            ),
            self.clients[5],
        )


@tagged("post_install", "-at_install")
class TestClientsFollowNoGroupTherapyRecord(ChartingCommon):
    """A provider's Follow / Add Followers (``/mail/thread/subscribe``, ``message_subscribe``)
    made a client follow the group or a chart note: the client then got every message posted
    there, and every employee read in ``mail.followers`` the client's name and e-mail next to
    the group or note (an accountant, a colleague without a Group Therapy role)."""

    def _followers(self, record):
        return (
            self.env["mail.followers"]
            .with_user(self.accountant)
            .search([("res_model", "=", record._name), ("res_id", "=", record.id)])
            .partner_id
        )

    def test_no_client_follows_a_group_or_a_note(self):
        self._chart()
        client = self.clients[0]
        note = self._note(client)
        for record in (self.group, note):
            with self.subTest(model=record._name):
                record.with_user(self.provider).message_subscribe(
                    partner_ids=[client.id, self.shared_provider.partner_id.id]
                )
                followers = self._followers(record)
                self.assertNotIn(client, followers)
                self.assertIn(self.shared_provider.partner_id, followers, "staff still follow")
                record.with_user(self.provider).message_subscribe(partner_ids=client.ids)
                self.assertNotIn(client, self._followers(record))
