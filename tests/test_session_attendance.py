from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestSessionScheduling(GroupTherapyCommon):
    def _schedule(self, start, user=None, **values):
        Event = self.env["calendar.event"].with_user(user or self.front_desk)
        return Event.create(
            {
                "therapy_group_id": self.group.id,
                "start": start,
                "stop": start + timedelta(hours=1),
                "user_id": self.provider.id,
                **values,
            }
        )

    def test_schedule_creates_a_line_per_current_member(self):
        past_member = self.env["therapy.group.member"].create(
            {
                "group_id": self.group.id,
                "partner_id": self.clients[5].id,
                "date_start": date(2020, 1, 1),
                "date_end": date(2020, 6, 1),
            }
        )
        session = self._schedule(datetime.now() + timedelta(days=2))
        self.assertEqual(session.name, "[AAG] Adult Anxiety Group")
        self.assertEqual(session.therapy_attendance_ids.partner_id, self.clients[:4])
        self.assertNotIn(past_member.partner_id, session.therapy_attendance_ids.partner_id)
        self.assertTrue(all(not line.state for line in session.therapy_attendance_ids))
        self.assertLessEqual(self.clients[:4], session.partner_ids, "members are attendees")
        self.assertEqual(session.therapy_attendance_state, "todo")
        self.assertEqual(self.group.session_count, 1)
        self.assertEqual(self.group.next_session_start, session.start)

    def test_schedule_with_attendee_records_invites_every_member(self):
        """A session created with its attendee records (as a calendar sync does) still gets an
        attendee record for every member, as a session created from contacts does."""
        session = self._schedule(
            datetime.now() + timedelta(days=2),
            user=self.provider,
            attendee_ids=[Command.create({"partner_id": self.provider.partner_id.id})],
        )
        self.assertEqual(session.therapy_attendance_ids.partner_id, self.clients[:4])
        self.assertLessEqual(self.clients[:4], session.attendee_ids.partner_id)
        self.assertEqual(session.attendee_ids.partner_id, session.partner_ids)

    def test_schedule_from_the_calendar_form(self):
        """Type part of the name, pick the group: named after it, members invited."""
        with Form(self.env["calendar.event"].with_user(self.provider)) as form:
            form.therapy_group_id = self.group
            form.start = datetime.now() + timedelta(days=1)
            self.assertEqual(form.name, "[AAG] Adult Anxiety Group")
        session = form.save()
        self.assertEqual(len(session.therapy_attendance_ids), 4)
        self.assertEqual(
            self.env["therapy.group"].with_user(self.provider).name_search("aag")[0][0],
            self.group.id,
        )

    def test_front_desk_books_on_the_providers_calendar(self):
        """Front desk picks any group; the session goes on its provider's calendar."""
        with Form(self.env["calendar.event"].with_user(self.front_desk)) as form:
            self.assertTrue(form.therapy_show_all_groups, "front desk starts with every group")
            form.therapy_group_id = self.other_group
            form.start = datetime.now() + timedelta(days=1)
            self.assertEqual(form.user_id, self.other_provider)
        session = form.save()
        self.assertNotIn(self.front_desk.partner_id, session.partner_ids)
        self.assertIn(self.other_provider.partner_id, session.partner_ids)
        self.assertFalse(self.other_group.shared_provider_ids, "nothing shared with front desk")
        start = datetime.now() + timedelta(days=3)
        by_rpc = (
            self.env["calendar.event"]
            .with_user(self.front_desk)
            .create(
                {
                    "therapy_group_id": self.group.id,
                    "start": start,
                    "stop": start + timedelta(hours=1),
                }
            )
        )
        self.assertEqual(by_rpc.user_id, self.provider)
        provider_form = Form(self.env["calendar.event"].with_user(self.provider))
        self.assertFalse(provider_form.therapy_show_all_groups, "a provider starts with their own")

    def test_recurring_sessions_each_get_lines(self):
        start = datetime.now() + timedelta(days=1)
        session = self._schedule(
            start,
            **{start.strftime("%a").lower(): True},
            recurrency=True,
            rrule_type="weekly",
            interval=1,
            count=4,
            end_type="count",
        )
        occurrences = self.env["calendar.event"].search([("therapy_group_id", "=", self.group.id)])
        self.assertEqual(occurrences.recurrence_id.calendar_event_ids, occurrences)
        self.assertFalse(
            session.active and session not in occurrences,
            "the event the recurrence was made from is detached and archived by Odoo",
        )
        self.assertEqual(len(occurrences), 4)
        for occurrence in occurrences:
            self.assertEqual(occurrence.therapy_group_id, self.group)
            self.assertEqual(occurrence.therapy_attendance_ids.partner_id, self.clients[:4])
        self.assertEqual(
            len(occurrences.therapy_attendance_ids), 16, "each occurrence has its own lines"
        )
        self.assertEqual(
            self.env["therapy.attendance"].search_count([("group_id", "=", self.group.id)]),
            16,
            "no blank lines are left on archived events",
        )

    def test_membership_changes_reach_future_sessions_only(self):
        self.group.member_ids.date_start = date(2026, 1, 1)
        with freeze_time("2026-05-10 09:00:00"):
            past = self._schedule(datetime(2026, 5, 3, 10))
            future = self._schedule(datetime(2026, 5, 17, 10))
            answered = future.therapy_attendance_ids.filtered(
                lambda line: line.partner_id == self.clients[1]
            )
            answered.write({"state": "absent", "product_id": self.late_cancel.id})
            # A newcomer joins; two clients leave today.
            self.env["therapy.group.member"].with_user(self.provider).create(
                {"group_id": self.group.id, "partner_id": self.clients[5].id}
            )
            self.group.member_ids.filtered(lambda m: m.partner_id in self.clients[0:2]).with_user(
                self.provider
            ).action_end_membership()

            self.assertEqual(
                future.therapy_attendance_ids.partner_id,
                self.clients[1:4] | self.clients[5],
                "newcomer added, blank leaver removed, answered leaver kept",
            )
            self.assertIn(self.clients[5], future.partner_ids)
            self.assertNotIn(self.clients[0], future.partner_ids)
            self.assertEqual(
                past.therapy_attendance_ids.partner_id,
                self.clients[:4],
                "past sessions never change",
            )

    def test_sharing_by_scheduling_on_another_providers_calendar(self):
        """The group is put on the other provider's calendar: they get it shared and see it."""
        Group = self.env["therapy.group"]
        self.assertFalse(Group.with_user(self.other_provider).search([("id", "=", self.group.id)]))
        with Form(self.env["calendar.event"].with_user(self.provider)) as form:
            form.start = datetime.now() + timedelta(days=3)
            form.therapy_show_all_groups = True
            form.therapy_group_id = self.group
            form.user_id = self.other_provider
            self.assertIn("belongs to Provider Pat", form.therapy_group_notice)
            self.assertIn("shares the group with Other Olga", form.therapy_group_notice)
        session = form.save()
        self.assertIn(self.other_provider, self.group.shared_provider_ids)
        # Tested as the second provider: the group, its clients and the session's lines.
        group_as_other = Group.with_user(self.other_provider).browse(self.group.id)
        self.assertEqual(group_as_other.member_partner_ids, self.clients[:4])
        lines = session.with_user(self.other_provider).therapy_attendance_ids
        lines.invalidate_recordset()
        self.assertEqual(len(lines), 4)
        self.env["therapy.group.member"].with_user(self.other_provider).create(
            {"group_id": self.group.id, "partner_id": self.clients[5].id}
        )

    def test_attendee_provider_gets_the_group_shared(self):
        self._schedule(
            datetime.now() + timedelta(days=1),
            partner_ids=[(4, self.other_provider.partner_id.id)],
        )
        self.assertIn(self.other_provider, self.group.shared_provider_ids)

    def test_session_with_recorded_attendance_cannot_be_deleted(self):
        # Attendance is taken once the session has started: yesterday's, of members since then.
        self.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        session = self._schedule(datetime.now() - timedelta(days=1))
        session.action_mark_all_attended()
        with self.assertRefused(UserError, "has recorded attendance"):
            session.unlink()
        self.assertTrue(session.exists())
        with self.assertRefused(UserError, "is recorded and cannot be deleted"):
            session.therapy_attendance_ids[0].with_user(self.front_desk).unlink()
        self.assertEqual(len(session.therapy_attendance_ids), 4)

    def test_group_with_sessions_is_archived_not_deleted(self):
        self._schedule(datetime.now() + timedelta(days=1))
        with self.assertRefused(UserError, "archive it instead"):
            self.group.with_user(self.manager).unlink()
        self.assertTrue(self.group.exists())
        self.group.with_user(self.manager).action_archive()
        self.assertFalse(self.group.active)


@tagged("post_install", "-at_install")
class TestAttendance(GroupTherapyCommon):
    """Yesterday's session of members who joined a month ago: attendance is taken once a session
    has started (see test_session_time)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        start = datetime.now() - timedelta(days=1)
        cls.session = cls.env["calendar.event"].create(
            {
                "therapy_group_id": cls.group.id,
                "start": start,
                "stop": start + timedelta(hours=1),
                "user_id": cls.provider.id,
                "therapy_place_of_service": "10",
            }
        )
        cls.lines = cls.session.therapy_attendance_ids

    def _line(self, client):
        return self.lines.filtered(lambda line: line.partner_id == client)

    def test_mark_all_attended_leaves_answered_lines_alone(self):
        self._line(self.clients[0]).write({"state": "absent", "product_id": self.no_show.id})
        self.session.with_user(self.provider).action_mark_all_attended()
        self.assertEqual(self._line(self.clients[0]).product_id, self.no_show)
        for client in self.clients[1:4]:
            self.assertEqual(self._line(client).state, "attended")
            self.assertEqual(self._line(client).product_id, self.cpt_90853)
        self.assertEqual(self.session.therapy_attendance_state, "done")
        self.assertEqual(self.session.therapy_attended_count, 3)
        self.assertTrue(self.session.display_name.endswith("✓"))

    def test_change_one_client_and_different_codes(self):
        self.session.action_mark_all_attended()
        with Form(self.session.with_user(self.front_desk)) as form:
            with form.therapy_attendance_ids.edit(0) as line:
                line.state = "absent"
                self.assertFalse(line.product_id, "a yes-code does not fit a no answer")
                line.product_id = self.no_show
            with form.therapy_attendance_ids.edit(1) as line:
                line.product_id = self.cpt_90849
        statuses = self.lines.sorted("partner_name").mapped("attendance_status")
        self.assertEqual(statuses, ["no_show", "attended", "attended", "attended"])
        self.assertEqual(
            self.lines.sorted("partner_name").mapped("therapy_code"),
            [False, "90849", "90853", "90853"],
        )

    def test_clear_code_to_pick_another(self):
        line = self._line(self.clients[2])
        line.write({"state": "attended", "product_id": self.cpt_90853.id})
        line.with_user(self.provider).action_clear_code()
        self.assertFalse(line.state)
        self.assertFalse(line.product_id)
        self.assertEqual(line.attendance_status, "not_set")

    def test_status_colours(self):
        self._line(self.clients[0]).write({"state": "absent", "product_id": self.late_cancel.id})
        self._line(self.clients[1]).write({"state": "absent", "product_id": self.no_fee.id})
        self._line(self.clients[2]).write({"state": "attended", "product_id": self.no_fee.id})
        self.assertEqual(
            self.lines.sorted("partner_name").mapped("attendance_status"),
            ["late_cancel", "no_fee", "no_fee", "not_set"],
        )
        self.assertEqual(self.session.therapy_attendance_state, "partial")

    def test_place_of_service_defaults_from_session_and_differs_per_client(self):
        self.assertEqual(set(self.lines.mapped("place_of_service")), {"10"})
        self._line(self.clients[0]).place_of_service = "11"
        self.assertEqual(self._line(self.clients[0]).place_of_service, "11")

    def test_addon_code_rides_on_a_primary_code(self):
        line = self._line(self.clients[0])
        line.write(
            {
                "state": "attended",
                "product_id": self.cpt_90853.id,
                "addon_product_ids": [(6, 0, self.cpt_90785.ids)],
            }
        )
        self.assertEqual(line.amount, self.cpt_90853.lst_price + self.cpt_90785.lst_price)

    def test_invalid_combinations_are_refused(self):
        line = self._line(self.clients[0])
        cases = [
            (
                {"state": "attended", "product_id": self.no_show.id},
                "the code must be a CPT service",
            ),
            (
                {"state": "absent", "product_id": self.cpt_90853.id},
                "must be No-show, Late cancel or No fee",
            ),
            ({"state": False, "product_id": self.cpt_90853.id}, "say whether the client attended"),
            (
                {"state": "attended", "product_id": self.cpt_90785.id},
                "is an add-on code and is never billed alone",
            ),
            (
                {
                    "state": "absent",
                    "product_id": self.no_show.id,
                    "addon_product_ids": [(6, 0, self.cpt_90785.ids)],
                },
                "billed only on top of a CPT code",
            ),
            (
                {
                    "state": "attended",
                    "product_id": self.cpt_90853.id,
                    "addon_product_ids": [(6, 0, self.cpt_90849.ids)],
                },
                "is not an add-on code",
            ),
        ]
        for values, message in cases:
            with self.subTest(message=message), self.assertRefused(ValidationError, message):
                line.with_user(self.front_desk).write(values)
            self.assertFalse(line.state, "nothing was written")
            self.assertFalse(line.product_id)

    @mute_logger("odoo.sql_db")
    def test_one_line_per_client_per_session(self):
        with self.assertRaises(Exception) as catcher:
            self.env["therapy.attendance"].create(
                {"event_id": self.session.id, "partner_id": self.clients[0].id}
            )
        self.assertIn("therapy_attendance_event_partner_uniq", str(catcher.exception))
        self.assertEqual(len(self.session.therapy_attendance_ids), 4)

    def test_code_picker_lists_yes_codes_first(self):
        names = (
            self.env["product.product"]
            .with_context(therapy_code_picker=True)
            .name_search(
                "", [("therapy_code_kind", "!=", False), ("therapy_addon_only", "=", False)]
            )
        )
        kinds = (
            self.env["product.product"]
            .browse([pid for pid, _n in names])
            .mapped("therapy_code_kind")
        )
        rank = {"cpt": 0, "no_fee": 1, "no_show": 2, "late_cancel": 3}
        self.assertEqual([rank[k] for k in kinds], sorted(rank[k] for k in kinds))

    def test_other_provider_cannot_take_attendance(self):
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self.lines.with_user(self.other_provider).write({"state": "absent"})

    def test_mark_all_query_count_does_not_grow_with_clients(self):
        """Mark-all costs the same number of queries for 3 clients as for 50."""
        self.group.capacity = 0
        clients = self.env["res.partner"].create([{"name": f"Member {i}"} for i in range(50)])
        big_group = self.env["therapy.group"].create(
            {
                "name": "Big",
                "code": "BIG",
                "provider_id": self.provider.id,
                "capacity": 0,
            }
        )
        small_group = self.env["therapy.group"].create(
            {
                "name": "Small",
                "code": "SML",
                "provider_id": self.provider.id,
            }
        )
        joined = datetime.now().date() - timedelta(days=30)
        self.env["therapy.group.member"].create(
            [{"group_id": big_group.id, "partner_id": c.id, "date_start": joined} for c in clients]
            + [
                {"group_id": small_group.id, "partner_id": c.id, "date_start": joined}
                for c in clients[:3]
            ]
        )
        start = datetime.now() - timedelta(days=5)
        small, big = self.env["calendar.event"].create(
            [
                {
                    "therapy_group_id": group.id,
                    "start": start,
                    "stop": start + timedelta(hours=1),
                    "user_id": self.provider.id,
                }
                for group in (small_group, big_group)
            ]
        )
        self.assertEqual(
            (len(small.therapy_attendance_ids), len(big.therapy_attendance_ids)), (3, 50)
        )
        # Same starting point for both: nothing cached.
        self.env.invalidate_all()
        queries_before = self.cr.sql_log_count
        small.with_user(self.front_desk).action_mark_all_attended()
        self.env.flush_all()
        small_count = self.cr.sql_log_count - queries_before
        self.env.invalidate_all()
        with self.assertQueryCount(small_count):
            big.with_user(self.front_desk).action_mark_all_attended()
        self.assertEqual(set(big.therapy_attendance_ids.mapped("state")), {"attended"})
