from datetime import datetime, timedelta

from lxml import etree

from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestPracticeDay(GroupTherapyCommon):
    """The smaller things the practice meets all day."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)

    def test_front_desk_picks_the_provider_of_a_new_group(self):
        with Form(self.env["therapy.group"].with_user(self.front_desk)) as form:
            self.assertFalse(form.provider_id, "the front desk does not run groups")
            form.name = "Grief Support"
            form.code = "GS"
            form.provider_id = self.provider
        self.assertEqual(form.save().provider_id, self.provider)

    def test_removing_a_client_is_logged_on_the_group(self):
        membership = self.group.member_ids.filtered(
            lambda member: member.partner_id == self.clients[0]
        )
        membership.with_user(self.front_desk).action_end_membership()
        self.assertTrue(membership.date_end)
        log = self.group.message_ids[:1]
        self.assertIn("Client 01 left the group", log.body)
        self.assertEqual(log.author_id, self.front_desk.partner_id)
        upcoming = self._make_session(self.group, days=3)
        self.assertNotIn(self.clients[0], upcoming.therapy_attendance_ids.partner_id)
        # Removed by mistake: Undo, the same day, makes the client a member again.
        membership.with_user(self.front_desk).action_undo_end_membership()
        self.assertFalse(membership.date_end)
        self.assertIn(self.clients[0], upcoming.therapy_attendance_ids.partner_id)
        self.assertIn("Client 01 is a member of the group again", self.group.message_ids[:1].body)

    def test_adding_a_client_says_which_sessions_change(self):
        self._make_session(self.group, days=2)
        self._make_session(self.group, days=9)
        self._make_session(self.group, days=-5)
        member = (
            self.env["therapy.group.member"]
            .with_user(self.front_desk)
            .new({"group_id": self.group.id, "partner_id": self.clients[5].id})
        )
        warning = member._onchange_partner_id_upcoming_sessions()["warning"]
        self.assertIn("Client 06 joins the 2 upcoming sessions", warning["message"])
        self.env["therapy.group.member"].with_user(self.front_desk).create(
            {"group_id": self.group.id, "partner_id": self.clients[5].id}
        )
        self.assertIn("Client 06 joined the group", self.group.message_ids[:1].body)
        self.assertIn("the 2 upcoming sessions", self.group.message_ids[:1].body)

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

    def test_cancelled_sessions_do_not_lower_attendance_rates(self):
        held = self._make_session(self.group, days=-2)
        held.action_mark_all_attended()
        cancelled = self._make_session(self.group, days=3)
        cancelled.action_cancel_session()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.therapy_attendance_action_analysis"
        )
        domain = [*safe_eval(action["domain"]), ("group_id", "=", self.group.id)]
        [(rate,)] = self.env["therapy.attendance"]._read_group(domain, [], ["attended_percent:avg"])
        self.assertEqual(rate, 100.0)

    def test_attendance_analysis_opens_on_the_last_12_months(self):
        self.group.member_ids.date_start = datetime.now().date() - timedelta(days=500)
        last_year = self._make_session(self.group, days=-400)
        last_year.action_mark_all_attended()
        this_week = self._make_session(self.group, days=-2)
        this_week.action_mark_all_attended()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.therapy_attendance_action_analysis"
        )
        self.assertTrue(safe_eval(action["context"]).get("search_default_filter_last_12_months"))
        views = (
            self.env["therapy.attendance"].with_user(self.provider).get_views([(False, "search")])
        )
        [period] = etree.fromstring(views["views"]["search"]["arch"]).xpath(
            "//filter[@name='filter_last_12_months']"
        )
        domain = [*safe_eval(action["domain"]), ("group_id", "=", self.group.id)]
        lines = self.env["therapy.attendance"].with_user(self.provider).search(domain)
        self.assertEqual(lines.event_id, last_year | this_week, "without the filter: all time")
        lines = lines.search([*domain, *safe_eval(period.get("domain"))])
        self.assertEqual(lines.event_id, this_week)

    def test_cancelled_sessions_are_marked_in_the_list(self):
        arch = etree.fromstring(self.env.ref("group_therapy.calendar_event_view_list_session").arch)
        self.assertEqual(arch.get("decoration-muted"), "therapy_cancelled")

    def test_client_profile_opens_on_group_membership(self):
        view = self.env["res.partner"].with_user(self.front_desk).get_views([(False, "form")])
        arch = etree.fromstring(view["views"]["form"]["arch"])
        pages = arch.xpath("//notebook/page")
        self.assertEqual(pages[0].get("name"), "therapy_group_membership")
        self.assertFalse(arch.xpath("//page[@autofocus and @name!='therapy_group_membership']"))

    def test_invoice_list_from_a_session_shows_the_customer(self):
        self._ensure_chart_of_accounts()
        session = self._make_session(self.group, days=-1)
        session.action_mark_all_attended()
        action = session.with_user(self.front_desk).action_invoice_attendance()
        self.assertEqual(action["context"]["default_move_type"], "out_invoice")
        self.assertFalse(action["context"]["create"])
