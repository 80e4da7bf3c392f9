from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.addons.base.models.res_users import check_identity
from odoo.exceptions import LockError, UserError, ValidationError
from odoo.http import request
from odoo.tools import format_date, format_datetime, is_html_empty

from .therapy_chart_note_chain import (
    HASHED_LINE_FIELDS,
    HASHED_SESSION_FIELDS,
    INTEGRITY_FIELDS,
    INTEGRITY_HASH_VERSION,
    KEYED_SCHEME,
    integrity_key,
    integrity_value,
    integrity_verdict,
)

# What may still be written on a locked note: new addenda, and what the chatter keeps about it.
LOCKED_NOTE_WRITABLE_FIELDS = {"addendum_ids", "message_main_attachment_id"}
# The most a note's written parts (group notes, template sections and the client's note, as
# HTML) may hold. Real notes are a few thousand characters; at this size the PDF still renders in
# seconds (README, "Limits"), far from the megabytes that stop wkhtmltopdf or the worker.
NOTE_SIZE_LIMIT = 50_000
# What ties a note to its client and session: set when the note is written, never changed.
NOTE_LINK_FIELDS = ("partner_id", "event_id", "attendance_id")
# The signature and co-signature, as written by signing, co-signing and returning a note that
# waits for its co-signature; its text is frozen meanwhile.
COSIGN_FIELDS = (
    "state",
    "return_comment",
    "returned_by_id",
    "signed_by_id",
    "signed_by_name",
    "signed_by_credentials",
    "signed_on",
    "cosigned_by_id",
    "cosigned_by_name",
    "cosigned_by_credentials",
    "cosigned_on",
)
# What the hash covers of the co-signature: only on notes that have one, so that the notes
# signed without a supervisor hash exactly as they always did.
HASHED_COSIGN_FIELDS = (
    "cosigned_by_id",
    "cosigned_by_name",
    "cosigned_by_credentials",
    "cosigned_on",
)
# What html_sanitize makes of a text it cannot parse: logged each time, so never remembered.
_SANITIZE_FAILURES = (
    "<p>ParserError when sanitizing</p>",
    "<p>Unknown error when sanitizing</p>",
)
# One row of a note's facts table.
_FACT_ROW = Markup("<tr><th>%s</th><td>%s</td></tr>")
# How much text (characters, given and sanitized) a transaction remembers before starting
# over: notes are a few thousand characters, and may be 50,000 (NOTE_SIZE_LIMIT).
_SANITIZED_MEMO_SIZE = 5_000_000


class _SanitizedOnceHtml(fields.Html):
    """An Html field that sanitizes a given text once per transaction.

    Charting writes the same group notes into every attending client's note, and signing
    writes each note's text again as it was reviewed: Odoo sanitizes every value written,
    record by record. What ``html_sanitize`` returns depends only on the text and the field's
    options, so the result is remembered, in the cursor's cache (emptied with the cursor),
    by field and text; what is stored is what the field would store anyway.
    """

    def _convert(self, value, record, validate):
        if not (value and validate and self.sanitize and isinstance(value, str)):
            return super()._convert(value, record, validate)
        if self.sanitize_overridable:
            # depends on the user and on the value stored before
            return super()._convert(value, record, validate)
        cache = record.env.cr.cache
        memo = cache.setdefault("group_therapy_sanitized_html", {})
        # Markup and str are sanitized apart: some of Markup's string methods escape.
        key = (self.model_name, self.name, type(value), value)
        sanitized = memo.get(key)
        if sanitized is None:
            sanitized = super()._convert(value, record, validate)
            if sanitized not in _SANITIZE_FAILURES:
                size = cache.get("group_therapy_sanitized_html_size", 0)
                size += len(value) + len(sanitized)
                if size > _SANITIZED_MEMO_SIZE:
                    memo.clear()
                    size = len(value) + len(sanitized)
                memo[key] = sanitized
                cache["group_therapy_sanitized_html_size"] = size
        return sanitized


class TherapyChartNote(models.Model):
    _name = "therapy.chart.note"
    _description = "Chart Note"
    _inherit = [
        "therapy.staff.followers.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "therapy.server.owned.mixin",
        "therapy.access.logged.mixin",
        "therapy.signing.mixin",
        "therapy.readable.target.mixin",
    ]
    _order = "session_start desc, partner_name, id"
    _check_company_auto = True
    _rec_names_search = ["partner_id.name", "group_id.name", "group_id.code"]
    # A client's notes, newest first, read one page at a time: with years of sessions the index
    # keeps that page from sorting the client's whole history (bench: 490 -> 234 ms, 20,000 notes).
    _partner_session_start_idx = models.Index("(partner_id, session_start DESC)")
    # Written by the charting flow and the signature only; a client sends addenda.
    _therapy_readable_target_fields = ("partner_id", "event_id", "attendance_id")
    _therapy_server_owned_fields = (
        "partner_id",
        "event_id",
        "attendance_id",
        "provider_id",
        "template_id",
        "group_note",
        "client_note",
        "section_contents",
        "body",
        "goal_progress_ids",
        "late_entry",
        "late_entry_on",
        "state",
        "signed_by_id",
        "signed_by_name",
        "signed_by_credentials",
        "signed_on",
        "cosigned_by_id",
        "cosigned_by_name",
        "cosigned_by_credentials",
        "cosigned_on",
        "return_comment",
        "returned_by_id",
        *INTEGRITY_FIELDS,
    )
    # Reading or exporting these is on the clinical access log.
    _therapy_clinical_fields = (
        "body",
        "group_note",
        "client_note",
        "section_contents",
        "return_comment",
    )

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
    attendance_id = fields.Many2one(
        "therapy.attendance", required=True, ondelete="restrict", readonly=True
    )
    session_start = fields.Datetime(related="event_id.start", store=True, string="Session Date")
    session_date = fields.Date(
        related="event_id.therapy_session_date",
        store=True,
        string="Date of Service",
        help="The session's day in the practice's time zone, as on the client's invoice and claim.",
    )
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
    group_note = _SanitizedOnceHtml(
        string="Group Notes",
        readonly=True,
        help="Written once for the session; part of the note of every client who attended.",
    )
    client_note = _SanitizedOnceHtml(
        readonly=True,
        help="Written for this client only.",
    )
    section_contents = fields.Json(
        readonly=True, help="What the provider wrote in each template section, by section."
    )
    body = _SanitizedOnceHtml(
        string="Note",
        readonly=True,
        help="The whole chart note as it is signed: session facts, template, group and client "
        "notes.",
    )
    goal_progress_ids = fields.One2many(
        "therapy.treatment.goal.progress",
        "note_id",
        string="Treatment Plan Progress",
        readonly=True,
        help="The progress recorded on the client's treatment-plan goals; part of the note's "
        "text, frozen when it is signed.",
    )
    late_entry = fields.Boolean(
        readonly=True,
        copy=False,
        help="Written after the session's other notes were signed (the client's attendance was "
        "corrected later): the note says so, with the date it was written.",
    )
    late_entry_on = fields.Datetime(
        string="Late Entry Written On",
        readonly=True,
        copy=False,
        help="When the late entry was written: its last review, then its signature.",
    )
    # signature
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("to_cosign", "Waiting for co-signature"),
            ("locked", "Signed and locked"),
        ],
        string="Status",
        required=True,
        default="draft",
        readonly=True,
        index=True,
    )
    signed_by_id = fields.Many2one("res.users", readonly=True)
    signed_by_name = fields.Char(
        string="Signed By (Name)", readonly=True, help="The signer's name when they signed."
    )
    signed_by_credentials = fields.Char(
        string="Signer's Credentials",
        readonly=True,
        help="The signer's credentials when they signed, e.g. LCSW.",
    )
    signed_on = fields.Datetime(readonly=True)
    # co-signature: a pre-licensed signer's supervisor makes the note final
    cosigned_by_id = fields.Many2one(
        "res.users",
        string="Co-signed By",
        readonly=True,
        copy=False,
        # Every check of whether a provider sees a contact asks for the notes they co-signed
        # (res.partner._therapy_contact_domain): without it, a scan of every note.
        index="btree_not_null",
        help="The signer's clinical supervisor, who reviewed and co-signed the note.",
    )
    cosigned_by_name = fields.Char(
        string="Co-signed By (Name)",
        readonly=True,
        copy=False,
        help="The co-signer's name when they co-signed.",
    )
    cosigned_by_credentials = fields.Char(
        string="Co-signer's Credentials",
        readonly=True,
        copy=False,
        help="The co-signer's credentials when they co-signed, e.g. LCSW.",
    )
    cosigned_on = fields.Datetime(string="Co-signed On", readonly=True, copy=False)
    # The supervisor's last Return: what to change may quote the client's care, so it is kept
    # on the note (read under the note's rules and on the access log), not in its chatter.
    return_comment = fields.Text(
        string="Supervisor's Comment",
        readonly=True,
        copy=False,
        help="What the co-signer asked to change when returning the note to its signer.",
    )
    returned_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    cosign_supervisor_id = fields.Many2one(
        related="signed_by_id.therapy_supervisor_id",
        string="Co-signer Due",
        help="Who co-signs the note: the signer's clinical supervisor.",
    )
    # integrity: written once at signing, chained to the company's previous signed record
    integrity_sequence = fields.Integer(
        string="Chain Number",
        readonly=True,
        copy=False,
        help="The note's number in its company's chain of signed notes and addenda.",
    )
    integrity_previous_hash = fields.Char(
        string="Previous Hash",
        readonly=True,
        copy=False,
        help="The hash of the entry before this one in the company's chain.",
    )
    content_hash = fields.Char(
        string="Signature Hash",
        readonly=True,
        copy=False,
        help="HMAC-SHA256 under the server's integrity key (SHA-256 alone when the server had "
        "none) of the previous entry's hash and of what was signed: the note's text, the "
        "signer and time, the session facts and the client's attendance. Written once.",
    )
    integrity_scheme = fields.Char(
        string="Hash Scheme",
        readonly=True,
        copy=False,
        help="How the hash was computed: with the server's integrity key (hmac-sha256 and the "
        "key's fingerprint, never the key) or without (sha256, or empty for notes signed before "
        "keys existed).",
    )
    hash_verified = fields.Boolean(
        string="Unchanged Since Signed",
        compute="_compute_hash_verified",
        help="The note still matches the hash taken when it was signed.",
    )
    hash_status = fields.Selection(
        [
            ("verified", "Unchanged since signed"),
            ("changed", "Does not match its hash"),
            ("unverifiable", "Cannot be verified on this server (integrity key missing or other)"),
        ],
        compute="_compute_hash_verified",
        help="Whether the note still matches its hash, checked with this server's integrity "
        "key; a note hashed with a key this server does not have cannot be verified here.",
    )
    addendum_ids = fields.One2many("therapy.chart.note.addendum", "note_id", string="Addenda")

    _event_partner_uniq = models.Constraint(
        "UNIQUE(event_id, partner_id)",
        "A client has one chart note per session: open it instead of writing another.",
    )

    _company_integrity_sequence_uniq = models.UniqueIndex(
        "(company_id, integrity_sequence) WHERE integrity_sequence IS NOT NULL",
        "Two signed chart notes cannot take the same place in the company's chain.",
    )

    @api.constrains("partner_id", "event_id", "attendance_id")
    def _check_links(self):
        """A note belongs to the attendance line of its client in its session."""
        for note in self:
            line = note.attendance_id
            if line.event_id != note.event_id or line.partner_id != note.partner_id:
                raise ValidationError(
                    self.env._(
                        "%(client)s's chart note must be written for %(client)s's attendance "
                        "in the same session. Chart the session from the session itself.",
                        client=note.partner_id.display_name,
                    )
                )

    @api.depends(
        "content_hash",
        "integrity_sequence",
        "integrity_previous_hash",
        "integrity_scheme",
        "state",
        "body",
        "signed_by_id",
        "signed_on",
        "cosigned_by_id",
        "cosigned_on",
    )
    def _compute_hash_verified(self):
        """Whether the note and the facts it vouches for still match the hash taken at
        signature, with this server's integrity key (the report also checks the links between
        notes)."""
        key = integrity_key()
        for note in self:
            status = False
            if note.content_hash:
                verdict = integrity_verdict(
                    note.integrity_scheme,
                    note.integrity_previous_hash,
                    note.sudo()._therapy_integrity_payload(note.integrity_sequence),
                    note.content_hash,
                    key,
                )
                status = {
                    "verified": "verified",
                    "no_key": "unverifiable",
                    "other_key": "unverifiable",
                }.get(verdict, "changed")
            note.hash_status = status
            note.hash_verified = status == "verified"

    def _therapy_hash_is_keyed(self):
        """Whether the note's hash was computed with the server's integrity key."""
        self.ensure_one()
        return (self.integrity_scheme or "").startswith(f"{KEYED_SCHEME}:")

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

    @api.model_create_multi
    def create(self, vals_list):
        if not self._therapy_is_server_write():
            self.check_access("create")
            raise UserError(
                self.env._(
                    "Chart notes are written by charting the session: open the session and "
                    "click Chart Session."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        moved = [
            name
            for name in NOTE_LINK_FIELDS
            if name in vals and any(note[name].id != vals[name] for note in self)
        ]
        if moved:
            raise UserError(
                self.env._(
                    "A chart note stays with its client and session: it cannot be moved to "
                    "another one. Chart the other session instead."
                )
            )
        locked = self.filtered(lambda note: note.state == "locked")
        if locked and locked._therapy_is_chaining(vals):
            return super().write(vals)
        waiting = self.filtered(lambda note: note.state == "to_cosign")
        # A note waiting for its co-signature is signed: its text no longer changes. Only
        # co-signing (or returning it to its signer) changes its state and signatures.
        if waiting and not (
            waiting._therapy_is_server_write() and vals.keys() <= set(COSIGN_FIELDS)
        ):
            if vals.keys() - {"message_main_attachment_id"}:
                raise UserError(waiting[0]._message_waiting())
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
        waiting = self.filtered(lambda note: note.state == "to_cosign")
        if waiting:
            raise UserError(waiting[0]._message_waiting())
        locked = self.filtered(lambda note: note.state == "locked")
        if locked:
            raise UserError(locked[0]._message_locked())

    def _sign(self):
        """Sign every note at once, or none of them, in the signer's name: they are locked, or,
        when the signer has a clinical supervisor, they wait for the supervisor's co-signature
        (frozen as signed notes are, but not final)."""
        # Prefetch over these notes, whichever recordset (and cache) they were taken from.
        notes = self.with_prefetch()
        if not notes:
            return notes
        notes.check_access("write")
        notes._check_signer()
        supervisor = notes._check_supervisor_can_cosign()
        notes._lock_for_signing()
        signed = notes.filtered(lambda note: note.state != "draft")
        if signed:
            raise UserError(
                self.env._(
                    "%(signer)s just signed %(client)s's chart note. Nothing was signed twice: "
                    "reopen the session to see its notes.",
                    client=signed[0].partner_id.display_name,
                    signer=signed[0].signed_by_name or signed[0].signed_by_id.name,
                )
            )
        for event, session_notes in notes.grouped("event_id").items():
            event._therapy_check_presign(session_notes)
        user = self.env.user
        now = fields.Datetime.now()
        # A late entry is dated when it is signed, in its text too.
        notes.filtered("late_entry")._therapy_server_write({"late_entry_on": now})
        # The facts as they are now, under the lock, are what the signature vouches for: each
        # note's text is rendered again, and written where it no longer reads as stored (as
        # the ORM would skip it); the signature, the same on every note, in one write.
        body_field = self._fields["body"]
        session_rows = {}
        for note in notes:
            if note.event_id not in session_rows:
                session_rows[note.event_id] = note._render_session_rows(note.event_id)
            body = note._render_from_parts(session_rows[note.event_id])
            if (body_field.convert_to_cache(body, note) or False) != (note.body or False):
                note._therapy_server_write({"body": body})
        notes._therapy_server_write(
            {
                "state": "to_cosign" if supervisor else "locked",
                "signed_by_id": user.id,
                "signed_by_name": user.name,
                "signed_by_credentials": user.therapy_credentials or False,
                "signed_on": now,
            }
        )
        notes.attendance_id._therapy_server_write({"note_signed": True})
        if supervisor:
            # Final, and chained, when co-signed.
            notes._therapy_sync_cosign_activities()
            return notes
        # Everything reaches the database here, then the hashes chain what is stored; a failure
        # on any note undoes them all.
        self.env["therapy.chart.note.chain"]._therapy_append(notes.sorted("id"))
        return notes

    def action_cosign(self):
        """The Co-sign button: asks for the supervisor's password again, every time, then
        co-signs every selected note."""
        if request:
            request.session.pop("identity-check-last", None)
        return self._action_cosign_identified()

    @check_identity
    def _action_cosign_identified(self):
        """Called again by Odoo's identity check once the password is confirmed."""
        if request:
            request.session.pop("identity-check-last", None)
        notes = self._cosign()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s chart notes co-signed and locked.", count=len(notes)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_open_return(self):
        """The Return button: asks the supervisor what the signer should change."""
        self._check_cosigner()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Return to the signer"),
            "res_model": "therapy.cosign.return.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_note_ids": [Command.set(self.ids)]},
        }

    def _cosign(self):
        """Co-sign every waiting note at once, or none of them, in the supervisor's name: each
        becomes final (locked) with both signatures, and enters its company's chain."""
        notes = self.with_prefetch()
        if not notes:
            return notes
        notes._check_cosigner()
        # The co-signer reads the notes, not the session: the session's rows are locked (as
        # for signing) once the co-signer is known to be the signer's supervisor.
        notes.sudo()._lock_for_signing()
        notes._check_waiting()
        notes._check_cosigner()
        user = self.env.user
        notes.sudo()._therapy_server_write(
            {
                "state": "locked",
                "cosigned_by_id": user.id,
                "cosigned_by_name": user.name,
                "cosigned_by_credentials": user.therapy_credentials or False,
                "cosigned_on": fields.Datetime.now(),
            }
        )
        notes._therapy_sync_cosign_activities()
        # The note is final now: its hash covers both signatures and chains it.
        self.env["therapy.chart.note.chain"]._therapy_append(notes.sorted("id"))
        return notes

    def _return_to_signer(self, comment):
        """Send waiting notes back to their signer with the supervisor's comment: they are
        drafts again (the signature is cleared), which the signer changes and signs again."""
        notes = self.with_prefetch()
        if not notes:
            return notes
        if not (comment or "").strip():
            raise UserError(
                self.env._(
                    "Write what the signer should change before returning the notes: the "
                    "comment is what they will read."
                )
            )
        notes._check_cosigner()
        notes.sudo()._lock_for_signing()
        notes._check_waiting()
        notes._check_cosigner()
        user = self.env.user
        # The co-signer's checks are done: the notes, their lines and the messages are
        # written for them.
        notes_sudo = notes.sudo()
        signers = {note: note.signed_by_id for note in notes_sudo}
        notes_sudo._therapy_server_write(
            {
                "state": "draft",
                "return_comment": comment.strip(),
                "returned_by_id": user.id,
                "signed_by_id": False,
                "signed_by_name": False,
                "signed_by_credentials": False,
                "signed_on": False,
            }
        )
        # The session's facts are no longer vouched for by these notes until signed again.
        notes_sudo.attendance_id._therapy_server_write({"note_signed": False})
        for note_sudo in notes_sudo:
            note_sudo.message_post(
                body=self.env._(
                    "Returned for changes by %(supervisor)s: their comment is on the note.",
                    supervisor=user.name,
                ),
                author_id=user.partner_id.id,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        notes._therapy_sync_cosign_activities()
        for (event, signer), session_notes_sudo in notes_sudo.grouped(
            lambda note: (note.event_id, signers[note])
        ).items():
            # No assignment e-mail: the comment and the note's name (the client) stay in Odoo.
            session_notes_sudo[0].with_context(mail_activity_quick_update=True).activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=signer.id,
                summary=self.env._(
                    "Revise and sign again %(count)s notes of %(group)s %(date)s",
                    count=len(session_notes_sudo),
                    group=event.therapy_group_id.name,
                    date=format_date(self.env, event.therapy_session_date),
                ),
                note=self.env._(
                    "%(supervisor)s returned these notes: their comment is on each note.",
                    supervisor=user.name,
                ),
            )
        return notes

    def action_open_session(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "calendar.event",
            "res_id": self.event_id.id,
            "view_mode": "form",
        }

    def _therapy_is_chaining(self, vals):
        """The chain writing a signed note's number and hash: once, by the server."""
        return (
            self._therapy_is_server_write()
            and vals.keys() <= set(INTEGRITY_FIELDS)
            and not any(self.mapped("integrity_sequence"))
        )

    def _therapy_integrity_payload(self, sequence):
        """What the note's hash covers, as ids and stored text: the note, its signature, the
        session facts and the client's attendance line it vouches for."""
        self.ensure_one()
        event = self.event_id
        line = self.attendance_id
        return {
            "version": INTEGRITY_HASH_VERSION,
            "model": self._name,
            "id": self.id,
            "sequence": sequence,
            "company": self.company_id.id,
            "note": {
                fname: integrity_value(self, fname)
                for fname in (
                    "state",
                    "partner_id",
                    "event_id",
                    "attendance_id",
                    "provider_id",
                    "template_id",
                    "group_note",
                    "client_note",
                    "section_contents",
                    "body",
                    "late_entry",
                    "late_entry_on",
                    "signed_by_id",
                    "signed_by_name",
                    "signed_by_credentials",
                    "signed_on",
                    # Only a co-signed note hashes its co-signature: the others keep the hash
                    # they always had.
                    *(HASHED_COSIGN_FIELDS if self.cosigned_by_id else ()),
                )
            },
            "session": {fname: integrity_value(event, fname) for fname in HASHED_SESSION_FIELDS},
            "session_company": event.therapy_group_id.company_id.id,
            "attendance": {fname: integrity_value(line, fname) for fname in HASHED_LINE_FIELDS},
        }

    def _therapy_integrity_label(self):
        """How the integrity report names the note: client and session, never its text."""
        self.ensure_one()
        return self.env._(
            "Chart note %(id)s: %(client)s, session of %(date)s",
            id=self.id,
            client=self.partner_id.display_name,
            date=format_datetime(self.env, self.session_start, dt_format="short")
            if self.session_start
            else "?",
        )

    def _check_supervisor_can_cosign(self):
        """The signer's supervisor, if any, who must be able to co-sign: refused otherwise."""
        supervisor = self.env.user.therapy_supervisor_id
        if supervisor and not (
            supervisor.active and supervisor._has_group("group_therapy.group_therapy_provider")
        ):
            raise UserError(
                self.env._(
                    "Your chart notes are co-signed by %(supervisor)s, who no longer has the "
                    "Group Therapy Provider role: nothing was signed. Ask an administrator to "
                    "set your current clinical supervisor (Settings → Users), then sign again.",
                    supervisor=supervisor.name,
                )
            )
        return supervisor

    def _check_cosigner(self):
        """Only the clinical supervisor of a note's signer co-signs or returns it."""
        self.check_access("read")
        user = self.env.user
        is_provider = user._has_group("group_therapy.group_therapy_provider")
        for note in self:
            signer = note.signed_by_id
            if signer == user:
                raise UserError(
                    self.env._(
                        "You signed %(client)s's chart note: it is co-signed by your clinical "
                        "supervisor, not by you.",
                        client=note.partner_id.display_name,
                    )
                )
            if not signer or not is_provider or signer.therapy_supervisor_id != user:
                raise UserError(
                    self.env._(
                        "Only the clinical supervisor of the note's signer (%(supervisor)s) can "
                        "co-sign or return %(client)s's chart note.",
                        client=note.partner_id.display_name,
                        supervisor=signer.therapy_supervisor_id.name or self.env._("none"),
                    )
                )

    def _check_waiting(self):
        """Every note still waits for its co-signature (read under the lock)."""
        done = self.filtered(lambda note: note.state != "to_cosign")
        if done:
            raise UserError(
                self.env._(
                    "%(client)s's chart note no longer waits for a co-signature (it was just "
                    "co-signed, or returned to its signer). Nothing was co-signed twice: reopen "
                    "the To Co-sign list.",
                    client=done[0].partner_id.display_name,
                )
            )

    def _therapy_sync_cosign_activities(self):
        """One "co-sign" activity per session and supervisor while notes wait, with how many;
        done once none waits. Its summary names the group and the day, never a client."""
        if not self:
            return
        activity_type = self.env.ref("group_therapy.mail_activity_type_cosign")
        notes_sudo = (
            self.env["therapy.chart.note"].sudo().search([("event_id", "in", self.event_id.ids)])
        )
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", notes_sudo.ids),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        )
        waiting = notes_sudo.filtered(lambda note: note.state == "to_cosign")
        for (event, supervisor), session_notes in waiting.grouped(
            lambda note: (note.event_id, note.signed_by_id.therapy_supervisor_id)
        ).items():
            summary = self.env._(
                "Co-sign %(count)s notes of %(group)s %(date)s",
                count=len(session_notes),
                group=event.therapy_group_id.name,
                date=format_date(self.env, event.therapy_session_date),
            )
            current = activities.filtered(
                lambda activity, notes=session_notes, user=supervisor: activity.user_id == user
                and activity.res_id in notes.ids
            )[:1]
            if current:
                current.summary = summary
            else:
                # No assignment e-mail: it would name the note, hence the client.
                current = (
                    session_notes[0]
                    .with_context(mail_activity_quick_update=True)
                    .activity_schedule(
                        "group_therapy.mail_activity_type_cosign",
                        user_id=supervisor.id,
                        summary=summary,
                    )
                )
            activities -= current
        # The rest has nothing left to co-sign: done.
        if activities:
            activities.action_done()

    def _check_signer(self):
        """Only a provider who charts the group signs its notes."""
        user = self.env.user
        is_provider = user._has_group("group_therapy.group_therapy_provider")
        for group in self.group_id:
            group_sudo = group.sudo()
            providers = group_sudo.provider_id | group_sudo.shared_provider_ids
            if not is_provider or user not in providers:
                raise UserError(
                    self.env._(
                        "Only a provider who runs or shares “%(group)s” can sign its chart notes "
                        "(%(providers)s).",
                        group=group_sudo.display_name,
                        providers=", ".join(providers.mapped("name")),
                    )
                )

    def _lock_for_signing(self):
        """Lock the notes and their sessions' attendance, so that two providers cannot both
        sign, and the attendance a note vouches for cannot change while it is signed."""
        try:
            self.lock_for_update(allow_referencing=True)
        except LockError:
            raise UserError(
                self.env._(
                    "Someone else is signing these chart notes right now. Wait a moment, then "
                    "reopen the session: nothing was signed twice."
                )
            ) from None
        try:
            self.event_id.therapy_attendance_ids.lock_for_update(allow_referencing=True)
        except LockError:
            raise UserError(
                self.env._(
                    "Someone is changing this session's attendance right now. Wait a moment, "
                    "check the attendance, then sign again: nothing was signed."
                )
            ) from None
        # Nothing is read again: Odoo's transactions are REPEATABLE READ, so a row changed by a
        # transaction that committed after ours began cannot be locked (PostgreSQL refuses with
        # a serialization failure, and Odoo runs the request again); a locked row is as this
        # transaction read it. Reading everything again cost the signing 7 queries.

    def _render_from_parts(self, session_rows=None):
        """The note's text again from its parts, with the session facts as they are now
        (``session_rows`` as for ``_render_body``)."""
        self.ensure_one()
        contents = self.section_contents or {}
        sections = [
            (section.name, contents.get(str(section.id)))
            for section in self.template_id.section_ids.sorted("sequence")
        ]
        return self._render_body(
            self.attendance_id,
            self.template_id,
            self.group_note,
            self.client_note,
            sections,
            late_entry_on=self.late_entry_on,
            goal_progress=self.goal_progress_ids._therapy_entries(),
            session_rows=session_rows,
        )

    def _message_waiting(self):
        self.ensure_one()
        return self.env._(
            "%(client)s's chart note was signed by %(signer)s on %(date)s and waits for "
            "%(supervisor)s's co-signature: it can no longer change. The supervisor can return "
            "it to the signer for changes.",
            client=self.partner_id.display_name,
            signer=self.signed_by_name or self.signed_by_id.name,
            date=format_datetime(self.env, self.signed_on),
            supervisor=self.sudo().signed_by_id.therapy_supervisor_id.name
            or self.env._("the supervisor"),
        )

    def _message_locked(self):
        self.ensure_one()
        return self.env._(
            "%(client)s's chart note was signed and locked by %(signer)s on %(date)s and can no "
            "longer change. Add an addendum to the note instead.",
            client=self.partner_id.display_name,
            signer=self.signed_by_name or self.signed_by_id.name,
            date=format_datetime(self.env, self.signed_on),
        )

    @api.model
    def _write_session_drafts(
        self,
        event,
        template,
        group_note,
        client_notes,
        section_contents,
        goal_progress=None,
        render_body=True,
    ):
        """Create or update the draft note of every client who attended ``event`` and has no
        signed note; drop drafts of clients who no longer attended. The only way notes come to be.

        Once some of the session's notes are signed, a client found to have attended later gets
        a late entry of their own; the signed notes are left as they are.

        ``client_notes`` is {partner: html}; ``section_contents`` {str(section id): html};
        ``goal_progress`` {partner: [(goal, rating, comment)]}, the progress on the client's
        treatment-plan goals, which goes into that client's note only. Without ``render_body``
        (signing, which writes each note's text again under its lock right after), an existing
        draft keeps its text until then.
        """
        Progress = self.env["therapy.treatment.goal.progress"]
        if goal_progress is not None:
            goal_progress = Progress._therapy_check_entries(goal_progress)
        event._therapy_check_chartable()
        if not template:
            raise UserError(
                self.env._("Choose a Chart Entry Style (a custom template) for the notes.")
            )
        notes = event.therapy_chart_note_ids
        # Waiting for a co-signature counts as signed: their text is frozen too.
        signed = notes.filtered(lambda note: note.state != "draft")
        signed_partners = signed.partner_id
        attended = event._therapy_attended_lines().filtered(
            lambda line: line.partner_id not in signed_partners
        )
        section_contents = {
            key: value
            for key, value in (section_contents or {}).items()
            if not is_html_empty(value)
        }
        sections = [
            (section.name, section_contents.get(str(section.id)))
            for section in template.section_ids.sorted("sequence")
        ]
        self._check_note_size(
            attended.partner_id, group_note, client_notes, [content for _name, content in sections]
        )
        # The same access a provider needs to chart, checked once; the writes are then
        # made in one batch instead of one access check per client.
        notes.check_access("write")
        drafts = notes - signed
        self.check_access("create")
        drafts_sudo = drafts.sudo()
        by_partner = {note.partner_id: note for note in drafts_sudo}
        if goal_progress is None:
            # A caller that does not chart goals keeps the progress the drafts have.
            goal_progress = {
                note.partner_id: note.goal_progress_ids._therapy_entries() for note in drafts_sudo
            }
        attended_partners = attended.partner_id
        stale_sudo = drafts_sudo.filtered(lambda note: note.partner_id not in attended_partners)
        provider = event.user_id or event.therapy_group_id.provider_id
        create_vals = []
        # the session's facts, rendered once for all its notes
        session_rows = None
        for line in attended:
            client_note = client_notes.get(line.partner_id) or False
            draft = by_partner.get(line.partner_id)
            # A note is late when it is first written after others of the session were signed.
            late_entry = draft.late_entry if draft else bool(signed)
            late_entry_on = fields.Datetime.now() if late_entry else False
            vals = {
                "template_id": template.id,
                "group_note": group_note,
                "client_note": client_note,
                "provider_id": provider.id,
                "section_contents": section_contents,
                "late_entry_on": late_entry_on,
            }
            if render_body or not draft:
                if session_rows is None:
                    session_rows = self._render_session_rows(event)
                vals["body"] = self._render_body(
                    line,
                    template,
                    group_note,
                    client_note,
                    sections,
                    late_entry_on=late_entry_on,
                    goal_progress=goal_progress.get(line.partner_id, ()),
                    session_rows=session_rows,
                )
            if draft:
                # What the draft already says is not written again (each HTML value written
                # is sanitized anew, note by note).
                changed = {
                    name: value
                    for name, value in vals.items()
                    if draft._therapy_draft_value(name) != (value or False)
                }
                if changed:
                    draft._therapy_server_write(changed)
            else:
                create_vals.append(
                    {
                        **vals,
                        "event_id": event.id,
                        "partner_id": line.partner_id.id,
                        "attendance_id": line.id,
                        "late_entry": late_entry,
                    }
                )
        stale_sudo.unlink()
        notes_sudo = (drafts_sudo - stale_sudo) | self.sudo()._therapy_server_create(create_vals)
        Progress.sudo()._therapy_sync(notes_sudo, goal_progress)
        return notes_sudo.sudo(False)

    def _therapy_draft_value(self, fname):
        """The draft's value of ``fname`` as the charting writes it: ids, plain text."""
        value = self[fname]
        if self._fields[fname].type == "many2one":
            return value.id or False
        if self._fields[fname].type == "html":
            return str(value) if value else False
        return value or False

    @api.model
    def _check_note_size(self, partners, group_note, client_notes, section_contents):
        """Refuse a note whose written parts exceed ``NOTE_SIZE_LIMIT``, naming the client."""
        shared = len(group_note or "") + sum(len(content or "") for content in section_contents)
        for partner in partners:
            size = shared + len(client_notes.get(partner) or "")
            if size > NOTE_SIZE_LIMIT:
                raise UserError(
                    self.env._(
                        "%(client)s's chart note is too long: %(size)s characters of group notes, "
                        "sections and client note together, for at most %(limit)s. Shorten it, "
                        "and leave pasted images out (attach documents to the client instead).",
                        client=partner.display_name,
                        size=f"{size:,}",
                        limit=f"{NOTE_SIZE_LIMIT:,}",
                    )
                )

    @api.model
    def _render_session_rows(self, event):
        """The rows of a note's facts table that are the same for every client of the session:
        its date and time, duration, group, provider and head count."""
        group = event.therapy_group_id
        # The session's time as the practice lives it, whoever signs: the note's date is the
        # date of service on the client's invoice and claim.
        practice_tz = event._therapy_practice_tz()
        facts = [
            (
                self.env._("Date"),
                self.env._(
                    "%(datetime)s (%(tz)s)",
                    datetime=format_datetime(
                        self.env, event.start, tz=practice_tz, dt_format="short"
                    ),
                    tz=practice_tz,
                ),
            ),
            (
                self.env._("Duration"),
                self.env._("%(minutes)s minutes", minutes=round(event.duration * 60)),
            ),
            (self.env._("Group"), group.display_name),
            (self.env._("Provider"), (event.user_id or group.provider_id).name),
            (self.env._("Clients attending"), str(event.therapy_attended_count)),
        ]
        return Markup("").join(_FACT_ROW % (label, value) for label, value in facts)

    @api.model
    def _render_body(
        self,
        attendance,
        template,
        group_note,
        client_note,
        sections=(),
        late_entry_on=False,
        goal_progress=(),
        session_rows=None,
    ):
        """The note of one client: the session facts, the template's sections the provider
        filled, the group notes, the client's own note and the progress on the client's
        treatment-plan goals; never the template's guidance.
        A late entry starts by saying so, with when it was written. ``session_rows``: the
        session's rows of the facts table (``_render_session_rows``), when already rendered
        for another client of the session."""
        event = attendance.event_id
        if session_rows is None:
            session_rows = self._render_session_rows(event)
        codes = attendance.product_id | attendance.addon_product_ids
        place_of_service = dict(
            attendance._fields["place_of_service"]._description_selection(self.env)
        ).get(attendance.place_of_service, "")
        rows = Markup("").join(
            [
                _FACT_ROW % (self.env._("Client"), attendance.partner_id.display_name),
                session_rows,
                _FACT_ROW
                % (
                    self.env._("Service"),
                    ", ".join(
                        f"{code.therapy_code} {code.name}" if code.therapy_code else code.name
                        for code in codes
                    ),
                ),
                _FACT_ROW % (self.env._("Place of service"), place_of_service),
            ]
        )
        sections_html = [
            Markup('<table class="table table-sm o_therapy_chart_facts"><tbody>%s</tbody></table>')
            % rows
        ]
        if late_entry_on:
            sections_html.insert(
                0,
                Markup('<p class="o_therapy_late_entry"><strong>%s</strong> %s</p>')
                % (
                    self.env._("Late entry"),
                    self.env._(
                        "written on %(written)s for the session of %(session)s, after the "
                        "session's other notes were signed.",
                        written=format_datetime(self.env, late_entry_on, dt_format="short"),
                        session=format_datetime(self.env, event.start, dt_format="short"),
                    ),
                ),
            )
        # The template's text is guidance for the provider while charting (e.g. "Risk: safety
        # concerns assessed"): signed into the note it would read as findings nobody made.
        for title, content in sections:
            if not is_html_empty(content):
                sections_html.append(Markup("<h3>%s</h3><div>%s</div>") % (title, content))
        if not is_html_empty(group_note):
            sections_html.append(
                Markup("<h3>%s</h3><div>%s</div>") % (self.env._("Group notes"), group_note)
            )
        # The client's own scores (PHQ-9, GAD-7): in their note only, never the group notes.
        measures = attendance.therapy_measure_summary
        if measures:
            sections_html.append(
                Markup('<h3>%s</h3><p class="o_therapy_measures">%s</p>')
                % (self.env._("Measures"), measures)
            )
        if not is_html_empty(client_note):
            sections_html.append(
                Markup("<h3>%s</h3><div>%s</div>")
                % (
                    self.env._("Notes for %(client)s", client=attendance.partner_id.name),
                    client_note,
                )
            )
        if goal_progress:
            sections_html.append(
                self.env["therapy.treatment.goal.progress"]._therapy_render(goal_progress)
            )
        return Markup("").join(sections_html)
