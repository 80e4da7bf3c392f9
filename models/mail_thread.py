from odoo import models


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        """Followers added by id are contacts the user reads.

        Odoo lists a record's followers with their name and e-mail as superuser, and sends them
        what is posted there: a client's id added as follower of one's own meeting (or any
        record one may change) showed the client's name and address, and would have sent them
        the meeting's messages. Contacts the user may not read are left out, as Odoo leaves out
        archived ones."""
        if partner_ids and not self.env.su and set(partner_ids) != {self.env.user.partner_id.id}:
            partners = self.env["res.partner"].browse(partner_ids)
            hidden = set((partners - partners._filtered_access("read")).ids)
            if hidden:
                partner_ids = [partner_id for partner_id in partner_ids if partner_id not in hidden]
                if not partner_ids and not subtype_ids:
                    return True
        return super().message_subscribe(partner_ids=partner_ids, subtype_ids=subtype_ids)
