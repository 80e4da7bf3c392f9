from odoo import api, fields, models
from odoo.exceptions import ValidationError


class TherapyGroupWaitlist(models.Model):
    _name = "therapy.group.waitlist"
    _inherit = [
        "therapy.input.mixin",
        "therapy.server.owned.mixin",
        "therapy.readable.target.mixin",
    ]
    _description = "Therapy Group Waitlist"
    # The entry's status follows what happened to it (the client joined when a place freed up,
    # or the entry was cancelled): over RPC a provider set "waiting" on a cancelled entry to put
    # a client back in the queue, or "Joined the group" on one who never joined.
    _therapy_server_owns_computed = False
    _therapy_server_owned_fields = ("state",)
    _therapy_readable_target_fields = ("group_id", "partner_id")
    _order = "sequence, date_requested, id"
    _check_company_auto = True

    group_id = fields.Many2one("therapy.group", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner",
        string="Client",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    sequence = fields.Integer(default=10)
    date_requested = fields.Datetime(
        string="Waiting Since", required=True, default=fields.Datetime.now
    )
    state = fields.Selection(
        selection=[
            ("waiting", "Waiting"),
            ("promoted", "Joined the group"),
            ("cancelled", "Cancelled"),
        ],
        string="Status",
        required=True,
        default="waiting",
        readonly=True,
    )
    company_id = fields.Many2one(related="group_id.company_id", store=True, index=True)

    @api.constrains("group_id", "partner_id", "state")
    def _check_not_member_nor_waiting(self):
        """A client waits once for a group, and only for a group they are not in."""
        waiting = self.filtered(lambda entry: entry.state == "waiting")
        others_sudo = self.sudo().search(
            [
                ("group_id", "in", waiting.group_id.ids),
                ("partner_id", "in", waiting.partner_id.ids),
                ("state", "=", "waiting"),
            ]
        )
        for entry in waiting:
            if (
                entry.partner_id
                in entry.group_id.sudo()
                .member_ids.filtered(
                    lambda member: member._is_member_from(fields.Date.context_today(self))
                )
                .partner_id
            ):
                raise ValidationError(
                    self.env._(
                        "%(client)s is already a member of “%(group)s”: there is no need to "
                        "wait for a place.",
                        client=entry.partner_id.display_name,
                        group=entry.group_id.display_name,
                    )
                )
            if any(
                other != entry
                and other.group_id == entry.group_id
                and other.partner_id == entry.partner_id
                for other in others_sudo
            ):
                raise ValidationError(
                    self.env._(
                        "%(client)s is already on the waitlist of “%(group)s”.",
                        client=entry.partner_id.display_name,
                        group=entry.group_id.display_name,
                    )
                )

    @api.model
    def _therapy_unreadable_target_message(self, fname):
        """As for a membership, which the entry becomes."""
        return self.env["therapy.group.member"]._therapy_unreadable_target_message(fname)

    @api.model_create_multi
    def create(self, vals_list):
        entries = super().create(vals_list)
        entries.group_id._promote_waitlist()
        return entries

    def action_cancel(self):
        """The client no longer waits for the group."""
        self.filtered(lambda entry: entry.state == "waiting")._therapy_server_write(
            {"state": "cancelled"}
        )
        return True
