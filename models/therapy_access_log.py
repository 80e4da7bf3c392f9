from contextlib import contextmanager
from contextvars import ContextVar

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import SQL

# The log lines of the call being served, written together when it ends (see `_batch`).
_PENDING_LINES = ContextVar("therapy_access_log_pending_lines", default=None)

ACCESS_TYPES = [
    ("read", "Read"),
    ("search", "Searched"),
    ("print", "Printed"),
    ("export", "Exported"),
]
# What clinical content is logged on: notes and addenda (read, printed, exported), attendance
# lines (printed on a superbill, exported as claim lines), insurance claims (837P) and
# treatment-plan goals and the progress charted on them (read, exported), and a client's answers
# to a clinical measure, PHQ-9 or GAD-7 (read).
LOGGED_MODELS = (
    "therapy.chart.note",
    "therapy.chart.note.addendum",
    "therapy.attendance",
    "therapy.claim",
    "therapy.treatment.goal",
    "therapy.treatment.goal.progress",
    "survey.user_input",
)


class TherapyAccessLog(models.Model):
    """Who looked at which client's clinical content, when and how (45 CFR 164.312(b)).

    Append-only: lines are written by the server in SQL, one INSERT per call, never through
    ``create``; nobody edits or deletes them, administrators included.
    """

    _name = "therapy.access.log"
    _description = "Clinical Access Log"
    _order = "date desc, id desc"
    # A line is never written again: the date and user below are the whole story.
    _log_access = False
    _rec_name = "res_model"

    date = fields.Datetime(required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", required=True, readonly=True, index=True, ondelete="restrict"
    )
    partner_id = fields.Many2one(
        "res.partner", string="Client", readonly=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True, ondelete="restrict")
    res_model = fields.Selection(
        selection="_selection_res_model", string="Document Type", required=True, readonly=True
    )
    res_id = fields.Integer(string="Document ID", required=True, readonly=True)
    access_type = fields.Selection(
        selection=ACCESS_TYPES, string="Access", required=True, readonly=True, index=True
    )
    detail = fields.Char(
        readonly=True, help="The clinical fields read, the report printed or the file exported."
    )
    ip_address = fields.Char(string="IP Address", readonly=True)
    part2_consent_id = fields.Many2one(
        "therapy.part2.consent",
        string="42 CFR Part 2 Consent",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
        help="The client's written consent the disclosure was made under (a record of a 42 CFR "
        "Part 2 program).",
    )

    @api.model
    def _selection_res_model(self):
        return [(name, self.env[name]._description) for name in LOGGED_MODELS]

    @api.model_create_multi
    def create(self, vals_list):
        # Nobody (administrators and sudo included) forges a line over RPC or the ORM: the
        # server writes them in `_insert_lines`.
        if vals_list:
            raise UserError(self._message_append_only())
        return super().create(vals_list)

    def write(self, vals):
        if self:
            raise UserError(self._message_append_only())
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self._message_append_only())

    def _message_append_only(self):
        return self.env._(
            "The clinical access log is an audit record: its lines are written by the system "
            "when clinical content is read, printed or exported, and are never changed or deleted."
        )

    @api.model
    def _log(self, records, access_type, detail=False, consents=None):
        """Record that the current user accessed ``records`` (one line each).

        ``records`` have a ``partner_id`` (the client); inside `_batch` the lines wait for the end
        of the call, otherwise they are written at once, in one INSERT. ``consents`` maps the
        records of a 42 CFR Part 2 program to the consent they were disclosed under.
        """
        consents = consents or {}
        records = records.filtered("id")
        if not records:
            return
        # Only the ids of the client and company are taken, whatever the user may read of them.
        records_sudo = records.sudo()
        has_company = "company_id" in records._fields
        date = fields.Datetime.now()
        ip_address = request.httprequest.remote_addr if request else None
        lines = [
            (
                date,
                self.env.uid,
                record.partner_id.id or None,
                (has_company and record.company_id.id) or None,
                record._name,
                record.id,
                access_type,
                detail or None,
                ip_address,
                consents[record].id if record in consents else None,
            )
            for record in records_sudo
        ]
        pending = _PENDING_LINES.get()
        if pending is not None:
            pending.extend(lines)
        else:
            self._insert_lines(lines)

    @contextmanager
    def _batch(self):
        """Collect the lines logged while the block runs (e.g. a form reading a note and its
        addenda) and write them in one INSERT when it ends. Nested blocks join the outer one."""
        if _PENDING_LINES.get() is not None:
            yield
            return
        token = _PENDING_LINES.set([])
        try:
            yield
            lines = _PENDING_LINES.get()
        finally:
            _PENDING_LINES.reset(token)
        # One line per record and kind of access in a call (a list and its count search the
        # same notes; a form reads a goal's text and its name as a label): what was read,
        # searched or exported of it is joined in its detail.
        merged = {}
        for line in lines:
            key = line[1:7] + line[8:]
            if key not in merged:
                merged[key] = line
                continue
            details = [
                part
                for detail in (merged[key][7], line[7])
                if detail
                for part in detail.split(", ")
            ]
            merged[key] = (*line[:7], ", ".join(dict.fromkeys(details)) or None, *line[8:])
        self._insert_lines(list(merged.values()))

    @api.model
    def _insert_lines(self, lines):
        """One multi-row INSERT, on a read/write cursor even when the call reads on a replica."""
        if not lines:
            return
        query = SQL(
            "INSERT INTO %s (date, user_id, partner_id, company_id, res_model, res_id, "
            "access_type, detail, ip_address, part2_consent_id) VALUES %s",
            SQL.identifier(self._table),
            SQL(", ").join(
                SQL("(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", *line) for line in lines
            ),
        )
        if self.env.cr.readonly:
            # Odoo serves reads (read, search_read, web_read, reports) on a read-only cursor
            # when a replica is configured: like Odoo's own device log, the line is written
            # through a short-lived read/write cursor, committed at once. What was read is
            # already in memory; the read-only transaction is ended first, as Odoo does, so
            # that the new cursor does not nest in it.
            self.env.cr.rollback()
            with self.env.registry.cursor() as cr:
                cr.execute(query)
        else:
            self.env.cr.execute(query)
