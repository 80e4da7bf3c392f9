from datetime import datetime, timedelta

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..models.therapy_attendance import KnownMemberships
from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestBadInputs(GroupTherapyCommon):
    """What an RPC client can send to create/write, as the restricted user who would send it:
    bad values get a clear ValidationError / UserError and the records stay as they were."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.other_group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.session = cls._make_session(cls.group)
        cls.other_session = cls._make_session(cls.other_group)
        cls.lines = {line.partner_id: line for line in cls.session.therapy_attendance_ids}
        cls.outsider = cls.clients[5]  # a client of the practice, in no group

    # units

    def test_units_are_never_zero_or_negative(self):
        line = self.lines[self.clients[0]].with_user(self.front_desk)
        for units in (0, -1):
            with self.subTest(units=units), self.assertRefused(UserError, "cannot be written"):
                line.write({"units": units})
        line.unlink()
        with self.assertRefused(UserError, "cannot be written"):
            self.env["therapy.attendance"].with_user(self.front_desk).create(
                {"event_id": self.session.id, "partner_id": self.clients[0].id, "units": 0}
            )
        # Not even the server's own code stores a service of no unit.
        line = self.session.therapy_attendance_ids[:1]
        with self.assertRefused(ValidationError, "at least one unit"):
            line._therapy_server_write({"units": 0})
        self.assertEqual(set(self.session.therapy_attendance_ids.mapped("units")), {1})

    # members only

    def test_attendance_is_for_members_on_the_session_day(self):
        Attendance = self.env["therapy.attendance"].with_user(self.front_desk)
        message = "is not a member of [AAG] Adult Anxiety Group on"
        with self.assertRefused(ValidationError, message):
            Attendance.create({"event_id": self.session.id, "partner_id": self.outsider.id})
        # A member of another group is not a member of this one either.
        with self.assertRefused(ValidationError, message):
            Attendance.create({"event_id": self.session.id, "partner_id": self.clients[4].id})
        line = self.lines[self.clients[0]].with_user(self.front_desk)
        with self.assertRefused(ValidationError, message):
            line.write({"partner_id": self.outsider.id})
        with self.assertRefused(ValidationError, "is not a member of [FRG] Family Recovery Group"):
            line.write({"event_id": self.other_session.id})
        self.assertEqual((line.partner_id, line.event_id), (self.clients[0], self.session))
        self.assertEqual(len(self.session.therapy_attendance_ids), 4)
        # The memberships the server made lines from prove only the lines they cover: ids sent
        # in the context by a client prove nothing, other memberships leave the search to decide.
        other_membership = self.other_group.member_ids.filtered(
            lambda membership: membership.partner_id == self.clients[4]
        )
        for known in (
            other_membership.ids,
            KnownMemberships(other_membership.ids),
            KnownMemberships(self.group.member_ids.ids),
        ):
            with self.subTest(known=known), self.assertRefused(ValidationError, message):
                Attendance.with_context(therapy_known_memberships=known).create(
                    {"event_id": self.session.id, "partner_id": self.clients[4].id}
                )

    def test_a_client_who_left_or_joined_later_has_no_line_that_day(self):
        membership = self.group.member_ids.filtered(lambda m: m.partner_id == self.clients[1])
        self.lines[self.clients[1]].unlink()
        Attendance = self.env["therapy.attendance"].with_user(self.front_desk)
        values = {"event_id": self.session.id, "partner_id": self.clients[1].id}
        for dates in (
            {"date_end": self.session.therapy_session_date},  # left that day
            {"date_start": self.session.therapy_session_date + timedelta(days=1)},
        ):
            membership.write(dates)
            with self.subTest(dates=dates), self.assertRefused(ValidationError, "not a member"):
                Attendance.create(values)
            membership.write(
                {"date_start": datetime.now().date() - timedelta(days=30), "date_end": False}
            )
        # A member on the day: the line is accepted again.
        line = Attendance.create(values)
        self.assertEqual(line.partner_id, self.clients[1])

    # sessions of archived groups

    def test_no_session_for_an_archived_group(self):
        self.other_group.with_user(self.manager).action_archive()
        Event = self.env["calendar.event"].with_user(self.front_desk)
        start = datetime.now().replace(microsecond=0) + timedelta(days=2)
        before = Event.search_count([("therapy_group_id", "=", self.other_group.id)])
        with self.assertRefused(ValidationError, "is archived: restore it"):
            Event.create(
                {
                    "therapy_group_id": self.other_group.id,
                    "start": start,
                    "stop": start + timedelta(hours=1),
                }
            )
        future = self._make_session(self.group, days=3).with_user(self.front_desk)
        with self.assertRefused(ValidationError, "is archived: restore it"):
            future.write({"therapy_group_id": self.other_group.id})
        self.assertEqual(future.therapy_group_id, self.group)
        self.assertEqual(
            Event.search_count([("therapy_group_id", "=", self.other_group.id)]), before
        )
        # Its past sessions stay as they were, and can still be edited.
        self.other_session.with_user(self.manager).write({"description": "<p>Room 2</p>"})

    # groups

    def test_only_providers_run_or_share_a_group(self):
        Group = self.env["therapy.group"].with_user(self.front_desk)
        message = "only users with the Group Therapy Provider role do"
        for provider in (self.front_desk, self.accountant):
            with (
                self.subTest(provider=provider.login),
                self.assertRefused(ValidationError, message),
            ):
                Group.create({"name": "Sleep Group", "code": "SLP", "provider_id": provider.id})
        group = self.group.with_user(self.front_desk)
        with self.assertRefused(ValidationError, message):
            group.write({"provider_id": self.front_desk.id})
        with self.assertRefused(ValidationError, message):
            group.write({"shared_provider_ids": [Command.link(self.accountant.id)]})
        self.assertEqual(self.group.provider_id, self.provider)
        self.assertEqual(self.group.shared_provider_ids, self.shared_provider)
        self.assertFalse(self.env["therapy.group"].search([("code", "=", "SLP")]))
        # A provider is accepted.
        group.write({"provider_id": self.other_provider.id})
        self.assertEqual(self.group.provider_id, self.other_provider)

    def test_group_name_and_initials_are_not_blank(self):
        Group = self.env["therapy.group"].with_user(self.front_desk)
        for values, message in (
            ({"name": "   ", "code": "SLP"}, "the name cannot be blank"),
            ({"name": "", "code": "SLP"}, "the name cannot be blank"),
            ({"name": "Sleep Group", "code": " \t"}, "its initials"),
        ):
            with self.subTest(values=values), self.assertRefused(ValidationError, message):
                Group.create({**values, "provider_id": self.provider.id})
        group = self.group.with_user(self.provider)
        for values in ({"name": " "}, {"name": False}, {"code": "  "}):
            with self.subTest(values=values), self.assertRefused(ValidationError, "blank"):
                group.write(values)
        self.assertEqual((self.group.name, self.group.code), ("Adult Anxiety Group", "AAG"))

    def test_capacity_zero_or_above_the_cap_needs_an_administrator(self):
        for user in (self.front_desk, self.provider):
            group = self.group.with_user(user)
            for capacity, message in (
                (0, "Only a Group Therapy administrator can remove the limit"),
                (13, "groups take at most 12"),
                (-1, "cannot be negative"),
            ):
                with (
                    self.subTest(user=user.login, capacity=capacity),
                    self.assertRefused(ValidationError, message),
                ):
                    group.write({"capacity": capacity})
            self.assertEqual(self.group.capacity, 12)
        with self.assertRefused(ValidationError, "Only a Group Therapy administrator"):
            self.env["therapy.group"].with_user(self.front_desk).create(
                {"name": "Open", "code": "OPN", "provider_id": self.provider.id, "capacity": 0}
            )
        self.group.with_user(self.front_desk).write({"capacity": 6})
        self.assertEqual(self.group.capacity, 6)
        # The administrator decides to lift the limit.
        self.group.with_user(self.manager).write({"capacity": 0})
        self.assertEqual(self.group.capacity, 0)
        self.group.with_user(self.manager).write({"capacity": 20})
        self.assertEqual(self.group.capacity, 20)

    # values of the wrong type

    def test_values_of_the_wrong_type_get_a_clear_error(self):
        """JSON an RPC client can send: never a database error, nothing written."""
        line = self.lines[self.clients[0]]
        membership = self.group.member_ids[:1]
        start = "2026-01-05 10:00:00"
        cases = [
            (self.group, {"capacity": "twelve"}, "takes a whole number"),
            (self.group, {"capacity": 2**40}, "takes a whole number"),
            (self.group, {"capacity": [1]}, "takes a whole number"),
            (self.group, {"provider_id": "Provider Pat"}, "takes the id of a record"),
            (self.group, {"provider_id": [self.provider.id]}, "takes the id of a record"),
            (self.group, {"provider_id": 2**40}, "takes the id of a record"),
            (self.group, {"default_product_id": "90853"}, "takes the id of a record"),
            (self.group, {"shared_provider_ids": "Shared Sam"}, "takes a list of commands"),
            (self.group, {"shared_provider_ids": [[4, "x"]]}, "takes a list of commands"),
            (self.group, {"name": {"first": "x"}}, "takes text"),
            (membership, {"date_start": "yesterday"}, "takes a date (YYYY-MM-DD)"),
            (membership, {"partner_id": "Client 01"}, "takes the id of a record"),
            (line, {"partner_id": "Client 05"}, "takes the id of a record"),
            (line, {"event_id": "abc"}, "takes the id of a record"),
            (line, {"product_id": "90853"}, "takes the id of a record"),
            (line, {"state": "yes"}, "takes one of attended, absent"),
            (line, {"place_of_service": 11}, "takes one of 11, 02, 10"),
            (line, {"addon_product_ids": [[6, 0, "90785"]]}, "takes a list of commands"),
            (line, {"diagnosis_pointers": ["A"]}, "takes text"),
            (self.session, {"therapy_group_id": "AAG"}, "takes the id of a record"),
            (self.session, {"user_id": "Provider Pat"}, "takes the id of a record"),
            (self.session, {"start": "next monday"}, "takes a date and time"),
        ]
        for record, values, message in cases:
            with (
                self.subTest(model=record._name, values=values),
                self.assertRefused(ValidationError, message),
            ):
                record.with_user(self.front_desk).write(values)
        creates = [
            (
                "therapy.group",
                {"name": "Sleep", "code": "SLP", "provider_id": str(self.provider.id)},
            ),
            ("therapy.group.member", {"group_id": "AAG", "partner_id": self.outsider.id}),
            ("therapy.attendance", {"event_id": self.session.id, "partner_id": "x"}),
            (
                "calendar.event",
                {"therapy_group_id": "AAG", "start": start, "stop": "2026-01-05 11:00:00"},
            ),
        ]
        for model, values in creates:
            with (
                self.subTest(model=model, values=values),
                self.assertRefused(ValidationError, "it takes the id of a record"),
            ):
                self.env[model].with_user(self.front_desk).create(values)
        self.assertEqual(
            (self.group.capacity, self.group.provider_id, self.group.name),
            (12, self.provider, "Adult Anxiety Group"),
        )
        self.assertEqual(
            (line.partner_id, line.state, line.product_id.id), (self.clients[0], False, False)
        )
        self.assertEqual(self.session.therapy_group_id, self.group)
        self.assertFalse(self.env["therapy.group"].search([("code", "=", "SLP")]))
        # Values the web client sends are still fine, numbers as strings included (as in Odoo).
        self.group.with_user(self.front_desk).write({"capacity": "10", "name": "Anxiety"})
        self.assertEqual((self.group.capacity, self.group.name), (10, "Anxiety"))

    def test_wrong_types_on_clients_waitlists_coverages_and_wizards(self):
        client = self.clients[0]
        cases = [
            (client, {"therapy_birthdate": "soon"}, "takes a date (YYYY-MM-DD)"),
            (client, {"therapy_sex": "f"}, "takes one of female, male, unknown"),
            (client, {"therapy_payer_id": "Medicare"}, "takes the id of a record"),
            (client, {"therapy_diagnosis_ids": [[4, "F41.1"]]}, "takes a list of commands"),
        ]
        for record, values, message in cases:
            with (
                self.subTest(values=values),
                self.assertRefused(ValidationError, message),
            ):
                record.with_user(self.front_desk).write(values)
        creates = [
            ("therapy.group.waitlist", {"group_id": "AAG", "partner_id": self.outsider.id}),
            (
                "therapy.coverage",
                {"partner_id": client.id, "payer_id": "Medicare", "member_ident": "1"},
            ),
            ("therapy.claim.export.wizard", {"group_ids": [[6, 0, ["AAG"]]]}),
        ]
        for model, values in creates:
            with (
                self.subTest(model=model),
                self.assertRefused(ValidationError, "takes"),
            ):
                self.env[model].with_user(self.front_desk).create(values)
        with self.assertRefused(ValidationError, "takes the id of a record"):
            self.env["therapy.chart.note.addendum"].with_user(self.provider).create(
                {"note_id": "last", "body": "<p>Addendum</p>"}
            )
        self.assertFalse(client.therapy_birthdate)
        self.assertFalse(client.therapy_payer_id)
        # Odoo's own partner fields keep Odoo's rules: a name may be any text.
        desk_client = client.with_user(self.front_desk)
        desk_client.write({"name": "Client One", "therapy_sex": "female"})
        self.env.invalidate_all()
        self.assertEqual((desk_client.name, desk_client.therapy_sex), ("Client One", "female"))
