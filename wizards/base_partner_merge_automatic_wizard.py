from odoo import models
from odoo.exceptions import UserError


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        """A signed chart note stays with its client: contacts with signed notes are not
        merged (the merge would move the notes to another contact)."""
        partners = self.env["res.partner"].browse(partner_ids).exists()
        if len(partners) > 1:
            # Whoever merges may not read clinical notes, but must learn why it is refused.
            signed_sudo = (
                self.env["therapy.chart.note"]
                .sudo()
                .search([("partner_id", "in", partners.ids), ("state", "!=", "draft")], limit=1)
            )
            if signed_sudo:
                raise UserError(
                    self.env._(
                        "%(client)s has signed chart notes, which stay with this contact: it "
                        "cannot be merged with another contact. Archive the duplicate contact "
                        "instead, and keep the one that holds the notes.",
                        client=signed_sudo.partner_id.display_name,
                    )
                )
        return super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
