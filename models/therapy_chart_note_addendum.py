from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_datetime, is_html_empty

from .therapy_chart_note import NOTE_SIZE_LIMIT
from .therapy_chart_note_chain import INTEGRITY_FIELDS, INTEGRITY_HASH_VERSION, integrity_value


class TherapyChartNoteAddendum(models.Model):
    _name = "therapy.chart.note.addendum"
    _description = "Chart Note Addendum"
    _inherit = [
        "therapy.access.logged.mixin",
        "therapy.server.owned.mixin",
        "therapy.input.mixin",
        "therapy.readable.target.mixin",
    ]
    _therapy_readable_target_fields = ("note_id",)
    _order = "date, id"
    _check_company_auto = True
    # Reading or exporting the text is on the clinical access log.
    _therapy_clinical_fields = ("body",)
    # Its place in the company's chain of signed records, written once by the chain.
    _therapy_server_owned_fields = INTEGRITY_FIELDS

    note_id = fields.Many2one(
        "therapy.chart.note", string="Chart Note", required=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(related="note_id.partner_id", string="Client")
    company_id = fields.Many2one(related="note_id.company_id", store=True, index=True)
    body = fields.Html(string="Addendum", required=True)
    author_id = fields.Many2one(
        "res.users", required=True, readonly=True, default=lambda self: self.env.user
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    # integrity: an addendum is signed too, chained after the entry before it
    integrity_sequence = fields.Integer(string="Chain Number", readonly=True, copy=False)
    integrity_previous_hash = fields.Char(string="Previous Hash", readonly=True, copy=False)
    content_hash = fields.Char(
        string="Signature Hash",
        readonly=True,
        copy=False,
        help="HMAC-SHA256 under the server's integrity key (SHA-256 alone when the server had "
        "none) of the previous entry's hash and of the addendum: its text, author, date and the "
        "hash of the note it amends. Written once.",
    )
    integrity_scheme = fields.Char(
        string="Hash Scheme",
        readonly=True,
        copy=False,
        help="How the hash was computed: with the server's integrity key or without.",
    )

    _company_integrity_sequence_uniq = models.UniqueIndex(
        "(company_id, integrity_sequence) WHERE integrity_sequence IS NOT NULL",
        "Two addenda cannot take the same place in the company's chain.",
    )

    @api.constrains("note_id", "body")
    def _check_note_locked_and_text(self):
        """Addenda amend signed notes only, and say something."""
        for addendum in self:
            if addendum.note_id.state == "to_cosign":
                raise ValidationError(addendum.note_id._message_waiting())
            if addendum.note_id.state != "locked":
                raise ValidationError(
                    self.env._(
                        "%(client)s's chart note is still a draft: change the draft itself "
                        "instead of adding an addendum.",
                        client=addendum.note_id.partner_id.display_name,
                    )
                )
            if is_html_empty(addendum.body):
                raise ValidationError(self.env._("Write the text of the addendum."))
            if len(addendum.body) > NOTE_SIZE_LIMIT:
                raise ValidationError(
                    self.env._(
                        "This addendum is too long: %(size)s characters, for at most %(limit)s. "
                        "Shorten it, and leave pasted images out (attach documents to the client "
                        "instead).",
                        size=f"{len(addendum.body):,}",
                        limit=f"{NOTE_SIZE_LIMIT:,}",
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        # An addendum is dated and signed by whoever writes it, whatever the client sends.
        now = fields.Datetime.now()
        for vals in vals_list:
            vals.update(author_id=self.env.uid, date=now)
        addenda = super().create(vals_list)
        # Signed as it is saved: chained after the company's previous signed note or addendum.
        self.env["therapy.chart.note.chain"]._therapy_append(addenda)
        return addenda

    def write(self, vals):
        if self and not self._therapy_is_chaining(vals):
            raise UserError(self._message_immutable())
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_saved(self):
        raise UserError(self._message_immutable())

    def _therapy_is_chaining(self, vals):
        """The chain writing a new addendum's number and hash: once, by the server."""
        return (
            self._therapy_is_server_write()
            and vals.keys() <= set(INTEGRITY_FIELDS)
            and not any(self.mapped("integrity_sequence"))
        )

    def _therapy_integrity_payload(self, sequence):
        """What the addendum's hash covers: its text, author and date, and the note it amends
        as it was signed (its hash)."""
        self.ensure_one()
        return {
            "version": INTEGRITY_HASH_VERSION,
            "model": self._name,
            "id": self.id,
            "sequence": sequence,
            "company": self.company_id.id,
            "addendum": {
                fname: integrity_value(self, fname)
                for fname in ("note_id", "body", "author_id", "date")
            },
            "note_hash": self.note_id.content_hash or None,
        }

    def _therapy_integrity_label(self):
        """How the integrity report names the addendum: its date and note, never its text."""
        self.ensure_one()
        return self.env._(
            "Addendum %(id)s of %(date)s to chart note %(note)s (%(client)s)",
            id=self.id,
            date=format_datetime(self.env, self.date, dt_format="short") if self.date else "?",
            note=self.note_id.id,
            client=self.note_id.partner_id.display_name,
        )

    def _message_immutable(self):
        return self.env._(
            "An addendum is part of the signed record and cannot be changed or deleted once "
            "saved. Add another addendum to correct it."
        )
