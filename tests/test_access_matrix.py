from contextlib import contextmanager
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon
from .test_charting import GROUP_NOTE, ChartingCommon


@tagged("post_install", "-at_install")
class TestAccessMatrix(ChartingCommon):
    """Role x model x operation, each cell run as that user (in the style of Odoo's
    calendar/tests/test_access_rights.py). Every record rule meets a user it must stop."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A signed session (for addenda) and a session with draft notes (for edits).
        cls._chart()._sign()
        cls.locked_note = cls._note(cls.clients[0])
        cls.draft_session = cls._make_session(cls.group, days=-2)
        cls.draft_session.action_mark_all_attended()
        cls._chart(session=cls.draft_session)
        cls.draft_note = cls._note(cls.clients[0], session=cls.draft_session)
        cls.attendance = cls.draft_session.therapy_attendance_ids[:1]
        cls.member = cls.group.member_ids[:1]
        cls.spare_group = cls.env["therapy.group"].create(
            {"name": "Spare", "code": "SPR", "provider_id": cls.provider.id}
        )
        # Outside Group Therapy: a colleague with no role in it, and a client on the portal.
        cls.staff = new_test_user(cls.env, "gt_staff", groups="base.group_user", name="Staff Stu")
        cls.portal_client = new_test_user(
            cls.env, "gt_portal_client", groups="base.group_portal", partner_id=cls.clients[0].id
        )
        cls.future_session = cls._make_session(cls.group, days=3)
        cls.attendee = cls.draft_session.attendee_ids.filtered(
            lambda attendee: attendee.partner_id == cls.clients[0]
        )
        cls.meeting = cls.env["calendar.event"].create(
            {
                "name": "Staff meeting",
                "start": cls.future_session.start,
                "stop": cls.future_session.stop,
                "user_id": cls.staff.id,
            }
        )

    def _operation(self, user, target, operation):
        """Run one operation as `user`; `target` is a record (or a model name, for create)."""
        if operation == "create":
            Model = self.env[target].with_user(user)
            values = {
                # Front desk creates a group for a provider (only providers run groups).
                "therapy.group": {"name": "New", "code": "NEW", "provider_id": self.provider.id},
                "therapy.group.member": {
                    "group_id": self.group.id,
                    "partner_id": self.clients[5].id,
                },
                "therapy.chart.template": {"name": "Intake group", "body": "<p>Sections</p>"},
                "therapy.chart.note": {
                    "event_id": self.draft_session.id,
                    "partner_id": self.clients[5].id,
                    "body": GROUP_NOTE,
                },
                "therapy.chart.note.addendum": {
                    "note_id": self.locked_note.id,
                    "body": "<p>Addendum</p>",
                },
            }[target]
            return Model.create(values)
        records = target.with_user(user)
        if operation == "read":
            return records.read(["display_name"])
        if operation == "write":
            values = {
                "therapy.group": {"code": "CHG"},
                "therapy.group.member": {"date_end": False},
                "therapy.attendance": {"place_of_service": "10"},
                # The text is server-owned (test_integrity): the form writes addenda only.
                "therapy.chart.note": {"addendum_ids": []},
                "therapy.chart.template": {"name": "Renamed"},
                "calendar.event": {"name": "Renamed", "location": "Elsewhere"},
                "calendar.attendee": {"state": "accepted"},
            }[records._name]
            return records.write(values)
        return records.unlink()

    def test_access_matrix(self):
        P, S, OTHER = self.provider, self.shared_provider, self.other_provider
        FD, M, ACC, PORTAL = self.front_desk, self.manager, self.accountant, self.portal_user
        group, other_group, member = self.group, self.other_group, self.member
        line, draft, locked = self.attendance, self.draft_note, self.locked_note
        template = self.template
        allowed, denied = True, False
        rows = [
            # therapy.group: providers see their own and shared groups, front desk every group
            (P, group, "read", allowed),
            (P, group, "write", allowed),
            (P, "therapy.group", "create", allowed),
            (P, self.spare_group, "unlink", denied),
            (P, other_group, "read", denied),
            (P, other_group, "write", denied),
            (S, group, "read", allowed),
            (S, group, "write", allowed),
            (OTHER, group, "read", denied),
            (OTHER, group, "write", denied),
            (FD, other_group, "read", allowed),
            (FD, other_group, "write", allowed),
            (FD, "therapy.group", "create", allowed),
            (FD, self.spare_group, "unlink", denied),
            (M, self.spare_group, "unlink", allowed),
            (ACC, group, "read", allowed),
            (ACC, group, "write", denied),
            (ACC, "therapy.group", "create", denied),
            (PORTAL, group, "read", denied),
            (PORTAL, "therapy.group", "create", denied),
            # therapy.group.member
            (P, member, "read", allowed),
            (P, member, "write", allowed),
            (P, "therapy.group.member", "create", allowed),
            (S, "therapy.group.member", "create", allowed),
            (OTHER, member, "read", denied),
            (OTHER, "therapy.group.member", "create", denied),
            (FD, member, "unlink", denied),
            (M, member, "unlink", allowed),
            (ACC, member, "write", denied),
            (PORTAL, member, "read", denied),
            # therapy.attendance
            (P, line, "read", allowed),
            (P, line, "write", allowed),
            (S, line, "write", allowed),
            (OTHER, line, "read", denied),
            (OTHER, line, "write", denied),
            (FD, line, "write", allowed),
            (ACC, line, "read", denied),  # accounting reads what invoices and claims store
            (ACC, line, "write", denied),
            (ACC, member, "read", denied),
            (PORTAL, line, "read", denied),
            # therapy.chart.note: clinical, never for front desk or accounting
            (P, draft, "read", allowed),
            (P, draft, "write", allowed),
            (P, draft, "unlink", allowed),
            (S, draft, "read", allowed),
            (S, draft, "write", allowed),
            (M, draft, "read", allowed),
            (OTHER, draft, "read", denied),
            (OTHER, draft, "write", denied),
            (FD, draft, "read", denied),
            (FD, "therapy.chart.note", "create", denied),
            (ACC, locked, "read", denied),
            (PORTAL, locked, "read", denied),
            # therapy.chart.note.addendum
            (S, "therapy.chart.note.addendum", "create", allowed),
            (OTHER, "therapy.chart.note.addendum", "create", denied),
            (FD, "therapy.chart.note.addendum", "create", denied),
            # therapy.chart.template: configured by administrators, read by providers
            (P, template, "read", allowed),
            (P, template, "write", denied),
            (P, "therapy.chart.template", "create", denied),
            (M, template, "write", allowed),
            (M, "therapy.chart.template", "create", allowed),
            (FD, template, "read", denied),
            (ACC, template, "read", denied),
        ]
        rows += self._session_rows()
        self.assertGreaterEqual(len(rows), 40)
        for user, target, operation, expected in rows:
            label = target if isinstance(target, str) else f"{target._name}({target.id})"
            with self.subTest(user=user.login, target=label, operation=operation):
                self.env.invalidate_all()
                savepoint = self.env.cr.savepoint()
                try:
                    if expected:
                        self._operation(user, target, operation)
                    else:
                        with (
                            self.assertRaises(AccessError),
                            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
                        ):
                            self._operation(user, target, operation)
                finally:
                    savepoint.close(rollback=True)

    def _session_rows(self):
        """Group sessions and their attendees follow the group: front desk, the group's
        providers and administrators; nobody else, whatever calendar grants employees."""
        P, S, OTHER = self.provider, self.shared_provider, self.other_provider
        FD, M, ACC, PORTAL = self.front_desk, self.manager, self.accountant, self.portal_user
        STAFF, CLIENT = self.staff, self.portal_client
        session, future, attendee = self.draft_session, self.future_session, self.attendee
        allowed, denied = True, False
        return [
            # calendar.event with therapy_group_id
            (P, session, "read", allowed),
            (P, session, "write", allowed),
            (P, future, "unlink", allowed),
            (S, session, "read", allowed),
            (S, session, "write", allowed),
            (FD, session, "read", allowed),
            (FD, session, "write", allowed),
            (FD, future, "unlink", allowed),
            (M, session, "write", allowed),
            (OTHER, session, "read", denied),
            (OTHER, session, "write", denied),
            (OTHER, future, "unlink", denied),
            (STAFF, session, "read", denied),
            (STAFF, session, "write", denied),
            (STAFF, future, "unlink", denied),
            (ACC, session, "read", denied),  # test_privacy_accounting
            (PORTAL, session, "read", denied),
            (CLIENT, session, "read", denied),
            # other events are untouched by the addon
            (OTHER, self.meeting, "read", allowed),
            (STAFF, self.meeting, "write", allowed),
            (ACC, self.meeting, "read", allowed),
            # calendar.attendee of a group session
            (P, attendee, "read", allowed),
            (S, attendee, "write", allowed),
            (FD, attendee, "read", allowed),
            (OTHER, attendee, "read", denied),
            (OTHER, attendee, "write", denied),
            (STAFF, attendee, "read", denied),
            (STAFF, attendee, "unlink", denied),
            (ACC, attendee, "read", denied),
            (CLIENT, attendee, "read", denied),
            # attendance and membership outside the group's staff
            (STAFF, self.attendance, "read", denied),
            (CLIENT, self.attendance, "read", denied),
        ]

    def test_session_routes_hide_clients_from_outsiders(self):
        """Search, read_group, attendee search, related fields, messages and export: the
        session and its clients reach only those who serve the group."""
        session = self.draft_session
        session.message_post(body="Room 2 is booked for the group.", message_type="comment")
        clients = session.therapy_attendance_ids.partner_id
        self.assertTrue(clients)
        serving = (self.provider, self.shared_provider, self.front_desk, self.manager)
        outside = (self.other_provider, self.staff, self.accountant, self.portal_client)
        Event, Attendee = self.env["calendar.event"], self.env["calendar.attendee"]
        Message = self.env["mail.message"]
        export_group = self.env.ref("base.group_allow_export")
        for user in serving + outside:
            if user.has_group("base.group_user"):
                user.group_ids = [Command.link(export_group.id)]
        for user in serving + outside:
            sees = user in serving
            with self.subTest(user=user.login):
                self.env.invalidate_all()
                if user.has_group("base.group_user"):
                    found = Event.with_user(user).search_read(
                        [("id", "=", session.id)], ["name", "partner_ids"]
                    )
                    self.assertEqual(bool(found), sees)
                    by_partner = Event.with_user(user)._read_group(
                        [("id", "=", session.id)], ["partner_ids"], ["__count"]
                    )
                    self.assertEqual(bool(by_partner), sees)
                    by_client = Event.with_user(user).search_count(
                        [("partner_ids", "in", clients.ids), ("id", "=", session.id)]
                    )
                    self.assertEqual(bool(by_client), sees)
                    attendees = Attendee.with_user(user).search(
                        [("partner_id", "in", clients.ids), ("event_id", "=", session.id)]
                    )
                    self.assertEqual(attendees.partner_id == clients, sees)
                    self.assertEqual(bool(attendees), sees)
                    # a client's meetings, through the partner's related fields; the client
                    # themselves is closed to those who do not serve them (test_privacy_contacts)
                    client = clients[:1].with_user(user)
                    if sees:
                        self.assertIn(session, client.meeting_ids)
                        self.assertTrue(client.meeting_count)
                    elif client.has_access("read"):  # an accountant: the contact, not the session
                        self.assertNotIn(session, client.meeting_ids)
                    else:
                        with (
                            self.assertRaises(AccessError),
                            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
                        ):
                            client.read(["meeting_ids"])
                messages = Message.with_user(user).search(
                    [("model", "=", "calendar.event"), ("res_id", "=", session.id)]
                )
                self.assertEqual(bool(messages), sees)
                if not user.has_group("base.group_user"):
                    continue
                if sees:
                    exported = (
                        Event.with_user(user)
                        .browse(session.id)
                        .export_data(["name", "partner_ids/name"])
                    )
                    self.assertIn(clients[0].name, str(exported["datas"]))
                else:
                    with (
                        self.assertRaises(AccessError),
                        mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
                    ):
                        Event.with_user(user).browse(session.id).export_data(
                            ["name", "partner_ids/name"]
                        )

    def test_roles_share_the_base_group(self):
        """Front desk, providers and administrators are Group Therapy users; others are not."""
        for user, expected in (
            (self.front_desk, True),
            (self.provider, True),
            (self.manager, True),
            (self.staff, False),
            (self.accountant, False),
            (self.portal_client, False),
        ):
            with self.subTest(user=user.login):
                self.assertEqual(user.has_group("group_therapy.group_therapy_user"), expected)

    def test_session_print_menu_per_role(self):
        """Superbills and the sign-in sheet are printed by those who serve the group."""
        Actions = self.env["ir.actions.actions"]
        for user, expected in (
            (self.front_desk, True),
            (self.provider, True),
            (self.manager, True),
            (self.staff, False),
            (self.accountant, False),
        ):
            with self.subTest(user=user.login):
                bindings = Actions.with_user(user).get_bindings("calendar.event")
                names = {action["name"] for action in bindings.get("report", [])}
                self.assertEqual({"Superbills", "Sign-in Sheet"} <= names, expected, names)
                client_superbill = self.env.ref("group_therapy.therapy_superbill_report_client")
                self.assertEqual(bool(client_superbill.group_ids & user.all_group_ids), expected)

    def test_deleting_a_session_counts_attendance_the_caller_cannot_see(self):
        """The recorded-attendance guard reads every line (sudo after the unlink check)."""
        session = self.future_session
        line = session.therapy_attendance_ids[:1]
        # Ahead of time, a late cancel is what can be recorded (not a no-show).
        line.state = "absent"
        line.product_id = self.late_cancel
        with self.assertRefused(UserError, "has recorded attendance"):
            session.with_user(self.front_desk).unlink()
        self.assertTrue(session.exists())

    def test_addenda_follow_their_note(self):
        addendum = self.env["therapy.chart.note.addendum"].create(
            {"note_id": self.locked_note.id, "body": "<p>Seen again</p>"}
        )
        Addendum = self.env["therapy.chart.note.addendum"]
        for user, visible in (
            (self.provider, True),
            (self.shared_provider, True),
            (self.manager, True),
            (self.other_provider, False),
        ):
            with self.subTest(user=user.login):
                found = Addendum.with_user(user).search([("id", "=", addendum.id)])
                self.assertEqual(bool(found), visible)

    def test_locked_note_write_through_the_one2many_keeps_the_note(self):
        """The form saves new addenda through the note: only creations pass."""
        self.locked_note.with_user(self.provider).write(
            {"addendum_ids": [Command.create({"body": "<p>Follow-up call</p>"})]}
        )
        self.assertEqual(len(self.locked_note.addendum_ids), 1)
        self.assertTrue(self.locked_note.hash_verified)


@tagged("post_install", "-at_install")
class TestGroupAccess(GroupTherapyCommon):
    """Each role against groups and memberships, as that user (never as admin)."""

    def _check(self, user, records, operation, allowed):
        records = records.with_user(user)
        is_group = records._name == "therapy.group"

        def call():
            if operation == "read":
                return records.read(["name" if is_group else "partner_id"])
            if operation == "write":
                return records.write({"code": "X"} if is_group else {"date_end": False})
            return records.unlink()

        if allowed:
            call()
        else:
            with (
                self.assertRaises(AccessError, msg=f"{user.login} {operation} {records}"),
                mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
            ):
                call()

    def test_group_matrix(self):
        own, other = self.group, self.other_group
        rows = [
            # (user, records, operation, allowed)
            (self.provider, own, "read", True),
            (self.provider, own, "write", True),
            (self.provider, other, "read", False),
            (self.provider, other, "write", False),
            (self.provider, own, "unlink", False),
            (self.shared_provider, own, "read", True),
            (self.shared_provider, own, "write", True),
            (self.shared_provider, other, "read", False),
            (self.other_provider, own, "read", False),
            (self.other_provider, other, "read", True),
            (self.front_desk, own, "read", True),
            (self.front_desk, other, "write", True),
            (self.front_desk, other, "unlink", False),
            (self.accountant, own, "read", True),
            (self.accountant, own, "write", False),
            (self.portal_user, own, "read", False),
            (self.manager, other, "write", True),
        ]
        for user, records, operation, allowed in rows:
            with self.subTest(user=user.login, group=records.code, operation=operation):
                self._check(user, records, operation, allowed)

    def test_membership_matrix(self):
        own = self.group.member_ids[:1]
        other = self.other_group.member_ids[:1]
        rows = [
            (self.provider, own, "read", True),
            (self.provider, own, "write", True),
            (self.provider, other, "read", False),
            (self.shared_provider, own, "write", True),
            (self.other_provider, own, "read", False),
            (self.front_desk, other, "read", True),
            (self.front_desk, own, "unlink", False),
            (self.accountant, own, "write", False),
            (self.portal_user, own, "read", False),
            (self.manager, own, "unlink", True),
        ]
        for user, records, operation, allowed in rows:
            with self.subTest(user=user.login, member=records.display_name, operation=operation):
                self._check(user, records, operation, allowed)

    def test_provider_search_sees_own_and_shared_only(self):
        Group = self.env["therapy.group"]
        self.assertEqual(
            Group.with_user(self.provider).search(
                [("id", "in", (self.group | self.other_group).ids)]
            ),
            self.group,
        )
        self.assertEqual(
            Group.with_user(self.other_provider).search(
                [("id", "in", (self.group | self.other_group).ids)]
            ),
            self.other_group,
        )
        self.assertEqual(
            Group.with_user(self.front_desk).search(
                [("id", "in", (self.group | self.other_group).ids)]
            ),
            self.group | self.other_group,
        )

    def test_provider_cannot_add_client_to_unshared_group(self):
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self.env["therapy.group.member"].with_user(self.provider).create(
                {"group_id": self.other_group.id, "partner_id": self.clients[5].id}
            )
        self.assertNotIn(self.clients[5], self.other_group.member_partner_ids)

    def test_profile_shows_only_visible_memberships(self):
        """On a client in two groups, a provider sees only the membership of their own group."""
        client = self.clients[4]
        self.env["therapy.group.member"].create(
            {"group_id": self.group.id, "partner_id": client.id}
        )
        self.env.invalidate_all()
        visible = client.with_user(self.provider).therapy_member_ids
        self.assertEqual(visible.group_id, self.group)
        self.env.invalidate_all()  # x2many values are cached per transaction, not per user
        self.assertEqual(
            client.with_user(self.front_desk).therapy_member_ids.group_id,
            self.group | self.other_group,
        )

    def test_multi_company(self):
        other_company = self.env["res.company"].create({"name": "Second Practice"})
        foreign_group = self.env["therapy.group"].create(
            {
                "name": "Elsewhere",
                "code": "EW",
                "provider_id": self.provider.id,
                "company_id": other_company.id,
                "default_product_id": self.cpt_90853.id,
            }
        )
        self.assertFalse(
            self.env["therapy.group"]
            .with_user(self.front_desk)
            .search([("id", "=", foreign_group.id)]),
            "a group of a company the user is not in stays hidden, even for front desk",
        )

    def test_cross_company_links_refused(self):
        """A client of another practice cannot join this practice's group."""
        other_company = self.env["res.company"].create({"name": "Other Practice"})
        foreign_client = self.env["res.partner"].create(
            {"name": "Elsewhere Client", "company_id": other_company.id}
        )
        with self.assertRefused(UserError, "no company crossover is allowed"):
            self.env["therapy.group.member"].create(
                {"group_id": self.group.id, "partner_id": foreign_client.id}
            )
        self.assertNotIn(foreign_client, self.group.member_ids.partner_id)


# A client's clinical fields on res.partner: only those who serve the client read and write them.
CLINICAL_FIELDS = [
    "therapy_fee_exempt",
    "therapy_payer_id",
    "therapy_birthdate",
    "therapy_sex",
    "therapy_billing_partner_id",
    "therapy_diagnosis_line_ids",
    "therapy_diagnosis_ids",
    "therapy_coverage_ids",
]
SEES, HIDDEN, REFUSED = "sees", "hidden", "refused"
# A client the user does not serve and may not even see as a contact (test_privacy_contacts).
CLOSED = "closed"


@tagged("post_install", "-at_install")
class TestClinicalFieldAccess(GroupTherapyCommon):
    """A client's diagnoses, payer, coverage, birth date, sex, fee exemption and billing contact:
    read, searched, grouped, exported and written by every role, each run as that user over the
    ORM (the methods RPC calls). Those who serve the client see them; a provider who does not
    reads them empty and cannot change them; a role outside Group Therapy is refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.staff = new_test_user(
            cls.env, "gt_clinical_staff", groups="base.group_user", name="Staff Stu"
        )
        cls.portal_client = new_test_user(
            cls.env,
            "gt_clinical_portal",
            groups="base.group_portal",
            partner_id=cls.clients[1].id,
        )
        Partner = cls.env["res.partner"]
        cls.insurer = Partner.create(
            {"name": "Blue Shield", "is_company": True, "therapy_payer_code": "94036"}
        )
        cls.guardian = Partner.create({"name": "Gail Guardian"})
        cls.depression = cls.env.ref("group_therapy.therapy_diagnosis_f32_1")
        cls.adjustment = cls.env.ref("group_therapy.therapy_diagnosis_f43_10")
        # clients[0]: member of the shared group; clients[4]: of Other Olga's group alone;
        # clients[5]: of no group.
        cls.own, cls.others, cls.nobodys = cls.clients[0], cls.clients[4], cls.clients[5]
        for client in cls.own | cls.others | cls.nobodys:
            client.write(
                {
                    "therapy_birthdate": "1984-05-06",
                    "therapy_sex": "female",
                    "therapy_payer_id": cls.insurer.id,
                    "therapy_fee_exempt": True,
                    "therapy_billing_partner_id": cls.guardian.id,
                    "therapy_diagnosis_ids": [Command.link(cls.depression.id)],
                }
            )
            cls.env["therapy.coverage"].create(
                {
                    "partner_id": client.id,
                    "payer_id": cls.insurer.id,
                    "member_ident": f"M-{client.id}",
                }
            )
        export_group = cls.env.ref("base.group_allow_export")
        for user in (
            cls.provider,
            cls.shared_provider,
            cls.other_provider,
            cls.front_desk,
            cls.manager,
            cls.accountant,
            cls.staff,
        ):
            user.group_ids = [Command.link(export_group.id)]

    def _rows(self):
        P, S, OTHER = self.provider, self.shared_provider, self.other_provider
        FD, M, ACC = self.front_desk, self.manager, self.accountant
        STAFF, PORTAL = self.staff, self.portal_client
        own, others, nobodys = self.own, self.others, self.nobodys
        return [
            # those who serve the client: front desk, administrators, the group's providers
            (P, own, SEES),
            (S, own, SEES),
            (FD, own, SEES),
            (M, own, SEES),
            (FD, nobodys, SEES),
            (OTHER, others, SEES),
            # a provider who sees the contact but does not serve the client: empty, unchangeable
            (P, nobodys, HIDDEN),
            # a client of another provider's unshared group: not even the contact
            (OTHER, own, CLOSED),
            (P, others, CLOSED),
            (S, others, CLOSED),
            # no Group Therapy role: refused outright
            (STAFF, own, REFUSED),
            (ACC, own, REFUSED),
            (ACC, others, REFUSED),
            (PORTAL, own, REFUSED),
            (PORTAL, self.clients[1], REFUSED),  # the portal client's own contact
        ]

    def _searches(self, client):
        """One domain per clinical field, each matching this client's true values."""
        return [
            [("therapy_fee_exempt", "=", True)],
            [("therapy_payer_id", "=", self.insurer.id)],
            [("therapy_payer_id.name", "ilike", "Blue")],
            [("therapy_birthdate", "=", "1984-05-06")],
            [("therapy_sex", "in", ["female"])],
            [("therapy_billing_partner_id", "=", self.guardian.id)],
            [("therapy_diagnosis_line_ids.diagnosis_id", "=", self.depression.id)],
            [("therapy_diagnosis_line_ids.code", "=", "F32.1")],
            [("therapy_coverage_ids.member_ident", "=", f"M-{client.id}")],
        ]

    @contextmanager
    def assertRefusedAccess(self):
        """The block raises AccessError (Odoo's assertRaises rolls it back)."""
        with (
            self.assertRaises(AccessError) as catcher,
            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
        ):
            yield catcher

    def test_clinical_fields_matrix(self):
        """Every role x read, search_read, web_read, search on each field, read_group, export,
        write: as the README's role table says."""
        truth = {
            client: client.read(CLINICAL_FIELDS)[0]
            for client in self.own | self.others | self.nobodys | self.clients[1]
        }
        for client, values in truth.items():
            if client != self.clients[1]:
                self.assertTrue(all(values[name] for name in CLINICAL_FIELDS), values)
        for user, client, expected in self._rows():
            with self.subTest(user=user.login, client=client.name):
                self.env.invalidate_all()
                self._check_read(user, client, expected, truth[client])
                self._check_search(user, client, expected)
                self._check_read_group(user, client, expected)
                self._check_export(user, client, expected)
                self._check_write(user, client, expected)

    def _check_read(self, user, client, expected, truth):
        record = client.with_user(user)
        Partner = self.env["res.partner"].with_user(user)
        if expected == REFUSED:
            for field in CLINICAL_FIELDS:
                with self.assertRefusedAccess():
                    record.read([field])
            with self.assertRefusedAccess():
                Partner.search_read([("id", "=", client.id)], ["therapy_birthdate"])
            with self.assertRefusedAccess():
                record.web_read({"therapy_diagnosis_line_ids": {"fields": {"code": {}}}})
            return
        if expected == CLOSED:
            with self.assertRefusedAccess():
                record.read(CLINICAL_FIELDS)
            self.assertFalse(Partner.search_read([("id", "=", client.id)], CLINICAL_FIELDS))
            with self.assertRefusedAccess():
                record.web_read({"therapy_diagnosis_line_ids": {"fields": {"code": {}}}})
            for model in ("therapy.client.diagnosis", "therapy.coverage", "therapy.client.profile"):
                records = self.env[model].search([("partner_id", "=", client.id)])
                with self.assertRefusedAccess():
                    records.with_user(user).read(["partner_id"])
            return
        values = record.read(CLINICAL_FIELDS)[0]
        (listed,) = Partner.search_read([("id", "=", client.id)], CLINICAL_FIELDS)
        (form,) = record.web_read(
            {
                "therapy_birthdate": {},
                "therapy_diagnosis_line_ids": {"fields": {"code": {}}},
                "therapy_coverage_ids": {"fields": {"member_ident": {}}},
            }
        )
        if expected == SEES:
            self.assertEqual(values, truth)
            self.assertEqual(listed, truth)
            self.assertEqual(form["therapy_birthdate"], truth["therapy_birthdate"])
            self.assertIn("F32.1", str(form["therapy_diagnosis_line_ids"]))
            self.assertIn(f"M-{client.id}", str(form["therapy_coverage_ids"]))
        else:
            self.assertFalse([name for name in CLINICAL_FIELDS if values[name]], values)
            self.assertFalse([name for name in CLINICAL_FIELDS if listed[name]], listed)
            self.assertFalse(form["therapy_birthdate"])
            self.assertFalse(form["therapy_diagnosis_line_ids"])
            self.assertFalse(form["therapy_coverage_ids"])
            # nor by the records themselves
            for model in ("therapy.client.diagnosis", "therapy.coverage", "therapy.client.profile"):
                records = self.env[model].search([("partner_id", "=", client.id)])
                self.assertTrue(records)
                with self.assertRefusedAccess():
                    records.with_user(user).read(["partner_id"])

    def _check_search(self, user, client, expected):
        Partner = self.env["res.partner"].with_user(user)
        for domain in self._searches(client):
            full = [("id", "=", client.id), *domain]
            if expected == REFUSED:
                with self.assertRefusedAccess():
                    Partner.search(full)
            else:
                self.assertEqual(
                    Partner.search(full) == client, expected == SEES, f"searching {domain}"
                )

    def _check_read_group(self, user, client, expected):
        Partner = self.env["res.partner"].with_user(user)
        Line = self.env["therapy.client.diagnosis"].with_user(user)
        Coverage = self.env["therapy.coverage"].with_user(user)
        by_diagnosis = [
            ("id", "=", client.id),
            ("therapy_diagnosis_line_ids.diagnosis_id", "=", self.depression.id),
        ]
        if expected == REFUSED:
            with self.assertRefusedAccess():
                Partner.formatted_read_group(by_diagnosis, [], ["__count"])
            with self.assertRefusedAccess():
                Line.formatted_read_group([("partner_id", "=", client.id)], ["diagnosis_id"])
            with self.assertRefusedAccess():
                Coverage.formatted_read_group([("partner_id", "=", client.id)], ["payer_id"])
            return
        sees = expected == SEES
        (total,) = Partner.formatted_read_group(by_diagnosis, [], ["__count"])
        self.assertEqual(total["__count"], int(sees))
        diagnoses = Line.formatted_read_group(
            [("partner_id", "=", client.id)], ["diagnosis_id"], ["__count"]
        )
        self.assertEqual(
            bool([group for group in diagnoses if "F32.1" in str(group["diagnosis_id"])]), sees
        )
        payers = Coverage.formatted_read_group(
            [("partner_id", "=", client.id)], ["payer_id"], ["__count"]
        )
        self.assertEqual(bool(payers), sees)

    def _check_export(self, user, client, expected):
        if not user.has_group("base.group_allow_export"):
            return  # portal: no export at all (read is refused above)
        record = client.with_user(user)
        fields_to_export = [
            "name",
            "therapy_birthdate",
            "therapy_payer_id",
            "therapy_diagnosis_line_ids/code",
            "therapy_coverage_ids/member_ident",
        ]
        if expected in (REFUSED, CLOSED):
            with self.assertRefusedAccess():
                record.export_data(fields_to_export)
            return
        exported = str(record.export_data(fields_to_export)["datas"])
        for secret in ("1984", "Blue Shield", "F32.1", f"M-{client.id}"):
            self.assertEqual(secret in exported, expected == SEES, f"{secret} in {exported}")

    def _check_write(self, user, client, expected):
        record = client.with_user(user)
        writes = [
            {"therapy_birthdate": "1990-01-02"},
            {"therapy_fee_exempt": False},
            {"therapy_payer_id": False},
            {"therapy_sex": "unknown"},
            {"therapy_billing_partner_id": False},
            {"therapy_diagnosis_ids": [Command.set([])]},
            {
                "therapy_diagnosis_line_ids": [
                    Command.create({"diagnosis_id": self.adjustment.id, "sequence": 1})
                ]
            },
        ]
        for values in writes:
            with self.env.cr.savepoint(flush=True) as savepoint:
                before = client.read(list(values))[0]
                if expected == SEES:
                    record.write(values)
                    self.env.invalidate_all()
                    self.assertNotEqual(client.read(list(values))[0], before, values)
                else:
                    with self.assertRefusedAccess():
                        record.write(values)
                    self.env.invalidate_all()
                    self.assertEqual(client.read(list(values))[0], before, values)
                savepoint.rollback()
            self.env.invalidate_all()

    def test_clinical_access_flag_per_role(self):
        """The form shows the clinical fields to those who serve the client only."""
        for user, client, expected in self._rows():
            if expected in (REFUSED, CLOSED):
                continue
            with self.subTest(user=user.login, client=client.name):
                self.env.invalidate_all()
                self.assertEqual(client.with_user(user).therapy_clinical_access, expected == SEES)

    def test_provider_registers_a_client_of_their_group_in_one_save(self):
        """The client form of a provider: name, membership and clinical fields in one save."""
        Partner = self.env["res.partner"].with_user(self.provider)
        client = Partner.create(
            {
                "name": "New Client",
                "therapy_member_ids": [Command.create({"group_id": self.group.id})],
                "therapy_birthdate": "2001-02-03",
                "therapy_diagnosis_ids": [Command.link(self.depression.id)],
            }
        )
        self.env.invalidate_all()
        self.assertEqual(str(client.with_user(self.provider).therapy_birthdate), "2001-02-03")
        self.assertEqual(client.with_user(self.shared_provider).therapy_diagnosis_ids.code, "F32.1")
        self.env.invalidate_all()
        self.assertFalse(client.with_user(self.other_provider).therapy_birthdate)
        # without a group of theirs, the provider does not serve the contact
        with self.assertRefusedAccess() as catcher:
            Partner.create({"name": "Walk-in", "therapy_birthdate": "2001-02-03"})
        self.assertIn("You do not serve: Walk-in", str(catcher.exception))

    def test_what_front_desk_writes_is_what_billing_reads_next(self):
        """Billing reads the profile as superuser after its access check, in the same
        transaction as the front desk's change: it gets the new values, not a copy read before."""
        client = self.own
        # read (and cached) as superuser before the change
        self.assertNotEqual(client.sudo().therapy_sex, "unknown")
        self.assertNotEqual(str(client.sudo().therapy_birthdate), "1990-05-06")
        client.with_user(self.front_desk).write(
            {"therapy_sex": "unknown", "therapy_birthdate": "1990-05-06"}
        )
        self.assertEqual(client.sudo().therapy_sex, "unknown")
        self.assertEqual(str(client.sudo().therapy_birthdate), "1990-05-06")
        client.with_user(self.front_desk).therapy_sex = "male"
        self.assertEqual(client.sudo().therapy_sex, "male")
        self.assertEqual(client.with_user(self.provider).therapy_sex, "male")

    def test_billing_documents_refuse_an_accountant_without_a_role(self):
        """The superbill and the claim export carry diagnoses: the accountant without a Group
        Therapy role is refused with a message; the front desk gets them."""
        self.group.member_ids.date_start = fields.Date.today() - timedelta(days=30)
        session = self._make_session(self.group, days=-1)
        session.action_mark_all_attended()
        lines = session.therapy_attendance_ids.filtered(lambda line: line.partner_id == self.own)
        Superbill = self.env["report.group_therapy.report_superbill"]
        # the accountant does not even read the session's lines (test_privacy_accounting)
        with self.assertRefusedAccess() as catcher:
            Superbill.with_user(self.accountant)._get_report_values(lines.ids)
        self.assertIn("therapy.attendance", str(catcher.exception))
        values = Superbill.with_user(self.front_desk)._get_report_values(lines.ids)
        (superbill,) = values["superbills"]
        self.assertEqual(
            [diagnosis["code"] for diagnosis in superbill["diagnoses"]], ["F41.1", "F32.1"]
        )
        day = lines.session_date
        for user, refused in ((self.accountant, True), (self.front_desk, False)):
            wizard = (
                self.env["therapy.claim.export.wizard"]
                .with_user(user)
                .create({"date_from": day, "date_to": day, "file_format": "csv"})
            )
            if refused:
                # the accountant reads no service line of a session (test_privacy_accounting)
                with self.assertRefused(UserError, "No service to claim"):
                    wizard.action_export()
            else:
                # past the access check: the unsigned notes keep the lines out of the file
                with self.assertRaises(UserError) as catcher:
                    wizard.action_export()
                self.assertIn("no chart note for this client and session", str(catcher.exception))
