from datetime import datetime, timedelta

from odoo import Command
from odoo.addons.mail.tests.common import MockEmail
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


class BusyBlocksCommon(GroupTherapyCommon):
    """A group session two days ahead on its provider's calendar; the group is shared with a
    provider who is not among its attendees; colleagues outside Group Therapy."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.staff = new_test_user(
            cls.env, "gt_busy_staff", groups="base.group_user", name="Staff Stu"
        )
        cls.portal_client = new_test_user(
            cls.env, "gt_busy_portal", groups="base.group_portal", partner_id=cls.clients[0].id
        )
        for user in (cls.provider, cls.shared_provider, cls.other_provider, cls.front_desk):
            user.email = f"{user.login}@example.com"
        cls.session = cls._make_session(cls.group, days=2)
        # the provider attends, as the session form's onchange makes them
        cls.session.partner_ids = [Command.link(cls.provider.partner_id.id)]
        cls.outsiders = cls.staff | cls.other_provider | cls.accountant
        cls.serving = cls.provider | cls.shared_provider | cls.front_desk | cls.manager

    def _blocks(self, sessions):
        """The busy blocks of the sessions, read as superuser."""
        return (
            self.env["calendar.event"]
            .sudo()
            .with_context(active_test=False)
            .search([("therapy_busy_for_id", "in", sessions.ids)])
        )

    def _busy_users(self, session):
        """Whose calendars the session's blocks are on, each checked against the session."""
        blocks = self._blocks(session)
        for block in blocks:
            self.assertEqual((block.start, block.stop), (session.start, session.stop))
            self.assertEqual(block.partner_ids, block.user_id.partner_id)
            self.assertEqual((block.privacy, block.show_as), ("private", "busy"))
            self.assertFalse(block.therapy_group_id)
            self.assertFalse(block.description or block.location or block.alarm_ids)
        self.assertEqual(len(blocks), len(blocks.user_id), "one block per person")
        return blocks.user_id

    def _period(self, session):
        return [("start", "<", session.stop), ("stop", ">", session.start)]


@tagged("post_install", "-at_install")
class TestBusyForOutsiders(BusyBlocksCommon):
    """Colleagues who may not see a group session see everyone who runs it busy at that time,
    on the calendar ("Busy", Odoo's private events) and in Odoo's free/busy check; never the
    group or a client. Those who see the session see it once, never its blocks."""

    def test_outsiders_see_provider_and_shared_provider_busy(self):
        clients = self.session.sudo().partner_ids - self.provider.partner_id
        self.assertEqual(clients, self.clients[:4])
        runners = self.provider | self.shared_provider
        for user in self.outsiders:
            with self.subTest(user=user.login):
                self.env.invalidate_all()
                Event = self.env["calendar.event"].with_user(user)
                events = Event.search_read(
                    self._period(self.session),
                    [
                        "name",
                        "display_name",
                        "description",
                        "location",
                        "partner_ids",
                        "partner_id",
                        "attendee_ids",
                        "therapy_group_id",
                        "therapy_busy_for_id",
                        "user_id",
                        "show_as",
                        "privacy",
                        "start",
                        "stop",
                    ],
                )
                self.assertEqual({event["user_id"][0] for event in events}, set(runners.ids))
                self.assertEqual(len(events), 2, "one block per person, nothing else")
                for event in events:
                    self.assertNotEqual(event["id"], self.session.id)
                    self.assertEqual((event["name"], event["display_name"]), ("Busy", "Busy"))
                    self.assertEqual((event["show_as"], event["privacy"]), ("busy", "private"))
                    self.assertEqual(
                        (event["start"], event["stop"]), (self.session.start, self.session.stop)
                    )
                    # Odoo's calendar places a private event by its organizer's partner
                    self.assertEqual(
                        event["partner_id"][0],
                        runners.browse(event["user_id"][0]).partner_id.id,
                    )
                    self.assertFalse(event["partner_ids"] or event["attendee_ids"])
                    self.assertFalse(event["description"] or event["location"])
                    self.assertFalse(event["therapy_group_id"])
                    self.assertNotIn(self.group.name, str(event))
                # each provider's calendar (Odoo's attendee filter) shows them busy
                for runner in runners:
                    (event,) = Event.search_read(
                        [*self._period(self.session), ("partner_ids", "in", runner.partner_id.id)],
                        ["user_id"],
                    )
                    self.assertEqual(event["user_id"][0], runner.id)
                # grouped: Odoo leaves others' private events out of groupings, and no group
                # reveals a client or the session
                for groupby in ("user_id", "partner_ids"):
                    groups = Event.formatted_read_group(
                        self._period(self.session), [groupby], ["__count"]
                    )
                    grouped = {group[groupby][0] for group in groups if group[groupby]}
                    self.assertFalse(grouped & set(clients.ids))
                    self.assertLessEqual(grouped, set(runners.ids) | set(runners.partner_id.ids))
                self.assertFalse(Event.search([("partner_ids", "in", clients.ids)]))
                self.assertFalse(
                    Event.search([("therapy_busy_for_id.therapy_group_id", "!=", False)])
                )
                # attendees: the providers of the blocks, no client
                Attendee = self.env["calendar.attendee"].with_user(user)
                attendee_domain = [
                    ("event_id.start", "<", self.session.stop),
                    ("event_id.stop", ">", self.session.start),
                ]
                attendees = Attendee.search_read(attendee_domain, ["partner_id", "state"])
                self.assertEqual(
                    sorted(attendee["partner_id"][0] for attendee in attendees),
                    sorted(runners.partner_id.ids),
                )
                self.assertEqual({attendee["state"] for attendee in attendees}, {"accepted"})
                groups = Attendee.formatted_read_group(attendee_domain, ["partner_id"], ["__count"])
                self.assertEqual(
                    {group["partner_id"][0] for group in groups}, set(runners.partner_id.ids)
                )
                self.assertFalse(Attendee.search([("partner_id", "in", clients.ids)]))
                # nobody outside edits or deletes a block
                block = Event.browse(events[0]["id"])
                with (
                    self.assertRaises(AccessError),
                    mute_logger("odoo.addons.base.models.ir_rule"),
                ):
                    block.write({"name": "Lunch"})
                with (
                    self.assertRaises(AccessError),
                    mute_logger("odoo.addons.base.models.ir_rule"),
                ):
                    block.unlink()

    def test_those_who_serve_the_group_see_the_session_once(self):
        for user in self.serving:
            with self.subTest(user=user.login):
                self.env.invalidate_all()
                events = (
                    self.env["calendar.event"]
                    .with_user(user)
                    .search_read(self._period(self.session), ["therapy_group_id"])
                )
                self.assertEqual([event["id"] for event in events], self.session.ids)
                self.assertEqual(events[0]["therapy_group_id"][0], self.group.id)
        # a client on the portal sees neither
        self.env.invalidate_all()
        self.assertFalse(
            self.env["calendar.event"]
            .with_user(self.portal_client)
            .search(self._period(self.session))
        )

    def test_free_busy_counts_the_session_for_everyone_running_it(self):
        """Inviting the providers to a meeting at that time shows them unavailable (Odoo's
        attendee warning), a shared provider who is not an attendee too, never a client."""
        client = self.clients[0]
        runners = (self.provider | self.shared_provider).partner_id
        for user in self.outsiders | self.front_desk:
            with self.subTest(user=user.login):
                self.env.invalidate_all()
                meeting = (
                    self.env["calendar.event"]
                    .with_user(user)
                    .new(
                        {
                            "name": "Case conference",
                            "start": self.session.start + timedelta(minutes=30),
                            "stop": self.session.stop + timedelta(minutes=30),
                            "partner_ids": [Command.set([*runners.ids, user.partner_id.id])],
                        }
                    )
                )
                self.assertEqual(meeting.unavailable_partner_ids._origin, runners)
                busy = (
                    (runners | client)
                    .with_user(user)
                    ._get_busy_calendar_events(self.session.start, self.session.stop)
                )
                self.assertLessEqual(set(runners.ids), set(busy))
                for events in busy.values():
                    # what it returns is readable by the user (the session or the block)
                    events.mapped("start")
                if user == self.front_desk:
                    self.assertIn(client.id, busy, "the front desk sees the session itself")
                else:
                    self.assertEqual(set(busy), set(runners.ids), "never a client")
        # after the session, free again
        later = self.session.stop + timedelta(hours=1)
        busy = runners.with_user(self.staff)._get_busy_calendar_events(
            later, later + timedelta(hours=1)
        )
        self.assertFalse(busy)

    def test_a_block_cannot_be_forged(self):
        """The link to a session is set by the server only."""
        with self.assertRaises(UserError):
            self.env["calendar.event"].with_user(self.staff).create(
                {
                    "name": "Fake",
                    "start": self.session.start,
                    "stop": self.session.stop,
                    "therapy_busy_for_id": self.session.id,
                }
            )


@tagged("post_install", "-at_install")
class TestBusyBlocksInStep(BusyBlocksCommon, MockEmail):
    """The blocks follow the session and the group through every change, and nobody is ever
    told about one."""

    def test_blocks_follow_the_session(self):
        session = self._make_session(self.group, days=4)
        Session = session.with_user(self.front_desk)
        runners = self.provider | self.shared_provider
        self.assertEqual(self._busy_users(session), runners)
        # rescheduled: moved
        Session.write({"start": session.start + timedelta(hours=2)})
        self.assertEqual(self._busy_users(session), runners)
        # on another provider's calendar: shared with them (Odoo's share), busy too
        Session.write({"user_id": self.other_provider.id})
        self.assertEqual(self._busy_users(session), runners | self.other_provider)
        # a staff member invited to it is busy; a client added is not
        Session.write(
            {
                "partner_ids": [
                    Command.link(self.staff.partner_id.id),
                    Command.link(self.clients[5].id),
                ]
            }
        )
        self.assertEqual(self._busy_users(session), runners | self.other_provider | self.staff)
        # archived: gone; restored: back
        Session.write({"active": False})
        self.assertFalse(self._blocks(session))
        Session.write({"active": True})
        self.assertEqual(self._busy_users(session), runners | self.other_provider | self.staff)
        # no longer a group session: gone
        session.write({"therapy_group_id": False})
        self.assertFalse(self._blocks(session))

    def test_an_employee_who_is_a_client_is_not_shown_busy(self):
        """An employee in the group is a client there: no block, so that colleagues do not see
        them busy at every session of the group."""
        employee = new_test_user(
            self.env, "gt_busy_client_employee", groups="base.group_user", name="Employee Eve"
        )
        self.env["therapy.group.member"].create(
            {"group_id": self.group.id, "partner_id": employee.partner_id.id}
        )
        session = self._make_session(self.group, days=4)
        self.assertIn(employee.partner_id, session.therapy_attendance_ids.partner_id)
        self.assertEqual(self._busy_users(session), self.provider | self.shared_provider)
        session.with_user(self.front_desk).write({"start": session.start + timedelta(hours=1)})
        self.assertNotIn(employee, self._busy_users(session))
        events = (
            self.env["calendar.event"]
            .with_user(self.staff)
            .search([*self._period(session), ("partner_ids", "in", employee.partner_id.id)])
        )
        self.assertFalse(events)

    def test_a_former_member_invited_is_not_shown_busy(self):
        """An employee who was a client of the group (no line in this session) and is invited
        to it is still one of its clients: no block, as for a current member."""
        employee = new_test_user(
            self.env, "gt_busy_former_client", groups="base.group_user", name="Employee Fay"
        )
        self.env["therapy.group.member"].create(
            {
                "group_id": self.group.id,
                "partner_id": employee.partner_id.id,
                "date_start": "2020-01-01",
                "date_end": "2021-01-01",
            }
        )
        session = self._make_session(self.group, days=4)
        session.with_user(self.front_desk).write(
            {
                "partner_ids": [
                    Command.link(employee.partner_id.id),
                    Command.link(self.staff.partner_id.id),
                ]
            }
        )
        self.assertIn(employee.partner_id, session.partner_ids)
        self.assertNotIn(employee.partner_id, session.therapy_attendance_ids.partner_id)
        self.assertEqual(
            self._busy_users(session), self.provider | self.shared_provider | self.staff
        )

    def test_cancel_and_delete(self):
        cancelled, deleted = (
            self._make_session(self.group, days=4),
            self._make_session(self.group, days=5),
        )
        self.assertEqual(len(self._blocks(cancelled | deleted)), 4)
        blocks = self._blocks(deleted)
        cancelled.with_user(self.front_desk).action_cancel_session()
        self.assertFalse(self._blocks(cancelled))
        deleted.with_user(self.front_desk).unlink()
        self.assertFalse(blocks.exists())

    def test_group_staff_changes_reach_upcoming_sessions_only(self):
        past = self._make_session(self.group, days=-7)
        upcoming = self.session
        runners = self.provider | self.shared_provider
        self.assertEqual(self._busy_users(past), runners, "a session in the past has blocks")
        # the group is shared with another provider, and no longer with the first
        self.group.write(
            {
                "shared_provider_ids": [
                    Command.link(self.other_provider.id),
                    Command.unlink(self.shared_provider.id),
                ]
            }
        )
        self.assertEqual(self._busy_users(upcoming), self.provider | self.other_provider)
        self.assertEqual(
            self._busy_users(past), runners, "last week shows who ran the group last week"
        )
        # another provider takes the group over
        self.group.provider_id = self.shared_provider
        self.assertEqual(
            self._busy_users(upcoming),
            # still on the first provider's calendar and among its attendees
            self.provider | self.shared_provider | self.other_provider,
        )
        # the new provider now serves the group: the session, not its block, is theirs to see
        events = (
            self.env["calendar.event"]
            .with_user(self.shared_provider)
            .search(self._period(upcoming))
        )
        self.assertEqual(events, upcoming)

    def test_colleague_browsing_last_week_sees_the_provider_busy(self):
        past = self._make_session(self.group, days=-7)
        events = (
            self.env["calendar.event"]
            .with_user(self.staff)
            .search_read(self._period(past), ["name", "user_id", "partner_ids"])
        )
        self.assertEqual(
            {event["user_id"][0] for event in events}, {self.provider.id, self.shared_provider.id}
        )
        self.assertEqual({event["name"] for event in events}, {"Busy"})

    def test_update_brings_existing_sessions_in_step(self):
        """Sessions from before (no block, or only the provider's) get theirs at the update,
        past ones included; what is in step is left alone; running it again changes nothing."""
        past = self._make_session(self.group, days=-7)
        old_past = self._make_session(self.group, days=-14)
        upcoming = self._make_session(self.group, days=6)
        cancelled = self._make_session(self.group, days=8)
        kept = self._blocks(past)
        # a provider who joined the group since: not busy last week
        self.group.shared_provider_ids = [Command.link(self.other_provider.id)]
        # as a database from before: no block at all, or the provider's only
        self._blocks(old_past).unlink()
        self._blocks(upcoming).filtered(lambda block: block.user_id != self.provider).unlink()
        # a stale block of a cancelled session (cancelled by SQL, as an old database could be)
        self.env.cr.execute(
            "UPDATE calendar_event SET therapy_cancelled = TRUE WHERE id = %s", [cancelled.id]
        )
        cancelled.invalidate_recordset(["therapy_cancelled"])
        # blocks made before carried the organizer's contact details
        self._blocks(past).write({"description": "<p>Organized by Provider Pat</p>"})
        runners = self.provider | self.shared_provider | self.other_provider
        self.env["calendar.event"]._therapy_create_missing_busy_blocks()
        self.assertEqual(self._busy_users(upcoming), runners)
        self.assertEqual(self._busy_users(old_past), runners, "no block before: given today's")
        self.assertEqual(self._blocks(past), kept, "in step already: left as it was")
        self.assertEqual(self._busy_users(past), self.provider | self.shared_provider)
        self.assertFalse(self._blocks(cancelled))
        every_block = self._blocks(past | old_past | upcoming | self.session)
        self.env["calendar.event"]._therapy_create_missing_busy_blocks()
        self.assertEqual(
            self._blocks(past | old_past | upcoming | self.session), every_block, "idempotent"
        )

    def test_recurring_sessions_each_get_blocks(self):
        start = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(
            days=1
        )
        self.env["calendar.event"].with_user(self.front_desk).create(
            {
                "therapy_group_id": self.group.id,
                "start": start,
                "stop": start + timedelta(hours=1),
                "user_id": self.provider.id,
                "partner_ids": [Command.set(self.provider.partner_id.ids)],
                "recurrency": True,
                "rrule_type": "weekly",
                start.strftime("%a").lower(): True,
                "interval": 1,
                "count": 3,
                "end_type": "count",
            }
        )
        occurrences = self.env["calendar.event"].search(
            [("therapy_group_id", "=", self.group.id), ("recurrency", "=", True)]
        )
        self.assertEqual(len(occurrences), 3)
        for occurrence in occurrences:
            self.assertEqual(self._busy_users(occurrence), self.provider | self.shared_provider)
        self.assertFalse(self._blocks(occurrences).filtered("recurrency"), "blocks do not recur")
        # every occurrence moved an hour later
        occurrences[0].with_user(self.front_desk).write(
            {
                "start": start + timedelta(hours=1),
                "stop": start + timedelta(hours=2),
                "recurrence_update": "all_events",
            }
        )
        occurrences = self.env["calendar.event"].search(
            [("therapy_group_id", "=", self.group.id), ("recurrency", "=", True)]
        )
        self.assertEqual(len(occurrences), 3)
        for occurrence in occurrences:
            self.assertEqual(occurrence.start.hour, (start + timedelta(hours=1)).hour)
            self.assertEqual(self._busy_users(occurrence), self.provider | self.shared_provider)
        group_blocks = (
            self.env["calendar.event"]
            .sudo()
            .with_context(active_test=False)
            .search([("therapy_busy_for_id.therapy_group_id", "=", self.group.id)])
        )
        self.assertEqual(
            group_blocks.therapy_busy_for_id,
            occurrences | self.session,
            "the replaced occurrences' blocks are gone",
        )

    def test_nobody_is_told_about_a_block(self):
        """Scheduling, moving, sharing, cancelling and deleting send the session's own mail
        only: no invitation, change notice or cancellation for any block, to anyone."""
        all_blocks = self.env["calendar.event"]
        with self.mock_mail_gateway():
            session = (
                self.env["calendar.event"]
                .with_user(self.front_desk)
                .create(
                    {
                        "therapy_group_id": self.group.id,
                        "start": self.session.start + timedelta(days=3),
                        "stop": self.session.stop + timedelta(days=3),
                        "partner_ids": [Command.link(self.provider.partner_id.id)],
                    }
                )
            )
            all_blocks |= self._blocks(session)
            session.with_user(self.front_desk).write(
                {
                    "start": session.start + timedelta(hours=1),
                    "stop": session.stop + timedelta(hours=1),
                }
            )
            self.group.shared_provider_ids = [Command.link(self.other_provider.id)]
            all_blocks |= self._blocks(session)
            self.group.shared_provider_ids = [Command.unlink(self.other_provider.id)]
            other = self._make_session(self.group, days=9)
            all_blocks |= self._blocks(other)
            other.with_user(self.front_desk).unlink()
            session.with_user(self.front_desk).action_cancel_session()
            self.env.flush_all()
            self.env["mail.mail"].sudo().search([("state", "=", "outgoing")]).send()
        self.assertTrue(self._mails, "the session's attendees are told")
        # the provider and the clients hear of the session; those only blocked hear nothing
        for user in self.shared_provider | self.other_provider:
            self.assertFalse(
                [mail for mail in self._mails if user.email in str(mail["email_to"])],
                f"{user.login} is told nothing",
            )
        self.assertFalse(
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", "calendar.event"), ("res_id", "in", all_blocks.ids)])
        )
        self.assertFalse(
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", "calendar.event"), ("res_id", "in", all_blocks.ids)])
        )
        # the provider's invitation names the session, not a block
        to_provider = [mail for mail in self._mails if self.provider.email in str(mail["email_to"])]
        self.assertTrue(to_provider)
        self.assertFalse([mail for mail in to_provider if "Group session" in mail["subject"]])


@tagged("post_install", "-at_install", "group_therapy_perf")
class TestBusyBlocksQueries(BusyBlocksCommon):
    """Keeping the blocks in step costs the same for 3 clients as for 50."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("group_therapy.therapy_payer_rule_90853_head_count").active = False
        members = cls.env["res.partner"].create(
            [{"name": f"Member {index:02d}"} for index in range(53)]
        )
        cls.small_group, cls.big_group = cls.env["therapy.group"].create(
            [
                {
                    "name": name,
                    "code": code,
                    "provider_id": cls.provider.id,
                    "shared_provider_ids": [Command.link(cls.shared_provider.id)],
                    "capacity": 0,
                }
                for name, code in (("Three", "TRE"), ("Fifty", "FTY"))
            ]
        )
        cls.env["therapy.group.member"].create(
            [
                {"group_id": group.id, "partner_id": member.id, "date_start": "2020-01-01"}
                for group, group_members in (
                    (cls.small_group, members[:3]),
                    (cls.big_group, members[3:]),
                )
                for member in group_members
            ]
        )

    def test_same_queries_for_3_and_50_clients(self):
        small = self._make_session(self.small_group, days=3)
        big = self._make_session(self.big_group, days=3)
        self.assertEqual(
            (len(small.therapy_attendance_ids), len(big.therapy_attendance_ids)), (3, 50)
        )
        counts = {}
        for session in (small, big):
            self._blocks(session).unlink()
            created = self._queries(session._therapy_sync_busy_blocks)
            session.sudo().write(
                {
                    "start": session.start + timedelta(hours=1),
                    "stop": session.stop + timedelta(hours=1),
                }
            )
            # the blocks moved with it; measured again from a cold cache
            self.assertEqual(self._busy_users(session), self.provider | self.shared_provider)
            self.env.cr.execute(
                "UPDATE calendar_event SET start = start + interval '1 hour',"
                " stop = stop + interval '1 hour' WHERE id = %s",
                [session.id],
            )
            moved = self._queries(session._therapy_sync_busy_blocks)
            unchanged = self._queries(session._therapy_sync_busy_blocks)
            counts[len(session.therapy_attendance_ids)] = (created, moved, unchanged)
        self.assertEqual(counts[3], counts[50], f"(create, move, nothing to do): {counts}")
        self.assertLessEqual(max(counts[3]), 30, "more queries than keeping blocks needs")
