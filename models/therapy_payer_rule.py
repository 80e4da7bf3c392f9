import re
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

TELEHEALTH_PLACES = ("02", "10")


def split_codes(text):
    """The set of codes or modifiers written in a field ("59, XE" -> {"59", "XE"})."""
    return {code for code in re.split(r"[\s,;]+", (text or "").upper()) if code}


class TherapyPayerRule(models.Model):
    _name = "therapy.payer.rule"
    _inherit = ["therapy.input.mixin"]
    _description = "Payer Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Empty: the rule applies to every company."
    )
    rule_type = fields.Selection(
        selection=[
            ("head_count", "Head count over the code's limit"),
            ("once_per_day", "Code billed twice the same day for a client"),
            ("same_day_individual", "Group and individual psychotherapy the same day"),
            ("addon_primary", "Add-on code without an allowed primary code"),
            ("fee_payer", "Fee charged to a client whose payer forbids fees"),
            ("fee_policy", "Fee other than the practice's one policy amount"),
            ("telehealth_modifier", "Telehealth modifiers of the payer"),
        ],
        string="Checks",
        required=True,
    )
    severity = fields.Selection(
        selection=[("block", "Blocking"), ("warning", "Warning")],
        required=True,
        default="block",
        help="Blocking: invoicing and signing stop with the list of problems until an "
        "administrator overrides the rules on that session. Warning: shown and logged.",
    )
    payer_ids = fields.Many2many(
        "res.partner",
        "therapy_payer_rule_payer_rel",
        "rule_id",
        "partner_id",
        string="Payers",
        help="Only clients of these payers. Empty: every client.",
    )
    product_ids = fields.Many2many(
        "product.product",
        "therapy_payer_rule_product_rel",
        "rule_id",
        "product_id",
        string="Codes",
        domain=[("therapy_code_kind", "=", "cpt")],
        help="The codes the rule is about (the add-on codes, for an add-on rule). Empty: every "
        "CPT code.",
    )
    allowed_primary_ids = fields.Many2many(
        "product.product",
        "therapy_payer_rule_primary_rel",
        "rule_id",
        "product_id",
        string="Allowed Primary Codes",
        domain=[("therapy_code_kind", "=", "cpt"), ("therapy_addon_only", "=", False)],
    )
    payer_type = fields.Selection(
        selection=[
            ("medicare", "Medicare"),
            ("medicaid", "Medicaid"),
            ("commercial", "Commercial"),
            ("other", "Other"),
        ],
        help="Only clients whose payer is of this type. A telehealth rule with neither payers nor "
        "a payer type is the default for every payer that no other telehealth rule names.",
    )
    max_count = fields.Integer(string="Most Participants", default=12)
    modifier = fields.Char(
        help="Telehealth: the modifier required on audio-video lines (e.g. 95; empty: none). "
        "Same day: the modifiers that mark the individual code as distinct (e.g. 59, XE).",
    )
    forbidden_modifiers = fields.Char(
        help="Telehealth modifiers the payer refuses on these lines, e.g. 95 for Medicare since "
        "2024 (place of service 02/10 already says telehealth).",
    )
    audio_only_modifiers = fields.Char(
        string="Audio-only Modifiers",
        help="One of these must be on a line marked audio-only, e.g. 93 (or FQ).",
    )
    conflict_codes = fields.Char(
        string="Individual Codes",
        help="Same day: the individual psychotherapy codes that need a distinct-service modifier "
        "when the client also had the rule's group code that day, e.g. 90832, 90834, 90837.",
    )

    @api.model
    def _find_problems(self, lines):
        """[(line, rule, reason)] for the answered attendance lines, by the active rules."""
        lines = lines.filtered("state")
        if not lines:
            return []
        # The rules found and read in one query; each client's payer read once for all rules.
        rules = self.sudo().search_fetch(
            [("company_id", "in", [*lines.company_id.ids, False])], order="sequence, id"
        )
        payers = {partner: partner.sudo().therapy_payer_id for partner in lines.partner_id}
        # The two same-day checks share one search of the clients' attended lines.
        same_day = {"lines": lines}
        problems = []
        for rule in rules:
            if rule.payer_ids or rule.payer_type:
                # asked once per payer, not once per line
                applies = {payer: rule._applies_to_payer(payer) for payer in set(payers.values())}
                concerned = lines.filtered(
                    lambda line, rule=rule, applies=applies: applies[payers[line.partner_id]]
                    if line.partner_id in payers
                    else rule._applies_to(line)
                )
            else:
                concerned = lines
            check = getattr(rule, f"_check_{rule.rule_type}")
            if rule.rule_type in ("once_per_day", "same_day_individual"):
                problems += check(concerned, same_day=same_day)
            else:
                problems += check(concerned)
        return problems

    @api.model
    def _check_lines(self, lines, action):
        """Raise the blocking problems of these lines (sessions not overridden); log warnings."""
        problems = self._find_problems(lines)
        overridden = lines.event_id.sudo().filtered("therapy_rule_override")
        blocking = [
            (line, rule, reason)
            for line, rule, reason in problems
            if rule.severity == "block" and line.event_id not in overridden
        ]
        if blocking:
            raise UserError(
                self.env._(
                    "%(action)s is stopped by the payer rules:\n%(problems)s\nCorrect the "
                    "attendance, or ask a Group Therapy administrator to override the rules on "
                    "the session.",
                    action=action,
                    problems="\n".join(
                        f"- {line.partner_id.display_name}: {reason} ({rule.name})"
                        for line, rule, reason in blocking
                    ),
                )
            )
        # The chatter line names no client: chatter reaches followers and mail. Who is
        # concerned is shown on the session (Payer Rule Findings) to Group Therapy users.
        by_session = defaultdict(lambda: defaultdict(set))
        for line, rule, reason in problems:
            if rule.severity == "warning" or line.event_id in overridden:
                by_session[line.event_id][reason].add(line.partner_id.id)
        for session, clients_by_reason in by_session.items():
            session.sudo().message_post(
                body=Markup("%s<ul>%s</ul>")
                % (
                    self.env._("%(action)s with payer rule warnings:", action=action),
                    Markup("").join(
                        Markup("<li>%s</li>")
                        % self.env._(
                            "%(reason)s (%(count)s clients)", reason=reason, count=len(clients)
                        )
                        for reason, clients in clients_by_reason.items()
                    ),
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )

    def _applies_to(self, line):
        """Whether the rule concerns this client's payer (by name, and by payer type)."""
        return self._applies_to_payer(line.partner_id.sudo().therapy_payer_id)

    def _applies_to_payer(self, payer):
        """Whether the rule concerns clients of this payer (by name, and by payer type)."""
        return (not self.payer_ids or payer in self.payer_ids) and (
            not self.payer_type or payer.therapy_payer_type == self.payer_type
        )

    @api.model
    def _attended_on_days(self, lines, same_day=None):
        """The attended lines of the clients of ``lines`` on their days, as superuser: what the
        same-day checks compare a line with. With ``same_day`` ({"lines": the lines checked}),
        those of all the lines checked, searched once for both checks: a superset."""
        if same_day is not None:
            if "attended_sudo" not in same_day:
                same_day["attended_sudo"] = self._attended_on_days(same_day["lines"])
            return same_day["attended_sudo"]
        return (
            self.env["therapy.attendance"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", lines.partner_id.ids),
                    ("state", "=", "attended"),
                    ("session_date", "in", list(set(lines.mapped("session_date")))),
                ]
            )
        )

    def _billed_code_lines(self, lines):
        """The lines that bill one of the rule's codes (any CPT code when the rule names none),
        the rule's codes read once for all the lines."""
        codes = self.product_ids
        return lines.filtered(
            lambda line: line.state == "attended"
            and line.product_id.therapy_code_kind == "cpt"
            and (not codes or line.product_id in codes)
        )

    def _check_head_count(self, lines):
        """More participants present than the limit, in a session billing the rule's code.

        Medicare's limit is on participants: everyone present counts, "no fee" included.
        """
        problems = []
        for session, session_lines in lines.grouped("event_id").items():
            billed = self._billed_code_lines(session_lines)
            present = session.therapy_attendance_ids.filtered(lambda line: line.state == "attended")
            if not billed or len(present) <= self.max_count:
                continue
            for line in billed:
                problems.append(
                    (
                        line,
                        self,
                        self.env._(
                            "%(count)s participants present in a session billing %(code)s, "
                            "more than %(limit)s (everyone present counts, no fee included): "
                            "split the group",
                            count=len(present),
                            code=line.product_id.therapy_code,
                            limit=self.max_count,
                        ),
                    )
                )
        return problems

    def _check_once_per_day(self, lines, same_day=None):
        """The rule's code billed twice on the same day to the same client (``same_day``: see
        :meth:`_attended_on_days`)."""
        coded = self._billed_code_lines(lines)
        if not coded:
            return []
        client_ids, product_ids = set(coded.partner_id.ids), set(coded.product_id.ids)
        days = set(coded.mapped("session_date"))
        same_codes = self._attended_on_days(coded, same_day).filtered(
            lambda other: other.partner_id.id in client_ids
            and other.product_id.id in product_ids
            and other.session_date in days
        )
        per_day = defaultdict(set)
        for other in same_codes:
            per_day[other.partner_id.id, other.product_id.id, other.session_date].add(other.id)
        return [
            (
                line,
                self,
                self.env._(
                    "%(code)s billed more than once on the same day: keep one, or answer "
                    "“No fee” on the other session",
                    code=line.product_id.therapy_code,
                ),
            )
            for line in coded
            if len(per_day[line.partner_id.id, line.product_id.id, line.session_date]) > 1
        ]

    def _check_same_day_individual(self, lines, same_day=None):
        """The group code the same day as individual psychotherapy without modifier 59/XE.

        Individual codes are found on the client's other attendance lines of that day (as the
        code or an add-on, with that line's modifiers) and on customer invoice lines not made by
        a session (dated by the invoice date, with the invoice line's modifiers).
        ``same_day``: see :meth:`_attended_on_days`.
        """
        group_lines = self._billed_code_lines(lines)
        individual_codes = split_codes(self.conflict_codes)
        if not group_lines or not individual_codes:
            return []
        distinct = split_codes(self.modifier) or {"59", "XE"}
        days = list(set(group_lines.mapped("session_date")))
        clients = group_lines.partner_id
        found = defaultdict(list)  # (client id, day) -> [(code, where, attendance line id)]
        client_ids, day_set = set(clients.ids), set(days)
        others_sudo = self._attended_on_days(group_lines, same_day).filtered(
            lambda other: other.partner_id.id in client_ids and other.session_date in day_set
        )
        for other in others_sudo:
            if distinct & split_codes(other.modifiers):
                continue
            for product in other.product_id | other.addon_product_ids:
                if product.therapy_code in individual_codes:
                    found[other.partner_id.id, other.session_date].append(
                        (product.therapy_code, other.event_id.display_name, other.id)
                    )
        invoice_lines_sudo = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("therapy_code", "in", list(individual_codes)),
                    ("therapy_attendance_id", "=", False),
                    ("move_id.move_type", "=", "out_invoice"),
                    ("move_id.state", "!=", "cancel"),
                    ("move_id.partner_id", "in", clients.ids),
                    ("move_id.invoice_date", "in", days),
                ]
            )
        )
        for invoice_line in invoice_lines_sudo:
            if distinct & split_codes(invoice_line.therapy_modifiers):
                continue
            move = invoice_line.move_id
            found[move.partner_id.id, move.invoice_date].append(
                (invoice_line.therapy_code, move.name, False)
            )
        problems = []
        for line in group_lines:
            for code, where, line_id in found[line.partner_id.id, line.session_date]:
                if line_id == line._origin.id:
                    continue
                problems.append(
                    (
                        line,
                        self,
                        self.env._(
                            "%(group_code)s the same day as individual psychotherapy %(code)s "
                            "(%(where)s): add modifier %(modifiers)s to %(code)s there",
                            group_code=line.product_id.therapy_code,
                            code=code,
                            where=where,
                            modifiers=self.env._(" or ").join(sorted(distinct)),
                        ),
                    )
                )
        return problems

    def _check_addon_primary(self, lines):
        """An add-on code riding on a primary code the rule does not allow."""
        problems = []
        for line in lines:
            addons = (
                line.addon_product_ids & self.product_ids
                if self.product_ids
                else (line.addon_product_ids)
            )
            if addons and line.product_id not in self.allowed_primary_ids:
                problems.append(
                    (
                        line,
                        self,
                        self.env._(
                            "%(addons)s is not allowed with %(primary)s: remove the add-on code, "
                            "or bill it with %(allowed)s",
                            addons=", ".join(addons.mapped("therapy_code")),
                            primary=line.product_id.therapy_code or line.product_id.name,
                            allowed=self.env._(" or ").join(
                                self.allowed_primary_ids.mapped(
                                    lambda product: product.therapy_code or product.name
                                )
                            )
                            or self.env._("no code (the rule allows none)"),
                        ),
                    )
                )
        return problems

    def _check_fee_payer(self, lines):
        """A no-show or late-cancel fee for a client whose payer forbids fees (Medicaid always:
        42 CFR 447.15, the provider accepts Medicaid's payment as payment in full)."""
        problems = []
        for line in lines.filtered(lambda line: line._is_fee_to_invoice()):
            payer = line.partner_id.sudo().therapy_payer_id
            if payer.therapy_payer_type == "medicaid":
                reason = self.env._(
                    "%(payer)s is Medicaid, which does not allow charging its clients a "
                    "%(fee)s (42 CFR 447.15): answer “No fee” instead",
                    payer=payer.display_name,
                    fee=line.product_id.name,
                )
            elif payer.therapy_forbids_fees:
                reason = self.env._(
                    "%(payer)s forbids charging %(fee)s: answer “No fee” instead",
                    payer=payer.display_name,
                    fee=line.product_id.name,
                )
            else:
                continue
            problems.append((line, self, reason))
        return problems

    def _check_fee_policy(self, lines):
        """A fee that differs from the practice's one policy amount (Medicare's condition)."""
        fees = lines.filtered(lambda line: line._is_fee_to_invoice())
        if not fees:
            return []
        prices = fees._pricelist_prices()
        problems = []
        for line in fees:
            company = line.company_id or self.env.company
            policy = company.therapy_no_show_fee_amount
            price = prices[line][line.product_id]
            if not policy:
                reason = self.env._(
                    "no fee policy amount is set for the practice: set the one amount every "
                    "client is charged (company settings, Group Therapy tab)",
                )
            elif company.currency_id.compare_amounts(price, policy):
                reason = self.env._(
                    "%(fee)s of %(price)s differs from the practice's policy amount %(policy)s: "
                    "charge every client the same amount, or waive the fee",
                    fee=line.product_id.name,
                    price=company.currency_id.format(price),
                    policy=company.currency_id.format(policy),
                )
            else:
                continue
            problems.append((line, self, reason))
        return problems

    def _check_telehealth_modifier(self, lines):
        """Telehealth lines with the payer's modifiers: required, refused, audio-only."""
        telehealth = lines.filtered(
            lambda line: line.state == "attended"
            and line.product_id.therapy_code_kind == "cpt"
            and line.place_of_service in TELEHEALTH_PLACES
        )
        if not telehealth:
            return []
        if not self.payer_ids and not self.payer_type:
            # The default rule: for payers that no specific telehealth rule names.
            specific = self.sudo().search(
                [
                    ("rule_type", "=", "telehealth_modifier"),
                    ("id", "!=", self.id),
                    "|",
                    ("payer_ids", "!=", False),
                    ("payer_type", "!=", False),
                ]
            )
            telehealth = telehealth.filtered(
                lambda line: not any(rule._applies_to(line) for rule in specific)
            )
        required = split_codes(self.modifier)
        forbidden = split_codes(self.forbidden_modifiers)
        audio_only = split_codes(self.audio_only_modifiers)
        problems = []
        for line in telehealth:
            modifiers = split_codes(line.modifiers)
            reasons = []
            if line.audio_only:
                if audio_only and not audio_only & modifiers:
                    reasons.append(
                        self.env._(
                            "audio-only telehealth without modifier %(modifier)s: add it to "
                            "the line's modifiers",
                            modifier=self.env._(" or ").join(sorted(audio_only)),
                        )
                    )
            elif required and not required & modifiers:
                reasons.append(
                    self.env._(
                        "telehealth (place of service %(place)s) without modifier "
                        "%(modifier)s: add it to the line's modifiers",
                        place=line.place_of_service,
                        modifier=self.env._(" or ").join(sorted(required)),
                    )
                )
            if forbidden & modifiers:
                reasons.append(
                    self.env._(
                        "telehealth with modifier %(modifier)s, which this payer does not want "
                        "(place of service %(place)s already says telehealth): remove it",
                        modifier=", ".join(sorted(forbidden & modifiers)),
                        place=line.place_of_service,
                    )
                )
            problems += [(line, self, reason) for reason in reasons]
        return problems
