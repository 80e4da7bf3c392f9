from odoo.exceptions import AccessError
from odoo.tests import tagged

from .test_measures import MeasureCommon


@tagged("post_install", "-at_install")
class TestSearchedByIdsOfHiddenRecords(MeasureCommon):
    """Odoo looks up the ids named by a one2many or many2many condition (``session_ids in [8]``)
    as superuser: an accountant, who reads every group and analytic account but no session,
    learned from a session's id (on an invoice) which group or which client's analytic account
    it belongs to, and a provider which measure a client they do not serve answered."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session = cls._make_session(cls.group, days=1)
        cls.membership = cls.group.member_ids[:1]
        cls.waitlisted = cls.env["therapy.group.waitlist"].create(
            {"group_id": cls.group.id, "partner_id": cls.clients[5].id}
        )
        plan = cls.env["account.analytic.plan"].create({"name": "Clients"})
        cls.analytic = cls.env["account.analytic.account"].create(
            {"name": "Care of Client 01", "plan_id": plan.id, "partner_id": cls.clients[0].id}
        )
        cls.answers = cls._submit(cls.phq9, cls.clients[0], [1] * 9, session=cls.session)

    def _found(self, user, model, domain):
        """What the user's search finds; a search the user may not run finds nothing."""
        self.env.invalidate_all()
        try:
            return self.env[model].with_user(user).search(domain)
        except AccessError:
            return self.env[model]

    def test_accountant_learns_no_group_from_a_session_or_membership_id(self):
        self.assertIn(self.group, self._found(self.accountant, "therapy.group", []))
        self.assertFalse(
            self._found(self.accountant, "calendar.event", [("id", "=", self.session.id)])
        )
        for domain in (
            [("session_ids", "in", self.session.ids)],
            [("session_ids", "=", self.session.id)],
            [("session_ids", "=", self.session.ids)],
            [("session_ids", "in", self.session.id)],
            [("session_ids", "in", [False, self.session.id])],
            [("member_ids", "in", self.membership.ids)],
            [("waitlist_ids", "in", self.waitlisted.ids)],
            [("member_ids.partner_id.meeting_ids", "in", self.session.ids)],
            [
                ("provider_id", "!=", False),
                ("session_ids", "any", [("id", "in", self.session.ids)]),
            ],
        ):
            with self.subTest(domain=domain):
                self.assertNotIn(self.group, self._found(self.accountant, "therapy.group", domain))
        groups = self.env["therapy.group"].with_user(self.accountant)
        domain = [("session_ids", "in", self.session.ids)]
        self.assertEqual(groups.search_count(domain), 0)
        self.assertFalse(groups.name_search("", domain=domain))
        self.assertFalse(groups._read_group(domain, ["provider_id"], ["__count"]))
        # excluding a session the accountant cannot read excludes no group
        self.assertIn(
            self.group,
            self._found(
                self.accountant, "therapy.group", [("session_ids", "not in", self.session.ids)]
            ),
        )

    def test_accountant_learns_no_client_from_a_session_id_through_analytic_accounts(self):
        self.assertIn(self.analytic, self._found(self.accountant, "account.analytic.account", []))
        # Odoo searches partner_id without the contacts' rules (bypass_search_access)
        for domain in (
            [("partner_id.meeting_ids", "in", self.session.ids)],
            [("partner_id", "any", [("meeting_ids", "=", self.session.id)])],
            [("partner_id.therapy_member_ids", "in", self.membership.ids)],
        ):
            with self.subTest(domain=domain):
                self.assertFalse(self._found(self.accountant, "account.analytic.account", domain))

    def test_provider_learns_no_measure_answered_by_a_client_they_do_not_serve(self):
        self.assertIn(self.phq9, self._found(self.other_provider, "survey.survey", []))
        domain = [("user_input_ids", "in", self.answers.ids)]
        self.assertFalse(self._found(self.other_provider, "survey.survey", domain))
        self.assertEqual(self._found(self.provider, "survey.survey", domain), self.phq9)

    def test_provider_learns_no_company_from_a_hidden_clients_id(self):
        company = self.env["res.partner"].create({"name": "Acme Works", "is_company": True})
        client = self.env["res.partner"].create({"name": "Client 07", "parent_id": company.id})
        self.env["therapy.group.member"].create(
            {"group_id": self.group.id, "partner_id": client.id}
        )
        self.assertEqual(
            self._found(self.other_provider, "res.partner", [("id", "in", (company | client).ids)]),
            company,
        )
        for operator in ("in", "child_of", "parent_of"):
            domain = [("child_ids", operator, client.ids), ("id", "=", company.id)]
            with self.subTest(operator=operator):
                self.assertFalse(self._found(self.other_provider, "res.partner", domain))
                self.assertEqual(self._found(self.provider, "res.partner", domain), company)

    def test_those_who_read_the_records_still_find_by_their_ids(self):
        for user in (self.provider, self.shared_provider, self.front_desk, self.manager):
            with self.subTest(user=user.name):
                for domain in (
                    [("session_ids", "in", self.session.ids)],
                    [("session_ids", "in", [False, self.session.id])],
                    [("member_ids", "=", self.membership.id)],
                    [("waitlist_ids", "in", self.waitlisted.ids)],
                ):
                    self.assertIn(self.group, self._found(user, "therapy.group", domain))
                self.assertEqual(
                    self._found(
                        user,
                        "account.analytic.account",
                        [("partner_id.meeting_ids", "in", self.session.ids)],
                    ),
                    self.analytic,
                )
        self.assertEqual(
            self._found(
                self.provider,
                "therapy.group",
                [
                    ("session_ids", "not in", self.session.ids),
                    ("id", "in", (self.group | self.other_group).ids),
                ],
            ),
            self.env["therapy.group"],
            "the provider's only group has the session; the other group is not theirs",
        )
        self.assertEqual(
            self._found(self.front_desk, "therapy.group", [("session_ids", "=", False)]),
            self.other_group,
        )
