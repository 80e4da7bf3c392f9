from contextlib import contextmanager

from odoo.tests import TransactionCase, new_test_user


class GroupTherapyCommon(TransactionCase):
    """One user per role, two groups (one shared) and a few clients, built by the test itself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.provider = new_test_user(
            cls.env,
            "gt_provider",
            groups="group_therapy.group_therapy_provider",
            name="Provider Pat",
        )
        cls.shared_provider = new_test_user(
            cls.env,
            "gt_shared_provider",
            groups="group_therapy.group_therapy_provider",
            name="Shared Sam",
        )
        cls.other_provider = new_test_user(
            cls.env,
            "gt_other_provider",
            groups="group_therapy.group_therapy_provider",
            name="Other Olga",
        )
        cls.front_desk = new_test_user(
            cls.env,
            "gt_front_desk",
            groups="group_therapy.group_therapy_front_desk",
            name="Front Desk Fran",
        )
        cls.manager = new_test_user(
            cls.env,
            "gt_manager",
            groups="group_therapy.group_therapy_manager",
            name="Admin Ada",
        )
        cls.accountant = new_test_user(
            cls.env, "gt_accountant", groups="account.group_account_invoice", name="Accountant Al"
        )
        cls.portal_user = new_test_user(cls.env, "gt_portal", groups="base.group_portal")

        cls.cpt_90853 = cls.env.ref("group_therapy.product_product_cpt_90853")
        cls.cpt_90849 = cls.env.ref("group_therapy.product_product_cpt_90849")
        cls.cpt_90785 = cls.env.ref("group_therapy.product_product_cpt_90785")
        cls.no_show = cls.env.ref("group_therapy.product_product_no_show")
        cls.late_cancel = cls.env.ref("group_therapy.product_product_late_cancel")
        cls.no_fee = cls.env.ref("group_therapy.product_product_no_fee")

        cls.clients = cls.env["res.partner"].create(
            [
                {"name": f"Client {index:02d}", "email": f"client{index}@example.com"}
                for index in range(1, 7)
            ]
        )
        cls.group = cls.env["therapy.group"].create(
            {
                "name": "Adult Anxiety Group",
                "code": "AAG",
                "provider_id": cls.provider.id,
                "shared_provider_ids": [(4, cls.shared_provider.id)],
            }
        )
        cls.other_group = cls.env["therapy.group"].create(
            {
                "name": "Family Recovery Group",
                "code": "FRG",
                "provider_id": cls.other_provider.id,
                "default_product_id": cls.cpt_90849.id,
            }
        )
        cls.env["therapy.group.member"].create(
            [{"group_id": cls.group.id, "partner_id": client.id} for client in cls.clients[:4]]
            + [{"group_id": cls.other_group.id, "partner_id": cls.clients[4].id}]
        )

    @contextmanager
    def assertRefused(self, exception, message):
        """The refusal is raised, says `message`, and rolls back what was attempted.

        Odoo's assertRaises runs the block in a savepoint (assertRaisesRegex does not), so what
        the test checks afterwards is what the database kept.
        """
        with self.assertRaises(exception) as catcher:
            yield catcher
        self.assertIn(message, str(catcher.exception))
        self.env.invalidate_all()
