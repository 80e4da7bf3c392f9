"""What follows a group (its sessions, their attendees and busy blocks, attendance lines,
memberships, waitlist, chart notes, addenda) is for those who serve the group, and a charting
page moreover only for the one who opened it,
whatever is already in the ORM's cache. Odoo shares one cache per transaction between every user
and superuser, and checks a record rule on given records (read of cached fields, write, unlink,
create) in Python, walking the rule's path through that cache, while a search puts the rule in
SQL. These tests run several users one after another in one environment, as server code does,
each through the methods RPC calls (with_user), and compare both ways of checking."""

from contextlib import suppress

from odoo import Command
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .test_charting import ChartingCommon

OPERATIONS = ("read", "write", "unlink", "create")


class SessionRulesCommon(ChartingCommon):
    """Yesterday's session of the group (charted, signed, with an addendum), a session two days
    ahead (with its busy blocks), a waitlisted client, and a session of the other group.

    Returning Rae is a provider the group is shared with, whose own contact is a client of the
    other group: archived, she is a contact Provider Pat may not see (Pat does not serve that
    client), so reading the group as Pat leaves her out of its shared providers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._chart()._sign()
        cls.env["therapy.chart.note.addendum"].create(
            {"note_id": cls._note(cls.clients[0]).id, "body": "<p>Called back.</p>"}
        )
        cls.env["therapy.group.waitlist"].create(
            {"group_id": cls.group.id, "partner_id": cls.clients[5].id}
        )
        cls.future = cls._make_session(cls.group, days=2)
        cls.other_session = cls._make_session(cls.other_group, days=2)
        cls.colleague = new_test_user(
            cls.env, "gt_rules_colleague", groups="base.group_user", name="Colleague Cora"
        )
        cls.returning = new_test_user(
            cls.env,
            "gt_rules_returning",
            groups="group_therapy.group_therapy_provider",
            name="Returning Rae",
        )
        cls.group.shared_provider_ids = [Command.link(cls.returning.id)]
        cls.env["therapy.group.member"].create(
            {"group_id": cls.other_group.id, "partner_id": cls.returning.partner_id.id}
        )
        cls.returning.active = False
        cls.users = (
            cls.provider
            | cls.shared_provider
            | cls.other_provider
            | cls.front_desk
            | cls.manager
            | cls.accountant
            | cls.colleague
        )

    def _records(self, group):
        """{model: what follows the group}, found as superuser."""
        Event = self.env["calendar.event"].sudo().with_context(active_test=False)
        sessions = Event.search([("therapy_group_id", "=", group.id)])
        notes = sessions.therapy_chart_note_ids
        return {
            "therapy.group": group,
            "calendar.event": sessions,
            "calendar.event busy": Event.search([("therapy_busy_for_id", "in", sessions.ids)]),
            "calendar.attendee": sessions.attendee_ids,
            "therapy.attendance": sessions.therapy_attendance_ids,
            "therapy.group.member": group.member_ids,
            "therapy.group.waitlist": group.waitlist_ids,
            "therapy.chart.note": notes,
            "therapy.chart.note.addendum": notes.addendum_ids,
            "therapy.charting.wizard": self.env["therapy.charting.wizard"]
            .sudo()
            .search([("event_id", "in", sessions.ids)]),
        }

    def _in_sql(self, user, records, operation):
        """The records the rules give ``user`` for ``operation``, decided in SQL as a search
        does (the ACL first, then the record rules in the query)."""
        Access = self.env["ir.model.access"].with_user(user)
        if not Access.check(records._name, operation, raise_exception=False):
            return records.browse()
        domain = self.env["ir.rule"].with_user(user)._compute_domain(records._name, operation)
        query = (
            records.with_user(user)
            .sudo()
            .with_context(active_test=False)
            ._search(Domain("id", "in", records.ids) & domain, active_test=False)
        )
        return records.browse(query.get_result_ids())

    def _read_everything(self, reader):
        """What ``reader`` (a user, or None for the server as superuser) opens of both groups:
        lists, forms, the group with its shared providers. Fills the cache, asserts nothing."""
        for group in (self.group, self.other_group):
            for records in self._records(group).values():
                Model = records.browse() if reader is None else records.with_user(reader)
                with (
                    mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
                    suppress(AccessError),
                ):
                    found = (Model.sudo() if reader is None else Model).search(
                        [("id", "in", records.ids)]
                    )
                    found.read(["display_name"])
        groups = self.env["therapy.group"].with_context(active_test=False)
        if reader is not None:
            groups = groups.with_user(reader)
        with mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"):
            groups.search([]).read(["provider_id", "shared_provider_ids"])

    def _assert_checks_agree(self, users):
        """For every user, record and operation: the check on given records (Python, through
        the cache) gives what a search gives (SQL)."""
        for group in (self.group, self.other_group):
            for label, records in self._records(group).items():
                for user in users:
                    for operation in OPERATIONS:
                        with self.subTest(model=label, user=user.login, operation=operation):
                            checked = records.with_user(user)._filtered_access(operation)
                            self.assertEqual(
                                set(checked.ids), set(self._in_sql(user, records, operation).ids)
                            )


@tagged("post_install", "-at_install")
class TestSessionRulesSharedCache(SessionRulesCommon):
    def test_whoever_read_first_every_check_agrees_with_search(self):
        """The front desk, a provider of another group, the group's provider, an accountant and
        the server read both groups first; then every role's checks on given records give what
        its searches give, for every operation."""
        for reader in (
            None,
            self.front_desk,
            self.other_provider,
            self.provider,
            self.accountant,
        ):
            with self.subTest(reader=reader and reader.login):
                self.env.invalidate_all()
                self._read_everything(reader)
                self._assert_checks_agree(self.users)

    def test_a_provider_back_in_the_practice_is_served_after_a_colleague_read_the_group(self):
        """Pat opens the group while Rae is archived (its shared providers read as Pat: without
        Rae); Rae is given her login back; in the same transaction she finds, reads, changes
        and deletes what follows the group like any shared provider, and is shown no busy
        block for its sessions (she sees them)."""
        self._read_everything(self.provider)
        self.returning.active = True
        self._assert_serves(self.returning)

    def test_a_provider_back_in_the_practice_is_served_before_a_colleague_reads_the_group(self):
        """The other order: Rae is given her login back, then Pat opens the group."""
        self.returning.active = True
        self._read_everything(self.provider)
        self._assert_serves(self.returning)

    def _assert_serves(self, user):
        records = self._records(self.group)
        blocks = records.pop("calendar.event busy")
        self.assertTrue(blocks)
        # A charting page is its opener's (Pat's), however the group is shared.
        wizards = records.pop("therapy.charting.wizard")
        self.assertTrue(wizards)
        self.assertFalse(wizards.with_user(user)._filtered_access("read"))
        self.assertFalse(wizards.with_user(user).search([("id", "in", wizards.ids)]))
        for label, expected in records.items():
            with self.subTest(model=label):
                self.assertTrue(expected)
                Model = expected.with_user(user)
                self.assertEqual(Model.search([("id", "in", expected.ids)]), expected)
                self.assertEqual(len(Model.read(["display_name"])), len(expected))
                self.assertEqual(Model._filtered_access("read"), expected)
                self.assertEqual(
                    Model._filtered_access("write"), self._in_sql(user, expected, "write")
                )
                self.assertTrue(Model._filtered_access("write"))
        for blocks_as_user in (
            blocks.with_user(user),
            self.env["calendar.event"].with_user(user).search([("id", "in", blocks.ids)]),
        ):
            self.assertFalse(blocks_as_user._filtered_access("read"))
        future_lines = self.future.therapy_attendance_ids.with_user(user)
        future_lines.write({"place_of_service": "10"})
        self.assertEqual(set(future_lines.sudo().mapped("place_of_service")), {"10"})
        waitlist = self.group.waitlist_ids.with_user(user)
        waitlist.write({"sequence": 5})
        waitlist.unlink()
        self.assertFalse(waitlist.exists())
        self._assert_checks_agree(user | self.provider)

    def test_the_group_changing_hands_in_the_transaction(self):
        """The group is handed from Pat to Olga and unshared from Sam, after both read it: from
        then on Pat and Sam find, open, change and delete nothing of it, Olga everything, and
        every check agrees with the searches."""
        for reader in (self.provider, self.shared_provider, self.front_desk):
            self._read_everything(reader)
        self.group.with_user(self.front_desk).write(
            {
                "provider_id": self.other_provider.id,
                "shared_provider_ids": [Command.unlink(self.shared_provider.id)],
            }
        )
        records = self._records(self.group)
        records.pop("calendar.event busy")
        for label, group_records in records.items():
            with self.subTest(model=label):
                for user in (self.provider, self.shared_provider):
                    Model = group_records.with_user(user)
                    for operation in OPERATIONS:
                        self.assertFalse(Model._filtered_access(operation), operation)
                    self.assertFalse(Model.search([("id", "in", group_records.ids)]))
                # Pat's charting page stays Pat's: Olga opens her own.
                expected = (
                    group_records.browse() if label == "therapy.charting.wizard" else group_records
                )
                served = group_records.with_user(self.other_provider)
                self.assertEqual(served._filtered_access("read"), expected)
                self.assertEqual(served.search([("id", "in", group_records.ids)]), expected)
        self._assert_checks_agree(self.users)

    def test_an_archived_group_is_still_served(self):
        """An archived group's past sessions, notes and attendance stay with its providers."""
        self._read_everything(self.provider)
        self.group.with_user(self.front_desk).active = False
        records = self._records(self.group)
        for label in ("calendar.event", "therapy.attendance", "therapy.chart.note"):
            with self.subTest(model=label):
                for user in (self.provider, self.shared_provider):
                    Model = records[label].with_user(user)
                    self.assertEqual(Model._filtered_access("read"), records[label])
                self.assertFalse(records[label].with_user(self.other_provider).has_access("read"))
        self._assert_checks_agree(self.users)


@tagged("post_install", "-at_install")
class TestSessionRulesQueries(SessionRulesCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sessions = cls.future
        for days in range(3, 12):
            cls.sessions |= cls._make_session(cls.group, days=days)

    def test_the_rules_cost_the_same_for_3_sessions_or_10(self):
        """Searching, reading and checking given sessions, attendees and attendance lines as
        Sam (a shared provider) costs as many queries for 3 sessions as for 10."""
        self.assertEqual(len(self.sessions), 10)
        for label, records_of in (
            ("calendar.event", lambda sessions: sessions),
            ("calendar.attendee", lambda sessions: sessions.attendee_ids),
            ("therapy.attendance", lambda sessions: sessions.therapy_attendance_ids),
        ):
            with self.subTest(model=label):
                costs = {}
                for count in (3, 10):
                    # browsed by id, as a search returns them (not prefetched through the
                    # sessions' lines, which the cold cache of each count drops)
                    found = records_of(self.sessions[:count])
                    records = found.browse(found.ids).with_user(self.shared_provider)

                    def search(records=records):
                        return records.search([("id", "in", records.ids)])

                    def read(records=records):
                        return records.read(["display_name"])

                    def check(records=records):
                        records.check_access("write")
                        records.check_access("unlink")

                    for func in (search, read, check):  # warm Odoo's own caches
                        func()
                    costs[count] = [self._queries(func) for func in (search, read, check)]
                self.assertEqual(costs[3], costs[10], label)
