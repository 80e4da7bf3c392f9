import re
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

TELEHEALTH_PLACES = ("02", "10")


class TherapyPayerRule(models.Model):
    _name = "therapy.payer.rule"
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
            ("addon_primary", "Add-on code without an allowed primary code"),
            ("fee_payer", "Fee charged to a client whose payer forbids fees"),
            ("telehealth_modifier", "Telehealth without the payer's modifier"),
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
    max_count = fields.Integer(string="Most Clients", default=12)
    modifier = fields.Char(help="The modifier the payer requires, e.g. 95 or HQ.")

    @api.model
    def _find_problems(self, lines):
        """[(line, rule, reason)] for the answered attendance lines, by the active rules."""
        lines = lines.filtered("state")
        if not lines:
            return []
        rules = self.sudo().search(
            [("company_id", "in", [*lines.company_id.ids, False])], order="sequence, id"
        )
        problems = []
        for rule in rules:
            concerned = lines.filtered(rule._applies_to)
            problems += getattr(rule, f"_check_{rule.rule_type}")(concerned)
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
        """Whether the rule concerns this client's payer."""
        return not self.payer_ids or line.partner_id.sudo().therapy_payer_id in self.payer_ids

    def _check_head_count(self, lines):
        """More clients billed the rule's code in one session than its limit."""
        attended = lines.filtered(
            lambda line: line.state == "attended"
            and line.product_id.therapy_code_kind == "cpt"
            and (not self.product_ids or line.product_id in self.product_ids)
        )
        problems = []
        for session_lines in attended.grouped("event_id").values():
            if len(session_lines) > self.max_count:
                for line in session_lines:
                    problems.append(
                        (
                            line,
                            self,
                            self.env._(
                                "%(count)s clients billed %(code)s in one session, more than "
                                "%(limit)s",
                                count=len(session_lines),
                                code=line.product_id.therapy_code,
                                limit=self.max_count,
                            ),
                        )
                    )
        return problems

    def _check_once_per_day(self, lines):
        """The rule's code billed twice on the same day to the same client."""
        coded = lines.filtered(
            lambda line: line.state == "attended"
            and line.product_id.therapy_code_kind == "cpt"
            and (not self.product_ids or line.product_id in self.product_ids)
        )
        if not coded:
            return []
        same_codes = (
            self.env["therapy.attendance"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", coded.partner_id.ids),
                    ("state", "=", "attended"),
                    ("product_id", "in", coded.product_id.ids),
                    ("session_date", "in", list(set(coded.mapped("session_date")))),
                ]
            )
        )
        per_day = defaultdict(set)
        for other in same_codes:
            per_day[other.partner_id.id, other.product_id.id, other.session_date].add(other.id)
        return [
            (
                line,
                self,
                self.env._(
                    "%(code)s billed more than once on the same day",
                    code=line.product_id.therapy_code,
                ),
            )
            for line in coded
            if len(per_day[line.partner_id.id, line.product_id.id, line.session_date]) > 1
        ]

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
                            "%(addons)s is not allowed with %(primary)s",
                            addons=", ".join(addons.mapped("therapy_code")),
                            primary=line.product_id.therapy_code or line.product_id.name,
                        ),
                    )
                )
        return problems

    def _check_fee_payer(self, lines):
        """A no-show or late-cancel fee for a client whose payer forbids fees."""
        return [
            (
                line,
                self,
                self.env._(
                    "%(payer)s forbids charging %(fee)s",
                    payer=line.partner_id.sudo().therapy_payer_id.display_name,
                    fee=line.product_id.name,
                ),
            )
            for line in lines
            if line.billing_status == "to_invoice"
            and line.product_id.therapy_code_kind in ("no_show", "late_cancel")
            and line.partner_id.sudo().therapy_payer_id.therapy_forbids_fees
        ]

    def _check_telehealth_modifier(self, lines):
        """A telehealth place of service without the payer's modifier."""
        wanted = (self.modifier or "").strip().upper()
        return [
            (
                line,
                self,
                self.env._(
                    "telehealth (place of service %(place)s) without modifier %(modifier)s",
                    place=line.place_of_service,
                    modifier=wanted,
                ),
            )
            for line in lines
            if wanted
            and line.state == "attended"
            and line.place_of_service in TELEHEALTH_PLACES
            and wanted not in re.split(r"[\s,;]+", (line.modifiers or "").upper())
        ]
