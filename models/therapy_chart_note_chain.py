import json
from hashlib import sha256

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, LockError, UserError
from odoo.tools import SQL

# The version of what an entry's hash covers; it is part of every hashed payload. Changing the
# fields below changes every hash: do it only with a new version, verified by its own rules.
INTEGRITY_HASH_VERSION = 1
# What a signed note's hash covers besides the note itself, as they are at signing: the
# session facts and the client's attendance line the note vouches for.
HASHED_SESSION_FIELDS = (
    "start",
    "stop",
    "duration",
    "allday",
    "therapy_group_id",
    "user_id",
    "therapy_place_of_service",
)
HASHED_LINE_FIELDS = (
    "partner_id",
    "event_id",
    "state",
    "product_id",
    "addon_product_ids",
    "place_of_service",
    "modifiers",
    "audio_only",
    "diagnosis_pointers",
    "units",
)
# The models whose stored values the hashes cover.
HASHED_MODELS = (
    "therapy.chart.note",
    "therapy.chart.note.addendum",
    "therapy.attendance",
    "calendar.event",
)
# Written once, when a note is signed or an addendum saved, by the chain itself.
INTEGRITY_FIELDS = ("integrity_sequence", "integrity_previous_hash", "content_hash")
# How many chain entries the verification reads at a time (memory stays flat on big charts).
VERIFY_BATCH_SIZE = 1000


def integrity_value(record, fname):
    """A field's value as the hash covers it: ids, ISO dates and plain text, never a label
    (the user's language, time zone or a renamed record must not change a signed hash)."""
    field = record._fields[fname]
    value = record[fname]
    if field.type == "many2one":
        return value.id or None
    if field.type in ("one2many", "many2many"):
        return sorted(value.ids)
    if field.type == "datetime":
        return fields.Datetime.to_string(value) if value else None
    if field.type == "date":
        return fields.Date.to_string(value) if value else None
    if field.type == "float":
        return f"{value:.6f}"
    if field.type == "boolean":
        return bool(value)
    if field.type == "json":
        return value or None
    return str(value) if value else None


def integrity_digest(previous_hash, payload):
    """SHA-256 of the previous entry's hash followed by this entry's canonical JSON."""
    record = json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return sha256(((previous_hash or "") + record).encode()).hexdigest()


class TherapyChartNoteChain(models.Model):
    """One per company: the end of the chain of its signed chart notes and addenda.

    Each signed note and each addendum gets the next number of its company's chain and a hash
    of what it says, chained to the hash of the entry before it (as Odoo's journal entries are
    when posted). The row is locked while entries are appended, so two signings in the same
    company cannot both take the same number. It also remembers which breaks the daily
    verification has already reported.
    """

    _name = "therapy.chart.note.chain"
    _description = "Chart Note Integrity Chain"
    _inherit = ["mail.thread", "mail.activity.mixin", "therapy.server.owned.mixin"]
    _rec_name = "company_id"
    _order = "company_id"
    # Administrators read it (and its activities); nobody else.
    _mail_post_access = "read"
    _therapy_server_owned_fields = ("company_id", "last_sequence", "last_hash", "reported_breaks")

    # Every company has one from its creation: a company that can be deleted (it has no group,
    # hence no signed note) takes its empty chain with it.
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    last_sequence = fields.Integer(
        string="Entries", readonly=True, help="The number of the newest entry of the chain."
    )
    last_hash = fields.Char(
        string="Newest Hash",
        readonly=True,
        help="The hash of the newest entry: write it down (or keep the verification report) "
        "to prove later that the chain has not been rewritten since.",
    )
    reported_breaks = fields.Json(
        readonly=True, help="The breaks the daily verification has already reported."
    )

    _company_uniq = models.Constraint(
        "UNIQUE(company_id)", "A company has one chain of signed chart notes."
    )

    # ------------------------------------------------------------------
    # Appending
    # ------------------------------------------------------------------

    @api.model
    def _therapy_append(self, records):
        """Give signed notes or new addenda (one model at a time, in the order given) their
        place in their company's chain: number, previous hash and hash, written once, under the
        chain's lock.

        The caller has written what the entries say; it is flushed and read back from the
        database here, so the hash covers exactly what is stored.
        """
        if not records:
            return
        records.env.flush_all()
        for company, company_records in records.sudo().grouped("company_id").items():
            chain = self._therapy_lock_for(company)
            sequence = chain.last_sequence
            previous_hash = chain.last_hash or ""
            # What the database holds (written above, or committed by others before the lock).
            for model_name in HASHED_MODELS:
                self.env[model_name].invalidate_model()
            for record in company_records:
                sequence += 1
                payload = record._therapy_integrity_payload(sequence)
                digest = integrity_digest(previous_hash, payload)
                record._therapy_server_write(
                    {
                        "integrity_sequence": sequence,
                        "integrity_previous_hash": previous_hash or False,
                        "content_hash": digest,
                    }
                )
                previous_hash = digest
            chain._therapy_server_write({"last_sequence": sequence, "last_hash": previous_hash})
        records.env.flush_all()

    def init(self):
        """Every company has its chain from the start (new ones get theirs when created), so
        that a signing only ever locks an existing row."""
        self.env.execute_query(
            SQL(
                "INSERT INTO therapy_chart_note_chain (company_id, last_sequence, create_uid, "
                "create_date, write_uid, write_date) "
                "SELECT company.id, 0, %(uid)s, %(now)s, %(uid)s, %(now)s FROM res_company company "
                "WHERE NOT EXISTS (SELECT 1 FROM therapy_chart_note_chain chain "
                "WHERE chain.company_id = company.id)",
                uid=self.env.uid,
                now=fields.Datetime.now(),
            )
        )

    @api.model
    def _therapy_lock_for(self, company):
        """The company's chain row, locked until the transaction ends."""
        chain = self.sudo().search([("company_id", "=", company.id)])
        if not chain:
            # A company made behind the ORM: the first signings may race to create its row,
            # the database keeps one (the other waits for it).
            self.env.execute_query(
                SQL(
                    "INSERT INTO therapy_chart_note_chain (company_id, last_sequence, "
                    "create_uid, create_date, write_uid, write_date) "
                    "VALUES (%(company)s, 0, %(uid)s, %(now)s, %(uid)s, %(now)s) "
                    "ON CONFLICT (company_id) DO NOTHING",
                    company=company.id,
                    uid=self.env.uid,
                    now=fields.Datetime.now(),
                )
            )
            chain = self.sudo().search([("company_id", "=", company.id)])
        try:
            chain.lock_for_update(allow_referencing=True)
        except LockError:
            raise UserError(
                self.env._(
                    "Another chart note of %(company)s is being signed or amended right now. "
                    "Wait a moment and try again: nothing was signed.",
                    company=company.display_name,
                )
            ) from None
        chain.invalidate_recordset()
        return chain

    # ------------------------------------------------------------------
    # Verifying
    # ------------------------------------------------------------------

    @api.model
    def _therapy_check_access_verify(self):
        if not self.env.user.has_group("group_therapy.group_therapy_manager"):
            raise AccessError(
                self.env._(
                    "Only a Group Therapy administrator can verify the integrity of chart notes."
                )
            )

    @api.model
    def action_verify_integrity(self):
        """The menu: the verification report for the companies the administrator works in."""
        self._therapy_check_access_verify()
        return self.env.ref("group_therapy.therapy_chart_note_integrity_report").report_action(
            self.env.companies
        )

    def action_verify(self):
        """The button on a chain: its company's verification report."""
        self._therapy_check_access_verify()
        return self.env.ref("group_therapy.therapy_chart_note_integrity_report").report_action(
            self.company_id
        )

    @api.model
    def _therapy_check_integrity(self, companies):
        """Verify the chain of each company: every signed note and addendum still says what it
        said when it was signed (text, signature, the session facts), every entry is still linked
        to the one before it, none is missing and none was signed outside the chain.

        Returns one dict per company: ``company``, ``status`` (``verified`` / ``broken`` /
        ``empty``), ``count``, ``first`` and ``last`` (entries: ``sequence``, ``label``,
        ``hash``), ``problems`` (``sequence``, ``label``, ``reason``, ``key``) in chain order,
        and ``first_break`` (the first problem, or None).
        """
        self._therapy_check_access_verify()
        return [self._therapy_check_company(company) for company in companies]

    @api.model
    def _therapy_check_company(self, company):
        """One company's verification (see ``_therapy_check_integrity``), reading the chain in
        batches, in chain order, with the previous entry's stored hash as each one's link."""
        Note = self.env["therapy.chart.note"].sudo()
        Addendum = self.env["therapy.chart.note.addendum"].sudo()
        chain = self.sudo().search([("company_id", "=", company.id)])
        self.env.flush_all()
        problems = []
        count = 0
        first = last = None
        expected = 1
        previous_hash = ""
        after = 0
        while True:
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT kind, id, seq, previous_hash, hash FROM (
                        SELECT 'note' AS kind, id, integrity_sequence AS seq,
                               integrity_previous_hash AS previous_hash, content_hash AS hash
                          FROM therapy_chart_note
                         WHERE company_id = %(company)s AND integrity_sequence IS NOT NULL
                        UNION ALL
                        SELECT 'addendum', id, integrity_sequence, integrity_previous_hash,
                               content_hash
                          FROM therapy_chart_note_addendum
                         WHERE company_id = %(company)s AND integrity_sequence IS NOT NULL
                    ) AS entry
                    WHERE seq > %(after)s
                    ORDER BY seq, kind, id
                    LIMIT %(limit)s
                    """,
                    company=company.id,
                    after=after,
                    limit=VERIFY_BATCH_SIZE,
                )
            )
            if not rows:
                break
            # Read each batch fresh: what the database says, not what this transaction cached.
            self.env.invalidate_all()
            notes = Note.browse(row[1] for row in rows if row[0] == "note")
            addenda = Addendum.browse(row[1] for row in rows if row[0] == "addendum")
            records = {("note", note.id): note for note in notes}
            records.update({("addendum", addendum.id): addendum for addendum in addenda})
            for kind, record_id, sequence, stored_previous, stored_hash in rows:
                record = records[kind, record_id]
                entry = {
                    "sequence": sequence,
                    "label": record._therapy_integrity_label(),
                    "hash": stored_hash,
                }
                first = first or entry
                last = entry
                count += 1
                reasons = []
                if sequence < expected:
                    reasons.append(
                        (
                            "duplicate",
                            self.env._("it has the same number as the entry before it"),
                        )
                    )
                elif sequence > expected:
                    reasons.append(
                        (
                            "missing",
                            self.env._(
                                "the entries numbered %(first)s to %(last)s before it are "
                                "missing (deleted or moved)",
                                first=expected,
                                last=sequence - 1,
                            ),
                        )
                    )
                elif (stored_previous or "") != previous_hash:
                    reasons.append(
                        (
                            "link",
                            self.env._(
                                "its link to the entry before it no longer matches (that entry "
                                "was changed or replaced)"
                            ),
                        )
                    )
                payload = record._therapy_integrity_payload(sequence)
                if integrity_digest(stored_previous, payload) != stored_hash:
                    reasons.append(("changed", self._therapy_changed_reason(kind)))
                for key, reason in reasons:
                    problems.append(
                        {
                            "sequence": sequence,
                            "label": entry["label"],
                            "reason": reason,
                            "key": f"{kind}:{record_id}:{sequence}:{key}",
                        }
                    )
                previous_hash = stored_hash or ""
                expected = max(expected, sequence + 1)
            after = rows[-1][2]
        if chain and (
            chain.last_sequence != expected - 1 or (chain.last_hash or "") != previous_hash
        ):
            if chain.last_sequence >= expected:
                reason = self.env._(
                    "the newest entries, numbered %(first)s to %(last)s, are missing (deleted or "
                    "moved)",
                    first=expected,
                    last=chain.last_sequence,
                )
            else:
                reason = self.env._(
                    "the end of the chain recorded for the company (entry %(sequence)s) does not "
                    "match its newest entry",
                    sequence=chain.last_sequence,
                )
            problems.append(
                {
                    "sequence": chain.last_sequence,
                    "label": self.env._("End of the chain"),
                    "reason": reason,
                    "key": f"head:{chain.last_sequence}:{expected - 1}",
                }
            )
        # Signed without a place in the chain: flipped to signed, or taken out of it, by hand.
        outside = Note.search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "locked"),
                ("integrity_sequence", "=", False),
            ],
            order="id",
        )
        outside_addenda = Addendum.search(
            [("company_id", "=", company.id), ("integrity_sequence", "=", False)], order="id"
        )
        for record in [*outside, *outside_addenda]:
            problems.append(
                {
                    "sequence": 0,
                    "label": record._therapy_integrity_label(),
                    "reason": self.env._("it is signed but has no place in the chain"),
                    "key": f"{record._name}:{record.id}:outside",
                }
            )
        if problems:
            status = "broken"
        elif count:
            status = "verified"
        else:
            status = "empty"
        return {
            "company": company,
            "status": status,
            "count": count,
            "first": first,
            "last": last,
            "chain_end": chain.last_sequence if chain else 0,
            "problems": problems,
            "first_break": problems[0] if problems else None,
        }

    def _therapy_changed_reason(self, kind):
        """What a hash that no longer matches means, for a note or an addendum."""
        if kind == "note":
            return self.env._(
                "its text, its signature or the session facts it vouches for (date, duration, "
                "group, organizer, the client's attendance, codes, place of service) no longer "
                "match its hash"
            )
        return self.env._("its text, author or date no longer match its hash")

    # ------------------------------------------------------------------
    # The daily verification
    # ------------------------------------------------------------------

    @api.model
    def _cron_verify_integrity(self):
        """Verify every company's chain; tell the administrators about each new break once."""
        admin = self.env.ref("group_therapy.group_therapy_manager")
        # Every company has its chain row (made with the company, or by the install).
        for company in self.sudo().search([("company_id", "!=", False)]).company_id:
            result = self.sudo()._therapy_check_company(company)
            if result["status"] != "broken":
                continue
            chain = self.sudo()._therapy_chain_row(company)
            reported = set(chain.reported_breaks or [])
            new = [problem for problem in result["problems"] if problem["key"] not in reported]
            if new:
                users = admin.sudo().all_user_ids.filtered(
                    lambda user, company=company: user.active
                    and not user.share
                    and company in user.company_ids
                )
                for user in users:
                    chain.activity_schedule(
                        "group_therapy.mail_activity_type_chart_note_integrity",
                        user_id=user.id,
                        summary=self.env._(
                            "%(count)s chart note records of %(company)s no longer match their "
                            "signature",
                            count=len(new),
                            company=company.display_name,
                        ),
                        note=self._therapy_break_note(new),
                    )
            chain._therapy_server_write(
                {"reported_breaks": sorted(problem["key"] for problem in result["problems"])}
            )

    @api.model
    def _therapy_chain_row(self, company):
        """The company's chain row (created empty when nothing was ever chained)."""
        chain = self.sudo().search([("company_id", "=", company.id)])
        return chain or self.sudo()._therapy_server_create([{"company_id": company.id}])

    @api.model
    def _therapy_break_note(self, problems):
        """The activity's text: which records broke and how, never what a note says."""
        items = Markup("").join(
            Markup("<li>%s</li>")
            % self.env._(
                "%(label)s: %(reason)s",
                label=problem["label"],
                reason=problem["reason"],
            )
            for problem in problems
        )
        return Markup("<p>%s</p><ul>%s</ul><p>%s</p>") % (
            self.env._("The daily verification of the chart notes' integrity found:"),
            items,
            self.env._(
                "Run Configuration → Verify Chart Note Integrity for the full report, and "
                "restore the records from a backup."
            ),
        )
