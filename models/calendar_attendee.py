from odoo import api, models
from odoo.exceptions import UserError
from odoo.fields import Domain

# Odoo's calendar templates and what a client is told instead (ctx therapy_notice).
CLIENT_NOTICES = {
    "calendar.calendar_template_meeting_invitation": "invitation",
    "calendar.calendar_template_meeting_changedate": "update",
    "calendar.calendar_template_meeting_update": "message",
    "calendar.calendar_template_meeting_reminder": "reminder",
    "calendar.calendar_template_delete_event": "cancel",
}


class CalendarAttendee(models.Model):
    _name = "calendar.attendee"
    _inherit = ["calendar.attendee", "therapy.readable.target.mixin"]
    _therapy_readable_target_fields = ("partner_id",)

    @api.model
    def _therapy_unreadable_target_message(self, fname):
        """An attendee is made only for a contact the user sees. Odoo reads an attendee's name
        and e-mail from its contact as superuser (related fields), and checks the contacts of
        an event's ``partner_ids`` but not the one of an attendee created directly: over RPC a
        colleague outside Group Therapy put any contact id on their own meeting and read the
        name and e-mail of the practice's clients (and invited them)."""
        return self.env._(
            "This contact is not one you can see, so it cannot be added to a meeting. "
            "Invite the people you find in your contacts."
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed_client(self):
        """A client billed or charted for a session stays on it: removing the attendee (from
        the session's attendees, or the attendee itself) is refused while the client's line
        is on a posted invoice or a live claim, or the client's note is signed. Lines are read
        as superuser: one hidden from the user bills the session all the same."""
        sessions = self.event_id.filtered("therapy_group_id")
        if not sessions:
            return
        Attendance = self.env["therapy.attendance"]
        lines_sudo = Attendance.sudo().search(
            Domain("event_id", "in", sessions.ids)
            & Domain("partner_id", "in", self.partner_id.ids)
            & (Attendance._therapy_billed_domain() | Domain("note_signed", "=", True))
        )
        removed = {(attendee.event_id.id, attendee.partner_id.id) for attendee in self}
        for line_sudo in lines_sudo:
            if (line_sudo.event_id.id, line_sudo.partner_id.id) in removed:
                raise UserError(
                    line_sudo.with_env(self.env)._therapy_billed_message(
                        self.env._("remove the client from the session")
                    )
                )

    def _send_invitation_emails(self):
        """Nobody to invite: Odoo's create asks it of the attendees of the new events still to
        come, none when a session and its busy blocks are entered after it took place. Nothing
        is sent either way; this only skips Odoo's look-up of the template, its attachments
        and mail servers, and the empty batch it queues for after the commit."""
        if not self:
            return None
        return super()._send_invitation_emails()

    def _notify_attendees(self, mail_template, notify_author=False, force_send=False):
        """Clients of a group session are told one by one, with the addon's template.

        Odoo's calendar templates list every attendee and its .ics names them all: they stay
        for the practice's staff (the provider may see the roster). Each client gets the
        client template, rendered for them alone, with an .ics that has them alone.
        """
        if self.env.context.get("therapy_ics_attendee_id"):
            # one client's notice, prepared by _therapy_notify_clients: Odoo sends it
            return super()._notify_attendees(
                mail_template, notify_author=notify_author, force_send=force_send
            )
        clients = self._therapy_clients()
        result = super(CalendarAttendee, self - clients)._notify_attendees(
            mail_template, notify_author=notify_author, force_send=force_send
        )
        if clients and mail_template:
            clients._therapy_notify_clients(self._therapy_notice(mail_template), force_send)
        return result

    def _therapy_clients(self):
        """Attendees of group sessions who are not the practice's staff (no internal user)."""
        return self.filtered(
            lambda attendee: attendee.event_id.therapy_group_id
            and attendee.partner_id._therapy_is_client()
        )

    def _therapy_notice(self, mail_template):
        """What a calendar template announces, in the client template's terms."""
        xmlid = mail_template.get_external_id().get(mail_template.id)
        if xmlid in CLIENT_NOTICES:
            return CLIENT_NOTICES[xmlid]
        # any other template sent by an alarm is a reminder; anything else, an update
        if (
            self.env["calendar.alarm"]
            .sudo()
            .search_count([("mail_template_id", "=", mail_template.id)], limit=1)
        ):
            return "reminder"
        return "update"

    def _therapy_notify_clients(self, notice, force_send=False):
        """One message per client: the client template, an .ics naming that client alone."""
        template = self.env.ref("group_therapy.calendar_template_session_client").with_context(
            therapy_notice=notice
        )
        for attendee in self:
            # the context tells the .ics (and the override above) whom it is for
            attendee.with_context(therapy_ics_attendee_id=attendee.id)._notify_attendees(
                template, notify_author=True, force_send=force_send
            )
        return True
