import re
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import LockError, UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import format_date

from .therapy_claim import CLAIM_CLOSED_STATES
from .therapy_client_diagnosis import POINTER_LETTERS
from .therapy_group_member import MEMBERSHIP_DAY_FIELDS

# What a signed chart note states about its client's line: frozen once the note is signed.
SIGNED_LINE_FACTS = (
    "state",
    "product_id",
    "addon_product_ids",
    "place_of_service",
    "modifiers",
    "audio_only",
    "diagnosis_pointers",
)
PLACES_OF_SERVICE = [
    ("11", "11 - Office"),
    ("02", "02 - Telehealth, not at home"),
    ("10", "10 - Telehealth at home"),
]
# The codes each attendance answer allows.
KINDS_BY_STATE = {
    "attended": ("cpt", "no_fee"),
    "absent": ("no_show", "late_cancel", "no_fee"),
}


class KnownMemberships(tuple):
    """The ids of the memberships the server made new attendance lines from (context key
    ``therapy_known_memberships``): a type of its own, which no client can send in a context."""


class TherapyAttendance(models.Model):
    _name = "therapy.attendance"
    _description = "Group Session Attendance"
    _inherit = [
        "therapy.server.owned.mixin",
        "therapy.input.mixin",
        "therapy.readable.target.mixin",
    ]
    _order = "event_start desc, partner_name, id"
    _check_company_auto = True
    # Set by the server: claim units, the invoice lines the invoicing made, the signature mark.
    _therapy_server_owned_fields = ("units", "invoice_line_ids", "note_signed")
    _therapy_readable_target_fields = ("event_id", "partner_id")

    event_id = fields.Many2one(
        "calendar.event", string="Session", required=True, index=True, ondelete="cascade"
    )
    event_start = fields.Datetime(related="event_id.start", string="Date", store=True, index=True)
    session_date = fields.Date(
        related="event_id.therapy_session_date",
        string="Date of Service",
        store=True,
        index=True,
        help="The session's day in the practice's time zone: the date on the invoice, the "
        "claim and the superbill.",
    )
    group_id = fields.Many2one(
        related="event_id.therapy_group_id", string="Group", store=True, index=True
    )
    company_id = fields.Many2one(related="group_id.company_id", store=True, index=True)
    # Stored so that reports leave cancelled sessions out without a search through sessions.
    session_cancelled = fields.Boolean(
        related="event_id.therapy_cancelled", string="Session Cancelled", store=True
    )
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
    modifiers = fields.Char(
        help="CPT modifiers for this client's claim line, e.g. 95 (telehealth) or HQ (group). "
        "Separate several with commas.",
    )
    audio_only = fields.Boolean(
        help="Telehealth by audio only (no video): payers want modifier 93 (or FQ) instead of "
        "the audio-video modifier.",
    )
    diagnosis_pointers = fields.Char(
        help="The client's diagnoses this service treats, by letter (A = primary), at most 4, "
        "e.g. A or A, C. Empty: the primary diagnosis.",
    )
    units = fields.Integer(
        default=1, readonly=True, help="Claim units: a group session is one unit per client."
    )
    rendering_provider_id = fields.Many2one(
        "res.users",
        compute="_compute_rendering_provider_id",
        help="The provider who ran the session, with the NPI printed on claims.",
    )
    rule_flags = fields.Char(
        string="Payer Rules",
        compute="_compute_rule_flags",
        help="What the payer rules find on this client's line; blocking ones stop invoicing "
        "and signing.",
    )
    # clinical: Group Therapy staff only, within the clinical measure rules
    therapy_measure_summary = fields.Char(
        string="Measures",
        compute="_compute_therapy_measure_summary",
        groups="group_therapy.group_therapy_user",
        help="The client's latest PHQ-9 and GAD-7 on or before the session's day, with the change "
        "since the previous one.",
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
    attended_percent = fields.Float(
        string="Attendance Rate (%)",
        compute="_compute_attended_percent",
        store=True,
        aggregator="avg",
        help="100 for a client who attended, 0 for one who did not: averaged, the attendance rate.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount = fields.Monetary(
        compute="_compute_amount",
        store=True,
        help="The list price of the code and its add-ons; the invoice applies the client's "
        "pricelist.",
    )

    note_signed = fields.Boolean(
        string="Chart Note Signed",
        readonly=True,
        copy=False,
        help="Set when the client's chart note is signed: what the line says is then frozen.",
    )

    # billing
    invoice_line_ids = fields.One2many(
        "account.move.line", "therapy_attendance_id", string="Invoice Lines", readonly=True
    )
    invoice_id = fields.Many2one(
        "account.move",
        compute="_compute_invoice_id",
        store=True,
        index="btree_not_null",
        help="The client's invoice for this session. A credit note that reverses it frees the "
        "line to be invoiced again.",
    )
    payment_state = fields.Selection(related="invoice_id.payment_state", string="Payment")
    therapy_claim_ids = fields.One2many(
        "therapy.claim", "attendance_id", string="Insurance Claims", readonly=True
    )
    billing_status = fields.Selection(
        selection=[
            ("nothing", "Nothing to bill"),
            ("waived", "Fee waived"),
            ("to_invoice", "To invoice"),
            ("invoiced", "Invoiced"),
        ],
        compute="_compute_billing_status",
        help="Nothing to bill: no answer yet, or no fee. Fee waived: the code or the client is "
        "exempt from no-show and late-cancel fees.",
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

    @api.depends("event_id.user_id", "group_id.provider_id")
    def _compute_rendering_provider_id(self):
        for line in self:
            line.rendering_provider_id = line.event_id.user_id or line.group_id.provider_id

    @api.depends("state")
    def _compute_attended_percent(self):
        for line in self:
            line.attended_percent = 100.0 if line.state == "attended" else 0.0

    @api.depends("event_id.therapy_place_of_service")
    def _compute_place_of_service(self):
        """Default to the session's place of service; each line can differ."""
        for line in self:
            line.place_of_service = line.event_id.therapy_place_of_service or "11"

    @api.depends(
        "state",
        "product_id",
        "addon_product_ids",
        "place_of_service",
        "modifiers",
        "audio_only",
        "partner_id",
    )
    def _compute_rule_flags(self):
        """The payer rules' findings, for every line of the same sessions in one pass."""
        problems = self.env["therapy.payer.rule"]._find_problems(
            self.event_id.therapy_attendance_ids
        )
        flags = defaultdict(list)
        for line, rule, reason in problems:
            prefix = "⛔" if rule.severity == "block" else "⚠"
            flags[line._origin.id].append(f"{prefix} {reason}")
        for line in self:
            line.rule_flags = "; ".join(flags[line._origin.id]) or False

    @api.depends("partner_id", "event_id.therapy_session_date")
    def _compute_therapy_measure_summary(self):
        """The client's latest scores for the roster, the charting screen and their note."""
        summaries = self.env["therapy.measure.result"]._therapy_latest_summaries(self)
        for line in self:
            line.therapy_measure_summary = summaries.get(line, False)

    @api.depends("product_id.lst_price", "addon_product_ids.lst_price")
    def _compute_amount(self):
        # The currency that rounds each amount, for every line at once: storing the amounts,
        # Odoo reads it line by line otherwise (a related field computed once per new line).
        self.mapped("currency_id")
        for line in self:
            line.amount = line.product_id.lst_price + sum(
                line.addon_product_ids.mapped("lst_price")
            )

    @api.depends(
        "invoice_line_ids.move_id.state",
        "invoice_line_ids.move_id.payment_state",
        "invoice_line_ids.move_id.therapy_claim_id",
        "invoice_line_ids.move_id.reversal_move_ids.state",
    )
    def _compute_invoice_id(self):
        """The client's live invoice: cancelled ones, ones credited by a posted credit note
        (reversed, or paid and credited) and the insurer's invoice of a claim do not count."""
        for line in self:
            line.invoice_id = line.invoice_line_ids.move_id.filtered(
                lambda move: move.state != "cancel"
                and move.payment_state != "reversed"
                and not move.therapy_claim_id
                and "posted" not in move.reversal_move_ids.mapped("state")
            )[:1]

    @api.depends("state", "product_id", "invoice_id", "therapy_claim_ids.state")
    @api.depends_context("company")
    def _compute_billing_status(self):
        # Whether a claim was made is a fact of the line, which the user reads: the claims
        # themselves follow the group's rule (therapy_claim_rule_serving), read as superuser
        # here so that the status costs no rule evaluation on every path that shows it.
        claimed_sudo = self.sudo().filtered(lambda line: line._therapy_live_claims_sudo())
        for line in self:
            if line.invoice_id or line in claimed_sudo:
                line.billing_status = "invoiced"
            elif not line._is_billable_kind():
                line.billing_status = "nothing"
            elif line._is_fee_waived():
                line.billing_status = "waived"
            else:
                line.billing_status = "to_invoice"

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

    @api.constrains("partner_id", "event_id")
    def _check_member_on_session_day(self):
        """A line is for a client who is a member of the session's group on the session's day."""
        lines = self.filtered(lambda line: line.event_id.therapy_group_id)
        # Memberships decide, whatever the caller may read of them. Those the server made the
        # lines from (KnownMemberships) prove the lines they cover without a search; the
        # others are searched as superuser.
        known = self.env.context.get("therapy_known_memberships")
        if lines and isinstance(known, KnownMemberships):
            lines = lines._therapy_not_members(
                self.env["therapy.group.member"].sudo().browse(known)
            )
        if not lines:
            return
        memberships_sudo = (
            self.env["therapy.group.member"]
            .sudo()
            .search_fetch(
                [
                    ("group_id", "in", lines.event_id.therapy_group_id.ids),
                    ("partner_id", "in", lines.partner_id.ids),
                ],
                MEMBERSHIP_DAY_FIELDS,
            )
        )
        not_members = lines._therapy_not_members(memberships_sudo)
        if not_members:
            line = not_members[0]
            group = line.event_id.therapy_group_id
            day = line.event_id.therapy_session_date
            raise ValidationError(
                self.env._(
                    "%(client)s is not a member of %(group)s on %(date)s, so has no "
                    "attendance in its session. Add the client to the group from that day "
                    "first.",
                    client=line.partner_id.display_name,
                    group=group.sudo().display_name,
                    date=format_date(self.env, day),
                )
            )

    @api.constrains("units")
    def _check_units(self):
        """A billed service is at least one unit."""
        for line in self:
            if line.units < 1:
                raise ValidationError(
                    self.env._(
                        "%(client)s: a service is billed for at least one unit, not %(units)s.",
                        client=line.partner_id.display_name,
                        units=line.units,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_answered(self):
        billed_sudo = self.sudo().filtered_domain(
            self._therapy_billed_domain() | Domain("note_signed", "=", True)
        )
        if billed_sudo:
            raise UserError(
                billed_sudo[0]
                .with_env(self.env)
                ._therapy_billed_message(self.env._("delete the client's attendance"))
            )
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

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._therapy_answered_after_start().event_id._therapy_check_started("attend")
        return lines

    def write(self, vals):
        self._therapy_check_input_types([vals])
        # A billed line is not moved to another client or session either: the invoice or claim
        # names both.
        if {"state", "product_id", "addon_product_ids", "partner_id", "event_id"} & vals.keys():
            self._check_not_invoiced()
            self._discard_draft_invoices()
        if set(SIGNED_LINE_FACTS) & vals.keys():
            self._lock_for_attendance_change()
            self.filtered("note_signed")._check_not_charted(vals)
        result = super().write(vals)
        if {"state", "product_id", "event_id"} & vals.keys():
            self._therapy_answered_after_start().event_id._therapy_check_started("attend")
        if {"state", "product_id"} & vals.keys():
            self.filtered(
                lambda line: line.attendance_status == "no_show"
            )._alert_consecutive_no_shows()
        return result

    def action_clear_code(self):
        """Clear the chosen answer and code, to pick another."""
        self.write({"state": False, "product_id": False, "addon_product_ids": [Command.clear()]})
        return True

    def action_invoice(self):
        """Invoice and post, one invoice per client and session; never twice."""
        lines = self._lock_for_invoicing()
        to_invoice = lines.filtered(lambda line: line.billing_status == "to_invoice")
        if not to_invoice:
            return self.env["account.move"]
        to_invoice.event_id._therapy_check_started("invoice")
        self.env["therapy.payer.rule"]._check_lines(
            to_invoice.event_id.therapy_attendance_ids, self.env._("Invoicing")
        )
        insured = to_invoice.filtered(lambda line: line._therapy_primary_coverage())
        invoices = (to_invoice - insured)._create_invoices()
        if insured:
            claims = self.env["therapy.claim"]._create_from_attendances(
                insured, insured._pricelist_prices()
            )
            invoices |= claims.invoice_id | claims.copay_invoice_id
        return invoices

    def action_register_payment(self):
        """Odoo's own payment wizard for this client's invoice, invoicing it first if needed."""
        self.ensure_one()
        if not self.invoice_id:
            claims_sudo = self._therapy_live_claims_sudo()
            if claims_sudo:
                raise UserError(
                    self.env._(
                        "%(client)s's session is billed to %(payer)s and the client has no "
                        "copay: there is nothing to pay now.",
                        client=self.partner_id.display_name,
                        payer=claims_sudo[:1].payer_id.name,
                    )
                )
            if self.billing_status != "to_invoice":
                raise UserError(self._message_nothing_to_pay())
            self.action_invoice()
        invoice = self.invoice_id
        if invoice.state == "draft":
            invoice.action_post()
        if invoice.payment_state in ("paid", "in_payment"):
            raise UserError(
                self.env._(
                    "%(client)s's invoice %(invoice)s is already paid.",
                    client=self.partner_id.display_name,
                    invoice=invoice.name,
                )
            )
        action = invoice.action_register_payment()
        # Back to the session once paid, where the desk takes the next client's payment.
        action["context"] = {**action.get("context", {}), "dont_redirect_to_payments": True}
        return self._therapy_payment_dialog(action)

    def action_open_correction(self):
        """Correct an invoiced line in one step (credit, change, invoice again)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Correct %(client)s's attendance", client=self.partner_id.name),
            "res_model": "therapy.attendance.correction.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_attendance_id": self.id},
        }

    def _correct_billed(self, vals):
        """Credit the client's invoice, write the corrected answer and code, invoice again.

        One transaction: if the new code is refused (a payer rule, a signed note), nothing is
        credited either. The credit note is dated today (when the correction is booked); the new
        invoice, like every session invoice, on the date of service.
        """
        self.ensure_one()
        self._lock_for_invoicing()
        invoice = self.invoice_id
        if invoice.state == "posted":
            today = fields.Date.context_today(self)
            # A paid invoice keeps its payment: the credit note stays open as the client's
            # credit instead of cancelling the invoice.
            paid = invoice.payment_state != "not_paid"
            credit_note = invoice._reverse_moves(
                [
                    {
                        "ref": self.env._(
                            "Correction of %(invoice)s: %(client)s's attendance",
                            invoice=invoice.name,
                            client=self.partner_id.name,
                        ),
                        "date": today,
                        "invoice_date": today,
                    }
                ],
                cancel=not paid,
            )
            if credit_note.state == "draft":
                credit_note.action_post()
            self.invalidate_recordset(["invoice_id"])
        self.write(vals)
        if self.billing_status == "to_invoice":
            self.action_invoice()
        return True

    def action_open_invoice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.invoice_id.id,
            "view_mode": "form",
        }

    def _therapy_payment_dialog(self, action):
        """Odoo's payment dialog, titled with the client and the session, offering the
        practice's ways to pay side by side; its amount is what the client still owes."""
        self.ensure_one()
        event = self.event_id
        action["name"] = self.env._(
            "Payment from %(client)s for %(group)s on %(date)s",
            client=self.partner_id.display_name,
            group=event.therapy_group_id.display_name,
            date=format_date(self.env, event.therapy_session_date),
        )
        view = self.env.ref("group_therapy.account_payment_register_view_form_session")
        action["views"] = [(view.id, "form")]
        return action

    def _alert_consecutive_no_shows(self):
        """An activity for the provider when a client's last sessions of a group were no-shows."""
        alerting = self.filtered(lambda line: line.group_id.sudo().no_show_alert_count > 0)
        if not alerting:
            return
        # Each client's answered lines in these groups, newest first, in one query.
        history_sudo = self.sudo().search(
            [
                ("group_id", "in", alerting.group_id.ids),
                ("partner_id", "in", alerting.partner_id.ids),
                ("state", "!=", False),
                ("event_start", "<=", max(alerting.mapped("event_start"))),
            ],
            order="event_start desc, id desc",
        )
        history = defaultdict(list)
        for other in history_sudo:
            history[other.group_id, other.partner_id].append(other)
        follow_up = self.env.ref(
            "group_therapy.mail_activity_type_no_show_follow_up", raise_if_not_found=False
        ) or self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        by_client = alerting.grouped(lambda line: (line.group_id, line.partner_id))
        for (group, partner), lines in by_client.items():
            group_sudo = group.sudo()
            count = group_sudo.no_show_alert_count
            latest = max(lines.mapped("event_start"))
            last_lines = [other for other in history[group, partner] if other.event_start <= latest]
            if len(last_lines) < count or any(
                other.attendance_status != "no_show" for other in last_lines[:count]
            ):
                continue
            summary = self.env._(
                "Follow up with %(client)s: %(count)s no-shows in a row",
                client=partner.name,
                count=count,
            )
            if group_sudo.activity_ids.filtered(lambda activity, s=summary: activity.summary == s):
                continue
            group_sudo.activity_schedule(
                activity_type_id=follow_up.id if follow_up else False,
                summary=summary,
                user_id=group_sudo.provider_id.id,
                note=self.env._(
                    "%(client)s missed the last %(count)s sessions of %(group)s.",
                    client=partner.name,
                    count=count,
                    group=group_sudo.name,
                ),
            )

    def _claim_blockers(self):
        """{line: reason} for the services that cannot be claimed: the client's chart note for
        that session is not final, signed (and co-signed when due): a claim is for a
        documented service."""
        notes_sudo = (
            self.env["therapy.chart.note"]
            .sudo()
            .search(
                [("event_id", "in", self.event_id.ids), ("partner_id", "in", self.partner_id.ids)]
            )
        )
        states = defaultdict(set)
        for note in notes_sudo:
            states[note.event_id.id, note.partner_id.id].add(note.state)
        blockers = {}
        for line in self:
            note_states = states[line.event_id.id, line.partner_id.id]
            if "locked" in note_states:
                continue
            if "to_cosign" in note_states:
                # Signed by a pre-licensed provider: final once the supervisor co-signs.
                blockers[line] = self.env._("chart note waits for the supervisor's co-signature")
            elif note_states:
                blockers[line] = self.env._("chart note not signed yet")
            else:
                blockers[line] = self.env._("no chart note for this client and session")
        return blockers

    def _claim_charge(self, product):
        """The charge billed for the code: the invoice's, or the list price before invoicing."""
        # Front desk prints superbills without reading journal items: only the price is read.
        invoiced = self.sudo().invoice_line_ids.filtered(
            lambda invoice_line: invoice_line.product_id == product
            and invoice_line.move_id == self.invoice_id
        )
        return invoiced[:1].price_unit if invoiced else product.lst_price

    @api.constrains("diagnosis_pointers", "partner_id")
    def _check_diagnosis_pointers(self):
        """At most four letters, each pointing at one of the client's diagnoses."""
        for line in self.filtered("diagnosis_pointers"):
            letters = line._diagnosis_pointer_letters()
            count = len(line.partner_id.sudo().therapy_diagnosis_line_ids)
            valid = POINTER_LETTERS[:count]
            wrong = [letter for letter in letters if letter not in valid]
            if wrong or len(letters) > 4 or len(set(letters)) != len(letters):
                raise ValidationError(
                    self.env._(
                        "%(client)s: the diagnosis pointers “%(pointers)s” are not valid. Use up "
                        "to 4 different letters among %(valid)s, one per diagnosis of the client "
                        "(A = primary).",
                        client=line.partner_id.display_name,
                        pointers=line.diagnosis_pointers,
                        valid=", ".join(valid) or self.env._("none: add a diagnosis first"),
                    )
                )

    def _diagnosis_pointer_letters(self):
        """The letters of the diagnoses this line treats; the primary (A) when none is set."""
        self.ensure_one()
        if self.diagnosis_pointers:
            return re.findall(r"[A-Za-z]", self.diagnosis_pointers.upper())
        return ["A"] if self.partner_id.sudo().therapy_diagnosis_line_ids else []

    def _invoice_origin(self):
        """The session as an invoice's source says it, to the client and to the payer: group
        and date of service. Never the calendar's name, whose marks (✓) are meant for staff."""
        self.ensure_one()
        return self.env._(
            "%(group)s, session of %(date)s",
            group=self.group_id.name,
            date=format_date(self.env, self.session_date),
        )

    def _therapy_not_members(self, memberships):
        """Those of these lines (of group sessions) whose client none of ``memberships`` makes
        a member of the session's group on the session's day; a session without a day has
        none. Each line looks at its client's memberships of its group only."""
        by_client = defaultdict(list)
        for membership in memberships:
            by_client[membership.group_id.id, membership.partner_id.id].append(membership)
        not_members = []
        for line in self:
            session = line.event_id
            day = session.therapy_session_date
            if day and not any(
                membership._is_member_on(day)
                for membership in by_client[session.therapy_group_id.id, line.partner_id.id]
            ):
                not_members.append(line)
        return self.browse().concat(*not_members)

    def _therapy_answered_after_start(self):
        """The lines that say what happened at the session (attended, no-show): recorded only
        once it has started. A late cancel or a cancellation (no fee) can come ahead of time."""
        return self.filtered(
            lambda line: line.state == "attended" or line.product_id.therapy_code_kind == "no_show"
        )

    def _is_billable_kind(self):
        """A CPT service for a client who attended, or a no-show / late-cancel fee."""
        self.ensure_one()
        kind = self.product_id.therapy_code_kind
        return (self.state == "attended" and kind == "cpt") or (
            self.state == "absent" and kind in ("no_show", "late_cancel")
        )

    def _is_fee_to_invoice(self):
        """A no-show or late-cancel fee that will be charged (not waived, not invoiced yet)."""
        self.ensure_one()
        return self.billing_status == "to_invoice" and self.product_id.therapy_code_kind in (
            "no_show",
            "late_cancel",
        )

    def _is_fee_waived(self):
        self.ensure_one()
        if self.product_id.therapy_code_kind not in ("no_show", "late_cancel"):
            return False
        return self.product_id.therapy_fee_waived or self.partner_id.sudo().therapy_fee_exempt

    def _therapy_primary_coverage(self):
        """The client's primary insurance for this line's service; empty: self-pay."""
        self.ensure_one()
        if self.state != "attended" or self.product_id.therapy_code_kind != "cpt":
            return self.env["therapy.coverage"]
        return (
            self.partner_id.sudo()
            .therapy_coverage_ids.filtered(
                lambda coverage: coverage.priority == "primary"
                and coverage.company_id == self.company_id
            )[:1]
            .sudo(False)
        )

    def _therapy_payer(self):
        """Who pays for the service besides the client: the insurer of the primary coverage,
        else the client's payer on file; empty: self-pay. Claim lines go to it."""
        self.ensure_one()
        coverage = self._therapy_primary_coverage()
        return coverage.sudo().payer_id or self.partner_id.sudo().therapy_payer_id

    @api.model
    def _therapy_billed_domain(self):
        """Lines billed: on the client's posted invoice (a credited or cancelled invoice is no
        longer the line's ``invoice_id``) or on an insurance claim not voided or cancelled."""
        return Domain("invoice_id.state", "=", "posted") | Domain(
            "therapy_claim_ids", "any", [("state", "not in", CLAIM_CLOSED_STATES)]
        )

    def _therapy_live_claims_sudo(self):
        """The claims of these lines that still bill their service (not voided or cancelled),
        as superuser: a claim hidden from the user bills the service all the same."""
        return self.sudo().therapy_claim_ids.filtered(
            lambda claim: claim.state not in CLAIM_CLOSED_STATES
        )

    def _therapy_billed_message(self, action):
        """Why this billed line stops ``action`` (a phrase such as "archive the session"), and
        what to do first: void the claim, credit the invoice, or add an addendum."""
        self.ensure_one()
        claims_sudo = self._therapy_live_claims_sudo()
        if claims_sudo:
            return self.env._(
                "%(client)s's service in %(session)s is on the insurance claim %(claim)s: to "
                "%(action)s, void the claim first (Void on the claim; a claim already sent is "
                "voided once the void is submitted).",
                client=self.partner_id.display_name,
                session=self.event_id.display_name,
                claim=claims_sudo[:1].name,
                action=action,
            )
        if self.invoice_id.state == "posted":
            return self.env._(
                "%(client)s's service in %(session)s is on the posted invoice %(invoice)s: to "
                "%(action)s, credit the invoice first (Add Credit Note).",
                client=self.partner_id.display_name,
                session=self.event_id.display_name,
                invoice=self.invoice_id.name,
                action=action,
            )
        return self.env._(
            "%(client)s's chart note for %(session)s is signed and documents the session, so "
            "you cannot %(action)s. If something in the note is wrong, the provider adds an "
            "addendum to it.",
            client=self.partner_id.display_name,
            session=self.event_id.display_name,
            action=action,
        )

    def _check_not_invoiced(self):
        """An invoiced code changes only after the invoice is credited."""
        # the claims of every line at once, then the lines they bill
        live_claims_sudo = self._therapy_live_claims_sudo()
        if live_claims_sudo:
            claimed_ids = set(live_claims_sudo.attendance_id.ids)
            claimed = self.filtered(lambda line: line.id in claimed_ids)
            raise UserError(
                self.env._(
                    "%(client)s's service is on the insurance claim %(claim)s. The code no "
                    "longer changes here: correct the claim and resubmit it, or void it.",
                    client=claimed[0].partner_id.display_name,
                    claim=claimed[0]._therapy_live_claims_sudo()[:1].name,
                )
            )
        posted = self.filtered(lambda line: line.invoice_id.state == "posted")
        if posted:
            raise UserError(
                self.env._(
                    "%(client)s's code is on the posted invoice %(invoice)s. Credit that invoice "
                    "first (Add Credit Note), then change the code and invoice again.",
                    client=posted[0].partner_id.display_name,
                    invoice=posted[0].invoice_id.name,
                )
            )

    def _discard_draft_invoices(self):
        """A draft invoice made by the session is ours to discard: the line is invoiced again.
        One that keeps its number (posted before, and not the last of its sequence, or under the
        company's restrictive audit trail) is cancelled: Odoo refuses to delete it (a gap)."""
        drafts = self.invoice_id.filtered(lambda move: move.state == "draft")
        if not drafts:
            return
        numbered = drafts.filtered(
            lambda move: move.posted_before
            and (move._is_protected_by_audit_trail() or not move.check_move_sequence_chain())
        )
        numbered.button_cancel()
        (drafts - numbered).unlink()

    def _check_not_charted(self, vals):
        """A signed chart note states the client attended, with this code, add-ons and place
        of service: those no longer change."""
        changed = self._therapy_changed_fields(vals, SIGNED_LINE_FACTS)
        if changed:
            line = self.filtered(lambda line: line._therapy_changed_fields(vals, changed))[:1]
            raise UserError(
                self.env._(
                    "%(client)s's chart note for this session is signed, and it records the "
                    "client's %(facts)s. These can no longer change: ask the provider to add an "
                    "addendum to the note; for billing, credit the invoice (Add Credit Note).",
                    client=line.partner_id.display_name,
                    facts=", ".join(
                        sorted(self._fields[name]._description_string(self.env) for name in changed)
                    ),
                )
            )

    def _lock_for_attendance_change(self):
        """Lock the lines being answered, so that a note being signed right now cannot end up
        vouching for an answer changed behind it."""
        try:
            self.lock_for_update(allow_referencing=True)
        except LockError:
            raise UserError(
                self.env._(
                    "%(client)s's line is being changed or signed by someone else right now. "
                    "Wait a moment, then reopen the session.",
                    client=self[:1].partner_id.display_name,
                )
            ) from None
        # What another transaction committed before the lock is what counts.
        self.invalidate_recordset(["note_signed", "state"])

    def _lock_for_invoicing(self):
        """Lock the lines so that two users invoicing the same session cannot both succeed."""
        if not self:
            return self
        try:
            self.lock_for_update(allow_referencing=True)
        except LockError:
            raise UserError(
                self.env._(
                    "These sessions are being invoiced by someone else right now. Wait a moment "
                    "and try again: nothing was invoiced twice."
                )
            ) from None
        # Nothing is read again: Odoo's transactions are REPEATABLE READ, so a line invoiced by a
        # transaction that committed after ours began cannot be locked (PostgreSQL refuses with
        # a serialization failure, and Odoo runs the request again); a locked line is as this
        # transaction read it.
        return self

    def _create_invoices(self):
        """Create and post one customer invoice per line (as ``sale``'s ``_create_invoices``)."""
        prices = self._pricelist_prices()
        vals_list = []
        for line in self:
            invoice_vals = line._prepare_invoice_values()
            invoice_vals["invoice_line_ids"] = [
                Command.create(line._prepare_invoice_line_values(product, prices[line][product]))
                for product in line.product_id | line.addon_product_ids
            ]
            vals_list.append(invoice_vals)
        # (the invoices go on without the server's context: nothing else is written for them)
        invoices = self.env["account.move"]._therapy_server_create(vals_list).with_env(self.env)
        invoices.action_post()
        return invoices

    def _prepare_invoice_values(self):
        """The invoice header for this client's line: dated on the session's local day."""
        self.ensure_one()
        partner = self._invoice_partner()
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": self.session_date,
            "company_id": self.company_id.id,
            # No "Salesperson" on a client's invoice: the provider is the rendering provider.
            "invoice_user_id": False,
            "therapy_event_id": self.event_id.id,
            "invoice_origin": self._invoice_origin(),
            **self._invoice_due_values(partner),
        }

    def _invoice_due_values(self, partner):
        """The due date of an invoice of this line to ``partner``, never before its date (the
        date of service). With payment terms Odoo counts them from the invoice date; without,
        it makes the invoice due "today" (the user's), which can be earlier than the date of
        service in the practice's time zone."""
        self.ensure_one()
        if partner.with_company(self.company_id).property_payment_term_id:
            return {}
        return {"invoice_date_due": max(self.session_date, fields.Date.context_today(self))}

    def _prepare_invoice_line_values(self, product, price_unit):
        """One invoice line: a CPT service with its code, or a fee without one."""
        self.ensure_one()
        session_day = format_date(self.env, self.session_date)
        if product.therapy_code_kind == "cpt":
            label = self.env._(
                "%(code)s %(name)s, %(group)s group session of %(date)s",
                code=product.therapy_code,
                name=product.name,
                group=self.group_id.code,
                date=session_day,
            )
        else:  # a fee, not a service: no CPT code on it
            label = self.env._("%(name)s, %(date)s", name=product.name, date=session_day)
        return {
            "product_id": product.id,
            "name": label,
            "quantity": 1.0,
            "price_unit": price_unit,
            "therapy_attendance_id": self.id,
            "therapy_modifiers": self.modifiers if product.therapy_code_kind == "cpt" else False,
        }

    def _invoice_partner(self):
        """Who receives the client's invoice: the billing contact, else the client."""
        self.ensure_one()
        return self.partner_id.sudo().therapy_billing_partner_id or self.partner_id

    def _pricelist_prices(self):
        """{line: {product: price}}, one pricelist computation per pricelist and day."""
        batches = defaultdict(lambda: self.browse())
        for line in self:
            pricelist = line._invoice_partner().property_product_pricelist
            batches[pricelist, line.session_date] |= line
        prices = {}
        for (pricelist, day), lines in batches.items():
            products = lines.product_id | lines.addon_product_ids
            if pricelist:
                by_product = pricelist._get_products_price(products, 1.0, date=day)
            else:
                by_product = {product.id: product.lst_price for product in products}
            for line in lines:
                prices[line] = {
                    product: by_product[product.id]
                    for product in line.product_id | line.addon_product_ids
                }
        return prices

    def _message_nothing_to_pay(self):
        self.ensure_one()
        if self.billing_status == "waived":
            return self.env._(
                "%(client)s's %(code)s fee is waived: there is nothing to pay.",
                client=self.partner_id.display_name,
                code=self.product_id.name,
            )
        if not self.state:
            return self.env._(
                "Record whether %(client)s attended before taking a payment.",
                client=self.partner_id.display_name,
            )
        return self.env._(
            "%(client)s's code is “%(code)s”: nothing is billed, so there is nothing to pay.",
            client=self.partner_id.display_name,
            code=self.product_id.name,
        )

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
