from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

PLACES_OF_SERVICE = [
    ("11", "11 - Office"),
    ("02", "02 - Telehealth, not at home"),
    ("10", "10 - Telehealth at home"),
]
# The codes each answer allows (brief, step 5).
KINDS_BY_STATE = {
    "attended": ("cpt", "no_fee"),
    "absent": ("no_show", "late_cancel", "no_fee"),
}


class TherapyAttendance(models.Model):
    _name = "therapy.attendance"
    _description = "Group Session Attendance"
    _order = "event_start desc, partner_name, id"
    _check_company_auto = True

    event_id = fields.Many2one(
        "calendar.event", string="Session", required=True, index=True, ondelete="cascade"
    )
    event_start = fields.Datetime(related="event_id.start", string="Date", store=True)
    group_id = fields.Many2one(
        related="event_id.therapy_group_id", string="Group", store=True, index=True
    )
    company_id = fields.Many2one(related="group_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, index=True, ondelete="restrict"
    )
    partner_name = fields.Char(related="partner_id.name", store=True, string="Client Name")
    # what happened
    state = fields.Selection(
        selection=[("attended", "Attended"), ("absent", "Did not attend")],
        string="Attended?",
        help="Attended: bill a CPT code or no fee. Did not attend: no-show, late cancel or no fee.",
    )
    product_id = fields.Many2one(
        "product.product",
        string="Code",
        index=True,
        ondelete="restrict",
        domain=[("therapy_code_kind", "!=", False), ("therapy_addon_only", "=", False)],
        help="The CPT code billed to a client who attended, or the system code of one who did not.",
    )
    therapy_code = fields.Char(related="product_id.therapy_code", string="CPT")
    addon_product_ids = fields.Many2many(
        "product.product",
        "therapy_attendance_addon_product_rel",
        "attendance_id",
        "product_id",
        string="Add-on Codes",
        domain=[("therapy_code_kind", "=", "cpt"), ("therapy_addon_only", "=", True)],
        help="Add-on codes billed with this client's primary code, e.g. 90785 interactive "
        "complexity.",
    )
    attendance_status = fields.Selection(
        selection=[
            ("not_set", "Not set"),
            ("attended", "Attended"),
            ("no_show", "No-show"),
            ("late_cancel", "Late cancel"),
            ("no_fee", "No fee"),
        ],
        string="Status",
        compute="_compute_attendance_status",
        store=True,
    )
    place_of_service = fields.Selection(
        selection=PLACES_OF_SERVICE,
        string="Place of Service",
        compute="_compute_place_of_service",
        store=True,
        readonly=False,
        help="Where the client attended from: 11 office, 02 telehealth elsewhere, 10 telehealth "
        "at home. Clients of one session may differ.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount = fields.Monetary(
        compute="_compute_amount",
        store=True,
        help="The list price of the code and its add-ons; the invoice applies the client's "
        "pricelist.",
    )

    _event_partner_uniq = models.Constraint(
        "UNIQUE(event_id, partner_id)",
        "A client can have only one attendance line per session.",
    )

    @api.depends("state", "product_id.therapy_code_kind")
    def _compute_attendance_status(self):
        """One status per line, for the coloured indicator."""
        for line in self:
            kind = line.product_id.therapy_code_kind
            if kind == "no_fee":
                line.attendance_status = "no_fee"
            elif line.state == "attended":
                line.attendance_status = "attended"
            elif line.state == "absent" and kind in ("no_show", "late_cancel"):
                line.attendance_status = kind
            else:
                line.attendance_status = "not_set"

    @api.depends("event_id.therapy_place_of_service")
    def _compute_place_of_service(self):
        """Default to the session's place of service; each line can differ."""
        for line in self:
            line.place_of_service = line.event_id.therapy_place_of_service or "11"

    @api.depends("product_id.lst_price", "addon_product_ids.lst_price")
    def _compute_amount(self):
        for line in self:
            line.amount = line.product_id.lst_price + sum(
                line.addon_product_ids.mapped("lst_price")
            )

    @api.constrains("state", "product_id", "addon_product_ids")
    def _check_code_matches_attendance(self):
        """Attended takes a CPT code or no fee; not attended a system code; add-ons ride along."""
        for line in self:
            kind = line.product_id.therapy_code_kind
            client = line.partner_id.display_name
            if line.product_id and not line.state:
                raise ValidationError(
                    self.env._(
                        "%(client)s: say whether the client attended before choosing the code "
                        "%(code)s.",
                        client=client,
                        code=line.product_id.display_name,
                    )
                )
            if line.product_id and kind not in KINDS_BY_STATE.get(line.state, ()):
                raise ValidationError(line._message_wrong_kind())
            if line.product_id.therapy_addon_only:
                raise ValidationError(
                    self.env._(
                        "%(client)s: %(code)s is an add-on code and is never billed alone. "
                        "Choose the primary code (e.g. 90853) and add %(code)s under Add-on Codes.",
                        client=client,
                        code=line.product_id.therapy_code,
                    )
                )
            if line.addon_product_ids:
                wrong = line.addon_product_ids.filtered(lambda p: not p.therapy_addon_only)
                if wrong:
                    raise ValidationError(
                        self.env._(
                            "%(client)s: %(codes)s is not an add-on code. Use it as the client's "
                            "code instead.",
                            client=client,
                            codes=", ".join(wrong.mapped("display_name")),
                        )
                    )
                if line.state != "attended" or kind != "cpt":
                    raise ValidationError(
                        self.env._(
                            "%(client)s: add-on codes such as %(codes)s are billed only on top "
                            "of a CPT code for a client who attended. Set the primary code first.",
                            client=client,
                            codes=", ".join(line.addon_product_ids.mapped("therapy_code")),
                        )
                    )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_answered(self):
        answered = self.filtered("state")
        if answered:
            raise UserError(
                self.env._(
                    "%(client)s's attendance is recorded and cannot be deleted. Clear the answer "
                    "first if it was a mistake.",
                    client=answered[0].partner_id.display_name,
                )
            )

    @api.onchange("state")
    def _onchange_state(self):
        """Answering yes proposes the group's code; a code that no longer fits is cleared."""
        for line in self:
            if line.state == "attended" and not line.product_id:
                line.product_id = line.event_id.therapy_group_id.default_product_id
            elif line.product_id.therapy_code_kind not in KINDS_BY_STATE.get(line.state, ()):
                line.product_id = False
            if line.state != "attended":
                line.addon_product_ids = False

    @api.onchange("product_id")
    def _onchange_product_id(self):
        """Picking a code answers the attendance when the code says it (no fee does not)."""
        for line in self.filtered(lambda line: line.product_id and not line.state):
            kind = line.product_id.therapy_code_kind
            if kind == "cpt":
                line.state = "attended"
            elif kind in ("no_show", "late_cancel"):
                line.state = "absent"

    def action_clear_code(self):
        """Clear the chosen answer and code, to pick another."""
        self.write({"state": False, "product_id": False, "addon_product_ids": [(5,)]})
        return True

    def _message_wrong_kind(self):
        self.ensure_one()
        if self.state == "attended":
            return self.env._(
                "%(client)s attended: the code must be a CPT service or “No fee”, not "
                "%(code)s. No-show and late-cancel fees are for clients who did not attend.",
                client=self.partner_id.display_name,
                code=self.product_id.display_name,
            )
        return self.env._(
            "%(client)s did not attend: the code must be No-show, Late cancel or No fee, not "
            "%(code)s. A CPT service is billed only to clients who attended.",
            client=self.partner_id.display_name,
            code=self.product_id.display_name,
        )
