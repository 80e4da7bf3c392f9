import hashlib

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime, is_html_empty

from .row_lock import lock_rows_or_refuse

# What may still be written on a locked note: new addenda, and what the chatter keeps about it.
LOCKED_NOTE_WRITABLE_FIELDS = {"addendum_ids", "message_main_attachment_id"}


class TherapyChartNote(models.Model):
    _name = "therapy.chart.note"
    _description = "Chart Note"
    _inherit = ["mail.thread"]
    _order = "session_start desc, partner_name, id"
    _check_company_auto = True
    _rec_names_search = ["partner_id.name", "group_id.name", "group_id.code"]
    # A client's notes, newest first, read one page at a time: with years of sessions the index
    # keeps that page from sorting the client's whole history (bench: 490 -> 234 ms, 20,000 notes).
    _partner_session_start_idx = models.Index("(partner_id, session_start DESC)")

    # whose note, of which session
    partner_id = fields.Many2one(
        "res.partner",
        string="Client",
        required=True,
        index=True,
        ondelete="restrict",
        readonly=True,
    )
    partner_name = fields.Char(related="partner_id.name", store=True, string="Client Name")
    event_id = fields.Many2one(
        "calendar.event",
        string="Session",
        required=True,
        index=True,
        ondelete="restrict",
        readonly=True,
    )
    attendance_id = fields.Many2one("therapy.attendance", ondelete="restrict", readonly=True)
    session_start = fields.Datetime(related="event_id.start", store=True, string="Session Date")
    group_id = fields.Many2one(related="event_id.therapy_group_id", store=True, index=True)
    company_id = fields.Many2one(related="group_id.company_id", store=True, index=True)
    provider_id = fields.Many2one(
        "res.users",
        readonly=True,
        help="The provider who ran the session (the rendering provider).",
    )
    # what it says
    template_id = fields.Many2one(
        "therapy.chart.template",
        string="Chart Entry Style",
        ondelete="restrict",
        readonly=True,
    )
    group_note = fields.Html(
        string="Group Notes",
        readonly=True,
        help="Written once for the session; part of the note of every client who attended.",
    )
    client_note = fields.Html(
        readonly=True,
        help="Written for this client only.",
    )
    section_contents = fields.Json(
        readonly=True, help="What the provider wrote in each template section, by section."
    )
    body = fields.Html(
        string="Note",
        readonly=True,
        help="The whole chart note as it is signed: session facts, template, group and client "
        "notes.",
    )
    # signature
    state = fields.Selection(
        selection=[("draft", "Draft"), ("locked", "Signed and locked")],
        string="Status",
        required=True,
        default="draft",
        readonly=True,
        index=True,
    )
    signed_by_id = fields.Many2one("res.users", readonly=True)
    signed_on = fields.Datetime(readonly=True)
    content_hash = fields.Char(
        string="Signature Hash",
        compute="_compute_content_hash",
        store=True,
        help="SHA-256 of the signed note: client, session, text, signer and time of signature.",
    )
    hash_verified = fields.Boolean(
        string="Unchanged Since Signed",
        compute="_compute_hash_verified",
        help="The note still matches the hash taken when it was signed.",
    )
    addendum_ids = fields.One2many("therapy.chart.note.addendum", "note_id", string="Addenda")

    _event_partner_uniq = models.Constraint(
        "UNIQUE(event_id, partner_id)",
        "A client has one chart note per session: open it instead of writing another.",
    )

    @api.depends("state", "body", "signed_by_id", "signed_on")
    def _compute_content_hash(self):
        """Signed notes carry the hash of what was signed; drafts carry none."""
        for note in self:
            note.content_hash = note._get_content_hash() if note.state == "locked" else False

    @api.depends("content_hash")
    def _compute_hash_verified(self):
        """Whether the stored text still matches the hash taken at signature."""
        for note in self:
            note.hash_verified = bool(note.content_hash) and (
                note.content_hash == note._get_content_hash()
            )

    @api.depends("partner_id", "session_start")
    def _compute_display_name(self):
        for note in self:
            note.display_name = self.env._(
                "%(client)s, %(session)s",
                client=note.partner_id.display_name or "",
                session=format_datetime(self.env, note.session_start, dt_format="short")
                if note.session_start
                else "",
            )

    def write(self, vals):
        locked = self.filtered(lambda note: note.state == "locked")
        if locked:
            changed = vals.keys() - LOCKED_NOTE_WRITABLE_FIELDS
            new_addenda_only = all(
                command[0] == Command.CREATE for command in vals.get("addendum_ids", ())
            )
            if changed or not new_addenda_only:
                raise UserError(locked[0]._message_locked())
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_locked(self):
        locked = self.filtered(lambda note: note.state == "locked")
        if locked:
            raise UserError(locked[0]._message_locked())

    def action_sign(self):
        """Sign and lock every note at once, or none of them."""
        if not self:
            return True
        # Prefetch over these notes, whichever recordset (and cache) they were taken from.
        notes = self.with_prefetch()
        notes.check_access("write")
        notes._lock_for_signing()
        signed = notes.filtered(lambda note: note.state == "locked")
        if signed:
            raise UserError(
                self.env._(
                    "%(client)s's chart note was already signed by %(signer)s. Nothing was "
                    "signed again: reopen the session to see its notes.",
                    client=signed[0].partner_id.display_name,
                    signer=signed[0].signed_by_id.name,
                )
            )
        empty = notes.filtered(lambda note: is_html_empty(note.body))
        if empty:
            raise UserError(
                self.env._(
                    "%(client)s's chart note is empty. Review the session's notes before "
                    "signing them.",
                    client=empty[0].partner_id.display_name,
                )
            )
        notes.write(
            {"state": "locked", "signed_by_id": self.env.uid, "signed_on": fields.Datetime.now()}
        )
        # Everything reaches the database here, so a failure on any note undoes them all.
        notes.flush_recordset()
        return True

    def action_open_session(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "calendar.event",
            "res_id": self.event_id.id,
            "view_mode": "form",
        }

    def _get_content_hash(self):
        """SHA-256 over what a signature vouches for."""
        self.ensure_one()
        signed_content = "\x1f".join(
            (
                str(self.partner_id.id),
                str(self.event_id.id),
                str(self.body or ""),
                str(self.signed_by_id.id),
                fields.Datetime.to_string(self.signed_on) or "",
            )
        )
        return hashlib.sha256(signed_content.encode()).hexdigest()

    def _lock_for_signing(self):
        """Lock the rows, so that two providers signing the session cannot both succeed."""
        lock_rows_or_refuse(
            self,
            self.env._(
                "Someone else is signing these chart notes right now. Wait a moment, then "
                "reopen the session: nothing was signed twice."
            ),
        )
        # What another transaction committed before the lock is what counts.
        self.invalidate_recordset(["state", "signed_by_id", "signed_on"])

    def _message_locked(self):
        self.ensure_one()
        return self.env._(
            "%(client)s's chart note was signed and locked by %(signer)s on %(date)s and can no "
            "longer change. Add an addendum to the note instead.",
            client=self.partner_id.display_name,
            signer=self.signed_by_id.name,
            date=format_datetime(self.env, self.signed_on),
        )

    @api.model
    def _render_body(self, attendance, template, group_note, client_note, sections=()):
        """The note of one client: the session facts, the template and its filled sections,
        the group notes and the client's own note."""
        event = attendance.event_id
        group = event.therapy_group_id
        codes = attendance.product_id | attendance.addon_product_ids
        place_of_service = dict(
            attendance._fields["place_of_service"]._description_selection(self.env)
        ).get(attendance.place_of_service, "")
        facts = [
            (self.env._("Client"), attendance.partner_id.display_name),
            (
                self.env._("Date"),
                self.env._(
                    "%(datetime)s (%(tz)s)",
                    datetime=format_datetime(self.env, event.start, dt_format="short"),
                    tz=self.env.user.tz or "UTC",
                ),
            ),
            (
                self.env._("Duration"),
                self.env._("%(minutes)s minutes", minutes=round(event.duration * 60)),
            ),
            (self.env._("Group"), group.display_name),
            (self.env._("Provider"), (event.user_id or group.provider_id).name),
            (self.env._("Clients attending"), str(event.therapy_attended_count)),
            (
                self.env._("Service"),
                ", ".join(
                    f"{code.therapy_code} {code.name}" if code.therapy_code else code.name
                    for code in codes
                ),
            ),
            (self.env._("Place of service"), place_of_service),
        ]
        rows = Markup("").join(
            Markup("<tr><th>%s</th><td>%s</td></tr>") % (label, value) for label, value in facts
        )
        sections_html = [
            Markup('<table class="table table-sm o_therapy_chart_facts"><tbody>%s</tbody></table>')
            % rows
        ]
        if template and not is_html_empty(template.body):
            sections_html.append(Markup("<div>%s</div>") % template.body)
        for title, content in sections:
            if not is_html_empty(content):
                sections_html.append(Markup("<h3>%s</h3><div>%s</div>") % (title, content))
        if not is_html_empty(group_note):
            sections_html.append(
                Markup("<h3>%s</h3><div>%s</div>") % (self.env._("Group notes"), group_note)
            )
        if not is_html_empty(client_note):
            sections_html.append(
                Markup("<h3>%s</h3><div>%s</div>")
                % (
                    self.env._("Notes for %(client)s", client=attendance.partner_id.name),
                    client_note,
                )
            )
        return Markup("").join(sections_html)
