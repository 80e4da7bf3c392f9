from random import randint

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

# The most clients a group takes unless a Group Therapy administrator decides otherwise: the
# 12 participants Medicare's local coverage rule for 90853 describes. 0 (no limit) needs an
# administrator too.
PRACTICE_CAPACITY_CAP = 12


class TherapyGroup(models.Model):
    _name = "therapy.group"
    _description = "Therapy Group"
    # The readable-target mixin checks the memberships and waitlist entries typed in the form.
    _inherit = [
        "therapy.staff.followers.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "therapy.input.mixin",
        "therapy.readable.target.mixin",
    ]
    _order = "name, id"
    _check_company_auto = True

    def _default_product_id(self):
        """Groups normally bill 90853, group psychotherapy."""
        return self.env.ref("group_therapy.product_product_cpt_90853", raise_if_not_found=False)

    def _default_provider_id(self):
        """The user, when they run groups; front desk picks the provider."""
        user = self.env.user
        return user if user._has_group("group_therapy.group_therapy_provider") else False

    def _domain_provider_id(self):
        """Only users with the Provider role (administrators included) run groups. The role's
        id comes from Odoo's cache of XML ids: this domain is built each time a group's shared
        providers are read or searched, and env.ref() would query whether the role still exists
        each time."""
        provider_group_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "group_therapy.group_therapy_provider", raise_if_not_found=False
        )
        return [("all_group_ids", "in", [provider_group_id])] if provider_group_id else []

    # identity
    name = fields.Char(string="Group Name", required=True, tracking=True)
    code = fields.Char(
        string="Initials",
        required=True,
        tracking=True,
        help="Short initials shown on the schedule, e.g. DBT-A.",
    )
    active = fields.Boolean(default=True, tracking=True)
    color = fields.Integer(
        string="Colour",
        default=lambda self: randint(1, 11),
        help="The colour of the group's sessions on the calendar.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    # who runs it
    provider_id = fields.Many2one(
        "res.users",
        required=True,
        index=True,
        tracking=True,
        default=lambda self: self._default_provider_id(),
        domain=lambda self: self._domain_provider_id(),
        help="The provider who runs the group.",
    )
    shared_provider_ids = fields.Many2many(
        "res.users",
        "therapy_group_shared_provider_rel",
        "group_id",
        "user_id",
        string="Shared With",
        domain=lambda self: self._domain_provider_id(),
        help="Other providers who may see and edit the group's clients, schedule it and chart "
        "on it. A provider is added here when the group is scheduled on their calendar.",
    )
    user_serves = fields.Boolean(
        string="Run or Shared by the User",
        compute="_compute_user_serves",
        search="_search_user_serves",
        groups="base.group_system",
        help="The user runs the group, or it is shared with them while they have the Provider "
        "role: what the record rules on its sessions, attendees, attendance, memberships, "
        "waitlist, chart notes and claims test for anyone but the front desk.",
    )
    # billing
    default_product_id = fields.Many2one(
        "product.product",
        string="Default Code",
        required=True,
        tracking=True,
        check_company=True,
        default=lambda self: self._default_product_id(),
        domain=[("therapy_code_kind", "=", "cpt"), ("therapy_addon_only", "=", False)],
        help="The CPT code the group normally bills; each client's code can still be changed "
        "per session.",
    )
    # members
    member_ids = fields.One2many("therapy.group.member", "group_id", string="Memberships")
    waitlist_ids = fields.One2many("therapy.group.waitlist", "group_id")
    member_partner_ids = fields.Many2many(
        "res.partner",
        string="Current Clients",
        compute="_compute_member_partner_ids",
    )
    member_count = fields.Integer(string="Clients", compute="_compute_member_partner_ids")
    capacity = fields.Integer(
        default=12,
        help="Most clients the group takes (12 is Medicare's limit for 90853). 0 means no limit.",
    )
    allow_over_capacity = fields.Boolean(
        tracking=True,
        groups="group_therapy.group_therapy_manager",
        help="Set by an administrator to let the group take more clients than its capacity.",
    )
    is_over_capacity = fields.Boolean(compute="_compute_member_partner_ids")
    no_show_alert_count = fields.Integer(
        string="No-show Alert After",
        default=3,
        help="After this many no-shows in a row, the provider gets an activity to follow up with "
        "the client. 0: no alert.",
    )
    # measurement-based care
    measure_survey_ids = fields.Many2many(
        "survey.survey",
        string="Questionnaires",
        domain=[("survey_type", "=", "therapy_measure")],
        groups="group_therapy.group_therapy_user",
        help="The clinical measures (PHQ-9, GAD-7) each client is asked to answer before a "
        "session, by a private e-mail of their own.",
    )
    measure_frequency = fields.Selection(
        selection=[
            ("manual", "When sent from the session"),
            ("session", "Before every session"),
            ("four_weeks", "Every 4 weeks"),
        ],
        string="Send Questionnaires",
        default="manual",
        required=True,
        groups="group_therapy.group_therapy_user",
        help="Automatically: each client gets the questionnaires before every session, or "
        "before the first session at least 4 weeks after they last got them.",
    )
    measure_hours_before = fields.Integer(
        string="Hours Before the Session",
        default=24,
        groups="group_therapy.group_therapy_user",
        help="How long before the session the questionnaires are sent automatically.",
    )
    therapy_part2 = fields.Boolean(
        string="42 CFR Part 2 Program",
        tracking=True,
        help="A substance use disorder program under 42 CFR Part 2: the records of its sessions "
        "(chart notes, superbills, claims) leave the practice only with the client's written "
        "consent. The whole practice can be marked instead (Settings).",
    )
    # sessions
    session_ids = fields.One2many("calendar.event", "therapy_group_id")
    session_count = fields.Integer(compute="_compute_sessions")
    next_session_start = fields.Datetime(string="Next Session", compute="_compute_sessions")

    @api.constrains("name", "code")
    def _check_name_and_code(self):
        """A group is found by its name and its initials: neither may be blank."""
        for group in self:
            if not (group.name or "").strip():
                raise ValidationError(
                    self.env._("Give the group its full name: the name cannot be blank.")
                )
            if not (group.code or "").strip():
                raise ValidationError(
                    self.env._(
                        "Give “%(group)s” its initials, shown on the schedule: they cannot be "
                        "blank.",
                        group=group.name,
                    )
                )

    @api.constrains("provider_id", "shared_provider_ids")
    def _check_providers(self):
        """Only users with the Provider role run or share a group."""
        for group in self:
            group_sudo = group.sudo()
            not_providers = (group_sudo.provider_id | group_sudo.shared_provider_ids).filtered(
                lambda user: not user._has_group("group_therapy.group_therapy_provider")
            )
            if not_providers:
                raise ValidationError(
                    self.env._(
                        "%(users)s cannot run or share “%(group)s”: only users with the Group "
                        "Therapy Provider role do. Choose a provider, or ask an administrator to "
                        "give them the role.",
                        users=", ".join(not_providers.mapped("name")),
                        group=group.name,
                    )
                )

    @api.constrains("capacity")
    def _check_capacity(self):
        """Capacity is a head count: never negative; no limit (0) or more than the practice's
        cap only by an administrator; lowering it under the members is refused."""
        # Constraints run as superuser: the user who made the change decides.
        user = self.env.user
        may_lift = user._is_superuser() or user.has_group("group_therapy.group_therapy_manager")
        for group in self:
            if group.capacity < 0:
                raise ValidationError(
                    self.env._("Capacity cannot be negative: use 0 for a group with no limit.")
                )
            if may_lift:
                continue
            if group.capacity == 0:
                raise ValidationError(
                    self.env._(
                        "Only a Group Therapy administrator can remove the limit of “%(group)s” "
                        "(capacity 0). Enter a capacity from 1 to %(cap)s.",
                        group=group.name,
                        cap=PRACTICE_CAPACITY_CAP,
                    )
                )
            if group.capacity > PRACTICE_CAPACITY_CAP:
                raise ValidationError(
                    self.env._(
                        "“%(group)s” cannot take %(capacity)s clients: groups take at most "
                        "%(cap)s (Medicare's limit for 90853) unless a Group Therapy administrator "
                        "sets more.",
                        group=group.name,
                        capacity=group.capacity,
                        cap=PRACTICE_CAPACITY_CAP,
                    )
                )
        self._check_members_within_capacity()

    @api.depends("member_ids.partner_id", "member_ids.date_start", "member_ids.date_end")
    def _compute_member_partner_ids(self):
        """Current clients: memberships that have started and not ended today."""
        for group in self:
            partners = group.member_ids.filtered("is_current").partner_id
            group.member_partner_ids = partners
            group.member_count = len(partners)
            group.is_over_capacity = bool(group.capacity) and len(partners) > group.capacity

    @api.depends("provider_id", "shared_provider_ids")
    @api.depends_context("uid")
    def _compute_user_serves(self):
        """Whether the user runs or shares each group, decided in SQL (``_user_serves_domain``):
        the record rules that use it are checked on given records in Python, as superuser, and
        the shared providers in the cache every user of the transaction shares are those the
        first reader could see (not an archived provider whose contact is closed to them)."""
        records = self.filtered("id")
        served = set(
            records.sudo()
            .with_context(active_test=False)
            ._search(Domain("id", "in", records.ids) & self._user_serves_domain())
            .get_result_ids()
        )
        for group in self:
            group.user_serves = group.id in served

    def _search_user_serves(self, operator, value):
        if operator not in ("in", "=") or set(value if operator == "in" else [value]) != {True}:
            return NotImplemented
        return self._user_serves_domain()

    def _compute_sessions(self):
        """Session count and the next session to come, in one query for all groups."""
        now = fields.Datetime.now()
        Event = self.env["calendar.event"]
        counts = dict(
            Event._read_group(
                [("therapy_group_id", "in", self.ids)], ["therapy_group_id"], ["__count"]
            )
        )
        next_starts = dict(
            Event._read_group(
                [("therapy_group_id", "in", self.ids), ("start", ">=", now)],
                ["therapy_group_id"],
                ["start:min"],
            )
        )
        for group in self:
            group.session_count = counts.get(group, 0)
            group.next_session_start = next_starts.get(group, False)

    def _check_members_within_capacity(self):
        """Refuse more current or upcoming members than the capacity, unless allowed."""
        today = fields.Date.context_today(self)
        for group in self:
            if not group.capacity or group.sudo().allow_over_capacity:
                continue
            active_members = group.member_ids.filtered(lambda member: member._is_member_from(today))
            if len(active_members) > group.capacity:
                raise ValidationError(
                    self.env._(
                        "“%(group)s” is full: %(count)s clients for %(capacity)s places. Raise "
                        "its capacity, or ask a Group Therapy administrator to allow it to run "
                        "over capacity.",
                        group=group.display_name,
                        count=len(active_members),
                        capacity=group.capacity,
                    )
                )

    @api.depends("name", "code")
    def _compute_display_name(self):
        for group in self:
            group.display_name = f"[{group.code}] {group.name}" if group.code else group.name

    @api.model
    def _search_display_name(self, operator, value):
        """Find a group by part of its name or its initials, as on the schedule."""
        if operator in ("ilike", "like", "=ilike", "=like", "=") and value:
            return ["|", ("name", operator, value), ("code", operator, value)]
        return super()._search_display_name(operator, value)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_sessions(self):
        """Keep groups with sessions, counting sessions hidden from the caller (sudo after
        Odoo's unlink access check)."""
        if self.sudo().with_context(active_test=False).session_ids:
            raise UserError(
                self.env._(
                    "A group that has sessions keeps its history: archive it instead of "
                    "deleting it."
                )
            )

    def action_open_members(self):
        """The group's memberships, current first, to add or remove clients."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Clients of %(group)s", group=self.display_name),
            "res_model": "therapy.group.member",
            "view_mode": "list,form",
            "domain": [("group_id", "=", self.id)],
            "context": {"default_group_id": self.id, "search_default_filter_current": 1},
        }

    def action_open_sessions(self):
        """The group's sessions on the calendar, to schedule another one."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.calendar_event_action_session"
        )
        action["domain"] = [("therapy_group_id", "=", self.id)]
        action["context"] = {"default_therapy_group_id": self.id}
        return action

    def write(self, vals):
        if "company_id" in vals:
            self._check_company_not_signed(vals["company_id"])
        result = super().write(vals)
        if {"capacity", "allow_over_capacity"} & vals.keys():
            self._promote_waitlist()
        if {"provider_id", "shared_provider_ids"} & vals.keys():
            self._therapy_sync_upcoming_busy_blocks()
        return result

    def _mail_get_operation_for_mail_message_operation(self, message_operation):
        """The group's messages and activities name its clients (who joined or left, who
        missed sessions, who needs a late entry): they are read by those who may change the
        group (its providers, the front desk, administrators), not by everyone who reads
        groups (accountants read them to invoice and export claims)."""
        operations = super()._mail_get_operation_for_mail_message_operation(message_operation)
        if message_operation != "read":
            return operations
        return {group: operation and "write" for group, operation in operations.items()}

    def _check_company_not_signed(self, company_id):
        """Signed chart notes belong to their company's records (and its chain of signed
        notes): the group that has them stays in that company."""
        moved = self.filtered(lambda group: group.company_id.id != company_id)
        signed = (
            self.env["therapy.attendance"]
            .sudo()
            .search([("group_id", "in", moved.ids), ("note_signed", "=", True)], limit=1)
        )
        if signed:
            raise UserError(
                self.env._(
                    "%(group)s has signed chart notes, which stay in the records of "
                    "%(company)s: the group's company can no longer change. Create a new group "
                    "in the other company instead.",
                    group=signed.group_id.display_name,
                    company=signed.group_id.company_id.display_name,
                )
            )

    def _user_serves_domain(self):
        """The groups the user runs, and those shared with them while they have the Provider
        role (the domain of ``shared_provider_ids``): one subquery on the shared providers."""
        # not self.env.su: the record rules evaluate this as superuser, for the user
        user = self.env.user
        runs = Domain("provider_id", "=", user.id)
        if not user._has_group("group_therapy.group_therapy_provider"):
            return runs
        shared = self._fields["shared_provider_ids"]
        shared_with_user = SQL(
            "(SELECT %(group)s FROM %(shared)s WHERE %(user)s = %(uid)s)",
            group=SQL.identifier(shared.column1),
            shared=SQL.identifier(shared.relation),
            user=SQL.identifier(shared.column2),
            uid=user.id,
            to_flush=[shared],
        )
        return runs | Domain("id", "in", shared_with_user)

    def _therapy_sync_upcoming_busy_blocks(self):
        """Whoever runs the group now is busy at its sessions that have not ended (and whoever
        no longer does is not). Past sessions keep the blocks of the people who ran them."""
        sessions_sudo = (
            self.env["calendar.event"]
            .sudo()
            .search([("therapy_group_id", "in", self.ids), ("stop", ">", fields.Datetime.now())])
        )
        sessions_sudo._therapy_sync_busy_blocks()

    def _free_places(self):
        """Places left today (None: no limit)."""
        self.ensure_one()
        if not self.capacity:
            return None
        today = fields.Date.context_today(self)
        active = self.sudo().member_ids.filtered(lambda member: member._is_member_from(today))
        return max(self.capacity - len(active), 0)

    def _promote_waitlist(self):
        """Clients waiting for a place join, in order, as soon as there is room."""
        today = fields.Date.context_today(self)
        for group in self:
            waiting = group.sudo().waitlist_ids.filtered(lambda entry: entry.state == "waiting")
            if not waiting:
                continue
            free = group._free_places()
            promoted = waiting if free is None else waiting[:free]
            if not promoted:
                continue
            promoted.state = "promoted"
            self.env["therapy.group.member"].sudo().create(
                [
                    {"group_id": group.id, "partner_id": entry.partner_id.id, "date_start": today}
                    for entry in promoted
                ]
            )
            group.sudo().message_post(
                body=self.env._(
                    "A place freed up: %(clients)s joined the group from the waitlist.",
                    clients=", ".join(promoted.partner_id.mapped("name")),
                )
            )

    def _therapy_upcoming_session_count(self):
        """How many sessions of the group have not started yet."""
        self.ensure_one()
        return self.env["calendar.event"].search_count(
            [("therapy_group_id", "=", self.id), ("start", ">", fields.Datetime.now())]
        )

    def _sync_upcoming_sessions(self):
        """Bring membership changes into the sessions that have not happened yet."""
        if not self:
            return
        upcoming = self.env["calendar.event"].search(
            [("therapy_group_id", "in", self.ids), ("start", ">", fields.Datetime.now())]
        )
        upcoming._therapy_sync_attendance(remove_blank=True)
