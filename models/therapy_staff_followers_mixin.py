from odoo import models


class TherapyStaffFollowersMixin(models.AbstractModel):
    """Only the practice's staff follow a Group Therapy record (a group, a chart note, a
    consent, a claim, a measure's result): a client following one would get every message
    posted on it, naming other members, and Odoo lists every document's followers to every
    employee, which would name the client with the group or note. Clients are left out when
    followers are added, whatever the route (the chatter's Follow and Add Followers, a message
    that makes its recipients follow, ``message_subscribe`` over RPC), as on group sessions.
    Listed before ``mail.thread`` in ``_inherit``."""

    _name = "therapy.staff.followers.mixin"
    _description = "Group Therapy: Staff Followers Only"

    def _therapy_mail_guarded(self):
        """Every Group Therapy record: its chatter names clients or clinical facts."""
        return self

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        if (
            partner_ids
            and not self.env.su
            and set(partner_ids) == {self.env.user.partner_id.id}
            and not self._therapy_may_read_messages()
        ):
            # Odoo lets anyone who reads a record follow it, and a follower receives the
            # messages posted there: following is reading the chatter (as Odoo answers a
            # user who may not read the record)
            return False
        if partner_ids:
            partners = self.env["res.partner"].sudo().browse(partner_ids)
            clients = partners.filtered(lambda partner: partner._therapy_is_client())
            partner_ids = [
                partner_id for partner_id in partner_ids if partner_id not in clients.ids
            ]
            if not partner_ids and not subtype_ids:
                return True
        return super().message_subscribe(partner_ids=partner_ids, subtype_ids=subtype_ids)

    def _therapy_may_read_messages(self):
        """Whether the user reads the messages of every record of ``self`` (the group's are
        read by those who may change it)."""
        allowed = self.env["mail.message"]._filter_records_for_message_operation(
            self._name, self.ids, "read"
        )
        return not self - allowed
