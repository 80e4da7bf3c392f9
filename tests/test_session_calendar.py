from datetime import datetime, timedelta

from lxml import etree

from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestSessionCalendar(GroupTherapyCommon):
    """The Sessions calendar shows each role what it works on, and books on the calendar shown."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start = datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
        cls.own_session = cls._make_session(cls.group, days=2)
        cls.other_session = cls._make_session(cls.other_group, days=2)
        # The group's provider scheduled this one on the shared provider's calendar.
        cls.shared_session = cls.env["calendar.event"].create(
            {
                "therapy_group_id": cls.group.id,
                "start": start + timedelta(days=1),
                "stop": start + timedelta(days=1, hours=1),
                "user_id": cls.shared_provider.id,
            }
        )
        cls.meeting = cls.env["calendar.event"].create(
            {"name": "Staff meeting", "start": start, "stop": start + timedelta(hours=1)}
        )

    def _sessions_shown_to(self, user):
        """What the user's Sessions menu shows: its default filters applied as the user."""
        Event = self.env["calendar.event"].with_user(user)
        action = Event.action_open_therapy_sessions()
        view = Event.get_views([(action["search_view_id"][0], "search")])["views"]["search"]
        arch = etree.fromstring(view["arch"])
        domain = []
        for key in action["context"]:
            name = key.removeprefix("search_default_")
            node = arch.xpath(f"//filter[@name='{name}']")[0]
            domain += safe_eval(node.get("domain"), {"uid": user.id})
        return Event.search(domain)

    def test_front_desk_sees_every_group_session(self):
        shown = self._sessions_shown_to(self.front_desk)
        self.assertEqual(shown, self.own_session | self.other_session | self.shared_session)

    def test_provider_sees_the_sessions_they_run_or_share(self):
        self.assertEqual(
            self._sessions_shown_to(self.provider), self.own_session | self.shared_session
        )
        self.assertEqual(
            self._sessions_shown_to(self.shared_provider),
            self.own_session | self.shared_session,
            "the shared provider sees the group's sessions and the one on their calendar",
        )
        self.assertEqual(self._sessions_shown_to(self.other_provider), self.other_session)

    def test_sessions_take_the_colour_of_their_group(self):
        self.group.color = 4
        self.assertEqual(self.own_session.therapy_group_color, 4)
        self.assertTrue(1 <= self.other_group.color <= 11, "a new group gets a colour")

    def test_quick_create_on_a_colleagues_calendar_books_and_shares(self):
        """Front desk shows only Other Olga's calendar, clicks a slot and picks Pat's group."""
        start = datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
        Event = (
            self.env["calendar.event"]
            .with_user(self.front_desk)
            .with_context(
                default_user_id=self.other_provider.id,
                default_start=start,
                default_stop=start + timedelta(hours=1),
            )
        )
        with Form(Event, view="calendar.view_calendar_event_form_quick_create") as form:
            form.therapy_group_id = self.group
            self.assertEqual(form.user_id, self.other_provider, "stays on Olga's calendar")
            self.assertIn("shares the group with Other Olga", form.therapy_group_notice)
        session = form.save()
        self.assertEqual(session.user_id, self.other_provider)
        self.assertIn(self.other_provider, self.group.shared_provider_ids)
        self.assertNotIn(self.front_desk.partner_id, session.partner_ids)
        self.assertIn(session, self._sessions_shown_to(self.other_provider))

    def test_group_owner_books_on_a_colleagues_calendar(self):
        """Pat, on Olga's calendar, turns on "All groups" to find his own group."""
        start = datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
        Event = (
            self.env["calendar.event"]
            .with_user(self.provider)
            .with_context(
                default_user_id=self.other_provider.id,
                default_start=start,
                default_stop=start + timedelta(hours=1),
            )
        )
        with Form(Event, view="calendar.view_calendar_event_form_quick_create") as form:
            self.assertFalse(form.therapy_show_all_groups, "starts with Olga's groups")
            form.therapy_show_all_groups = True
            form.therapy_group_id = self.group
            self.assertEqual(form.user_id, self.other_provider)
        session = form.save()
        self.assertEqual(session.user_id, self.other_provider)
        self.assertIn(self.other_provider, self.group.shared_provider_ids)
        self.assertIn(session, self._sessions_shown_to(self.other_provider))

    def test_booked_by_rpc_with_a_calendar_default(self):
        """A slot clicked on a provider's calendar (default_user_id) stays on that calendar."""
        start = datetime.now() + timedelta(days=4)
        session = (
            self.env["calendar.event"]
            .with_user(self.front_desk)
            .with_context(default_user_id=self.other_provider.id)
            .create(
                {
                    "therapy_group_id": self.group.id,
                    "start": start,
                    "stop": start + timedelta(hours=1),
                }
            )
        )
        self.assertEqual(session.user_id, self.other_provider)
        self.assertIn(self.other_provider, self.group.shared_provider_ids)


@tagged("post_install", "-at_install")
class TestDoubleBooking(GroupTherapyCommon):
    """A session says when its provider or a client is booked elsewhere, naming no event."""

    def test_double_booking_is_flagged(self):
        session = self._make_session(self.group, days=2)
        self.assertFalse(session.therapy_overlap_warning)
        start = session.start + timedelta(minutes=30)
        # Provider Pat has a meeting that overlaps; Client 05 has the other group's session.
        self.env["calendar.event"].create(
            {
                "name": "Supervision",
                "start": start,
                "stop": start + timedelta(hours=1),
                "user_id": self.provider.id,
            }
        )
        other = self._make_session(self.other_group, days=2)
        self.assertFalse(other.therapy_overlap_warning, "Olga and Client 05 are free")
        session.partner_ids = [(4, self.clients[4].id)]
        session.invalidate_recordset(["therapy_overlap_warning"])
        warning = session.with_user(self.front_desk).therapy_overlap_warning
        self.assertIn("Provider Pat already has another event", warning)
        self.assertIn("Also booked at that time: Client 05", warning)
        self.assertNotIn("Supervision", warning)
        self.assertNotIn("Family Recovery", warning)

    def test_reminders_are_scheduled_for_sessions_that_have_them(self):
        """A session with a reminder gets Odoo's trigger for it, created and moved; one
        without (and a busy block, which has none) schedules nothing."""
        cron = self.env.ref("calendar.ir_cron_scheduler_alarm")
        alarm = self.env["calendar.alarm"].create(
            {
                "name": "Mail 1 hour before",
                "alarm_type": "email",
                "interval": "hours",
                "duration": 1,
            }
        )
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search([("cron_id", "=", cron.id)])
        start = datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=5)
        Event = self.env["calendar.event"].with_user(self.front_desk)
        plain = Event.create(
            {"therapy_group_id": self.group.id, "start": start, "stop": start + timedelta(hours=1)}
        )
        self.assertFalse(Trigger.search([("cron_id", "=", cron.id)]) - before)
        reminded = Event.create(
            {
                "therapy_group_id": self.other_group.id,
                "start": start,
                "stop": start + timedelta(hours=1),
                "alarm_ids": [(4, alarm.id)],
            }
        )
        triggers = Trigger.search([("cron_id", "=", cron.id)]) - before
        self.assertEqual(triggers.mapped("call_at"), [start - timedelta(hours=1)])
        reminded.write({"start": start + timedelta(hours=2), "stop": start + timedelta(hours=3)})
        plain.write({"start": start + timedelta(hours=2), "stop": start + timedelta(hours=3)})
        triggers = Trigger.search([("cron_id", "=", cron.id)]) - before
        self.assertEqual(
            sorted(triggers.mapped("call_at")),
            [start - timedelta(hours=1), start + timedelta(hours=1)],
        )
