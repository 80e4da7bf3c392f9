import configparser
import functools
import hmac
import json
import os
from hashlib import sha256

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, LockError, UserError
from odoo.tools import SQL, config

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
INTEGRITY_FIELDS = (
    "integrity_sequence",
    "integrity_previous_hash",
    "content_hash",
    "integrity_scheme",
)
# The secret that keys the hashes, never stored in the database, so that someone who can only
# write to the database cannot compute a hash that verifies: `integrity_key` in a section of the
# server's configuration file of its own (Odoo 19 warns at every start about unknown options in
# [options], and its command line refuses them), or an environment variable (a deployment's
# secret store).
INTEGRITY_KEY_SECTION = "group_therapy"
INTEGRITY_KEY_OPTION = "integrity_key"
INTEGRITY_KEY_ENVIRONMENT = "GROUP_THERAPY_INTEGRITY_KEY"
# How messages name the setting.
INTEGRITY_KEY_SETTING = f"[{INTEGRITY_KEY_SECTION}] {INTEGRITY_KEY_OPTION}"
# Shorter keys can be guessed from a hash and the record it covers.
INTEGRITY_KEY_MIN_LENGTH = 32
# How an entry was hashed: SHA-256 alone (no key was configured when it was written; also the
# entries written before keys existed, whose scheme is empty), or HMAC-SHA256 with the key
# named by its fingerprint ("hmac-sha256:<fingerprint>").
UNKEYED_SCHEME = "sha256"
KEYED_SCHEME = "hmac-sha256"
# How many chain entries the verification reads at a time (memory stays flat on big charts).
VERIFY_BATCH_SIZE = 1000
# The daily verification verifies what was added since its last run, and re-verifies the older
# entries a slice at a time: all of them within this many runs (a system parameter).
INTEGRITY_CYCLE_PARAMETER = "group_therapy.integrity_cycle_days"
INTEGRITY_CYCLE_DAYS = 30


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


@functools.cache
def _integrity_key_of_file(path):
    """The key of a configuration file's [group_therapy] section ("" without one), read once
    per process like the rest of Odoo's configuration."""
    parser = configparser.RawConfigParser()
    try:
        parser.read([path])
    except configparser.Error:
        return ""
    return parser.get(INTEGRITY_KEY_SECTION, INTEGRITY_KEY_OPTION, fallback="")


def _configured_integrity_key():
    """The key as the server is configured: the environment variable, else the configuration
    file's [group_therapy] section."""
    return os.environ.get(INTEGRITY_KEY_ENVIRONMENT) or (
        _integrity_key_of_file(config["config"]) if config.get("config") else ""
    )


def integrity_key():
    """The integrity key of this server's configuration, or None when it has none."""
    key = str(_configured_integrity_key() or "").strip()
    return key or None


def integrity_key_fingerprint(key):
    """A short name of a key, stored with each entry it hashed: it tells which key verifies
    the entry, and reveals nothing of the key."""
    return hmac.new(key.encode(), b"group_therapy integrity key fingerprint", sha256).hexdigest()[
        :12
    ]


def integrity_scheme(key):
    """The scheme an entry written with ``key`` (or without, for None) records."""
    return f"{KEYED_SCHEME}:{integrity_key_fingerprint(key)}" if key else UNKEYED_SCHEME


def integrity_digest(previous_hash, payload, key=None):
    """The previous entry's hash followed by this entry's canonical JSON, hashed with
    HMAC-SHA256 under ``key``, or with SHA-256 alone when there is no key."""
    record = json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    message = ((previous_hash or "") + record).encode()
    if key:
        return hmac.new(key.encode(), message, sha256).hexdigest()
    return sha256(message).hexdigest()


def integrity_verdict(scheme, previous_hash, payload, stored_hash, key):
    """Whether a stored entry still matches its hash, under the scheme it records and this
    server's key: ``verified``, ``changed``, ``no_key`` (hashed with a key and this server has
    none), ``other_key`` (hashed with a key this server does not have) or ``unknown_scheme``."""
    scheme = scheme or UNKEYED_SCHEME
    if scheme == UNKEYED_SCHEME:
        digest = integrity_digest(previous_hash, payload)
    elif scheme.startswith(f"{KEYED_SCHEME}:"):
        if not key:
            return "no_key"
        if scheme != integrity_scheme(key):
            return "other_key"
        digest = integrity_digest(previous_hash, payload, key)
    else:
        return "unknown_scheme"
    return "verified" if hmac.compare_digest(digest, stored_hash or "") else "changed"


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
    _inherit = [
        "therapy.staff.followers.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "therapy.server.owned.mixin",
    ]
    _rec_name = "company_id"
    _order = "company_id"
    # Administrators read it (and its activities); nobody else.
    _mail_post_access = "read"
    _therapy_server_owned_fields = (
        "company_id",
        "last_sequence",
        "last_hash",
        "last_scheme",
        "reported_breaks",
        "verified_sequence",
        "rolling_sequence",
    )

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
    last_scheme = fields.Char(
        string="Newest Hash Scheme",
        readonly=True,
        help="How the newest entry was hashed: with the server's integrity key or without.",
    )
    reported_breaks = fields.Json(
        readonly=True, help="The breaks the daily verification has already reported."
    )
    # The daily verification's progress: it verifies the entries added since its checkpoint,
    # and re-verifies a slice of the older ones after the rolling position.
    verified_sequence = fields.Integer(
        string="Verified Up To",
        readonly=True,
        help="The daily verification has verified every entry up to this one; its next run "
        "starts after it.",
    )
    rolling_sequence = fields.Integer(
        string="Re-verified Up To",
        readonly=True,
        help="Where the daily verification's re-verification of older entries continues.",
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
            chain, sequence, previous_hash, last_scheme = self._therapy_lock_for(company)
            key = chain._therapy_signing_key(last_scheme)
            scheme = integrity_scheme(key)
            # What the database holds (written above, or committed by others before the lock).
            for model_name in HASHED_MODELS:
                self.env[model_name].invalidate_model()
            for record in company_records:
                sequence += 1
                payload = record._therapy_integrity_payload(sequence)
                digest = integrity_digest(previous_hash, payload, key)
                record._therapy_server_write(
                    {
                        "integrity_sequence": sequence,
                        "integrity_previous_hash": previous_hash or False,
                        "content_hash": digest,
                        "integrity_scheme": scheme,
                    }
                )
                previous_hash = digest
            chain._therapy_server_write(
                {"last_sequence": sequence, "last_hash": previous_hash, "last_scheme": scheme}
            )
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
        """The company's chain row, locked until the transaction ends, and the end of the chain
        as the locked row records it: (chain, last number, last hash, last scheme), "" for no
        hash or scheme."""
        # Found, locked and read in one query; the other cases (no row yet, or locked by another
        # signing) go the long way below, which tells them apart.
        rows = self.env.execute_query(
            SQL(
                "SELECT id, last_sequence, last_hash, last_scheme FROM therapy_chart_note_chain "
                "WHERE company_id = %s FOR NO KEY UPDATE SKIP LOCKED",
                company.id,
            )
        )
        if rows:
            chain_id, last_sequence, last_hash, last_scheme = rows[0]
            chain = self.sudo().browse(chain_id)
            chain.invalidate_recordset()
            return chain, last_sequence or 0, last_hash or "", last_scheme or ""
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
        return chain, chain.last_sequence, chain.last_hash or "", chain.last_scheme or ""

    def _therapy_signing_key(self, last_scheme):
        """The key the chain's next entries are hashed with (None: no key configured), after
        entries hashed with ``last_scheme``.

        Once entries were hashed with a key, signing without one is refused: those entries
        would be weaker than the ones before them, and the verification would report them.
        """
        key = integrity_key()
        if key and len(key) < INTEGRITY_KEY_MIN_LENGTH:
            raise UserError(
                self.env._(
                    "The server's chart note integrity key (%(option)s) is shorter than "
                    "%(length)s characters, which is too easy to guess. Ask the administrator of "
                    "the server to set a longer random key: nothing was signed.",
                    option=INTEGRITY_KEY_SETTING,
                    length=INTEGRITY_KEY_MIN_LENGTH,
                )
            )
        if not key and last_scheme.startswith(KEYED_SCHEME):
            raise UserError(
                self.env._(
                    "The chart notes of %(company)s are signed with the server's integrity key, "
                    "and this server has none configured (%(option)s). Ask the administrator of "
                    "the server to configure the key again: nothing was signed.",
                    company=self.company_id.display_name,
                    option=INTEGRITY_KEY_SETTING,
                )
            )
        return key

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
        ``unverifiable`` / ``empty``), ``count``, ``first`` and ``last`` (entries: ``sequence``,
        ``label``, ``hash``), ``problems`` (``sequence``, ``label``, ``reason``, ``key``) in chain
        order, ``first_break`` (the first problem, or None), ``schemes`` (how the entries are
        hashed, see ``_therapy_scheme_summary``), ``unverifiable`` (the schemes whose entries
        this server cannot verify, with the reason) and ``key_fingerprint`` (this server's key,
        or None).
        """
        self._therapy_check_access_verify()
        return [self._therapy_check_company(company) for company in companies]

    @api.model
    def _therapy_check_company(self, company):
        """One company's full verification (see ``_therapy_check_integrity``)."""
        chain = self.sudo().search([("company_id", "=", company.id)])
        self.env.flush_all()
        key = integrity_key()
        schemes = self._therapy_scheme_summary(company, key)
        walk = self._therapy_walk(company, key, schemes, after=0)
        problems = [
            *walk["problems"],
            *self._therapy_end_problems(chain, walk),
            *self._therapy_outside_problems(company),
        ]
        unverifiable = [scheme for scheme in schemes if scheme["unverifiable"]]
        if problems:
            status = "broken"
        elif unverifiable:
            status = "unverifiable"
        elif walk["count"]:
            status = "verified"
        else:
            status = "empty"
        return {
            "company": company,
            "status": status,
            "count": walk["count"],
            "first": walk["first"],
            "last": walk["last"],
            "chain_end": chain.last_sequence if chain else 0,
            "problems": problems,
            "first_break": problems[0] if problems else None,
            "schemes": schemes,
            "unverifiable": unverifiable,
            "key_fingerprint": integrity_key_fingerprint(key) if key else None,
        }

    @api.model
    def _therapy_entries_query(self, company, condition):
        """Every chain entry of the company (notes and addenda) as (kind, id, seq,
        previous_hash, hash, scheme, signed), filtered by ``condition`` on ``seq``."""
        return SQL(
            """
            SELECT kind, id, seq, previous_hash, hash, scheme, signed FROM (
                SELECT 'note' AS kind, id, integrity_sequence AS seq,
                       integrity_previous_hash AS previous_hash, content_hash AS hash,
                       integrity_scheme AS scheme, signed_on AS signed
                  FROM therapy_chart_note
                 WHERE company_id = %(company)s AND integrity_sequence IS NOT NULL
                UNION ALL
                SELECT 'addendum', id, integrity_sequence, integrity_previous_hash,
                       content_hash, integrity_scheme, date
                  FROM therapy_chart_note_addendum
                 WHERE company_id = %(company)s AND integrity_sequence IS NOT NULL
            ) AS entry
            WHERE %(condition)s
            """,
            company=company.id,
            condition=condition,
        )

    @api.model
    def _therapy_scheme_summary(self, company, key):
        """How the company's entries are hashed, one dict per scheme in chain order:
        ``scheme``, ``keyed``, ``fingerprint``, ``count``, ``first`` and ``last`` (entry
        numbers), ``signed_until`` (when the newest of them was signed), ``current`` (hashed
        with this server's key), ``unverifiable`` (``no_key`` / ``other_key``, or False) and
        ``reason`` (why they cannot be verified)."""
        rows = self.env.execute_query(
            SQL(
                "SELECT COALESCE(scheme, %(unkeyed)s), count(*), min(seq), max(seq), max(signed) "
                "FROM (%(entries)s) AS chained GROUP BY 1 ORDER BY 3",
                unkeyed=UNKEYED_SCHEME,
                entries=self._therapy_entries_query(company, SQL("TRUE")),
            )
        )
        current = integrity_scheme(key) if key else None
        summary = []
        for scheme, count, first, last, signed_until in rows:
            keyed = scheme.startswith(f"{KEYED_SCHEME}:")
            unverifiable = False
            if keyed and not key:
                unverifiable = "no_key"
            elif keyed and scheme != current:
                unverifiable = "other_key"
            summary.append(
                {
                    "scheme": scheme,
                    "keyed": keyed,
                    "fingerprint": scheme.partition(":")[2] if keyed else None,
                    "count": count,
                    "first": first,
                    "last": last,
                    "signed_until": signed_until,
                    "current": scheme == current,
                    "unverifiable": unverifiable,
                    "reason": self._therapy_unverifiable_reason(
                        unverifiable, scheme.partition(":")[2], key
                    )
                    if unverifiable
                    else "",
                }
            )
        return summary

    def _therapy_unverifiable_reason(self, verdict, fingerprint, key):
        """Why entries hashed with a key cannot be verified on this server."""
        if verdict == "no_key":
            return self.env._(
                "they cannot be verified: they were hashed with the integrity key %(fingerprint)s, "
                "and the integrity key is not configured on this server (%(option)s)",
                fingerprint=fingerprint,
                option=INTEGRITY_KEY_SETTING,
            )
        return self.env._(
            "they cannot be verified: they were hashed with the integrity key %(fingerprint)s, "
            "and the integrity key configured on this server differs (%(current)s)",
            fingerprint=fingerprint,
            current=integrity_key_fingerprint(key),
        )

    @api.model
    def _therapy_entry_at_or_before(self, company, sequence):
        """(number, hash) of the company's newest entry numbered ``sequence`` or less: where a
        verification that starts after ``sequence`` takes its first link from."""
        if sequence <= 0:
            return 0, ""
        rows = self.env.execute_query(
            SQL(
                "%s ORDER BY seq DESC LIMIT 1",
                self._therapy_entries_query(company, SQL("seq <= %s", sequence)),
            )
        )
        return (rows[0][2], rows[0][4] or "") if rows else (0, "")

    @api.model
    def _therapy_walk(self, company, key, schemes, after, upto=None):
        """Verify the company's entries numbered after ``after`` (up to ``upto``, or to the
        end), in chain order and in batches, each against its hash and its link to the entry
        before it (the entry before the first one read is looked up).

        Returns ``problems``, ``count``, ``first``, ``last`` (entries), ``expected`` (the
        number the next entry should have) and ``previous_hash`` (the last entry's hash).
        """
        Note = self.env["therapy.chart.note"].sudo()
        Addendum = self.env["therapy.chart.note.addendum"].sudo()
        # Entries after the first one hashed with a key must be hashed with a key too.
        first_keyed = min((scheme["first"] for scheme in schemes if scheme["keyed"]), default=None)
        start, previous_hash = self._therapy_entry_at_or_before(company, after)
        expected = start + 1
        problems = []
        count = 0
        first = last = None
        after = start
        while True:
            condition = SQL("seq > %s", after)
            if upto is not None:
                condition = SQL("%s AND seq <= %s", condition, upto)
            rows = self.env.execute_query(
                SQL(
                    "%s ORDER BY seq, kind, id LIMIT %s",
                    self._therapy_entries_query(company, condition),
                    VERIFY_BATCH_SIZE,
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
            for kind, record_id, sequence, stored_previous, stored_hash, scheme, _signed in rows:
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
                            f"{kind}:{record_id}:{sequence}:duplicate",
                            self.env._("it has the same number as the entry before it"),
                        )
                    )
                elif sequence > expected:
                    # Named by the missing numbers: the same gap is the same break, whether
                    # found at the end of the chain or, after a new signing, before an entry.
                    reasons.append(
                        (
                            f"missing:{expected}:{sequence - 1}",
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
                            f"{kind}:{record_id}:{sequence}:link",
                            self.env._(
                                "its link to the entry before it no longer matches (that entry "
                                "was changed or replaced)"
                            ),
                        )
                    )
                keyed = (scheme or "").startswith(f"{KEYED_SCHEME}:")
                if not keyed and first_keyed is not None and sequence > first_keyed:
                    reasons.append(
                        (
                            f"{kind}:{record_id}:{sequence}:unkeyed",
                            self.env._(
                                "it is hashed without the integrity key although the entries "
                                "before it are hashed with it: it may have been rewritten by "
                                "someone who does not have the key"
                            ),
                        )
                    )
                verdict = integrity_verdict(
                    scheme,
                    stored_previous,
                    record._therapy_integrity_payload(sequence),
                    stored_hash,
                    key,
                )
                if verdict == "changed":
                    reasons.append(
                        (
                            f"{kind}:{record_id}:{sequence}:changed",
                            self._therapy_changed_reason(kind),
                        )
                    )
                elif verdict == "unknown_scheme":
                    reasons.append(
                        (
                            f"{kind}:{record_id}:{sequence}:scheme",
                            self.env._(
                                "the way its hash was computed is unknown (changed by hand)"
                            ),
                        )
                    )
                # Entries hashed with a key this server lacks are counted in the summary of
                # schemes, as entries that cannot be verified here, not as changed ones.
                for problem_key, reason in reasons:
                    problems.append(
                        {
                            "sequence": sequence,
                            "label": entry["label"],
                            "reason": reason,
                            "key": problem_key,
                            "at": sequence,
                        }
                    )
                previous_hash = stored_hash or ""
                expected = max(expected, sequence + 1)
            after = rows[-1][2]
        return {
            "problems": problems,
            "count": count,
            "first": first,
            "last": last,
            "expected": expected,
            "previous_hash": previous_hash,
        }

    def _therapy_end_problems(self, chain, walk):
        """The end of the chain recorded on the company's row against the newest entry read
        by a walk that went to the end of the chain."""
        expected = walk["expected"]
        if not chain or (
            chain.last_sequence == expected - 1 and (chain.last_hash or "") == walk["previous_hash"]
        ):
            return []
        if chain.last_sequence >= expected:
            key = f"missing:{expected}:{chain.last_sequence}"
            reason = self.env._(
                "the newest entries, numbered %(first)s to %(last)s, are missing (deleted or "
                "moved)",
                first=expected,
                last=chain.last_sequence,
            )
        else:
            key = f"head:{chain.last_sequence}:{expected - 1}"
            reason = self.env._(
                "the end of the chain recorded for the company (entry %(sequence)s) does not "
                "match its newest entry",
                sequence=chain.last_sequence,
            )
        return [
            {
                "sequence": chain.last_sequence,
                "label": self.env._("End of the chain"),
                "reason": reason,
                "key": key,
                "at": None,
            }
        ]

    @api.model
    def _therapy_outside_problems(self, company):
        """Signed without a place in the chain: flipped to signed, or taken out of it, by
        hand."""
        Note = self.env["therapy.chart.note"].sudo()
        Addendum = self.env["therapy.chart.note.addendum"].sudo()
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
        return [
            {
                "sequence": 0,
                "label": record._therapy_integrity_label(),
                "reason": self.env._("it is signed but has no place in the chain"),
                "key": f"{record._name}:{record.id}:outside",
                "at": None,
            }
            for record in [*outside, *outside_addenda]
        ]

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
    def _therapy_cycle_days(self):
        """In how many daily runs the daily verification re-verifies the whole chain."""
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(INTEGRITY_CYCLE_PARAMETER, INTEGRITY_CYCLE_DAYS)
        )
        try:
            return max(int(value), 1)
        except ValueError:
            return INTEGRITY_CYCLE_DAYS

    def _therapy_verify_incremental(self):
        """One daily run over this company's chain: the entries added since the checkpoint,
        a slice of the older ones after the rolling position (so that every entry is verified
        again within the cycle), the end of the chain and the records signed outside it. Moves
        the checkpoint and the rolling position.

        Returns ``problems`` (as the full verification's, each with ``at``: the entry where
        it was found, None for what is checked over the whole chain at every run),
        ``unverifiable`` (schemes this server cannot verify) and ``examined`` (the ranges of
        entry numbers verified, as (first, last) pairs, last None for "to the end").
        """
        self.ensure_one()
        company = self.company_id
        self.env.flush_all()
        key = integrity_key()
        schemes = self._therapy_scheme_summary(company, key)
        checkpoint = self.verified_sequence
        walk = self._therapy_walk(company, key, schemes, after=checkpoint)
        problems = [
            *walk["problems"],
            *self._therapy_end_problems(self, walk),
            *self._therapy_outside_problems(company),
        ]
        examined = [(checkpoint + 1, None)]
        rolling = self.rolling_sequence if self.rolling_sequence < checkpoint else 0
        size = -(-checkpoint // self._therapy_cycle_days())  # rounded up
        rolling_end = min(rolling + size, checkpoint)
        if rolling_end > rolling:
            slice_walk = self._therapy_walk(company, key, schemes, after=rolling, upto=rolling_end)
            problems[:0] = slice_walk["problems"]
            examined.append((rolling + 1, rolling_end))
        self._therapy_server_write(
            {
                "verified_sequence": max(checkpoint, walk["expected"] - 1),
                "rolling_sequence": rolling_end,
            }
        )
        return {
            "problems": problems,
            "unverifiable": [scheme for scheme in schemes if scheme["unverifiable"]],
            "examined": examined,
        }

    @api.model
    def _cron_verify_integrity(self):
        """Verify what is new in every company's chain and a slice of what is older; tell the
        administrators about each new break once."""
        admin = self.env.ref("group_therapy.group_therapy_manager")
        # Every company has its chain row (made with the company, or by the install).
        for chain in self.sudo().search([("company_id", "!=", False)]):
            company = chain.company_id
            result = chain._therapy_verify_incremental()
            found = {problem["key"]: problem["at"] for problem in result["problems"]}
            for scheme in result["unverifiable"]:
                found[self._therapy_unverifiable_key(scheme)] = None
            reported = self._therapy_reported(chain.reported_breaks)
            new_problems = [
                problem for problem in result["problems"] if problem["key"] not in reported
            ]
            new_unverifiable = [
                scheme
                for scheme in result["unverifiable"]
                if self._therapy_unverifiable_key(scheme) not in reported
            ]
            if new_problems or new_unverifiable:
                users = admin.sudo().all_user_ids.filtered(
                    lambda user, company=company: user.active
                    and not user.share
                    and company in user.company_ids
                )
                for user in users:
                    chain.activity_schedule(
                        "group_therapy.mail_activity_type_chart_note_integrity",
                        user_id=user.id,
                        summary=self._therapy_break_summary(company, new_problems),
                        note=self._therapy_break_note(new_problems, new_unverifiable),
                    )
            # What was looked at again and no longer found is forgotten (reported again if
            # it comes back); the rest stays reported until a run looks at it again.
            kept = {
                problem_key: at
                for problem_key, at in reported.items()
                if problem_key not in found
                and at is not None
                and not any(
                    first <= at and (last is None or at <= last)
                    for first, last in result["examined"]
                )
            }
            chain._therapy_server_write({"reported_breaks": {**kept, **found}})

    @api.model
    def _therapy_unverifiable_key(self, scheme):
        """How the daily verification remembers it reported entries it cannot verify."""
        return f"unverifiable:{scheme['scheme']}:{scheme['unverifiable']}"

    @api.model
    def _therapy_reported(self, reported_breaks):
        """The reported breaks as {key: entry number where found, or None}. (Before 19.0.1.2.0
        they were a list of keys, entry problems numbered "<kind>:<id>:<number>:<reason>".)"""
        if isinstance(reported_breaks, dict):
            return reported_breaks
        reported = {}
        for problem_key in reported_breaks or []:
            parts = problem_key.split(":")
            at = None
            if parts[0] in ("note", "addendum") and len(parts) == 4 and parts[2].isdigit():
                at = int(parts[2])
            reported[problem_key] = at
        return reported

    @api.model
    def _therapy_chain_row(self, company):
        """The company's chain row (created empty when nothing was ever chained)."""
        chain = self.sudo().search([("company_id", "=", company.id)])
        return chain or self.sudo()._therapy_server_create([{"company_id": company.id}])

    @api.model
    def _therapy_break_summary(self, company, problems):
        """The activity's title."""
        if problems:
            return self.env._(
                "%(count)s chart note records of %(company)s no longer match their signature",
                count=len(problems),
                company=company.display_name,
            )
        return self.env._(
            "Chart notes of %(company)s cannot be verified on this server",
            company=company.display_name,
        )

    @api.model
    def _therapy_break_note(self, problems, unverifiable=()):
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
        items += Markup("").join(
            Markup("<li>%s</li>")
            % self.env._(
                "Entries %(first)s to %(last)s: %(reason)s",
                first=scheme["first"],
                last=scheme["last"],
                reason=scheme["reason"],
            )
            for scheme in unverifiable
        )
        return Markup("<p>%s</p><ul>%s</ul><p>%s</p>") % (
            self.env._("The daily verification of the chart notes' integrity found:"),
            items,
            self.env._(
                "Run Configuration → Verify Chart Note Integrity for the full report, and "
                "restore the records from a backup (or configure the server's integrity key)."
            ),
        )
