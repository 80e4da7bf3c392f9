from odoo import models


class DiscussChannelMember(models.Model):
    """A channel's member is shown by name (``partner_id``, read as superuser): a colleague who
    invited a client's contact by id into a channel read the name of a client they may not
    see. The contact named is one the user reads, as on the addon's own fields."""

    _name = "discuss.channel.member"
    _inherit = ["discuss.channel.member", "therapy.readable.target.mixin"]
    _therapy_readable_target_fields = ("partner_id",)
    _therapy_own_record_fields = ("partner_id",)


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    def add_members(
        self, partner_ids=None, guest_ids=None, invite_to_rtc_call=False, post_joined_message=True
    ):
        """Odoo creates the members of a sub-channel as superuser: the contacts invited are
        checked first, as the user, whichever way they are then created."""
        if partner_ids:
            self.env["discuss.channel.member"]._therapy_check_readable_targets(
                [{"partner_id": partner_id} for partner_id in partner_ids]
            )
        return super().add_members(
            partner_ids=partner_ids,
            guest_ids=guest_ids,
            invite_to_rtc_call=invite_to_rtc_call,
            post_joined_message=post_joined_message,
        )
