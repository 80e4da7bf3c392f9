from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

# What tells whether a membership makes its client a member of its group on a day: fetched
# with the memberships by the searches that ask it of many clients at once.
MEMBERSHIP_DAY_FIELDS = ("group_id", "partner_id", "date_start", "date_end")


class TherapyGroupMember(models.Model):
    _name = "therapy.group.member"
    _description = "Therapy Group Membership"
    _inherit = ["therapy.input.mixin", "therapy.readable.target.mixin"]
    _order = "date_end desc nulls first, date_start desc, id desc"
    _check_company_auto = True
    _therapy_readable_target_fields = ("group_id", "partner_id")

    group_id = fields.Many2one("therapy.group", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner",
        string="Client",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    date_start = fields.Date(
        string="Member Since", required=True, default=fields.Date.context_today
    )
    date_end = fields.Date(
        string="Left On",
        help="The client is no longer a member from this date on. Empty: still a member.",
    )
    company_id = fields.Many2one(related="group_id.company_id", store=True, index=True)
    provider_id = fields.Many2one(related="group_id.provider_id", string="Provider")
    group_code = fields.Char(related="group_id.code", string="Initials")
    is_current = fields.Boolean(
        string="Current Member", compute="_compute_is_current", search="_search_is_current"
    )

    @api.depends("date_start", "date_end")
    @api.depends_context("tz")
    def _compute_is_current(self):
        """A member today (the user's today)."""
        today = fields.Date.context_today(self)
        for member in self:
            member.is_current = member._is_member_on(today)

    def _search_is_current(self, operator, value):
        """Current (or, searched for False, not current) members today."""
        if operator != "in":
            return NotImplemented
        domain = self._domain_member_on(fields.Date.context_today(self))
        if True in value and False in value:
            return []
        return domain if True in value else ["!", *domain]

    @api.model
    def _domain_member_on(self, day):
        """The one definition of "a member on day D", as a domain: joined on or before D and
        not left yet (``date_end`` is the first day without the client)."""
        return [
            "&",
            ("date_start", "<=", day),
            "|",
            ("date_end", "=", False),
            ("date_end", ">", day),
        ]

    def _is_member_on(self, day):
        """The one definition of "a member on day D" (see ``_domain_member_on``)."""
        self.ensure_one()
        return self.date_start <= day and (not self.date_end or self.date_end > day)

    def _is_member_from(self, day):
        """A member on day D or later: current, or joining in the future, and not left by D.

        This is what takes a place in a group (capacity, waitlist)."""
        self.ensure_one()
        return not self.date_end or self.date_end > day

    @api.constrains("group_id", "partner_id", "date_start", "date_end")
    def _check_dates_and_overlap(self):
        """End on or after start; a client is a member of a group at most once at a time."""
        for member in self:
            if member.date_end and member.date_end < member.date_start:
                raise ValidationError(
                    self.env._(
                        "%(client)s cannot leave “%(group)s” (%(end)s) before joining it "
                        "(%(start)s): set the Left On date on or after the Member Since date.",
                        client=member.partner_id.display_name,
                        group=member.group_id.display_name,
                        end=format_date(self.env, member.date_end),
                        start=format_date(self.env, member.date_start),
                    )
                )
        # Memberships of groups hidden from the user still count: read them all.
        siblings_sudo = self.sudo().search(
            [("group_id", "in", self.group_id.ids), ("partner_id", "in", self.partner_id.ids)]
        )
        for member in self:
            for other in siblings_sudo:
                if (
                    other.id != member.id
                    and other.group_id == member.group_id
                    and other.partner_id == member.partner_id
                    and member._overlaps(other)
                ):
                    raise ValidationError(
                        self.env._(
                            "%(client)s is already a member of “%(group)s” since %(start)s. "
                            "A client can be in a group only once at a time: end that "
                            "membership first, or change its dates.",
                            client=member.partner_id.display_name,
                            group=member.group_id.display_name,
                            start=format_date(self.env, other.date_start),
                        )
                    )
        self.group_id._check_members_within_capacity()

    @api.depends("partner_id", "group_id")
    def _compute_display_name(self):
        for member in self:
            member.display_name = self.env._(
                "%(client)s in %(group)s",
                client=member.partner_id.display_name or "",
                group=member.group_id.display_name or "",
            )

    @api.model_create_multi
    def create(self, vals_list):
        members = super().create(vals_list)
        # Someone added to a group is a client of the practice from then on.
        members.partner_id.filtered(lambda partner: not partner.therapy_client).write(
            {"therapy_client": True}
        )
        members.group_id._sync_upcoming_sessions()
        upcoming = {group: group._therapy_upcoming_session_count() for group in members.group_id}
        for member in members:
            member.group_id._message_log(
                body=self.env._(
                    "%(client)s joined the group (member since %(start)s) and the %(count)s "
                    "upcoming sessions.",
                    client=member.partner_id.display_name,
                    start=format_date(self.env, member.date_start),
                    count=upcoming[member.group_id],
                )
            )
        return members

    def write(self, vals):
        groups_before = self.group_id
        result = super().write(vals)
        if {"group_id", "partner_id", "date_start", "date_end"} & vals.keys():
            (groups_before | self.group_id)._sync_upcoming_sessions()
            (groups_before | self.group_id)._promote_waitlist()
        return result

    def unlink(self):
        groups = self.group_id
        result = super().unlink()
        groups._sync_upcoming_sessions()
        groups._promote_waitlist()
        return result

    @api.model
    def _therapy_unreadable_target_message(self, fname):
        """A client joins a group (or its waitlist) only at the hand of someone who sees the
        client. Membership opens the client's record to the group's providers: a provider who
        could add any contact by its id would read a colleague's clients (contact, diagnoses,
        coverage, treatment plan, measures). The server's own moves (waitlist promotion) run
        as superuser."""
        if fname != "partner_id":
            return super()._therapy_unreadable_target_message(fname)
        return self.env._(
            "This client is not one you can see: only the front desk adds a client of "
            "another provider's group to a group or a waitlist. Ask the front desk."
        )

    @api.onchange("partner_id")
    def _onchange_partner_id_upcoming_sessions(self):
        """Say, before saving, that a new member joins the group's upcoming sessions."""
        group = self.group_id
        if self._origin or not self.partner_id or not group._origin:
            return None
        count = group._origin._therapy_upcoming_session_count()
        if not count:
            return None
        return {
            "warning": {
                "type": "notification",
                "title": self.env._("Upcoming sessions"),
                "message": self.env._(
                    "Once saved, %(client)s joins the %(count)s upcoming sessions of %(group)s.",
                    client=self.partner_id.display_name,
                    count=count,
                    group=group.display_name,
                ),
            }
        }

    def action_end_membership(self):
        """Remove the client from the group today, keeping the membership as history, logged
        in the group's chatter."""
        today = fields.Date.context_today(self)
        for member in self.filtered(lambda m: not m.date_end or m.date_end > today):
            member.date_end = max(today, member.date_start)
            member.group_id._message_log(
                body=self.env._(
                    "%(client)s left the group on %(end)s and its upcoming sessions. To undo, "
                    "click Undo on the client's line today, or add the client again.",
                    client=member.partner_id.display_name,
                    end=format_date(self.env, member.date_end),
                )
            )
        return True

    def action_undo_end_membership(self):
        """Undo a removal made today: the client is a member again and back in the group's
        upcoming sessions (the place is still theirs, capacity permitting), logged in the
        group's chatter."""
        today = fields.Date.context_today(self)
        for member in self.filtered(
            lambda m: m.date_end and m.date_end == max(today, m.date_start)
        ):
            member.date_end = False
            member.group_id._message_log(
                body=self.env._(
                    "%(client)s is a member of the group again (the removal was undone).",
                    client=member.partner_id.display_name,
                )
            )
        return True

    def action_open_group(self):
        """Open the group form, to edit the group from the client's profile."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "therapy.group",
            "res_id": self.group_id.id,
            "view_mode": "form",
        }

    def _overlaps(self, other):
        """Whether two memberships share a day ([start, end) periods, open end = still on)."""
        self.ensure_one()
        return (not other.date_end or self.date_start < other.date_end) and (
            not self.date_end or other.date_start < self.date_end
        )
