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

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        if partner_ids:
            partners = self.env["res.partner"].sudo().browse(partner_ids)
            clients = partners.filtered(lambda partner: partner._therapy_is_client())
            partner_ids = [
                partner_id for partner_id in partner_ids if partner_id not in clients.ids
            ]
            if not partner_ids and not subtype_ids:
                return True
        return super().message_subscribe(partner_ids=partner_ids, subtype_ids=subtype_ids)
