from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestCoverage(GroupTherapyCommon):
    """Who pays: a client's insurance coverage, the insurer's payer ID, the practice's taxonomy."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.insurer = cls.env["res.partner"].create(
            {"name": "Blue Shield of California", "is_company": True, "therapy_payer_code": "94036"}
        )
        cls.other_insurer = cls.env["res.partner"].create(
            {"name": "Aetna", "is_company": True, "therapy_payer_code": "60054"}
        )
        cls.coverage = cls.env["therapy.coverage"].create(
            {
                "partner_id": cls.clients[0].id,
                "payer_id": cls.insurer.id,
                "member_ident": "XYZ123456",
                "group_number": "G-100",
                "copay_amount": 20.0,
            }
        )

    def _run(self, user, operation, record=None):
        Coverage = self.env["therapy.coverage"].with_user(user)
        if operation == "create":
            return Coverage.create(
                {
                    "partner_id": self.clients[2].id,
                    "payer_id": self.other_insurer.id,
                    "member_ident": f"M-{user.login}",
                }
            )
        record = (record or self.coverage).with_user(user)
        if operation == "read":
            return record.read(["member_ident", "payer_code", "copay_amount"])
        if operation == "write":
            return record.write({"group_number": "G-200"})
        return record.unlink()

    def test_access_per_role(self):
        allowed, denied = True, False
        rows = [
            (self.front_desk, "read", allowed),
            (self.front_desk, "create", allowed),
            (self.front_desk, "write", allowed),
            (self.front_desk, "unlink", denied),
            (self.provider, "read", allowed),
            (self.shared_provider, "read", allowed),
            (self.other_provider, "read", denied),  # not a client of their groups
            (self.provider, "write", denied),
            (self.provider, "create", denied),
            # clinical data: not for an accountant without a Group Therapy role
            (self.accountant, "read", denied),
            (self.accountant, "write", denied),
            (self.accountant, "unlink", denied),
            (self.portal_user, "read", denied),
            (self.manager, "unlink", allowed),
        ]
        for user, operation, expected in rows:
            with self.subTest(user=user.login, operation=operation), self.env.cr.savepoint() as sp:
                if expected:
                    self._run(user, operation)
                else:
                    with self.assertRaises(AccessError), mute_logger("odoo.models"):
                        self._run(user, operation)
                sp.rollback()

    def test_client_profile_and_insurer(self):
        client = self.clients[0].with_user(self.front_desk)
        client.write({"therapy_birthdate": "1985-04-12", "therapy_sex": "female"})
        self.assertEqual(client.therapy_coverage_ids, self.coverage)
        self.assertEqual(self.coverage.with_user(self.provider).payer_code, "94036")
        self.assertEqual(
            self.coverage.display_name, "Blue Shield of California XYZ123456 (Primary)"
        )
        self.assertFalse(self.clients[1].therapy_coverage_ids, "no coverage: self-pay")

    def test_other_company_coverage_is_hidden(self):
        other_company = self.env["res.company"].create({"name": "Other Practice"})
        hidden = self.env["therapy.coverage"].create(
            {
                "partner_id": self.clients[3].id,
                "payer_id": self.insurer.id,
                "member_ident": "OTHER1",
                "company_id": other_company.id,
            }
        )
        visible = self.env["therapy.coverage"].with_user(self.front_desk).search([])
        self.assertIn(self.coverage, visible)
        self.assertNotIn(hidden, visible)

    def test_refusals(self):
        with self.assertRefused(ValidationError, "already has an active primary coverage"):
            self.env["therapy.coverage"].with_user(self.front_desk).create(
                {
                    "partner_id": self.clients[0].id,
                    "payer_id": self.other_insurer.id,
                    "member_ident": "NEWCARD",
                }
            )
        secondary = (
            self.env["therapy.coverage"]
            .with_user(self.front_desk)
            .create(
                {
                    "partner_id": self.clients[0].id,
                    "payer_id": self.other_insurer.id,
                    "member_ident": "NEWCARD",
                    "priority": "secondary",
                }
            )
        )
        self.assertEqual(len(self.clients[0].therapy_coverage_ids), 2)
        self.assertTrue(secondary)
        with self.assertRefused(ValidationError, "cannot be their own insurer"):
            self.coverage.payer_id = self.clients[0]
        with self.assertRefused(ValidationError, "is not a taxonomy code"):
            self.company.therapy_taxonomy_code = "psychologist"
        self.company.therapy_taxonomy_code = "101YM0800X"
        self.assertEqual(self.company.therapy_taxonomy_code, "101YM0800X")
