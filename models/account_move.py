from odoo import fields, models


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "therapy.server.owned.mixin"]
    # The session and the claim an invoice bills are set by invoicing and by the 835 import. Sent
    # by hand (over RPC), they made any invoice count as a session's billing (the client's line
    # then showed "invoiced" and was never billed) and showed the session's group, provider and
    # day to whoever typed its id.
    _therapy_server_owns_computed = False
    _therapy_server_owned_fields = (
        "therapy_event_id",
        "therapy_group_id",
        "therapy_provider_id",
        "therapy_claim_id",
    )

    therapy_event_id = fields.Many2one(
        "calendar.event", string="Group Session", index="btree_not_null", readonly=True, copy=False
    )
    therapy_group_id = fields.Many2one(
        related="therapy_event_id.therapy_group_id", store=True, index="btree_not_null"
    )
    therapy_provider_id = fields.Many2one(
        related="therapy_event_id.user_id", string="Rendering Provider", store=True
    )
    therapy_session_date = fields.Date(
        related="therapy_event_id.therapy_session_date", string="Date of Service"
    )
    therapy_claim_id = fields.Many2one(
        "therapy.claim",
        string="Insurance Claim",
        index="btree_not_null",
        readonly=True,
        copy=False,
        help="On an invoice to an insurer: the claim it is the receivable of.",
    )


class AccountMoveLine(models.Model):
    _name = "account.move.line"
    _inherit = ["account.move.line", "therapy.server.owned.mixin"]
    # The attendance line an invoice line bills: set by invoicing only (see account.move).
    _therapy_server_owns_computed = False
    _therapy_server_owned_fields = ("therapy_attendance_id",)

    therapy_attendance_id = fields.Many2one(
        "therapy.attendance",
        string="Session Attendance",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="set null",
    )
    therapy_modifiers = fields.Char(
        string="Modifiers",
        help="CPT modifiers of this service line, e.g. 59 or XE on individual psychotherapy "
        "billed the same day as a group session.",
    )
    therapy_code = fields.Char(
        related="product_id.therapy_code", string="CPT Code", store=True, index="btree_not_null"
    )
