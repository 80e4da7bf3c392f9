from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


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
