from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestWaitlist(GroupTherapyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.capacity = 4  # four members already: full
        cls.waiting = cls.env["res.partner"].create(
            [{"name": "Wanda Wait"}, {"name": "Will Later"}]
        )

    def _wait(self, client, user=None):
        return (
            self.env["therapy.group.waitlist"]
            .with_user(user or self.front_desk)
            .create({"group_id": self.group.id, "partner_id": client.id})
        )

    def test_clients_join_in_order_when_a_place_frees_up(self):
        first, second = self._wait(self.waiting[0]), self._wait(self.waiting[1])
        self.assertEqual((first.state, second.state), ("waiting", "waiting"))
        self.group.member_ids.filtered(
            lambda member: member.partner_id == self.clients[0]
        ).with_user(self.provider).action_end_membership()
        self.assertEqual((first.state, second.state), ("promoted", "waiting"))
        self.assertIn(self.waiting[0], self.group.member_partner_ids)
        self.assertNotIn(self.waiting[1], self.group.member_partner_ids)
        self.group.with_user(self.provider).capacity = 5
        self.assertEqual(second.state, "promoted")
        self.assertIn(self.waiting[1], self.group.member_partner_ids)
        self.assertIn("joined the group from the waitlist", self.group.message_ids[:1].body)

    def test_a_group_with_room_takes_the_client_at_once(self):
        self.group.capacity = 6
        entry = self._wait(self.waiting[0])
        self.assertEqual(entry.state, "promoted")
        self.assertIn(self.waiting[0], self.group.member_partner_ids)

    def test_waitlist_refusals(self):
        with self.assertRefused(ValidationError, "is already a member"):
            self._wait(self.clients[0])
        entry = self._wait(self.waiting[0])
        with self.assertRefused(ValidationError, "is already on the waitlist"):
            self._wait(self.waiting[0])
        entry.action_cancel()
        self.assertEqual(entry.state, "cancelled")
        self.assertEqual(self._wait(self.waiting[0]).state, "waiting", "may wait again")
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self._wait(self.waiting[1], user=self.other_provider)
