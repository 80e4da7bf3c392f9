import re

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date

CLAIM_STATES = [
    ("to_submit", "To submit"),
    ("submitted", "Submitted"),
    ("paid", "Paid"),
    ("partial", "Partially paid"),
    ("denied", "Denied"),
    ("voided", "Voided"),
    ("cancelled", "Cancelled"),
]
# A claim the insurer was told to void (frequency 8 submitted), or one withdrawn before it was
# ever sent: it no longer bills its service, which may then be changed and claimed again.
CLAIM_CLOSED_STATES = ("voided", "cancelled")


class TherapyClaim(models.Model):
    _name = "therapy.claim"
    _description = "Insurance Claim"
    _inherit = [
        "therapy.staff.followers.mixin",
        "mail.thread",
        "therapy.server.owned.mixin",
        "therapy.input.mixin",
        "therapy.readable.target.mixin",
    ]
    _order = "date_of_service desc, id desc"
    _check_company_auto = True
    # Its client and session follow the attendance line: an accountant, who reads no
    # attendance line, would learn who attended which session from any line's id.
    _therapy_readable_target_fields = ("attendance_id",)
    # A claim is the server's record of what was billed to an insurer and what it answered:
    # created by invoicing, sent by the export, settled by the 835 import. Nothing of it is
    # typed in (every field is read-only on the form); over RPC, a claim written or created by
    # hand would bill an insurer for a session that was not charged, or read a client's
    # attendance through the claim's related fields.
    _therapy_server_owned_fields = (
        "name",
        "attendance_id",
        "coverage_id",
        "payer_id",
        "company_id",
        "date_of_service",
        "amount_charge",
        "amount_copay",
        "amount_paid",
        "amount_contractual",
        "amount_patient",
        "invoice_id",
        "copay_invoice_id",
        "state",
        "frequency_code",
        "payer_claim_ref",
        "submitted_on",
        "export_attachment_id",
        "denial_reason",
        "void_answered_date",
        "primary_claim_id",
        "secondary_claim_ids",
        "primary_adjudication",
    )

    # what is claimed
    name = fields.Char(
        string="Claim ID",
        required=True,
        readonly=True,
        copy=False,
        default="/",
        index=True,
        help="Sent to the insurer as the claim's reference (CLM01); the remittance names it back.",
    )
    attendance_id = fields.Many2one(
        "therapy.attendance",
        string="Service",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    event_id = fields.Many2one(related="attendance_id.event_id", string="Session", store=True)
    partner_id = fields.Many2one(
        related="attendance_id.partner_id", string="Client", store=True, index=True
    )
    # The coverage names the member ID and the plan (its label is "Insurer MemberID
    # (Primary)"): clinical billing data for those who serve the client, not for an accountant
    # without a Group Therapy role, who posts and reconciles the claim by its insurer, amounts,
    # claim number and invoice. Odoo reads a many2one's label as superuser, so the field itself
    # is closed to them (read, search, group, export, views); the server reads it as superuser
    # where their workflows need it (the 835 import's claims to the secondary insurer).
    coverage_id = fields.Many2one(
        "therapy.coverage",
        required=True,
        readonly=True,
        ondelete="restrict",
        check_company=True,
        groups="group_therapy.group_therapy_user",
    )
    payer_id = fields.Many2one(
        "res.partner", string="Insurer", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_of_service = fields.Date(
        required=True, readonly=True, index=True, help="The session's local day."
    )
    # money
    amount_charge = fields.Monetary(
        string="Charge", readonly=True, help="The full charge sent to the insurer."
    )
    amount_copay = fields.Monetary(string="Copay", readonly=True, help="Invoiced to the client.")
    amount_paid = fields.Monetary(string="Paid by Insurer", readonly=True)
    amount_contractual = fields.Monetary(
        string="Contractual Adjustment", readonly=True, help="Written off (CO adjustments)."
    )
    amount_patient = fields.Monetary(
        string="Patient Responsibility",
        readonly=True,
        help="What the insurer says the client owes (deductible, coinsurance, copay).",
    )
    invoice_id = fields.Many2one(
        "account.move", string="Insurer Invoice", readonly=True, copy=False, index=True
    )
    copay_invoice_id = fields.Many2one("account.move", readonly=True, copy=False)
    amount_residual = fields.Monetary(
        related="invoice_id.amount_residual", string="Insurer Balance"
    )
    # where it stands
    state = fields.Selection(
        selection=CLAIM_STATES,
        required=True,
        default="to_submit",
        readonly=True,
        index=True,
        tracking=True,
    )
    frequency_code = fields.Selection(
        selection=[("1", "1 - Original"), ("7", "7 - Replacement"), ("8", "8 - Void")],
        default="1",
        required=True,
        readonly=True,
        help="Replacement: a corrected claim that replaces the original at the insurer. Void: "
        "asks the insurer to cancel its claim, quoting its number.",
    )
    payer_claim_ref = fields.Char(
        string="Insurer's Claim Number",
        readonly=True,
        copy=False,
        help="The insurer's reference for the claim, from its remittance; a corrected claim "
        "quotes it.",
    )
    submitted_on = fields.Datetime(readonly=True, copy=False)
    export_attachment_id = fields.Many2one(
        "ir.attachment", string="Submitted File", readonly=True, copy=False
    )
    denial_reason = fields.Text(readonly=True, copy=False)
    void_answered_date = fields.Date(
        string="Void Answered On",
        readonly=True,
        copy=False,
        help="The date of the insurer's remittance (835) that answered the void (its words are "
        "in the chatter). Empty on a voided claim: the insurer has not answered yet.",
    )
    # coordination of benefits: a claim to the secondary insurer follows the primary's payment
    primary_claim_id = fields.Many2one(
        "therapy.claim",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
        help="Set on a claim to the client's secondary insurer: the primary insurer's claim whose "
        "remaining patient responsibility it asks the secondary to cover.",
    )
    secondary_claim_ids = fields.One2many(
        "therapy.claim", "primary_claim_id", string="Secondary Claims", readonly=True
    )
    primary_adjudication = fields.Json(
        readonly=True,
        copy=False,
        help="What the primary insurer's remittance said of the claim (paid, adjustments per "
        "claim and per line, date), sent to the secondary insurer in the 837P COB loops.",
    )
    age_days = fields.Integer(
        string="Age (days)", compute="_compute_age_days", help="Days since the date of service."
    )

    _name_company_uniq = models.Constraint(
        "UNIQUE(name, company_id)", "A claim ID is used once per practice."
    )

    @api.depends("date_of_service")
    def _compute_age_days(self):
        """How long the claim has been waiting for money, as the biller counts it."""
        today = fields.Date.context_today(self)
        for claim in self:
            claim.age_days = (today - claim.date_of_service).days if claim.date_of_service else 0

    @api.model_create_multi
    def create(self, vals_list):
        if not self._therapy_is_server_write():
            self.check_access("create")
            raise UserError(
                self.env._(
                    "Insurance claims are created by invoicing the attendance of an insured "
                    "client: open the session and click Invoice."
                )
            )
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("therapy.claim") or "/"
        return super().create(vals_list)

    def write(self, vals):
        # Who may not write claims at all is told so first (a provider: access refused).
        self.check_access("write")
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        """A claim sent to the insurer is what the insurer was told: it is voided, never
        deleted (which would also delete the 837P file kept on it)."""
        sent = self.filtered("submitted_on")
        if sent:
            raise UserError(
                self.env._(
                    "Claim %(claim)s was sent to %(payer)s: it cannot be deleted. Void it "
                    "instead (Void), which tells the insurer.",
                    claim=sent[0].name,
                    payer=sent[0].payer_id.name,
                )
            )

    def action_open_invoice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.invoice_id.id,
            "view_mode": "form",
        }

    def action_resubmit(self):
        """A corrected claim: sent again as a replacement (frequency 7) of the insurer's claim."""
        for claim in self:
            if claim.state not in ("denied", "partial", "submitted"):
                raise UserError(
                    self.env._(
                        "Claim %(claim)s has not been sent yet: submit it as it is.",
                        claim=claim.name,
                    )
                )
            if not claim.payer_claim_ref:
                raise UserError(
                    self.env._(
                        "Claim %(claim)s has no claim number from %(payer)s yet: a corrected "
                        "claim must quote it. Wait for the remittance, or call the insurer.",
                        claim=claim.name,
                        payer=claim.payer_id.name,
                    )
                )
        self._therapy_server_write({"state": "to_submit", "frequency_code": "7"})
        return True

    def action_void(self):
        """Withdraw claims billed in error, as Odoo withdraws an invoice: a claim never sent is
        cancelled; one the insurer has is voided by a claim of frequency 8 quoting the insurer's
        claim number (REF*F8), which the next 837P export sends. The receivables the claim made
        (the insurer's invoice and the client's copay) are credited now; the service is free
        to change and to be claimed again once the claim is cancelled or its void is sent."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(
                self.env._(
                    "Only billing staff (Accounting: Billing) void insurance claims: ask them."
                )
            )
        self.check_access("write")
        # Two people voiding the same claim at once: one credits its invoices, the other waits
        # and is then refused (already voided), or is told to try again (LockError).
        self.lock_for_update()
        for claim in self:
            claim._therapy_check_voidable()
        to_cancel = self.filtered(lambda claim: not claim.submitted_on)
        to_void = self - to_cancel
        credit_notes = self._therapy_credit_receivables()
        to_cancel._therapy_server_write({"state": "cancelled"})
        to_void._therapy_server_write({"state": "to_submit", "frequency_code": "8"})
        for claim in self:
            credited = credit_notes.filtered(
                lambda move, claim=claim: move.reversed_entry_id
                in (claim.invoice_id | claim.copay_invoice_id)
            )
            if claim in to_cancel:
                body = self.env._(
                    "Claim cancelled before it was sent to %(payer)s.", payer=claim.payer_id.name
                )
            else:
                body = self.env._(
                    "Void of %(payer)s's claim %(ref)s to submit (frequency 8): the next 837P "
                    "export sends it.",
                    payer=claim.payer_id.name,
                    ref=claim.payer_claim_ref,
                )
            if credited:
                body += " " + self.env._(
                    "Credited: %(moves)s.", moves=", ".join(credited.mapped("name"))
                )
            claim.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")
        return True

    def _therapy_record_void_answer(self, era, status, payer_ref, reasons):
        """Record the insurer's answer to this claim's void from its remittance ``era`` (an
        835 line with nothing paid; ``status`` its claim status in words, ``payer_ref`` the
        insurer's number for it, ``reasons`` its adjustments and remarks in words): its date,
        and in the chatter its words. Nothing is posted: voiding credited the claim's invoices.
        A void still waiting to be sent is Voided and no longer sent: the insurer has answered
        it already."""
        self.ensure_one()
        waiting = self.state != "voided"
        self._therapy_server_write({"state": "voided", "void_answered_date": era.payment_date})
        body = self.env._(
            "%(payer)s answered the void in its remittance %(era)s of %(date)s: %(status)s, "
            "nothing paid. Nothing was posted: the claim's invoices were credited when it was "
            "voided.",
            payer=self.payer_id.name,
            era=era.trace_number,
            date=format_date(self.env, era.payment_date),
            status=status,
        )
        if waiting:
            body += " " + self.env._(
                "The void was still waiting to be sent: the insurer has it already, so it is "
                "not sent again."
            )
        if payer_ref and payer_ref != self.payer_claim_ref:
            body += " " + self.env._("The insurer's number for the void: %(ref)s.", ref=payer_ref)
        if reasons:
            body += " " + self.env._("Its reasons: %(reasons)s.", reasons="; ".join(reasons))
        self.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")

    def _therapy_check_voidable(self):
        """Refuse to void a claim the insurer already answered, or one already withdrawn."""
        self.ensure_one()
        states = dict(self._fields["state"]._description_selection(self.env))
        if self.state in CLAIM_CLOSED_STATES:
            raise UserError(
                self.env._(
                    "Claim %(claim)s is already %(state)s.",
                    claim=self.name,
                    state=states[self.state].lower(),
                )
            )
        if self.frequency_code == "8":
            raise UserError(
                self.env._(
                    "The void of claim %(claim)s is already waiting to be submitted: export "
                    "the claims (837P) to send it.",
                    claim=self.name,
                )
            )
        if self._therapy_has_remittance_posted():
            raise UserError(
                self.env._(
                    "Claim %(claim)s is %(state)s and %(payer)s's remittance is posted on it "
                    "(a payment or adjustments): voiding it here would credit what the insurer "
                    "paid. Ask the insurer to reverse its remittance (the 835 import then makes "
                    "the claim submitted again) and void it then, or send a corrected claim "
                    "(Correct and Resubmit).",
                    claim=self.name,
                    state=states[self.state].lower(),
                    payer=self.payer_id.name,
                )
            )
        live_secondaries = self.secondary_claim_ids.filtered(
            lambda claim: claim.state not in CLAIM_CLOSED_STATES
        )
        if live_secondaries:
            raise UserError(
                self.env._(
                    "Claim %(claim)s has the secondary claim %(secondary)s: void that one first.",
                    claim=self.name,
                    secondary=live_secondaries[0].name,
                )
            )
        if self.submitted_on and not self.payer_claim_ref:
            raise UserError(
                self.env._(
                    "Claim %(claim)s was sent to %(payer)s, which has not given its claim "
                    "number yet: a void must quote it. Wait for the insurer's acknowledgement "
                    "or remittance, or call the insurer for the number.",
                    claim=self.name,
                    payer=self.payer_id.name,
                )
            )

    def _therapy_has_remittance_posted(self):
        """Whether money or adjustments from the insurer's remittance are on the claim's books:
        a payment, a write-off or a patient share not reversed since. A denial posts nothing."""
        self.ensure_one()
        if self.state in ("paid", "partial") or self.amount_paid:
            return True
        if self.invoice_id.payment_state in ("paid", "in_payment", "partial"):
            return True
        # the remittance's own entries, as _reverse_remittance finds them (read as superuser:
        # the accountant reads them, a front desk user may not read every journal)
        return bool(
            self.env["account.move"]
            .sudo()
            .search_count(
                [
                    ("therapy_claim_id", "=", self.id),
                    ("id", "!=", self.invoice_id.id),
                    ("state", "=", "posted"),
                    ("reversed_entry_id", "=", False),
                    ("reversal_move_ids", "=", False),
                ],
                limit=1,
            )
        )

    def _therapy_credit_receivables(self):
        """Credit notes for the insurer's invoices and the copays of these claims, posted: an
        open invoice is reconciled with its credit note (Odoo's Reverse and cancel), a paid
        copay keeps its payment and the credit note stays open as the client's credit."""
        claim_of = {}
        for claim in self:
            for move in claim.invoice_id | claim.copay_invoice_id:
                claim_of[move] = claim
        invoices = (
            self.env["account.move"]
            .union(*claim_of)
            .filtered(
                lambda move: move.state == "posted"
                and move.payment_state != "reversed"
                and "posted" not in move.reversal_move_ids.mapped("state")
            )
        )
        today = fields.Date.context_today(self)
        credit_notes = self.env["account.move"]
        for paid, moves in invoices.grouped(
            lambda move: move.payment_state not in ("not_paid", "reversed")
        ).items():
            credited = moves._reverse_moves(
                [
                    {
                        "ref": self.env._(
                            "Void of claim %(claim)s: %(move)s",
                            claim=claim_of[move].name,
                            move=move.name,
                        ),
                        "date": today,
                        "invoice_date": today,
                    }
                    for move in moves
                ],
                cancel=not paid,
            )
            credited.filtered(lambda move: move.state == "draft").action_post()
            credit_notes |= credited
        return credit_notes

    # -- creation at invoicing ---------------------------------------------------------------

    @api.model
    def _create_from_attendances(self, lines, prices):
        """For each insured line: the claim, its invoice to the insurer, and the client's copay.

        The insurer's invoice carries the full charge less the copay, so that the two
        receivables add up to the charge: no revenue is counted twice. The claims, then all
        their invoices, are created in one batch each (one create per claim and invoice made a
        session of 50 insured clients cost about 40 queries per claim).
        """
        coverages = {line: line._therapy_primary_coverage() for line in lines}
        products = {line: line.product_id | line.addon_product_ids for line in lines}
        charges = {line: sum(prices[line][product] for product in products[line]) for line in lines}
        copays = {line: min(coverages[line].copay_amount, charges[line]) for line in lines}
        claims = self._therapy_server_create(
            [
                {
                    "attendance_id": line.id,
                    "coverage_id": coverages[line].id,
                    "payer_id": coverages[line].payer_id.id,
                    "company_id": line.company_id.id,
                    "date_of_service": line.session_date,
                    "amount_charge": charges[line],
                    "amount_copay": copays[line],
                }
                for line in lines
            ]
        )
        move_vals_list, invoice_at, copay_at = [], {}, {}
        for line, claim in zip(lines, claims, strict=True):
            coverage, copay = coverages[line], copays[line]
            header = {
                "move_type": "out_invoice",
                "invoice_date": line.session_date,
                "company_id": line.company_id.id,
                # No "Salesperson" on the payer's or the client's copay invoice: the rendering
                # provider is therapy_provider_id.
                "invoice_user_id": False,
                "therapy_event_id": line.event_id.id,
                "therapy_group_id": line.group_id.id,
                "therapy_provider_id": line.rendering_provider_id.id,
                "invoice_origin": line._invoice_origin(),
                "therapy_claim_id": claim.id,
            }
            day = format_date(self.env, line.session_date)
            invoice_lines = [
                Command.create(
                    {
                        "product_id": product.id,
                        "name": self.env._(
                            "%(code)s %(name)s for %(client)s, %(group)s group session of %(date)s",
                            code=product.therapy_code,
                            name=product.name,
                            client=line.partner_id.name,
                            group=line.group_id.code,
                            date=day,
                        ),
                        "quantity": 1.0,
                        "price_unit": prices[line][product],
                        "tax_ids": [Command.clear()],
                        "therapy_attendance_id": line.id,
                    }
                )
                for product in products[line]
            ]
            if copay:
                invoice_lines.append(
                    Command.create(
                        {
                            "name": self.env._("Copay billed to the client"),
                            "quantity": 1.0,
                            "price_unit": -copay,
                            "tax_ids": [Command.clear()],
                        }
                    )
                )
            invoice_at[claim] = len(move_vals_list)
            move_vals_list.append(
                {
                    **header,
                    **line._invoice_due_values(coverage.payer_id),
                    "partner_id": coverage.payer_id.id,
                    "invoice_line_ids": invoice_lines,
                }
            )
            if copay:
                client = line.partner_id.sudo().therapy_billing_partner_id or line.partner_id
                copay_at[claim] = len(move_vals_list)
                move_vals_list.append(
                    {
                        **header,
                        **line._invoice_due_values(client),
                        "therapy_claim_id": False,
                        "partner_id": client.id,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": self.env._(
                                        "Copay, %(group)s group session of %(date)s "
                                        "(insured by %(payer)s)",
                                        group=line.group_id.code,
                                        date=day,
                                        payer=coverage.payer_id.name,
                                    ),
                                    "quantity": 1.0,
                                    "price_unit": copay,
                                    "tax_ids": [Command.clear()],
                                    "therapy_attendance_id": line.id,
                                }
                            )
                        ],
                    }
                )
        moves = self.env["account.move"]._therapy_server_create(move_vals_list)
        for claim in claims:
            values = {"invoice_id": moves[invoice_at[claim]].id}
            if claim in copay_at:
                values["copay_invoice_id"] = moves[copay_at[claim]].id
            claim._therapy_server_write(values)
        (claims.invoice_id | claims.copay_invoice_id).action_post()
        return claims

    # -- 837P --------------------------------------------------------------------------------

    def _x12_problems(self):
        """What stops these claims from going to the insurer, in the biller's words."""
        problems = []
        companies = self.company_id
        for company in companies:
            npi = company.therapy_npi
            practice = company.name
            if not npi:
                problems.append(
                    self.env._("The practice %(name)s has no billing NPI.", name=practice)
                )
            if len(re.sub(r"\D", "", company.vat or "")) != 9:
                problems.append(
                    self.env._(
                        "The practice %(name)s has no 9-digit tax ID (EIN) in Tax ID.",
                        name=practice,
                    )
                )
            if not company.therapy_taxonomy_code:
                problems.append(
                    self.env._("The practice %(name)s has no taxonomy code.", name=practice)
                )
            if not (company.street and company.city and company.state_id):
                problems.append(
                    self.env._("The practice %(name)s has no full address.", name=practice)
                )
            if len(re.sub(r"\D", "", company.zip or "")) != 9:
                problems.append(
                    self.env._(
                        "The practice %(name)s's ZIP code needs its 4-digit extension "
                        "(ZIP+4, e.g. 94612-1234) on claims.",
                        name=practice,
                    )
                )
        notes_sudo = (
            self.env["therapy.chart.note"]
            .sudo()
            .search(
                [
                    ("attendance_id", "in", self.attendance_id.ids),
                    ("state", "in", ("to_cosign", "locked")),
                ]
            )
        )
        # Final notes only: a note waiting for the supervisor's co-signature is not.
        signed = set(notes_sudo.filtered(lambda note: note.state == "locked").attendance_id.ids)
        waiting = set(notes_sudo.filtered(lambda note: note.state == "to_cosign").attendance_id.ids)
        for claim in self:
            client = claim.partner_id.sudo()
            who = self.env._("Client %(name)s", name=client.name)
            problems += [f"{who} {problem}" for problem in claim._x12_person_problems(client)]
            coverage = claim.coverage_id.sudo()
            if coverage.relationship != "self":
                if not coverage.subscriber_id:
                    problems.append(
                        self.env._(
                            "%(who)s: the coverage has no subscriber (the policy holder).",
                            who=who,
                        )
                    )
                else:
                    holder = self.env._("Subscriber %(name)s", name=coverage.subscriber_id.name)
                    problems += [
                        f"{holder} {problem}"
                        for problem in claim._x12_person_problems(coverage.subscriber_id.sudo())
                    ]
            if not claim.payer_id.therapy_payer_code:
                problems.append(
                    self.env._(
                        "Insurer %(payer)s has no payer ID: ask the clearinghouse for it.",
                        payer=claim.payer_id.name,
                    )
                )
            if not claim._x12_diagnoses():
                problems.append(self.env._("%(who)s has no diagnosis code.", who=who))
            provider = claim.attendance_id.rendering_provider_id.sudo()
            if not provider.therapy_npi:
                problems.append(
                    self.env._(
                        "Provider %(provider)s, who ran the session of %(date)s, has no NPI.",
                        provider=provider.name,
                        date=claim.date_of_service,
                    )
                )
            if claim.attendance_id.id in waiting:
                problems.append(
                    self.env._(
                        "%(who)s: the chart note of %(date)s waits for the supervisor's "
                        "co-signature.",
                        who=who,
                        date=claim.date_of_service,
                    )
                )
            elif claim.attendance_id.id not in signed:
                problems.append(
                    self.env._(
                        "%(who)s: the chart note of %(date)s is not signed.",
                        who=who,
                        date=claim.date_of_service,
                    )
                )
            if claim.frequency_code in ("7", "8") and not claim.payer_claim_ref:
                problems.append(
                    self.env._(
                        "Claim %(claim)s replaces or voids an earlier one but has no insurer's "
                        "claim number.",
                        claim=claim.name,
                    )
                )
        return list(dict.fromkeys(problems))

    def _x12_person_problems(self, partner):
        """A client's or subscriber's missing facts: birth date, sex, address."""
        problems = []
        if not partner.therapy_birthdate:
            problems.append(self.env._("has no birth date."))
        if not partner.therapy_sex:
            problems.append(self.env._("has no administrative sex."))
        if not (partner.street and partner.city and partner.state_id and partner.zip):
            problems.append(self.env._("has no full address (street, city, state, ZIP)."))
        return problems

    def _x12_diagnoses(self):
        """The claim's ICD-10 codes, primary first."""
        self.ensure_one()
        return self.partner_id.sudo().therapy_diagnosis_ids.mapped("code")

    def _x12_claim_values(self):
        """The claim as build_837p() takes it."""
        self.ensure_one()
        coverage = self.coverage_id.sudo()
        client = self.partner_id.sudo()
        attendance = self.attendance_id
        provider = attendance.rendering_provider_id.sudo()
        rendering = {
            **_x12_name(provider.name),
            "npi": provider.therapy_npi,
            # PRV*PE in 2310B/2420A: the provider's own specialty, when the practice set it.
            "taxonomy": provider.therapy_taxonomy_code or "",
        }
        diagnoses = self._x12_diagnoses()
        # The line's own diagnosis pointers (A = primary), as SV107 numbers into the HI list.
        letters = attendance._diagnosis_pointer_letters()
        pointers = [ord(letter) - ord("A") + 1 for letter in letters][:4] or [1]
        modifiers = [
            modifier.strip().upper()
            for modifier in (attendance.modifiers or "").split(",")
            if modifier.strip()
        ]
        services = [
            {
                "code": line.product_id.therapy_code,
                "modifiers": modifiers,
                "charge": line.price_unit,
                "units": 1,
                "pointers": pointers,
                "date": self.date_of_service,
                # Every code of the line is the session's service, by its provider.
                "rendering": rendering,
            }
            # A secondary claim is for the same services: the primary claim's invoice lists them.
            for line in (self.primary_claim_id or self).invoice_id.invoice_line_ids.filtered(
                "product_id"
            )
        ]
        cob = self._x12_cob_values(services)
        subscriber = coverage.subscriber_id.sudo() if coverage.relationship != "self" else client
        return {
            "ref": self.name,
            "relationship": coverage.relationship,
            "group_number": coverage.group_number or "",
            "filing_code": coverage.payer_id.therapy_claim_filing_code or "CI",
            "member_ident": coverage.member_ident,
            "subscriber": _x12_person(subscriber),
            "client": _x12_person(client),
            "charge": self.amount_charge,
            "place_of_service": attendance.place_of_service or "11",
            "frequency": self.frequency_code,
            "original_ref": self.payer_claim_ref or "",
            "diagnoses": diagnoses,
            "rendering": rendering,
            "services": services,
            "cob": cob,
        }

    def _x12_cob_values(self, services):
        """For a secondary claim: the primary insurer, its subscriber and what it paid and
        adjusted, per claim and on each service line its remittance adjudicated (2320-2430).
        Sets each service's ``adjudication``; None for a primary claim."""
        self.ensure_one()
        adjudication = self.primary_adjudication
        if not self.primary_claim_id or not adjudication:
            return None
        primary = self.primary_claim_id
        coverage = primary.coverage_id.sudo()
        client = self.partner_id.sudo()
        subscriber = coverage.subscriber_id.sudo() if coverage.relationship != "self" else client
        remitted = list(adjudication.get("services") or [])
        for service in services:
            # The remittance's lines, matched to ours by procedure code in order.
            match = next((line for line in remitted if line["code"] == service["code"]), None)
            if match:
                remitted.remove(match)
                service["adjudication"] = {
                    "code": match["code"],
                    "modifiers": match.get("modifiers") or [],
                    "units": int(match.get("units") or 1),
                    "paid": match["paid"] or 0.0,
                    "adjustments": [tuple(item) for item in match["adjustments"]],
                }
        return {
            "payer": {"name": primary.payer_id.name, "code": primary.payer_id.therapy_payer_code},
            "relationship": coverage.relationship,
            "group_number": coverage.group_number or "",
            "filing_code": primary.payer_id.therapy_claim_filing_code or "CI",
            "subscriber": _x12_person(subscriber),
            "member_ident": coverage.member_ident,
            "paid": adjudication["paid"],
            "adjustments": [tuple(item) for item in adjudication["claim_adjustments"]],
            "date": fields.Date.to_date(adjudication["date"]),
            "payer_ref": adjudication.get("payer_ref") or "",
        }

    # -- 835 ---------------------------------------------------------------------------------

    @api.model
    def _post_remittances(self, postings, era):
        """Settle each insurer's invoice down to what it paid: the contractual adjustment is
        written off, the patient's share beyond the copay moves to an invoice of the client,
        or, when the client has a secondary insurer, to a claim to that insurer (the client
        is then billed what the secondary leaves, when its remittance comes).

        `postings`: (claim, paid, write_off, patient, entry) per claim the remittance pays.
        Every move of the remittance is created and posted in one batch, each claim's credit
        note reconciled with its invoice in one reconciliation plan: per claim, the same
        entries as one by one. Returns the insurer's invoices that the payment then pays."""
        Move = self.env["account.move"]
        if not postings:
            return Move
        secondaries = self._therapy_forward_to_secondaries(postings, era)
        vals_list, payer_invoices = [], Move
        # Per claim: where its credit note to the insurer is in vals_list, to reconcile it.
        refund_at, secondary_invoice_at, payer_invoice_at = {}, {}, []
        for claim, _paid, write_off, patient, _entry in postings:
            secondary = secondaries.get(claim, self.browse())
            payer_invoices |= claim.invoice_id
            for role, vals in claim._remittance_move_values(write_off, patient, era, secondary):
                if role == "payer_refund":
                    refund_at[claim] = len(vals_list)
                elif role == "secondary_invoice":
                    secondary_invoice_at[secondary] = len(vals_list)
                elif role == "payer_invoice":
                    payer_invoice_at.append(len(vals_list))
                vals_list.append((role, vals))
        moves = Move._therapy_server_create([vals for _role, vals in vals_list]).with_env(self.env)
        moves.action_post()
        for secondary, index in secondary_invoice_at.items():
            secondary._therapy_server_write({"invoice_id": moves[index].id})
        payer_invoices |= Move.union(*(moves[index] for index in payer_invoice_at))
        plans = [
            self._receivable_lines(moves[index] | claim.invoice_id).filtered(
                lambda line: not line.reconciled
            )
            for claim, index in refund_at.items()
        ]
        if plans:
            self.env["account.move.line"]._reconcile_plan(plans)
        return payer_invoices

    def _remittance_move_values(self, write_off, patient, era, secondary):
        """The entries that settle this claim's remittance: [(role, account.move values)],
        role one of payer_refund, client_invoice, secondary_invoice, payer_invoice,
        client_refund."""
        self.ensure_one()
        company = self.company_id
        client = self.partner_id.sudo().therapy_billing_partner_id or self.partner_id
        header = {
            "company_id": company.id,
            "invoice_date": era.payment_date,
            "therapy_claim_id": self.id,
            # the session's group and provider follow (stored related fields): an accountant
            # posting the remittance does not read the session
            "therapy_event_id": self.event_id.id,
            "invoice_origin": era.name,
        }
        payer_refund_lines, moves = [], []
        if write_off:
            payer_refund_lines.append(
                _move_line(
                    self.env._("Contractual adjustment on claim %(claim)s", claim=self.name),
                    write_off,
                    company.therapy_writeoff_account_id,
                )
            )
        moved = round(patient - self.amount_copay, 2)
        label = self.env._(
            "Your share of the session of %(date)s after %(payer)s paid (claim %(claim)s)",
            date=format_date(self.env, self.date_of_service),
            payer=self.payer_id.name,
            claim=self.name,
        )
        if moved > 0:
            payer_refund_lines.append(
                _move_line(
                    self.env._(
                        "Patient responsibility of %(client)s on claim %(claim)s",
                        client=self.partner_id.name,
                        claim=self.name,
                    ),
                    moved,
                )
            )
            if secondary:
                moves.append(
                    (
                        "secondary_invoice",
                        {
                            **header,
                            "move_type": "out_invoice",
                            "partner_id": secondary.payer_id.id,
                            "therapy_claim_id": secondary.id,
                            "invoice_line_ids": [
                                _move_line(
                                    self.env._(
                                        "%(client)s's share of the session of %(date)s after "
                                        "%(payer)s paid (claim %(primary)s), claimed as "
                                        "secondary insurer (claim %(claim)s)",
                                        client=self.partner_id.name,
                                        date=format_date(self.env, self.date_of_service),
                                        payer=self.payer_id.name,
                                        primary=self.name,
                                        claim=secondary.name,
                                    ),
                                    moved,
                                )
                            ],
                        },
                    )
                )
            else:
                moves.append(
                    (
                        "client_invoice",
                        {
                            **header,
                            "move_type": "out_invoice",
                            "partner_id": client.id,
                            "invoice_line_ids": [_move_line(label, moved)],
                        },
                    )
                )
        elif moved < 0:
            # The insurer says the client owes less than the copay billed: the difference is
            # the insurer's to pay, and the client is credited.
            moves.append(
                (
                    "payer_invoice",
                    {
                        **header,
                        "move_type": "out_invoice",
                        "partner_id": self.payer_id.id,
                        "invoice_line_ids": [
                            _move_line(self.env._("Copay above the patient responsibility"), -moved)
                        ],
                    },
                )
            )
            moves.append(
                (
                    "client_refund",
                    {
                        **header,
                        "move_type": "out_refund",
                        "partner_id": client.id,
                        "invoice_line_ids": [_move_line(label, -moved)],
                    },
                )
            )
        if payer_refund_lines:
            moves.append(
                (
                    "payer_refund",
                    {
                        **header,
                        "move_type": "out_refund",
                        "partner_id": self.payer_id.id,
                        "invoice_line_ids": payer_refund_lines,
                    },
                )
            )
        return moves

    @api.model
    def _therapy_forward_to_secondaries(self, postings, era):
        """The claims to the clients' secondary insurers for what the primary left to them,
        with the primary's adjudication for their COB loops, made in one batch:
        {primary claim: secondary claim}. None for a secondary claim, a claim without patient
        responsibility, or a client without secondary coverage."""
        vals_list = []
        for claim, _paid, _write_off, patient, entry in postings:
            if claim.primary_claim_id or patient <= 0:
                continue
            coverage = claim.partner_id.sudo().therapy_coverage_ids.filtered(
                lambda coverage, claim=claim: coverage.priority == "secondary"
                and coverage.company_id == claim.company_id
            )[:1]
            if not coverage:
                continue
            vals_list.append(
                {
                    "attendance_id": claim.attendance_id.id,
                    "coverage_id": coverage.id,
                    "payer_id": coverage.payer_id.id,
                    "company_id": claim.company_id.id,
                    "date_of_service": claim.date_of_service,
                    "amount_charge": claim.amount_charge,
                    # What the client already owes for the session: the copay billed at the
                    # desk, down to the primary's patient responsibility when that is less.
                    "amount_copay": min(claim.amount_copay, patient),
                    "primary_claim_id": claim.id,
                    "primary_adjudication": {
                        "paid": entry["paid"],
                        "patient": patient,
                        "date": fields.Date.to_string(era.payment_date),
                        "payer_ref": entry.get("payer_ref") or "",
                        "claim_adjustments": entry.get("claim_adjustments") or [],
                        "services": entry.get("services") or [],
                    },
                }
            )
        # The coverage is closed to an accountant posting the remittance (see coverage_id):
        # the claims are created as superuser once their right to create claims is checked.
        self.check_access("create")
        secondaries_sudo = self.sudo().create(vals_list)
        return {
            secondary.primary_claim_id: secondary
            for secondary in secondaries_sudo.with_env(self.env)
        }

    def _reverse_remittance(self, era):
        """Undo what earlier remittances posted for this claim (the insurer reverses its
        payment, CLP02 = 22), with Odoo's own reversals: the write-off and the patient share
        are reversed (each reconciled with its reversal), and the insurer's payment is
        unmatched from the claim's invoice, which is open again for the insurer.

        Returns the insurer's payment lines this frees: the money the insurer now nets from
        the remittance's payment, to match against the other claims it pays."""
        self.ensure_one()
        receivable = self._receivable_lines(self.invoice_id)
        posted = self.env["account.move"].search(
            [
                ("therapy_claim_id", "=", self.id),
                ("id", "!=", self.invoice_id.id),
                ("state", "=", "posted"),
                ("reversed_entry_id", "=", False),
                ("reversal_move_ids", "=", False),
            ]
        )
        # The invoice to the insurer for a copay above the patient responsibility is the
        # claim's too: its payment is freed with the invoice's.
        receivable |= self._receivable_lines(
            posted.filtered(
                lambda move: move.move_type == "out_invoice" and move.partner_id == self.payer_id
            )
        )
        partials = receivable.matched_credit_ids.filtered(
            lambda partial: partial.credit_move_id.move_id.origin_payment_id
        )
        freed = partials.credit_move_id
        partials.unlink()
        if posted:
            posted._reverse_moves(
                [
                    {
                        "date": era.payment_date,
                        "invoice_date": era.payment_date,
                        "ref": self.env._(
                            "Reversal of %(move)s: %(era)s reverses claim %(claim)s",
                            move=move.name,
                            era=era.name,
                            claim=self.name,
                        ),
                    }
                    for move in posted
                ],
                cancel=True,
            )
        return freed

    @staticmethod
    def _receivable_lines(moves):
        return moves.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )


def _x12_name(name):
    """A person's name split as claims want it: the last word is the last name."""
    parts = (name or "").split()
    return {"last": parts[-1] if parts else "", "first": " ".join(parts[:-1])}


def _x12_person(partner):
    return {
        **_x12_name(partner.name),
        "birthdate": partner.therapy_birthdate,
        "sex": partner.therapy_sex or "unknown",
        "street": " ".join(filter(None, [partner.street, partner.street2])),
        "city": partner.city,
        "state": partner.state_id.code,
        "zip": re.sub(r"\D", "", partner.zip or ""),
    }


def _move_line(name, amount, account=None):
    """An invoice line without product or tax: money moved, not a service sold again."""
    values = {"name": name, "quantity": 1.0, "price_unit": amount, "tax_ids": [Command.clear()]}
    if account:
        values["account_id"] = account.id
    return Command.create(values)
