from datetime import date

from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestTherapyGroup(GroupTherapyCommon):
    def test_defaults(self):
        """A new group is run by its creator, bills 90853 and takes 12 clients."""
        with Form(self.env["therapy.group"].with_user(self.provider)) as form:
            form.name = "Grief Support"
            form.code = "GS"
        group = form.save()
        self.assertEqual(group.provider_id, self.provider)
        self.assertEqual(group.default_product_id, self.cpt_90853)
        self.assertEqual(group.capacity, 12)
        self.assertEqual(group.company_id, self.company)
        self.assertEqual(group.display_name, "[GS] Grief Support")

    def test_edit_name_and_default_code(self):
        with Form(self.group.with_user(self.provider)) as form:
            form.name = "Adult Anxiety Group (evening)"
            form.default_product_id = self.cpt_90849
        self.assertEqual(self.group.name, "Adult Anxiety Group (evening)")
        self.assertEqual(self.group.default_product_id, self.cpt_90849)

    def test_find_by_initials(self):
        found = self.env["therapy.group"].name_search("AAG")
        self.assertEqual([group_id for group_id, _name in found], self.group.ids)
        found = self.env["therapy.group"].name_search("Anxiety")
        self.assertEqual([group_id for group_id, _name in found], self.group.ids)

    def test_default_code_must_be_primary_cpt(self):
        """The default code field offers billable primary CPT codes only."""
        domain = self.group._fields["default_product_id"].domain
        offered = self.env["product.product"].search(domain)
        self.assertIn(self.cpt_90853, offered)
        self.assertNotIn(self.cpt_90785, offered, "an add-on code is never billed alone")
        self.assertNotIn(self.no_show, offered)

    def test_member_count(self):
        self.assertEqual(self.group.member_count, 4)
        self.assertEqual(self.group.member_partner_ids, self.clients[:4])

    def test_capacity_refusal_and_manager_override(self):
        self.group.capacity = 5
        self.env["therapy.group.member"].create(
            {"group_id": self.group.id, "partner_id": self.clients[4].id}
        )
        with self.assertRefused(ValidationError, "is full: 6 clients for 5 places"):
            self.env["therapy.group.member"].with_user(self.front_desk).create(
                {"group_id": self.group.id, "partner_id": self.clients[5].id}
            )
        self.assertEqual(self.group.member_count, 5, "the refused client was not added")
        with self.assertRefused(ValidationError, "is full"):
            self.group.with_user(self.provider).capacity = 3
        # An administrator allows the group to run over capacity.
        self.group.with_user(self.manager).allow_over_capacity = True
        self.env["therapy.group.member"].with_user(self.front_desk).create(
            {"group_id": self.group.id, "partner_id": self.clients[5].id}
        )
        self.assertEqual(self.group.member_count, 6)
        self.assertTrue(self.group.is_over_capacity)
        with self.assertRefused(ValidationError, "cannot be negative"):
            self.group.capacity = -1

    def test_capacity_zero_means_no_limit(self):
        self.group.capacity = 0
        self.env["therapy.group.member"].create(
            [{"group_id": self.group.id, "partner_id": client.id} for client in self.clients[4:]]
        )
        self.assertEqual(self.group.member_count, 6)
        self.assertFalse(self.group.is_over_capacity)

    def test_front_desk_picks_the_provider_of_a_new_group(self):
        with Form(self.env["therapy.group"].with_user(self.front_desk)) as form:
            self.assertFalse(form.provider_id, "the front desk does not run groups")
            form.name = "Grief Support"
            form.code = "GS"
            form.provider_id = self.provider
        self.assertEqual(form.save().provider_id, self.provider)


@tagged("post_install", "-at_install")
class TestMembership(GroupTherapyCommon):
    def test_add_from_group_form(self):
        """Type a name, pick, add: the client becomes a current member and a practice client."""
        newcomer = self.env["res.partner"].create({"name": "Newcomer Nia"})
        with Form(self.group.with_user(self.provider)) as form, form.member_ids.new() as line:
            line.partner_id = newcomer
        self.assertIn(newcomer, self.group.member_partner_ids)
        self.assertTrue(newcomer.therapy_client)

    def test_remove_keeps_history(self):
        membership = self.group.member_ids.filtered(lambda m: m.partner_id == self.clients[0])
        with freeze_time("2026-03-10"):
            membership.date_start = date(2026, 1, 5)
            membership.with_user(self.provider).action_end_membership()
            self.assertEqual(membership.date_end, date(2026, 3, 10))
            self.assertTrue(membership.exists(), "removing a client keeps the membership")
            self.assertFalse(membership.is_current)
            self.assertNotIn(self.clients[0], self.group.member_partner_ids)
            # The client can join again later: a new period, not an overlapping one.
            rejoined = self.env["therapy.group.member"].create(
                {
                    "group_id": self.group.id,
                    "partner_id": self.clients[0].id,
                    "date_start": date(2026, 4, 1),
                }
            )
            self.assertEqual(
                self.env["therapy.group.member"].search_count(
                    [("group_id", "=", self.group.id), ("partner_id", "=", self.clients[0].id)]
                ),
                2,
            )
            self.assertFalse(rejoined.is_current, "starts in the future")

    def test_duplicate_active_membership_refused(self):
        with self.assertRefused(
            ValidationError, "Client 01 is already a member of “[AAG] Adult Anxiety Group”"
        ):
            self.env["therapy.group.member"].with_user(self.front_desk).create(
                {"group_id": self.group.id, "partner_id": self.clients[0].id}
            )
        self.assertEqual(
            len(self.group.member_ids.filtered(lambda m: m.partner_id == self.clients[0])), 1
        )

    def test_overlapping_past_period_refused(self):
        membership = self.group.member_ids.filtered(lambda m: m.partner_id == self.clients[1])
        membership.write({"date_start": date(2026, 1, 1), "date_end": date(2026, 2, 1)})
        with self.assertRefused(ValidationError, "only once at a time"):
            self.env["therapy.group.member"].create(
                {
                    "group_id": self.group.id,
                    "partner_id": self.clients[1].id,
                    "date_start": date(2025, 12, 1),
                    "date_end": date(2026, 1, 15),
                }
            )
        # Back to back is fine: the first period ends the day the second starts.
        self.env["therapy.group.member"].create(
            {
                "group_id": self.group.id,
                "partner_id": self.clients[1].id,
                "date_start": date(2026, 2, 1),
            }
        )

    def test_end_before_start_refused(self):
        membership = self.group.member_ids.filtered(lambda m: m.partner_id == self.clients[2])
        start = membership.date_start
        with self.assertRefused(ValidationError, "before joining it"):
            membership.with_user(self.provider).date_end = date(2000, 1, 1)
        membership.invalidate_recordset()
        self.assertFalse(membership.date_end)
        self.assertEqual(membership.date_start, start)

    def test_client_in_several_groups_from_profile(self):
        """From the client's profile: list, add to another group, open one, remove."""
        client = self.clients[0]
        with Form(client.with_user(self.front_desk)) as form, form.therapy_member_ids.new() as line:
            line.group_id = self.other_group
        self.assertEqual(client.therapy_group_count, 2)
        self.assertEqual(client.therapy_member_ids.group_id, self.group | self.other_group)
        action = client.therapy_member_ids.filtered(
            lambda m: m.group_id == self.other_group
        ).action_open_group()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("therapy.group", self.other_group.id)
        )
        groups_action = client.action_open_therapy_groups()
        self.assertEqual(
            self.env["therapy.group"].search(groups_action["domain"]), self.group | self.other_group
        )
        client.therapy_member_ids.filtered(lambda m: m.group_id == self.group).with_user(
            self.front_desk
        ).action_end_membership()
        client.invalidate_recordset()
        self.assertEqual(client.therapy_group_count, 1)
        self.assertEqual(len(client.therapy_member_ids), 2, "history stays on the profile")

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

    def test_client_profile_opens_on_group_membership(self):
        view = self.env["res.partner"].with_user(self.front_desk).get_views([(False, "form")])
        arch = etree.fromstring(view["views"]["form"]["arch"])
        pages = arch.xpath("//notebook/page")
        self.assertEqual(pages[0].get("name"), "therapy_group_membership")
        self.assertFalse(arch.xpath("//page[@autofocus and @name!='therapy_group_membership']"))
