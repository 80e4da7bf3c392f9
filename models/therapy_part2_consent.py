from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

# What a disclosure is for, and what a consent allows it for. The 2024 rule lets a client sign
# one consent for all future treatment, payment and health care operations (42 CFR 2.33(a)(2)).
PART2_PURPOSES = [
    ("tpo", "Treatment, payment and health care operations"),
    ("treatment", "Treatment"),
    ("payment", "Payment"),
    ("operations", "Health care operations"),
    ("other", "Other (stated in the consent)"),
]
# The purposes of disclosures the addon makes, and the consents' purposes that cover them.
PART2_COVERING_PURPOSES = {
    "treatment": ("treatment", "tpo"),
    "payment": ("payment", "tpo"),
    "operations": ("operations", "tpo"),
}

# The notice that accompanies each disclosure made with the client's written consent:
# 42 CFR 2.32(a)(1), "Statement 1", as amended by the final rule of February 16, 2024
# (89 FR 12472). The text up to "applies:" is quoted from the published section; the three
# conditions and the closing sentence follow the same rule (they mirror 42 CFR 2.33(b)) but
# were not checked word for word against the eCFR: see README, "42 CFR Part 2".
PART2_NOTICE = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or "
    "testimony that describes the information contained in this record, in any civil, "
    "criminal, administrative, or legislative proceedings by any Federal, State, or local "
    "authority, against the patient, unless authorized by the consent of the patient, except "
    "as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR "
    "2.64 or 2.65. In addition, the Federal rules prohibit you from making any other use or "
    "disclosure of this record unless at least one of the following applies: (i) Further use "
    "or disclosure is expressly permitted by the written consent of the individual whose "
    "information is being disclosed in this record or as otherwise permitted by 42 CFR part 2. "
    "(ii) You are a covered entity or business associate and have received the record for "
    "treatment, payment, or health care operations, or (iii) You have received the record "
    "from a covered entity or business associate as permitted by 45 CFR part 164, subparts A "
    "and E. A general authorization for the release of medical or other information is NOT "
    "sufficient to meet the required elements of written consent to further use or redisclose "
    "the record (see 42 CFR 2.31)."
)


class TherapyPart2Consent(models.Model):
    """A client's written consent to disclose their substance-use treatment records
    (42 CFR 2.31): to whom, for what, what, signed when, until when; revocable."""

    _name = "therapy.part2.consent"
    _description = "42 CFR Part 2 Consent"
    _inherit = ["therapy.staff.followers.mixin", "mail.thread", "therapy.input.mixin"]
    _order = "partner_id, date_signed desc, id desc"
    _check_company_auto = True

    # who, to whom, what for
    partner_id = fields.Many2one(
        "res.partner",
        string="Client",
        required=True,
        index=True,
        ondelete="restrict",
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    recipient_id = fields.Many2one(
        "res.partner",
        required=True,
        index=True,
        ondelete="restrict",
        tracking=True,
        help="The person or organisation the records may be disclosed to, e.g. the client's "
        "insurer for payment.",
    )
    purpose = fields.Selection(
        selection=PART2_PURPOSES,
        required=True,
        default="tpo",
        tracking=True,
        help="Treatment, payment and health care operations: one consent for all such future "
        "disclosures to the recipient (2024 rule). Other: only what the consent states; the "
        "addon never discloses on it by itself.",
    )
    purpose_other = fields.Char(string="Stated Purpose", tracking=True)
    information = fields.Text(
        string="Information to Disclose",
        required=True,
        help="How much and what kind of information, including an explicit description of the "
        "substance use disorder information that may be disclosed.",
    )
    # signature and term
    date_signed = fields.Date(string="Signed On", required=True, tracking=True)
    date_expiry = fields.Date(string="Expires On", tracking=True)
    expiry_event = fields.Char(
        string="Expires Upon",
        tracking=True,
        help="An event that ends the consent, in words (e.g. discharge from the program). When "
        "it happens, enter its date in Expires On.",
    )
    revoked_on = fields.Date(
        tracking=True,
        help="The client revoked the consent (in writing, from this day): nothing is disclosed "
        "on it from then on.",
    )
    signed_form = fields.Binary(attachment=True)
    signed_form_name = fields.Char()
    # where it stands today
    state = fields.Selection(
        selection=[
            ("valid", "Valid"),
            ("not_yet", "Not yet in force"),
            ("expired", "Expired"),
            ("revoked", "Revoked"),
        ],
        compute="_compute_state",
        help="On today's date.",
    )

    @api.constrains("date_expiry", "expiry_event", "date_signed")
    def _check_expiry(self):
        """A consent ends on a date or upon an event (42 CFR 2.31(a)), never before it starts."""
        for consent in self:
            if not consent.date_expiry and not (consent.expiry_event or "").strip():
                raise ValidationError(
                    self.env._(
                        "The consent of %(client)s needs an expiry: a date, or the event upon "
                        "which it ends (e.g. discharge from the program).",
                        client=consent.partner_id.display_name,
                    )
                )
            if consent.date_expiry and consent.date_expiry < consent.date_signed:
                raise ValidationError(
                    self.env._(
                        "The consent of %(client)s expires before it was signed: check the dates.",
                        client=consent.partner_id.display_name,
                    )
                )

    @api.constrains("purpose", "purpose_other")
    def _check_purpose_other(self):
        """Another purpose is stated in words."""
        for consent in self:
            if consent.purpose == "other" and not (consent.purpose_other or "").strip():
                raise ValidationError(
                    self.env._("State the purpose of the consent in Stated Purpose.")
                )

    @api.depends("date_signed", "date_expiry", "revoked_on")
    def _compute_state(self):
        """Whether the consent allows a disclosure today."""
        today = fields.Date.context_today(self)
        for consent in self:
            consent.state = consent._state_on(today)

    @api.depends("partner_id", "recipient_id", "purpose")
    def _compute_display_name(self):
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        for consent in self:
            consent.display_name = self.env._(
                "%(client)s to %(recipient)s (%(purpose)s)",
                client=consent.partner_id.name or "",
                recipient=consent.recipient_id.name or "",
                purpose=consent.purpose_other or purposes.get(consent.purpose, ""),
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        """A consent a disclosure was made under stays on file: it is revoked, not deleted."""
        used_sudo = (
            self.env["therapy.access.log"]
            .sudo()
            .search([("part2_consent_id", "in", self.ids)], limit=1)
        )
        if used_sudo:
            raise UserError(
                self.env._(
                    "Records were disclosed under the consent %(consent)s: it stays on file as "
                    "their record. If the client withdrew it, revoke it instead (Revoked On).",
                    consent=used_sudo.part2_consent_id.display_name,
                )
            )

    def _state_on(self, day):
        """The consent's standing on ``day``: revoked and expired win over signed."""
        self.ensure_one()
        if self.revoked_on and self.revoked_on <= day:
            return "revoked"
        if self.date_expiry and self.date_expiry < day:
            return "expired"
        if not self.date_signed or self.date_signed > day:
            return "not_yet"
        return "valid"

    def _scope_label(self):
        """What the consent allows, as printed with a disclosure (42 CFR 2.32)."""
        self.ensure_one()
        # Whoever makes the disclosure prints its scope (an accountant sending an insurer's
        # invoice does not read consents otherwise): the consent was found valid for it.
        consent_sudo = self.sudo()
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        return self.env._(
            "Disclosed to %(recipient)s for %(purpose)s under the written consent of "
            "%(client)s signed on %(signed)s (%(information)s).",
            recipient=consent_sudo.recipient_id.name,
            purpose=(consent_sudo.purpose_other or purposes[consent_sudo.purpose]).lower(),
            client=consent_sudo.partner_id.name,
            signed=format_date(self.env, consent_sudo.date_signed),
            information=consent_sudo.information,
        )

    @api.model
    def _part2_notice(self):
        return PART2_NOTICE

    @api.model
    def _check_disclosure(self, records, purpose, recipient_of, group_of=None):
        """The consents that allow disclosing ``records`` (attendance lines, chart notes,
        claims, invoices: each has a ``partner_id``, the client, and a ``company_id``) to the
        recipient ``recipient_of(record)`` for ``purpose`` today.

        Only the records of a 42 CFR Part 2 program are checked: those whose group
        (``group_of(record)``, by default its ``group_id``) or company is a Part 2 program.
        Returns ``({record: consent}, {record: what is missing})``; the other records are in
        neither.
        """
        group_of = group_of or (lambda record: record.group_id)
        records_sudo = records.sudo()
        part2 = records_sudo.filtered(
            lambda record: group_of(record).therapy_part2 or record.company_id.therapy_part2
        )
        if not part2:
            return {}, {}
        pairs = {
            record: (record.partner_id, recipient_of(record) or self.env["res.partner"])
            for record in part2.sudo(False)
        }
        found, missing = self._find_for_disclosures(pairs.values(), purpose)
        return (
            {record: found[pair] for record, pair in pairs.items() if pair in found},
            {record: missing[pair] for record, pair in pairs.items() if pair in missing},
        )

    @api.model
    def _find_for_disclosures(self, disclosures, purpose):
        """The consent covering each disclosure of a Part 2 client's records today.

        ``disclosures`` are ``(client, recipient)`` pairs (partners; the recipient may be empty
        when none is on file). Returns ``({(client, recipient): consent},
        {(client, recipient): what is missing})``: every pair is in one of them. One query,
        whatever the number of clients.
        """
        today = fields.Date.context_today(self)
        disclosures = set(disclosures)
        clients = self.env["res.partner"].union(*(client for client, _recipient in disclosures))
        # The check reads every consent of the clients, whoever discloses (an accountant
        # submitting claims does not read consents otherwise); it returns no more than the one
        # that is used.
        consents_sudo = self.sudo().search(
            [
                ("partner_id", "in", clients.ids),
                ("purpose", "in", PART2_COVERING_PURPOSES[purpose]),
                ("company_id", "in", self.env.companies.ids),
            ],
            order="date_signed desc, id desc",
        )
        by_client_recipient = defaultdict(list)
        for consent in consents_sudo:
            by_client_recipient[
                consent.partner_id.id, consent.recipient_id.commercial_partner_id.id
            ].append(consent)
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        found, missing = {}, {}
        for client, recipient in disclosures:
            who = self.env._("%(client)s is in a 42 CFR Part 2 program", client=client.sudo().name)
            if not recipient:
                missing[client, recipient] = self.env._(
                    "%(who)s: no insurer or other recipient is on file to check a written "
                    "consent against. Record the client's insurer, and their consent to "
                    "disclose to it.",
                    who=who,
                )
                continue
            candidates = by_client_recipient[client.id, recipient.commercial_partner_id.id]
            valid = [c for c in candidates if c._state_on(today) == "valid"]
            if valid:
                found[client, recipient] = self.browse(valid[0].id)
                continue
            # what became of the consents on file, if any: ", or it expired on ..."
            reasons = "; ".join(consent._reason_not_valid(today) for consent in candidates)
            missing[client, recipient] = self.env._(
                "%(who)s: no written consent to disclose to %(recipient)s for %(purpose)s is on "
                "file%(reasons)s. Record the client's signed consent (client form, 42 CFR Part 2 "
                "page) before disclosing.",
                who=who,
                recipient=recipient.name,
                purpose=purposes[purpose].lower(),
                reasons=self.env._(", or it %(reasons)s", reasons=reasons) if reasons else "",
            )
        return found, missing

    def _reason_not_valid(self, day):
        """Why the consent does not allow a disclosure on ``day``, in words."""
        self.ensure_one()
        state = self._state_on(day)
        if state == "revoked":
            return self.env._(
                "was revoked on %(date)s", date=format_date(self.env, self.revoked_on)
            )
        if state == "expired":
            return self.env._("expired on %(date)s", date=format_date(self.env, self.date_expiry))
        return self.env._("takes effect on %(date)s", date=format_date(self.env, self.date_signed))
