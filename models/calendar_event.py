from collections import defaultdict
from datetime import timedelta

import pytz

try:
    import vobject
except ImportError:  # as in Odoo's calendar: no .ics without it
    vobject = None

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import clean_context, format_datetime, is_html_empty, split_every

from .therapy_attendance import PLACES_OF_SERVICE, KnownMemberships
from .therapy_group_member import MEMBERSHIP_DAY_FIELDS

# What a signed chart note states about its session: frozen once any note of it is signed.
SIGNED_SESSION_FACTS = (
    "start",
    "stop",
    "duration",
    "allday",
    "start_date",
    "stop_date",
    "therapy_group_id",
    "user_id",
    "therapy_place_of_service",
)
# The session fields its invoices and claims read (date of service, group, rendering provider,
# place of service), and what each billed attendance line states of them: frozen while a line
# is on a posted invoice or a claim, whatever the time of day the session moves to.
BILLED_SESSION_FACTS = (
    "start",
    "allday",
    "start_date",
    "therapy_group_id",
    "user_id",
    "therapy_place_of_service",
)
BILLED_LINE_FACTS = ("session_date", "group_id", "rendering_provider_id", "place_of_service")


# What a busy block copies from its session; a change to any of these moves or drops the block.
BUSY_BLOCK_TRIGGERS = {
    "therapy_group_id",
    "start",
    "stop",
    "duration",
    "start_date",
    "stop_date",
    "allday",
    "user_id",
    "partner_ids",
    "active",
    "therapy_cancelled",
}
# Past sessions given their busy blocks at an update, per batch.
BUSY_BLOCK_BATCH = 500


def _therapy_linked_ids(commands):
    """The partner ids that attendee commands of a new event set or link, in order; None
    when they do anything else (the caller then leaves them as they are)."""
    if commands and all(isinstance(command, int) for command in commands):
        return list(commands)
    ids = []
    for command in commands or []:
        if not isinstance(command, (list, tuple)) or not command:
            return None
        if command[0] == Command.SET:
            ids = list(command[2])
        elif command[0] == Command.LINK:
            ids.append(command[1])
        else:
            return None
    return ids


# Checked on the values the client sent (the mixin's own fields: the lines of the form).
_THERAPY_ORGANIZER = ("user_id",)


class CalendarEvent(models.Model):
    _name = "calendar.event"
    # The readable-target mixin checks the attendees and attendance lines typed in the form,
    # and the organizer sent by the client (_THERAPY_ORGANIZER), before create puts a group's
    # session on its provider's calendar: a client's portal login is a user named as the
    # client.
    _inherit = [
        "calendar.event",
        "therapy.server.owned.mixin",
        "therapy.input.mixin",
        "therapy.readable.target.mixin",
    ]
    _therapy_own_record_fields = ("user_id",)
    # Odoo's own calendar fields keep their rules; ours are set by the server only.
    _therapy_server_owns_computed = False
    _therapy_server_owned_fields = (
        "therapy_cancelled",
        "therapy_attendance_state",
        "therapy_attended_count",
        "therapy_group_code",
        "therapy_chart_state",
        "therapy_rule_report",
        "therapy_group_notice",
        "therapy_busy_for_id",
        "therapy_session_tz",
        "therapy_session_date",
    )

    therapy_group_id = fields.Many2one(
        "therapy.group",
        index="btree_not_null",
        ondelete="restrict",
        help="Schedule a group session: type part of the group's name or initials. Every current "
        "member is added to the session.",
    )
    therapy_busy_for_id = fields.Many2one(
        "calendar.event",
        string="Busy Block Of",
        index="btree_not_null",
        ondelete="cascade",
        readonly=True,
        copy=False,
        help="Set on the private event that blocks a group session's time on its provider's "
        "calendar: colleagues who may not see the session see this one, as Busy.",
    )
    therapy_group_code = fields.Char(related="therapy_group_id.code", string="Group Initials")
    therapy_group_color = fields.Integer(related="therapy_group_id.color", string="Group Colour")
    therapy_attendance_ids = fields.One2many("therapy.attendance", "event_id", string="Attendance")
    therapy_session_tz = fields.Char(
        string="Time Zone of Service",
        compute="_compute_therapy_session_tz",
        store=True,
        help="The practice's time zone that dates the session: the organizer's, else the "
        "company's. Kept once the session is on a posted invoice or a claim, or has a signed "
        "chart note, so that a later change of either time zone does not move what was billed "
        "and signed.",
    )
    therapy_session_date = fields.Date(
        string="Date of Service",
        compute="_compute_therapy_session_date",
        store=True,
        index=True,
        help="The session's day in the practice's time zone (the organizer's, else the "
        "company's): the date of service on invoices, claims and superbills.",
    )
    therapy_place_of_service = fields.Selection(
        selection=PLACES_OF_SERVICE,
        string="Place of Service",
        default="11",
        help="Where the session takes place; each client's line can differ (e.g. one client "
        "joins by video from home).",
    )
    therapy_attendance_state = fields.Selection(
        selection=[("todo", "To take"), ("partial", "In progress"), ("done", "Complete")],
        string="Attendance Taken",
        compute="_compute_therapy_attendance_state",
        store=True,
    )
    therapy_attended_count = fields.Integer(
        string="Head Count",
        compute="_compute_therapy_attendance_state",
        store=True,
        help="Clients who attended the session.",
    )
    therapy_show_all_groups = fields.Boolean(
        string="All Groups",
        compute="_compute_therapy_show_all_groups",
        readonly=False,
        help="Also offer groups run by other providers. Scheduling one of them on this calendar "
        "shares it with this provider.",
    )
    therapy_group_notice = fields.Char(compute="_compute_therapy_group_notice")
    therapy_overlap_warning = fields.Char(
        string="Double Booking",
        compute="_compute_therapy_overlap_warning",
        help="The provider or a client is already booked at that time.",
    )
    therapy_cancelled = fields.Boolean(
        string="Session Cancelled",
        readonly=True,
        copy=False,
        help="Cancelled by the practice: every client's line is 'no fee' and nobody is charged.",
    )
    therapy_rule_override = fields.Boolean(
        string="Override Payer Rules",
        groups="group_therapy.group_therapy_manager",
        copy=False,
        help="Set by an administrator: blocking payer rules no longer stop invoicing or signing "
        "this session; what they find is logged on the session instead.",
    )
    therapy_rule_report = fields.Text(
        string="Payer Rule Findings",
        compute="_compute_therapy_rule_report",
        # names clients and their payers: Group Therapy users only
        groups="group_therapy.group_therapy_user",
    )
    # charting: clinical, so providers (and administrators) only
    therapy_chart_note_ids = fields.One2many(
        "therapy.chart.note",
        "event_id",
        string="Chart Notes",
        groups="group_therapy.group_therapy_provider",
    )
    therapy_chart_state = fields.Selection(
        selection=[
            ("todo", "To chart"),
            ("draft", "Drafts"),
            ("late", "Late entry to write"),
            ("to_cosign", "To co-sign"),
            ("locked", "Signed"),
        ],
        string="Charting",
        compute="_compute_therapy_chart_state",
        groups="group_therapy.group_therapy_provider",
    )

    @api.constrains("therapy_group_id")
    def _check_therapy_group_active(self):
        """Sessions are booked for groups that still run: not for an archived one."""
        for event in self:
            group_sudo = event.sudo().therapy_group_id
            if group_sudo and not group_sudo.active:
                raise ValidationError(
                    self.env._(
                        "“%(group)s” is archived: restore it (Unarchive, on the group) before "
                        "booking a session of it.",
                        group=group_sudo.display_name,
                    )
                )

    @api.depends("user_id.tz", "therapy_group_id.company_id.partner_id.tz")
    def _compute_therapy_session_tz(self):
        """The practice's time zone now, except for the sessions billed or signed in another."""
        kept = self._therapy_billed_or_signed()
        for event in self:
            if event in kept:
                # the stored value: the time zone of the invoices, claims and signed notes
                event.therapy_session_tz = event.therapy_session_tz
            else:
                event.therapy_session_tz = event._therapy_current_tz()

    @api.depends("start", "allday", "start_date", "therapy_session_tz")
    def _compute_therapy_session_date(self):
        """The one definition of the session's local day, used for every date of service."""
        for event in self:
            if event.allday and event.start_date:
                event.therapy_session_date = event.start_date
            elif event.start:
                tz = pytz.timezone(event._therapy_practice_tz())
                event.therapy_session_date = pytz.utc.localize(event.start).astimezone(tz).date()
            else:
                event.therapy_session_date = False

    @api.depends("therapy_attendance_ids.state")
    def _compute_therapy_attendance_state(self):
        """Complete when every client's attendance is answered."""
        for event in self:
            lines = event.therapy_attendance_ids
            answered = lines.filtered("state")
            event.therapy_attended_count = len(
                answered.filtered(lambda line: line.state == "attended")
            )
            if not event.therapy_group_id or not lines:
                event.therapy_attendance_state = False
            elif len(answered) == len(lines):
                event.therapy_attendance_state = "done"
            else:
                event.therapy_attendance_state = "partial" if answered else "todo"

    @api.depends(
        "therapy_attendance_ids.state",
        "therapy_attendance_ids.product_id",
        "therapy_attendance_ids.addon_product_ids",
        "therapy_attendance_ids.place_of_service",
        "therapy_attendance_ids.modifiers",
        "therapy_attendance_ids.audio_only",
    )
    def _compute_therapy_rule_report(self):
        """What the payer rules find on the session, one line per client and rule."""
        problems = self.env["therapy.payer.rule"]._find_problems(self.therapy_attendance_ids)
        by_session = defaultdict(list)
        for line, rule, reason in problems:
            severity = self.env._("blocks") if rule.severity == "block" else self.env._("warns")
            by_session[line.event_id._origin.id].append(
                f"{line.partner_id.display_name}: {reason} ({rule.name}, {severity})"
            )
        for event in self:
            event.therapy_rule_report = "\n".join(by_session[event._origin.id]) or False

    @api.depends(
        "therapy_group_id",
        "therapy_chart_note_ids.state",
        "therapy_attendance_ids.state",
    )
    def _compute_therapy_chart_state(self):
        """Signed once every note is locked; drafts while any is being written; a late entry
        to write when a client found to have attended after signing has no note yet; to
        co-sign while signed notes wait for the signer's supervisor."""
        for event in self:
            states = set(event.therapy_chart_note_ids.mapped("state"))
            if not event.therapy_group_id:
                event.therapy_chart_state = False
            elif not states:
                event.therapy_chart_state = "todo"
            elif "draft" in states:
                event.therapy_chart_state = "draft"
            elif event._therapy_late_entry_lines():
                event.therapy_chart_state = "late"
            elif "to_cosign" in states:
                event.therapy_chart_state = "to_cosign"
            else:
                event.therapy_chart_state = "locked"

    @api.depends("therapy_group_id")
    def _compute_user_can_edit(self):
        """Front desk runs the practice's group sessions, on any provider's calendar."""
        result = super()._compute_user_can_edit()
        if self.env.user.has_group("group_therapy.group_therapy_front_desk"):
            self.filtered("therapy_group_id").user_can_edit = True
        return result

    def _compute_therapy_show_all_groups(self):
        """On a provider's calendar the picker starts with that provider's own and shared
        groups; front desk booking for the whole practice starts with every group."""
        for event in self:
            event.therapy_show_all_groups = not self._therapy_is_provider(event.user_id)

    @api.depends("therapy_group_id", "user_id")
    def _compute_therapy_group_notice(self):
        """Warn when the group belongs to another provider than the one whose calendar it is."""
        for event in self:
            group = event.therapy_group_id
            organizer = event.user_id
            if not group or not organizer or organizer == group.provider_id:
                event.therapy_group_notice = False
            elif organizer in group.shared_provider_ids:
                event.therapy_group_notice = self.env._(
                    "This group belongs to %(owner)s and is shared with %(provider)s.",
                    owner=group.provider_id.name,
                    provider=organizer.name,
                )
            else:
                event.therapy_group_notice = self.env._(
                    "This group belongs to %(owner)s. Saving the session shares the group with "
                    "%(provider)s, who can then see its clients, schedule it and chart on it.",
                    owner=group.provider_id.name,
                    provider=organizer.name,
                )

    @api.depends("therapy_group_id", "start", "stop", "user_id", "partner_ids")
    def _compute_therapy_overlap_warning(self):
        """Warn when the provider or a client of the session is booked elsewhere at that time.

        Other calendars may be hidden from the user: the check reads every event, and the
        warning names only the people of this session, never the other event.
        """
        for event in self:
            event.therapy_overlap_warning = False
            if not event.therapy_group_id or not event.start or not event.stop:
                continue
            clients = event.partner_ids.filtered(lambda partner: not partner.user_ids)
            # One search per displayed form (this field is shown in forms only).
            others_sudo = (
                self.env["calendar.event"]
                .sudo()
                .search(
                    [
                        ("id", "!=", event._origin.id or 0),
                        ("start", "<", event.stop),
                        ("stop", ">", event.start),
                        ("therapy_cancelled", "=", False),
                        # a busy block stands for a session found here anyway
                        ("therapy_busy_for_id", "=", False),
                        "|",
                        ("user_id", "=", event.user_id.id),
                        ("partner_ids", "in", clients._origin.ids),
                    ]
                )
            )
            warnings = []
            if event.user_id and event.user_id in others_sudo.user_id:
                warnings.append(
                    self.env._(
                        "%(provider)s already has another event at that time.",
                        provider=event.user_id.name,
                    )
                )
            busy = clients._origin & others_sudo.partner_ids
            if busy:
                warnings.append(
                    self.env._(
                        "Also booked at that time: %(clients)s.",
                        clients=", ".join(busy.mapped("display_name")),
                    )
                )
            event.therapy_overlap_warning = " ".join(warnings) or False

    @api.depends("therapy_group_id", "therapy_attendance_state", "therapy_cancelled")
    def _compute_display_name(self):
        """Group sessions show on the calendar whether attendance is complete (✓) or begun (…)."""
        result = super()._compute_display_name()
        marks = {"done": "✓", "partial": "…"}
        for event in self.filtered("therapy_group_id"):
            if event.therapy_cancelled:
                event.display_name = self.env._(
                    "Cancelled: %(session)s", session=event.display_name
                )
                continue
            mark = marks.get(event.therapy_attendance_state)
            if mark:
                event.display_name = f"{event.display_name} {mark}"
        return result

    @api.onchange("therapy_group_id")
    def _onchange_therapy_group_id(self):
        """Name the session after the group and invite its current members."""
        group = self.therapy_group_id
        if not group:
            return
        self.name = group.display_name
        if not self._therapy_is_provider(self.user_id):
            # Not on a provider's calendar yet: the session goes on the group's provider's.
            self.user_id = group.provider_id
        if not self._therapy_is_provider(self.env.user):
            # Front desk schedules for the practice and is not an attendee of the session.
            booker = self.env.user.partner_id
            self.partner_ids = self.partner_ids.filtered(lambda partner: partner._origin != booker)
        self.partner_ids |= self.user_id.partner_id
        day = self.therapy_session_date or fields.Date.context_today(self)
        members = group.member_ids.filtered(lambda member: member._is_member_on(day)).partner_id
        self.partner_ids = [Command.link(partner.id) for partner in members]

    @api.model_create_multi
    def create(self, vals_list):
        # Before the group's id below is read from the values.
        self._therapy_check_input_types(vals_list)
        self._therapy_check_readable_targets(vals_list, defaults=True, fnames=_THERAPY_ORGANIZER)
        groups = self.env["therapy.group"].browse(
            {vals["therapy_group_id"] for vals in vals_list if vals.get("therapy_group_id")}
        )
        booked_for_the_practice = not self._therapy_is_provider(self.env.user)
        for vals in vals_list:
            if not vals.get("therapy_group_id"):
                continue
            group = groups.browse(vals["therapy_group_id"])
            if not vals.get("name"):
                vals["name"] = group.display_name
            booked_on_a_calendar = "user_id" in vals or self.env.context.get("default_user_id")
            if not booked_on_a_calendar and booked_for_the_practice:
                # Front desk books on the provider's calendar, as in the form.
                vals["user_id"] = group.provider_id.id
        memberships = self.env["therapy.group.member"]
        if groups:
            memberships = memberships.search_fetch(
                [("group_id", "in", groups.ids)], MEMBERSHIP_DAY_FIELDS
            )
            self._therapy_invite_members(vals_list, memberships)
        # Odoo copies the first attendee's name, e-mail and phone into the description
        # ("Contact Details"), which every member's invitation and .ics would then carry.
        creator = self.with_context(skip_contact_description=True) if groups else self
        events = super(CalendarEvent, creator).create(vals_list).with_env(self.env)
        # A recurring event comes back archived, replaced by its occurrences (created, and
        # given their lines, by the nested create of Odoo's recurrence).
        sessions = events.filtered(lambda event: event.therapy_group_id and event.active)
        if sessions:
            sessions._therapy_sync_attendance(remove_blank=False, memberships=memberships)
            sessions._therapy_share_with_providers()
            sessions._therapy_sync_busy_blocks()
        return events

    def onchange(self, values, field_names, fields_spec):
        self._therapy_check_readable_targets(
            [values], defaults=not field_names, fnames=_THERAPY_ORGANIZER
        )
        return super().onchange(values, field_names, fields_spec)

    def write(self, vals):
        self._therapy_check_input_types([vals])
        self._therapy_check_readable_targets([vals], fnames=_THERAPY_ORGANIZER)
        self._therapy_check_signed_facts(vals)
        if "active" in vals and not vals["active"]:
            self._therapy_check_not_billed(self.env._("archive the session"))
        billed_facts = self._therapy_billed_facts(vals)
        if vals.get("recurrence_update") in ("all_events", "future_events"):
            # Odoo rebuilds the series by archiving or deleting its occurrences: a billed one
            # refuses it (_therapy_check_not_billed), in the words of what the user asked.
            result = super(CalendarEvent, self.with_context(therapy_series_edit=True)).write(vals)
        else:
            result = super().write(vals)
        # Compared once written: the date of service follows from the start, the all-day flag
        # and the stored time zone through Odoo's own date computations.
        self._therapy_check_billed_facts(billed_facts)
        if {"start", "allday", "start_date"} & vals.keys():
            # Read as superuser: a line hidden from the caller still states what happened.
            lines_sudo = self.sudo()._therapy_future().therapy_attendance_ids
            lines_sudo._therapy_answered_after_start().event_id._therapy_check_started("move")
        if vals.get("active") is False:
            # Archived sessions (cancelled ones, or occurrences a recurrence detached) keep
            # the attendance that was recorded, nothing else.
            self.therapy_attendance_ids.filtered(lambda line: not line.state).unlink()
        if {"therapy_group_id", "start", "user_id", "partner_ids", "active"} & vals.keys():
            sessions = self.filtered(lambda event: event.therapy_group_id and event.active)
            if {"therapy_group_id", "start", "active"} & vals.keys():
                sessions._therapy_future()._therapy_sync_attendance(remove_blank=True)
            sessions._therapy_share_with_providers()
        if BUSY_BLOCK_TRIGGERS & vals.keys() and not self.env.context.get("therapy_busy_sync"):
            # a session that loses its group loses its block too
            changed = (
                self if "therapy_group_id" in vals else self.sudo().filtered("therapy_group_id")
            )
            changed.sudo(False)._therapy_sync_busy_blocks()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded_attendance(self):
        """Keep sessions with recorded attendance: every line counts, whoever may see it.

        Odoo checked the caller's right to delete these sessions before this guard runs; the
        lines are then read as superuser on purpose, so that a line hidden from the caller
        by a record rule still blocks the deletion.
        """
        self._therapy_check_not_billed(self.env._("delete the session"))
        recorded = self.sudo().therapy_attendance_ids.filtered("state")
        if recorded:
            raise UserError(
                self.env._(
                    "“%(session)s” has recorded attendance and cannot be deleted. Archive the "
                    "session instead, or clear its attendance first.",
                    session=recorded[0].event_id.sudo(False).display_name,
                )
            )

    @api.model
    def action_open_therapy_sessions(self):
        """The Sessions calendar on what the user works on: every group session of the practice
        for the front desk, the sessions they run or share for a provider."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.calendar_event_action_session"
        )
        context = {"search_default_filter_group_sessions": 1}
        if not self.env.user.has_group("group_therapy.group_therapy_front_desk"):
            context["search_default_filter_my_sessions"] = 1
        action["context"] = context
        return action

    def _mail_get_operation_for_mail_message_operation(self, message_operation):
        """Messages on a group session need the same right as the session itself.

        Calendar's own rule peeks at each event's privacy and attendees as the caller, which
        fails on a session the record rules hide from them: which records are sessions is
        decided as superuser (ids only), and the rules then decide the access.
        """
        sessions = self.sudo().filtered("therapy_group_id").with_env(self.env)
        result = super(
            CalendarEvent, self - sessions
        )._mail_get_operation_for_mail_message_operation(message_operation)
        operation = "read" if message_operation == "read" else "write"
        result.update(dict.fromkeys(sessions, operation))
        return result

    def _therapy_mail_guarded(self):
        """Group sessions: their chatter is the practice's notes on the session."""
        return self.sudo().filtered("therapy_group_id").with_env(self.env)

    def message_post(self, **kwargs):
        """A message "to the group" reaches each client in a message of their own.

        The chatter keeps the message for the practice (staff recipients only); every client
        among the recipients gets a copy addressed to them alone, so that no client's name or
        address travels with another's.
        """
        if (
            len(self) != 1
            or not self.sudo().therapy_group_id
            or not kwargs.get("partner_ids")
            # text messages are split by _message_sms_with_template, one client per message
            or kwargs.get("message_type") == "sms"
        ):
            return super().message_post(**kwargs)
        recipients = self.env["res.partner"].browse(kwargs["partner_ids"])
        clients = recipients.filtered(lambda partner: partner._therapy_is_client())
        if not clients:
            return super().message_post(**kwargs)
        kwargs["partner_ids"] = (recipients - clients).ids
        message = super().message_post(**kwargs)
        for client in clients:
            self.message_notify(
                partner_ids=client.ids,
                body=message.body,
                subject=message.subject or self.therapy_group_id.name,
                attachment_ids=message.attachment_ids.ids,
                email_layout_xmlid="mail.mail_notification_light",
            )
        return message

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        """Clients never follow a group session: followers would see every member's mail."""
        sessions = self.sudo().filtered("therapy_group_id").with_env(self.env)
        if sessions and partner_ids:
            clients = (
                self.env["res.partner"]
                .sudo()
                .browse(partner_ids)
                .filtered(lambda partner: partner._therapy_is_client())
            )
            staff_ids = [partner_id for partner_id in partner_ids if partner_id not in clients.ids]
            super(CalendarEvent, sessions).message_subscribe(staff_ids, subtype_ids)
            return super(CalendarEvent, self - sessions).message_subscribe(partner_ids, subtype_ids)
        return super().message_subscribe(partner_ids=partner_ids, subtype_ids=subtype_ids)

    def _message_sms_with_template(self, template=False, partner_ids=False, **kwargs):
        """SMS reminders of calendar_sms (if installed) go to each client of a group session
        in a message of their own; without the sms module nothing calls this."""
        if len(self) != 1 or not self.sudo().therapy_group_id or len(partner_ids or []) < 2:
            return super()._message_sms_with_template(
                template=template, partner_ids=partner_ids, **kwargs
            )
        messages = self.env["mail.message"]
        for partner_id in partner_ids:
            messages |= super()._message_sms_with_template(
                template=template, partner_ids=[partner_id], **kwargs
            )
        return messages

    def _setup_alarms(self):
        """Events without reminders have nothing to schedule: Odoo's loop finds no alarm on
        them, after looking its reminder cron up (a query), at every session created (and its
        busy blocks) or moved. Those with reminders are scheduled by Odoo as ever."""
        with_alarms = self.filtered("alarm_ids")
        if not with_alarms:
            return {}
        return super(CalendarEvent, with_alarms)._setup_alarms()

    def _get_ics_file(self):
        """A client's .ics names that client alone (Odoo's lists every attendee)."""
        result = super()._get_ics_file()
        sessions = self.filtered("therapy_group_id")
        if not sessions:
            return result
        if self.env.context.get("therapy_ics_skip"):
            return {key: ics for key, ics in result.items() if key not in sessions.ids}
        attendee_id = self.env.context.get("therapy_ics_attendee_id")
        if attendee_id and vobject:
            attendee = self.env["calendar.attendee"].browse(attendee_id)
            keep = f"mailto:{attendee.email or ''}".lower()
            for session in sessions.filtered(lambda event: event.id in result):
                calendar = vobject.readOne(result[session.id].decode())
                vevent = calendar.vevent
                for line in list(vevent.contents.get("attendee", [])):
                    if line.value.lower() != keep:
                        vevent.remove(line)
                result[session.id] = calendar.serialize().encode()
        return result

    def action_open_composer(self):
        """Staff write to a group's clients without Odoo's template, which lists attendees."""
        action = super().action_open_composer()
        if self.therapy_group_id:
            action["context"] = dict(action["context"], default_template_id=False)
            action["context"].pop("default_body", None)
        return action

    def action_mark_all_attended(self):
        """Every unanswered client attended, with the group's default code; answers stay."""
        blank_lines = self.therapy_attendance_ids.filtered(lambda line: not line.state)
        for group, lines in blank_lines.grouped("group_id").items():
            lines.write({"state": "attended", "product_id": group.default_product_id.id})
        return True

    def action_cancel_session(self):
        """Cancel whole sessions: every line 'no fee', members told by mail, nobody charged."""
        sessions = self.filtered("therapy_group_id")
        if not sessions:
            raise UserError(
                self.env._(
                    "Only group sessions are cancelled here: delete or archive other calendar "
                    "events as usual."
                )
            )
        lines = sessions.therapy_attendance_ids
        # A draft invoice bills nobody yet: the session's own are discarded below, as when the
        # session moves; a posted one is the client's bill, which only a credit note undoes.
        invoiced = lines.filtered(lambda line: line.invoice_id.state == "posted")
        if invoiced:
            raise UserError(
                self.env._(
                    "%(session)s cannot be cancelled: %(client)s is already invoiced "
                    "(%(invoice)s). Credit the invoices first, then cancel the session.",
                    session=invoiced[0].event_id.display_name,
                    client=invoiced[0].partner_id.display_name,
                    invoice=invoiced[0].invoice_id.name,
                )
            )
        # A claim without a copay leaves the line without a client invoice: claimed all the same.
        sessions._therapy_check_not_billed(self.env._("cancel the session"), signed=False)
        sessions._therapy_check_no_chart_notes()
        drafts = lines.filtered("invoice_id")
        # named by number only: the session's chatter does not name its clients
        discarded = {
            session: ", ".join(session_lines.invoice_id.mapped("display_name"))
            for session, session_lines in drafts.grouped("event_id").items()
        }
        drafts._discard_draft_invoices()
        no_fee = self.env.ref("group_therapy.product_product_no_fee")
        lines.write(
            {"state": "absent", "product_id": no_fee.id, "addon_product_ids": [Command.clear()]}
        )
        sessions._therapy_server_write({"therapy_cancelled": True, "show_as": "free"})
        # Each client is told alone (no .ics: there is nothing left to put in a calendar).
        clients = sessions.attendee_ids._therapy_clients()
        clients.with_context(therapy_ics_skip=True)._therapy_notify_clients("cancel")
        for session in sessions:
            session.message_post(
                body=self.env._(
                    "%(session)s on %(date)s is cancelled; %(count)s clients were told by "
                    "e-mail, each in a message of their own.",
                    session=session.therapy_group_id.name,
                    date=format_datetime(self.env, session.start, dt_format="short"),
                    count=len(clients.filtered(lambda attendee, s=session: attendee.event_id == s)),
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
            if session in discarded:
                session.message_post(
                    body=self.env._(
                        "Draft invoices discarded with the session (nobody was billed; "
                        "deleted, or cancelled where they keep their number): %(invoices)s.",
                        invoices=discarded[session],
                    ),
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
        return True

    def action_send_therapy_measures(self):
        """Send the group's questionnaires (PHQ-9, GAD-7) to each client of the session: one
        private link each, by an e-mail of their own. A client who already has them for this
        session is not sent them twice."""
        if not self.env.user.has_group("group_therapy.group_therapy_user"):
            raise AccessError(
                self.env._("Only Group Therapy staff send questionnaires to clients.")
            )
        sessions = self.filtered("therapy_group_id")
        # those who may change the session (front desk, its providers) may ask its clients
        sessions.check_access("write")
        for session in sessions:
            if not session.therapy_group_id.measure_survey_ids:
                raise UserError(
                    self.env._(
                        "Choose the questionnaires of %(group)s first: open the group, tab "
                        "Measurement-based Care, then send again.",
                        group=session.therapy_group_id.display_name,
                    )
                )
            if session.therapy_cancelled or session.stop < fields.Datetime.now():
                raise UserError(
                    self.env._(
                        "%(session)s is over or cancelled: questionnaires are sent before a "
                        "session.",
                        session=session.display_name,
                    )
                )
        sent = sessions.sudo()._therapy_send_measures()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if sent else "info",
                "message": self.env._(
                    "Questionnaires sent to %(count)s clients, each by a private e-mail.",
                    count=len(sent.partner_id),
                )
                if sent
                else self.env._("Every client of the session already has the questionnaires."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    @api.model
    def _cron_send_therapy_measures(self):
        """Send the questionnaires of groups that send them automatically, the configured
        number of hours before each session (every session, or every 4 weeks per client)."""
        groups = self.env["therapy.group"].search(
            [("measure_frequency", "!=", "manual"), ("measure_survey_ids", "!=", False)]
        )
        if not groups:
            return
        now = fields.Datetime.now()
        horizon = now + timedelta(hours=max(groups.mapped("measure_hours_before")))
        sessions = self.search(
            [
                ("therapy_group_id", "in", groups.ids),
                ("start", ">", now),
                ("start", "<=", horizon),
                ("therapy_cancelled", "=", False),
            ]
        ).filtered(
            lambda session: session.start
            - timedelta(hours=session.therapy_group_id.measure_hours_before)
            <= now
        )
        sessions._therapy_send_measures(respect_frequency=True)

    def _therapy_send_measures(self, respect_frequency=False):
        """Create each client's answer (survey.user_input: their private token) to each of the
        group's questionnaires for these sessions, and send every client one e-mail of their
        own with their links. Runs as superuser after the caller's check; returns the new
        answers. With ``respect_frequency``, a group sending every 4 weeks skips a client who
        got the questionnaire in the 4 weeks before the session."""
        UserInput = self.env["survey.user_input"]
        surveys = self.therapy_group_id.measure_survey_ids
        existing = UserInput.search(
            [("therapy_event_id", "in", self.ids), ("survey_id", "in", surveys.ids)]
        )
        done = {(i.therapy_event_id, i.partner_id, i.survey_id) for i in existing}
        clients = self.therapy_attendance_ids.filtered(
            lambda line: line.state != "absent" and line.partner_id.email
        ).partner_id
        last_sent = {}
        if respect_frequency and clients:
            last_sent = {
                (partner, survey): when
                for partner, survey, when in UserInput._read_group(
                    [("partner_id", "in", clients.ids), ("survey_id", "in", surveys.ids)],
                    ["partner_id", "survey_id"],
                    ["create_date:max"],
                )
            }
        vals_list = []
        for session in self:
            group = session.therapy_group_id
            every_four_weeks = respect_frequency and group.measure_frequency == "four_weeks"
            lines = session.therapy_attendance_ids.filtered(
                lambda line: line.state != "absent" and line.partner_id.email
            )
            for client in lines.partner_id:
                for survey in group.measure_survey_ids:
                    if (session, client, survey) in done:
                        continue
                    last = last_sent.get((client, survey))
                    if every_four_weeks and last and last > session.start - timedelta(weeks=4):
                        continue
                    last_sent[client, survey] = session.start
                    vals_list.append(
                        {
                            "survey_id": survey.id,
                            "partner_id": client.id,
                            "email": client.email,
                            "therapy_event_id": session.id,
                        }
                    )
        answers = UserInput.with_context(
            mail_create_nosubscribe=True, mail_create_nolog=True, tracking_disable=True
        ).create(vals_list)
        template = self.env.ref("group_therapy.mail_template_measure_request")
        for _key, client_answers in answers.grouped(
            lambda answer: (answer.therapy_event_id, answer.partner_id)
        ).items():
            # one e-mail per client and session, with the links of that client alone
            template.send_mail(
                client_answers[0].id, email_layout_xmlid="mail.mail_notification_light"
            )
        for session, session_answers in answers.grouped("therapy_event_id").items():
            session.message_post(
                body=self.env._(
                    "Questionnaires (%(surveys)s) sent to %(count)s clients, each by a private "
                    "e-mail of their own.",
                    surveys=", ".join(session_answers.survey_id.mapped("title")),
                    count=len(session_answers.partner_id),
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        return answers

    def _therapy_check_no_chart_notes(self):
        """Refuse to cancel sessions that have chart notes: a signed note says the session took
        place; a draft is a provider's work, which cancelling must not silently discard.

        Front desk cannot read notes: they are searched as superuser, and the message names
        only the session and the providers, never what the notes say.
        """
        notes_sudo = self.env["therapy.chart.note"].sudo().search([("event_id", "in", self.ids)])
        signed_sudo = notes_sudo.filtered(lambda note: note.state != "draft")
        if signed_sudo:
            raise UserError(
                self.env._(
                    "%(session)s has signed chart notes: it took place and cannot be cancelled. "
                    "Record what changed as an addendum to the notes; for billing, correct the "
                    "clients' attendance (Correct, which credits the invoice).",
                    session=signed_sudo[0].event_id.sudo(False).display_name,
                )
            )
        if notes_sudo:
            session_sudo = notes_sudo[0].event_id
            drafts_sudo = notes_sudo.filtered(lambda note: note.event_id == session_sudo)
            authors = (drafts_sudo.create_uid | drafts_sudo.write_uid).filtered(
                lambda user: not user._is_superuser()
            ) or drafts_sudo.provider_id
            raise UserError(
                self.env._(
                    "%(session)s has draft chart notes written by %(providers)s: cancelling it "
                    "would discard them. Ask %(providers)s to sign the notes if the session took "
                    "place, or to delete the drafts (Chart Notes), then cancel the session.",
                    session=session_sudo.sudo(False).display_name,
                    providers=", ".join(authors.mapped("name")),
                )
            )

    def action_open_charting(self):
        """The group charting wizard: one page of group notes, a note per attending client."""
        self.ensure_one()
        self._therapy_check_chartable()
        Wizard = self.env["therapy.charting.wizard"]
        return Wizard._therapy_server_create(Wizard._prepare_for_event(self))._action_reopen()

    def action_open_group_addendum(self):
        """One addendum for every signed note of the session."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Group addendum"),
            "res_model": "therapy.group.addendum.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_event_id": self.id},
        }

    def action_open_chart_notes(self):
        """The session's chart notes, one per attending client."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.therapy_chart_note_action"
        )
        action["domain"] = [("event_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_invoice_attendance(self):
        """Invoice every client of these sessions who has something to pay, once."""
        sessions = self.filtered("therapy_group_id")
        if not sessions:
            raise UserError(self.env._("Select group sessions to invoice their attendance."))
        unanswered = sessions.therapy_attendance_ids.filtered(lambda line: not line.state)
        if unanswered:
            raise UserError(
                self.env._(
                    "Take the attendance of %(session)s first: %(clients)s have no answer yet.",
                    session=unanswered[0].event_id.display_name,
                    clients=", ".join(
                        unanswered.event_id[:1]
                        .therapy_attendance_ids.filtered(lambda line: not line.state)
                        .partner_id.mapped("display_name")
                    ),
                )
            )
        invoices = sessions.therapy_attendance_ids.action_invoice()
        if not invoices:
            raise UserError(
                self.env._(
                    "Nothing to invoice: every billable client of these sessions is invoiced "
                    "already, or their code bills nothing (no fee, waived fee)."
                )
            )
        # Odoo's customer invoices (account.action_move_out_invoice_type) with their list and
        # search views, built here: reading the action record cost 8 queries on every invoicing.
        xmlid_to_res_id = self.env["ir.model.data"]._xmlid_to_res_id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Invoices"),
            "path": "invoicing",
            "res_model": "account.move",
            "view_mode": "list,kanban,form,activity",
            "views": [
                (xmlid_to_res_id("account.view_out_invoice_tree"), "list"),
                (False, "kanban"),
                (False, "form"),
                (False, "activity"),
            ],
            "search_view_id": [xmlid_to_res_id("account.view_account_invoice_filter"), "search"],
            "mobile_view_mode": "kanban",
            "domain": [("id", "in", invoices.ids)],
            # The customer invoices' own context (it shows the Customer column), without "New".
            "context": {"default_move_type": "out_invoice", "create": False},
            "target": "current",
        }

    @api.model
    def _therapy_is_provider(self, user):
        """Whether the user runs groups (the Provider role, administrators included)."""
        return bool(user) and user._has_group("group_therapy.group_therapy_provider")

    def _therapy_attended_lines(self):
        """The attendance lines of the clients who attended: the ones who get a chart note."""
        return self.therapy_attendance_ids.filtered(lambda line: line.state == "attended")

    def _therapy_late_entry_lines(self):
        """Attending clients still without a note once the session's notes were signed (their
        attendance was corrected afterwards): each gets a late entry of their own."""
        self.ensure_one()
        # Notes waiting for a co-signature are signed: they are not written again.
        signed = self.therapy_chart_note_ids.filtered(lambda note: note.state != "draft")
        if not signed:
            return self.env["therapy.attendance"]
        charted = self.therapy_chart_note_ids.partner_id
        return self._therapy_attended_lines().filtered(lambda line: line.partner_id not in charted)

    def _therapy_check_chartable(self):
        """Refuse, with what to do, a session that cannot be charted (or charted again)."""
        self.ensure_one()
        if not self.therapy_group_id:
            raise UserError(
                self.env._("Only group sessions are charted here: choose the session's group.")
            )
        # Providers chart the groups they run or share; others are stopped here, clearly.
        self.therapy_group_id.check_access("write")
        self._therapy_check_started("chart")
        signed = self.therapy_chart_note_ids.filtered(lambda note: note.state != "draft")
        signed_partners = signed.partner_id
        if signed and not self._therapy_attended_lines().filtered(
            lambda line: line.partner_id not in signed_partners
        ):
            waiting = signed.filtered(lambda note: note.state == "to_cosign")
            if waiting:
                raise UserError(
                    self.env._(
                        "The chart notes of %(session)s are signed and wait for "
                        "%(supervisor)s's co-signature. To change one, ask %(supervisor)s to "
                        "return it to you.",
                        session=self.display_name,
                        supervisor=waiting[0].sudo().signed_by_id.therapy_supervisor_id.name
                        or self.env._("the supervisor"),
                    )
                )
            raise UserError(
                self.env._(
                    "The chart notes of %(session)s are signed and locked. To add to a note, "
                    "open it (Chart Notes) and write an addendum.",
                    session=self.display_name,
                )
            )
        unanswered = self.therapy_attendance_ids.filtered(lambda line: not line.state)
        if unanswered:
            raise UserError(
                self.env._(
                    "Take the attendance first: %(clients)s have no answer yet. The chart notes "
                    "record who attended and the head count.",
                    clients=", ".join(unanswered.partner_id.mapped("display_name")),
                )
            )
        if not self._therapy_attended_lines():
            raise UserError(
                self.env._(
                    "Nobody attended %(session)s, so there is no chart note to write: the "
                    "attendance codes are the record of this session.",
                    session=self.display_name,
                )
            )

    def _therapy_presign_problems(
        self, template, group_note, client_notes, section_contents, partners=None
    ):
        """["Client: what to do"] for everything that stops the session's notes from being
        signed: unanswered attendance, and per attending client (of ``partners`` if given) a
        missing code, an empty required section, a missing diagnosis or an empty note.

        ``client_notes`` is {partner: html}; ``section_contents`` {str(section id): html}.
        """
        self.ensure_one()
        problems = []
        lines = self.therapy_attendance_ids
        for line in lines.filtered(lambda line: not line.state):
            problems.append(
                self.env._("%(client)s: no attendance recorded", client=line.partner_id.name)
            )
        empty_sections = template.section_ids.filtered(
            lambda section: section.required
            and is_html_empty((section_contents or {}).get(str(section.id)))
        )
        group_note_empty = is_html_empty(group_note)
        attended = self._therapy_attended_lines()
        if partners is not None:
            attended = attended.filtered(lambda line: line.partner_id in partners)
        for line in attended:
            client = line.partner_id
            if not line.product_id:
                problems.append(self.env._("%(client)s: no code", client=client.name))
            for section in empty_sections:
                problems.append(
                    self.env._(
                        "%(client)s: the required section “%(section)s” is empty",
                        client=client.name,
                        section=section.name,
                    )
                )
            # the lines, not the codes: whether there is one is all that counts here
            if template.require_diagnosis and not client.sudo().therapy_diagnosis_line_ids:
                problems.append(
                    self.env._(
                        "%(client)s: no diagnosis code (add one on the client's profile)",
                        client=client.name,
                    )
                )
            if group_note_empty and is_html_empty(client_notes.get(client)):
                problems.append(
                    self.env._(
                        "%(client)s: the note is empty (write group notes or a note for the "
                        "client)",
                        client=client.name,
                    )
                )
        return problems

    def _therapy_check_presign(self, notes):
        """Refuse to sign ``notes`` of this session while the pre-sign check or a blocking payer
        rule finds a problem: the same check whichever button signs."""
        self.ensure_one()
        self._therapy_check_started("sign")
        first = notes[:1]
        problems = self._therapy_presign_problems(
            first.template_id,
            first.group_note,
            {note.partner_id: note.client_note for note in notes},
            first.section_contents or {},
            partners=notes.partner_id,
        )
        for note in notes.filtered(lambda note: note.attendance_id.state != "attended"):
            problems.append(
                self.env._(
                    "%(client)s: no longer marked as attended (chart the session again)",
                    client=note.partner_id.name,
                )
            )
        if problems:
            raise UserError(
                self.env._(
                    "These notes cannot be signed yet:\n%(problems)s",
                    problems="\n".join(f"- {problem}" for problem in problems),
                )
            )
        self.env["therapy.payer.rule"]._check_lines(
            self.therapy_attendance_ids, self.env._("Signing")
        )

    def _therapy_check_signed_facts(self, vals):
        """Refuse to change what a signed chart note of the session states."""
        signed = self.filtered(
            lambda event: event.therapy_group_id
            and event.sudo().therapy_attendance_ids.filtered("note_signed")
        )
        changed = signed._therapy_changed_fields(vals, SIGNED_SESSION_FACTS)
        if changed:
            session = signed.filtered(lambda event: event._therapy_changed_fields(vals, changed))[
                :1
            ]
            raise UserError(
                self.env._(
                    "%(session)s has signed chart notes, which state its %(facts)s: these can no "
                    "longer change. Record a correction as an addendum to the notes; for billing, "
                    "credit the invoices (Add Credit Note).",
                    session=session.display_name,
                    facts=", ".join(
                        sorted(self._fields[name]._description_string(self.env) for name in changed)
                    ),
                )
            )

    def _therapy_billed_facts(self, vals):
        """{invoiced or claimed line (as superuser): what it states of its session}, for the
        sessions ``vals`` may change; nothing, and no query, when it changes none of that."""
        if not set(BILLED_SESSION_FACTS) & vals.keys():
            return {}
        Attendance = self.env["therapy.attendance"]
        invoiced = Domain("invoice_id", "!=", False) | Attendance._therapy_billed_domain()
        lines_sudo = self._therapy_started_lines_sudo(invoiced)
        return {line: {fname: line[fname] for fname in BILLED_LINE_FACTS} for line in lines_sudo}

    def _therapy_check_billed_facts(self, facts_before):
        """Refuse a change to what a posted invoice or a claim states of its session; a draft
        invoice that no longer states it is discarded, for the line to be invoiced again."""
        changed = {}
        for line, facts in facts_before.items():
            names = {fname for fname in BILLED_LINE_FACTS if line[fname] != facts[fname]}
            if names:
                changed[line] = names
        if not changed:
            return
        lines_sudo = self.env["therapy.attendance"].sudo().browse(line.id for line in changed)
        billed = lines_sudo.filtered_domain(lines_sudo._therapy_billed_domain())
        if not billed:
            lines_sudo.with_env(self.env)._discard_draft_invoices()
            return
        line = billed[0]
        facts = ", ".join(
            sorted(line._fields[fname]._description_string(self.env) for fname in changed[line])
        )
        claims_sudo = line._therapy_live_claims_sudo()
        if claims_sudo:
            raise UserError(
                self.env._(
                    "%(session)s is on the insurance claim %(claim)s, which states its "
                    "%(facts)s to the insurer: these do not change while it is claimed. Void the "
                    "claim first (Void on the claim; a claim already sent is voided once the "
                    "void is submitted), or correct it with the insurer.",
                    session=line.event_id.display_name,
                    claim=claims_sudo[:1].name,
                    facts=facts,
                )
            )
        raise UserError(
            self.env._(
                "%(session)s is on the posted invoice %(invoice)s, which states its %(facts)s: "
                "these do not change while it is billed. Credit the session's invoices first "
                "(Add Credit Note), then change the session and invoice it again.",
                session=line.event_id.display_name,
                invoice=line.invoice_id.name,
                facts=facts,
            )
        )

    def _therapy_check_not_billed(self, action, signed=True):
        """Refuse ``action`` (archiving, deleting, cancelling these sessions) while one of their
        lines is on a posted invoice or a live claim, or (``signed``) has a signed chart note,
        saying what to do first; within an edit of a recurring series (``therapy_series_edit``),
        the edit is what is refused. Lines are read as superuser: one hidden from the user
        bills or documents the session all the same."""
        sessions = self.filtered(lambda event: isinstance(event.id, int))
        if not sessions:
            return
        if self.env.context.get("therapy_series_edit"):
            action = self.env._(
                "edit the recurring series (Odoo rebuilds its sessions, which archives or "
                'deletes this one; change the other sessions one at a time with "This event" '
                "instead)"
            )
        Attendance = self.env["therapy.attendance"]
        domain = Attendance._therapy_billed_domain()
        if signed:
            domain |= Domain("note_signed", "=", True)
        line_sudo = Attendance.sudo().search(
            Domain("event_id", "in", sessions.ids) & domain, limit=1
        )
        if line_sudo:
            raise UserError(line_sudo.with_env(self.env)._therapy_billed_message(action))

    def _therapy_future(self):
        """Sessions that have not started: the only ones membership changes may touch, and
        none of which is attended, invoiced, charted or signed yet."""
        now = fields.Datetime.now()
        return self.filtered(lambda event: event.start and event.start > now)

    def _therapy_check_started(self, action):
        """Refuse ``action`` (attend, move, invoice, chart, sign) on a session that has not
        started: these record what happened, so they wait for the session to happen."""
        session = self._therapy_future()[:1]
        if not session:
            return
        params = {
            "session": session.display_name,
            "start": format_datetime(self.env, session.start, dt_format="short"),
        }
        if action == "attend":
            message = self.env._(
                "%(session)s starts on %(start)s: a client is marked as attended, or as a "
                "no-show, once the session has started. Ahead of time, record a late cancel or "
                "cancel the session.",
                **params,
            )
        elif action == "move":
            message = self.env._(
                "%(session)s has clients marked as attended or as no-shows: it cannot move to "
                "%(start)s, which is still to come. Clear those answers first if the session "
                "did not take place.",
                **params,
            )
        elif action == "invoice":
            message = self.env._(
                "%(session)s starts on %(start)s: its attendance is invoiced once the session "
                "has taken place.",
                **params,
            )
        elif action == "chart":
            message = self.env._(
                "%(session)s starts on %(start)s: it is charted once it has taken place.",
                **params,
            )
        else:
            message = self.env._(
                "%(session)s starts on %(start)s: its chart notes are signed once it has taken "
                "place.",
                **params,
            )
        raise UserError(message)

    def _therapy_practice_tz(self):
        """The practice's time zone for this session (``therapy_session_tz``)."""
        self.ensure_one()
        return self.therapy_session_tz or self._therapy_current_tz()

    def _therapy_current_tz(self):
        """The practice's time zone today: the organizer's, else the company's, else UTC."""
        self.ensure_one()
        company = self.therapy_group_id.company_id or self.env.company
        tz_name = self.user_id.tz or company.partner_id.tz
        return tz_name if tz_name in pytz.all_timezones_set else "UTC"

    def _therapy_billed_or_signed(self):
        """The sessions dated already: one of their lines is on a posted invoice or a claim,
        or its chart note is signed."""
        Attendance = self.env["therapy.attendance"]
        signed_or_billed = Domain("note_signed", "=", True) | Attendance._therapy_billed_domain()
        return self.browse(self._therapy_started_lines_sudo(signed_or_billed).event_id.ids)

    def _therapy_started_lines_sudo(self, domain):
        """The lines matching ``domain`` of those of these sessions that have started and have
        a stored time zone, as superuser: a line the user does not read bills or dates its
        session all the same. Invoiced, claimed and signed lines exist only on such sessions
        (none on a session being created, which costs no query)."""
        now = fields.Datetime.now()
        started = self.filtered(
            lambda event: isinstance(event.id, int)
            and event.therapy_group_id
            and event.start
            and event.start <= now
            and event.therapy_session_tz
        )
        attendance_sudo = self.env["therapy.attendance"].sudo()
        if not started:
            return attendance_sudo
        return attendance_sudo.search_fetch(
            Domain("event_id", "in", started.ids) & domain, ["event_id"]
        )

    @api.model
    def _therapy_invite_members(self, vals_list, memberships):
        """Invite the members of a new session's group on its day in the create values
        themselves, so that Odoo creates (and invites) every attendee at once instead of the
        session being written again right after (``_therapy_sync_attendance`` then finds them
        invited). ``memberships`` holds those of the sessions' groups.

        Left to ``_therapy_sync_attendance`` after the create: recurring sessions (each
        occurrence has its own day), archived ones, attendees given by other commands than set
        and link, and attendee records given as such (Odoo then makes none from the contacts).
        """
        for vals in vals_list:
            if (
                not vals.get("therapy_group_id")
                or vals.get("recurrency")
                or not vals.get("active", True)
                or vals.get("attendee_ids")
            ):
                continue
            if "partner_ids" in vals:
                commands = vals["partner_ids"]
            else:
                # Odoo's default attendees (the user's contact), which the value replaces.
                commands = self.default_get(["partner_ids"]).get("partner_ids") or []
            partner_ids = _therapy_linked_ids(commands)
            if partner_ids is None:
                continue
            day_vals = {
                name: vals[name]
                for name in ("start", "stop", "allday", "start_date", "stop_date", "user_id")
                if name in vals
            }
            if "user_id" not in day_vals:
                day_vals.update(self.default_get(["user_id"]))
            day_vals["therapy_group_id"] = vals["therapy_group_id"]
            # The session's day as the stored field will compute it (one definition).
            day = self.new(day_vals).therapy_session_date
            if not day:
                continue
            members = [
                membership.partner_id.id
                for membership in memberships
                if membership.group_id.id == vals["therapy_group_id"]
                and membership._is_member_on(day)
            ]
            vals["partner_ids"] = [Command.set(list(dict.fromkeys([*partner_ids, *members])))]

    def _therapy_sync_attendance(self, remove_blank=True, memberships=None):
        """One attendance line (and attendee) per client who is a member on the session's day.

        Lines already answered are never removed; blank lines of clients who are no longer
        members are removed when ``remove_blank``. ``memberships``: those of the sessions'
        groups, when the caller has them already.
        """
        sessions = self.filtered("therapy_group_id")
        if not sessions:
            return
        if memberships is None:
            memberships = self.env["therapy.group.member"].search_fetch(
                [("group_id", "in", sessions.therapy_group_id.ids)], MEMBERSHIP_DAY_FIELDS
            )
        memberships_by_group = defaultdict(list)
        for membership in memberships:
            memberships_by_group[membership.group_id].append(membership)
        new_lines = []
        stale_lines = self.env["therapy.attendance"]
        for session in sessions:
            day = session.therapy_session_date
            expected = self.env["res.partner"].union(
                *(
                    membership.partner_id
                    for membership in memberships_by_group[session.therapy_group_id]
                    if membership._is_member_on(day)
                )
            )
            lines = session.therapy_attendance_ids
            new_lines += [
                {"event_id": session.id, "partner_id": partner.id}
                for partner in expected - lines.partner_id
            ]
            if remove_blank:
                stale = lines.filtered(
                    lambda line, expected=expected: not line.state
                    and line.partner_id not in expected
                )
                stale_lines |= stale
                if stale:
                    session.partner_ids = [Command.unlink(p.id) for p in stale.partner_id]
            missing_attendees = expected - session.partner_ids
            if missing_attendees:
                session.partner_ids = [Command.link(p.id) for p in missing_attendees]
        stale_lines.unlink()
        # the memberships that make the new lines: their check needs no search of its own
        self.env["therapy.attendance"].with_context(
            therapy_known_memberships=KnownMemberships(memberships.ids)
        ).create(new_lines)

    def _therapy_share_with_providers(self):
        """A group scheduled on another provider's calendar is shared with that provider."""
        for session in self.filtered("therapy_group_id"):
            group = session.therapy_group_id
            providers = (session.user_id | session.partner_ids.user_ids).filtered(
                self._therapy_is_provider
            )
            newcomers = providers - group.provider_id
            if newcomers:
                # read only when another provider than the group's is on the session
                newcomers -= group.shared_provider_ids
            if newcomers:
                group.shared_provider_ids = [Command.link(user.id) for user in newcomers]

    @api.model
    def _therapy_create_missing_busy_blocks(self):
        """At install and every update: bring the busy blocks in step with the sessions.

        Idempotent and cheap when nothing is missing. Sessions that have not ended are synced
        in full (a shared provider who is not an attendee, say, gets the block databases from
        before did not give them). Past sessions without any block (scheduled before busy
        blocks existed) get theirs, so that last week's calendar shows the provider busy too;
        past sessions that have blocks keep them as they were when the session took place.
        Blocks of cancelled, archived or ungrouped sessions are dropped.
        """
        Event = self.sudo().with_context(active_test=False)
        live = [
            ("therapy_group_id", "!=", False),
            ("therapy_cancelled", "=", False),
            ("active", "=", True),
            ("therapy_busy_for_id", "=", False),
        ]
        now = fields.Datetime.now()
        Event.search([*live, ("stop", ">=", now)])._therapy_sync_busy_blocks()
        blocked = Event._search([("therapy_busy_for_id", "!=", False)])
        unblocked_ids = Event.search(
            [*live, ("stop", "<", now), ("id", "not in", blocked.subselect("therapy_busy_for_id"))]
        ).ids
        for batch_ids in split_every(BUSY_BLOCK_BATCH, unblocked_ids):
            Event.browse(batch_ids)._therapy_sync_busy_blocks()
            # a practice's years of sessions: keep the memory of one batch at a time
            self.env.invalidate_all()
        dead = Event.search(
            [
                (
                    "therapy_busy_for_id",
                    "any",
                    [
                        "|",
                        "|",
                        ("therapy_group_id", "=", False),
                        ("therapy_cancelled", "=", True),
                        ("active", "=", False),
                    ],
                ),
            ]
        )
        dead.therapy_busy_for_id._therapy_sync_busy_blocks()
        # blocks made before carried the organizer's contact details (Odoo's default)
        Event.search([("therapy_busy_for_id", "!=", False), ("description", "!=", False)]).write(
            {"description": False}
        )

    def _therapy_busy_users(self):
        """Who the group session keeps busy: the provider whose calendar it is on, the group's
        provider and every shared provider (those who run the group), and any other staff
        member invited to it. Never a client, not even an employee who is a client of the group:
        colleagues would see them busy at every session of the group."""
        self.ensure_one()
        session_sudo = self.sudo()
        group_sudo = session_sudo.therapy_group_id
        runners = session_sudo.user_id | group_sudo.provider_id | group_sudo.shared_provider_ids
        staff = (
            (session_sudo.partner_ids - session_sudo.therapy_attendance_ids.partner_id).user_ids
            - runners
        ).filtered(lambda user: not user.share)
        if staff:
            # the group's memberships are read only when someone else is invited
            members = group_sudo.member_ids.partner_id
            staff = staff.filtered(lambda user: user.partner_id not in members)
        return (runners | staff).filtered("active")

    def _therapy_sync_busy_blocks(self):
        """Keep one busy block per group session and person it keeps busy
        (``_therapy_busy_users``): a private event on that person's calendar, at the session's
        time, without the group, its name or its clients.

        Group sessions are hidden from colleagues who do not serve the group (record rules), so
        their calendars and Odoo's free/busy check would show the provider free. The block is
        what they see instead, as "Busy" (Odoo's private events); those who see the session do
        not see its blocks (record rule ``calendar_event_rule_therapy_busy_block``). One block
        per person, organised by that person: Odoo's calendar places a private event in the
        column of its organizer (its attendees are hidden from colleagues). Cancelled, archived
        or ungrouped sessions lose their blocks. Written as superuser, without the caller's
        defaults and without any message: nobody edits a block and nobody is told about one.
        """
        events_sudo = self.sudo().with_context(active_test=False)
        events_sudo = events_sudo.filtered(lambda event: not event.therapy_busy_for_id)
        if not events_sudo:
            return
        Event = (
            self.env["calendar.event"]
            .sudo()
            .with_context(
                # the caller's defaults (a group, attendees, reminders) are the session's
                clean_context(self.env.context),
                active_test=False,
                therapy_busy_sync=True,
                # not even the organizer's own contact details in the description
                skip_contact_description=True,
                no_mail_to_attendees=True,
                skip_attendee_notification=True,
                dont_notify=True,
                mail_create_nolog=True,
                mail_notrack=True,
                tracking_disable=True,
            )
        )
        blocks = Event.search([("therapy_busy_for_id", "in", events_sudo.ids)])
        block_by_key, to_drop = {}, Event
        for block in blocks:
            key = (block.therapy_busy_for_id.id, block.user_id.id)
            if key in block_by_key:
                to_drop |= block
            else:
                block_by_key[key] = block
        to_create, moves, to_accept = [], defaultdict(lambda: Event), Event
        for session in events_sudo:
            live = session.therapy_group_id and session.active and not session.therapy_cancelled
            for user in session._therapy_busy_users() if live else ():
                when = (session.start, session.stop, session.allday)
                block = block_by_key.pop((session.id, user.id), None)
                if not block:
                    to_create.append(
                        {
                            "name": self.env._("Group session"),
                            "start": session.start,
                            "stop": session.stop,
                            "allday": session.allday,
                            "user_id": user.id,
                            "partner_ids": [Command.set(user.partner_id.ids)],
                            # accepted from the start (see below), instead of written after
                            "attendee_ids": [
                                Command.create(
                                    {"partner_id": user.partner_id.id, "state": "accepted"}
                                )
                            ],
                            "therapy_busy_for_id": session.id,
                            "privacy": "private",
                            "show_as": "busy",
                        }
                    )
                    continue
                if (block.start, block.stop, block.allday) != when:
                    moves[when] |= block
                if block.partner_ids != user.partner_id:
                    block.partner_ids = [Command.set(user.partner_id.ids)]
                    to_accept |= block
        to_drop |= Event.concat(*block_by_key.values())
        to_drop.unlink()
        for (start, stop, allday), moved in moves.items():
            moved.write({"start": start, "stop": stop, "allday": allday})
            to_accept |= moved
        Event.create(to_create)
        # their person is busy: accepted, as Odoo's free/busy and the attendee list show it
        to_accept.attendee_ids.filtered(lambda attendee: attendee.state != "accepted").write(
            {"state": "accepted"}
        )
