"""The clinical access log (HIPAA audit controls, 45 CFR 164.312(b)).

Every read of a chart note's or an addendum's text, every print of a chart note or a superbill and
every claim export leaves one line per record: user, time, client, record, kind of access. Each
call writes its lines in one INSERT, on a read/write cursor even when Odoo serves the read on a
read-only one. Nobody changes, deletes or forges a line.
"""

import base64
import csv
import io
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import SQL, mute_logger

from .test_charting import ChartingCommon
from .test_x12_837p import X12Common

# What the chart note form reads when it opens: the note and its addenda.
NOTE_FORM = {
    "partner_id": {"fields": {"display_name": {}}},
    "group_id": {"fields": {"display_name": {}}},
    "session_start": {},
    "state": {},
    "body": {},
    "addendum_ids": {
        "fields": {"date": {}, "author_id": {"fields": {"display_name": {}}}, "body": {}}
    },
}
# What the chart note list reads: no clinical text.
NOTE_LIST = {
    "session_start": {},
    "partner_id": {"fields": {"display_name": {}}},
    "group_id": {"fields": {"display_name": {}}},
    "state": {},
    "signed_by_id": {"fields": {"display_name": {}}},
}


class AccessLogCommon(ChartingCommon):
    """The session of ChartingCommon charted and signed: three notes (clients 01, 02, 04), the
    first with an addendum."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._chart()._sign()
        cls.notes = cls.session.therapy_chart_note_ids
        cls.note = cls._note(cls.clients[0])
        cls.addendum = (
            cls.env["therapy.chart.note.addendum"]
            .with_user(cls.provider)
            .create({"note_id": cls.note.id, "body": "<p>Correction: 75 minutes.</p>"})
        )
        cls.Log = cls.env["therapy.access.log"]

    def setUp(self):
        super().setUp()
        self.last_log_id = self.Log.search([], limit=1, order="id desc").id or 0

    def _new_lines(self):
        """The log lines written since the test started, oldest first."""
        return self.Log.search([("id", ">", self.last_log_id)], order="id")

    @contextmanager
    def _log_inserts(self):
        """The INSERTs into the access log run on the test's cursor while the block runs."""
        inserts = []
        cr = self.env.cr
        real_execute = cr.execute

        def execute(query, params=None, log_exceptions=True):
            code = query.code if isinstance(query, SQL) else query
            if code.lstrip().startswith('INSERT INTO "therapy_access_log"'):
                inserts.append(code)
            return real_execute(query, params, log_exceptions)

        with patch.object(cr, "execute", execute):
            yield inserts

    def assertLogged(self, lines, user, access_type, records, detail=None):
        """One line per record read (a record read twice: two lines), with its client, for
        `user` and this kind of access. `records`: a recordset, or a list of records."""
        records = list(records)
        self.assertEqual(
            sorted((line.res_model, line.res_id) for line in lines),
            sorted((record._name, record.id) for record in records),
        )
        clients = {(record._name, record.id): record.partner_id for record in records}
        for line in lines:
            self.assertEqual(line.user_id, user)
            self.assertEqual(line.partner_id, clients[line.res_model, line.res_id])
            self.assertEqual(line.access_type, access_type)
            self.assertTrue(line.date)
            if detail is not None:
                self.assertEqual(line.detail, detail)


@tagged("post_install", "-at_install")
class TestAccessLogReads(AccessLogCommon):
    def test_opening_a_note_logs_the_note_and_its_addenda_in_one_insert(self):
        with self._log_inserts() as inserts:
            values = self.note.with_user(self.provider).web_read(NOTE_FORM)
        self.assertIn("distress tolerance", values[0]["body"])
        self.assertIn("75 minutes", values[0]["addendum_ids"][0]["body"])
        self.assertEqual(len(inserts), 1, "the note and its addenda: one INSERT")
        lines = self._new_lines()
        self.assertLogged(lines, self.provider, "read", [self.note, self.addendum])
        self.assertEqual(
            lines.filtered(lambda line: line.res_model == "therapy.chart.note").detail, "body"
        )

    def test_rpc_read_and_search_read_of_the_text_log_every_note_returned(self):
        Note = self.env["therapy.chart.note"].with_user(self.shared_provider)
        with self._log_inserts() as inserts:
            rows = Note.search_read(
                [("event_id", "=", self.session.id)], ["partner_id", "body", "client_note"]
            )
        self.assertEqual(len(rows), 3)
        self.assertEqual(len(inserts), 1, "three notes: one INSERT")
        self.assertLogged(
            self._new_lines(), self.shared_provider, "read", self.notes, "body, client_note"
        )

        self.last_log_id = self._new_lines()[-1:].id
        self.notes.with_user(self.provider).read(["group_note"])
        self.assertLogged(self._new_lines(), self.provider, "read", self.notes, "group_note")

        self.last_log_id = self._new_lines()[-1:].id
        result = Note.web_search_read(
            [("event_id", "=", self.session.id)], {**NOTE_LIST, "body": {}}
        )
        self.assertEqual(result["length"], 3)
        self.assertLogged(self._new_lines(), self.shared_provider, "read", self.notes)

    def test_reading_without_clinical_text_logs_nothing(self):
        Note = self.env["therapy.chart.note"].with_user(self.provider)
        with self._log_inserts() as inserts:
            Note.web_search_read([("event_id", "=", self.session.id)], NOTE_LIST)
            Note.search_read([], ["partner_id", "state", "session_start", "content_hash"])
            self.notes.with_user(self.provider).web_read(NOTE_LIST)
            self.addendum.with_user(self.provider).read(["date", "author_id"])
        self.assertFalse(inserts)
        self.assertFalse(self._new_lines())

    def test_clinical_text_is_never_grouped_or_aggregated(self):
        """Grouping would hand out the text of many notes at once, past the log."""
        Note = self.env["therapy.chart.note"].with_user(self.provider)
        for groupby, aggregates in (
            (["partner_id"], ["body:array_agg"]),
            (["partner_id"], ["client_note:max"]),
            (["body"], ["__count"]),
        ):
            with self.subTest(groupby=groupby, aggregates=aggregates):
                with self.assertRefused(AccessError, "clinical text"):
                    Note.formatted_read_group([], groupby, aggregates)
        groups = Note.formatted_read_group([], ["partner_id"], ["body:count", "__count"])
        self.assertEqual(sum(group["__count"] for group in groups), 3)
        self.assertFalse(self._new_lines())

    def test_one_insert_whatever_the_number_of_notes(self):
        """Reading 3 or 9 notes costs the same queries, among them one INSERT."""
        more_sessions = self._make_session(self.group, days=-2) | self._make_session(
            self.group, days=-3
        )
        for session in more_sessions:
            session.action_mark_all_attended()
            self._chart(session=session)._sign()
        all_notes = (self.session | more_sessions).therapy_chart_note_ids
        self.assertGreaterEqual(len(all_notes), 9)
        Note = self.env["therapy.chart.note"].with_user(self.provider)

        def open_notes(notes):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            with self._log_inserts() as inserts:
                Note.browse(notes.ids).web_read(NOTE_FORM)
            return self.env.cr.sql_log_count - before, len(inserts)

        open_notes(self.notes)  # warm the caches (access rules, fields)
        few_queries, few_inserts = open_notes(self.notes)
        many_queries, many_inserts = open_notes(all_notes)
        self.assertEqual((few_inserts, many_inserts), (1, 1))
        self.assertEqual(many_queries, few_queries)
        with self.assertQueryCount(few_queries):
            self.env.invalidate_all()
            Note.browse(all_notes.ids).web_read(NOTE_FORM)

    def test_exporting_notes_with_their_text_is_logged(self):
        Note = self.env["therapy.chart.note"].with_user(self.manager)
        datas = Note.browse(self.notes.ids).export_data(["partner_id", "addendum_ids/body"])
        self.assertTrue(datas["datas"])
        self.assertLogged(
            self._new_lines(), self.manager, "export", self.notes, "addendum_ids/body"
        )
        self.last_log_id = self._new_lines()[-1:].id
        Note.browse(self.notes.ids).export_data(["partner_id", "state"])
        self.assertFalse(self._new_lines(), "no clinical text exported: nothing to log")


@tagged("post_install", "-at_install")
class TestAccessLogPrintsAndExports(AccessLogCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"vat": "12-3456789", "therapy_npi": "1245319599"})
        cls.provider.therapy_npi = "1234567893"
        # The services of the session: 01 and 02 attended with 90853 (04 with "no fee" and 03's
        # no-show are not services).
        cls.services = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.product_id == cls.cpt_90853
        )

    def _render(self, report_xmlid, ids, user):
        report = self.env.ref(report_xmlid).with_user(user)
        content, _kind = report._render_qweb_pdf(report.report_name, ids)
        return content.decode()

    def test_printing_chart_notes_is_logged(self):
        with self._log_inserts() as inserts:
            html = self._render(
                "group_therapy.therapy_chart_note_report", self.notes.ids, self.provider
            )
        self.assertIn("distress tolerance", html)
        self.assertEqual(len(inserts), 1)
        self.assertLogged(self._new_lines(), self.provider, "print", self.notes, "Chart Note")

    def test_printing_superbills_is_logged(self):
        self._render(
            "group_therapy.therapy_superbill_report_session", self.session.ids, self.front_desk
        )
        self.assertLogged(self._new_lines(), self.front_desk, "print", self.services, "Superbills")
        self.last_log_id = self._new_lines()[-1:].id
        self._render(
            "group_therapy.therapy_superbill_report_client", self.clients[0].ids, self.provider
        )
        self.assertLogged(
            self._new_lines(),
            self.provider,
            "print",
            self.services.filtered(lambda line: line.partner_id == self.clients[0]),
        )

    def test_printing_other_reports_is_not_logged(self):
        self._render(
            "group_therapy.therapy_sign_in_sheet_report", self.session.ids, self.front_desk
        )
        self.assertFalse(self._new_lines())

    def test_claim_export_is_logged(self):
        today = datetime.now().date()
        wizard = (
            self.env["therapy.claim.export.wizard"]
            .with_user(self.front_desk)
            .create({"date_from": today - timedelta(days=7), "date_to": today})
        )
        with self._log_inserts() as inserts:
            wizard.action_export()
        rows = list(csv.DictReader(io.StringIO(base64.b64decode(wizard.data).decode())))
        self.assertEqual(
            {row["client"] for row in rows}, set(self.services.partner_id.mapped("name"))
        )
        self.assertEqual(len(inserts), 1)
        self.assertLogged(
            self._new_lines(), self.front_desk, "export", self.services, wizard.filename
        )


@tagged("post_install", "-at_install")
class TestAccessLog837P(X12Common):
    def test_837p_export_is_logged_per_claim(self):
        last_id = self.env["therapy.access.log"].search([], limit=1, order="id desc").id or 0
        wizard = self._export()
        claims = self.env["therapy.claim"].search(
            [("event_id", "in", (self.session | self.evening).ids)]
        )
        self.assertTrue(claims)
        lines = self.env["therapy.access.log"].search([("id", ">", last_id)])
        self.assertEqual(
            sorted((line.res_model, line.res_id) for line in lines),
            sorted(("therapy.claim", claim.id) for claim in claims),
        )
        for line in lines:
            claim = claims.browse(line.res_id)
            self.assertEqual(line.partner_id, claim.partner_id)
            self.assertEqual(line.user_id, self.front_desk)  # who exports claims (test_x12_837p)
            self.assertEqual(line.access_type, "export")
            self.assertEqual(line.detail, wizard.filename)


@tagged("post_install", "-at_install")
class TestAccessLogReview(AccessLogCommon):
    """Four lines: the provider read the three notes, the shared provider the first one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        first_id = cls.Log.search([], limit=1, order="id desc").id or 0
        cls.notes.with_user(cls.provider).read(["body"])
        cls.note.with_user(cls.shared_provider).read(["body"])
        cls.lines = cls.Log.search([("id", ">", first_id)])
        cls.domain = [("id", "in", cls.lines.ids)]

    def test_administrators_search_group_and_export(self):
        Log = self.Log.with_user(self.manager)
        self.assertEqual(
            Log.search_count([*self.domain, ("partner_id", "=", self.clients[0].id)]), 2
        )
        by_client = dict(Log._read_group(self.domain, ["partner_id"], ["__count"]))
        self.assertEqual(by_client[self.clients[0]], 2)
        self.assertEqual(by_client[self.clients[1]], 1)
        by_user = dict(Log._read_group(self.domain, ["user_id"], ["__count"]))
        self.assertEqual(by_user, {self.provider: 3, self.shared_provider: 1})
        by_day = Log.formatted_read_group(self.domain, ["date:day"], ["__count"])
        self.assertEqual([group["__count"] for group in by_day], [4])
        exported = Log.search(self.domain).export_data(
            ["date", "user_id", "partner_id", "access_type", "res_model", "res_id"]
        )
        self.assertEqual(len(exported["datas"]), 4)
        self.assertIn(
            self.env.ref("group_therapy.therapy_access_log_menu"),
            self.env.ref("group_therapy.therapy_access_log_menu")
            .with_user(self.manager)
            ._filter_visible_menus(),
        )

    def test_the_list_filters_every_kind_of_access(self):
        """One filter per kind of access the log records (Searched included)."""
        Log = self.Log.with_user(self.manager)
        arch = Log.get_views([(False, "search")])["views"]["search"]["arch"]
        for access_type, _label in Log._fields["access_type"].selection:
            with self.subTest(access_type=access_type):
                self.assertIn(f"[('access_type', '=', '{access_type}')]", arch)

    def test_nobody_else_reads_the_log(self):
        for user in (self.provider, self.front_desk, self.accountant, self.portal_user):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.Log.with_user(user).search(self.domain)
        menu = self.env.ref("group_therapy.therapy_access_log_menu")
        self.assertFalse(menu.with_user(self.provider)._filter_visible_menus())

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_model")
    def test_nobody_changes_deletes_or_forges_lines(self):
        line = self.lines[0]
        values = line.read(["user_id", "date", "partner_id", "res_id", "detail"])
        forged = {
            "user_id": self.provider.id,
            "partner_id": self.clients[0].id,
            "res_model": "therapy.chart.note",
            "res_id": self.note.id,
            "access_type": "read",
            "date": "2020-01-01 00:00:00",
        }
        for who, line_as in (
            ("superuser", line.sudo()),
            ("administrator", line.with_user(self.manager)),
            ("provider", line.with_user(self.provider)),
        ):
            with self.subTest(user=who, operation="write"), self.assertRaises(UserError):
                line_as.write({"user_id": self.manager.id, "detail": "edited"})
            with self.subTest(user=who, operation="unlink"), self.assertRaises(UserError):
                line_as.unlink()
            with self.subTest(user=who, operation="create"), self.assertRaises(UserError):
                line_as.browse().create(forged)
            with self.subTest(user=who, operation="copy"), self.assertRaises(UserError):
                line_as.copy()
        self.env.invalidate_all()
        self.assertEqual(line.read(["user_id", "date", "partner_id", "res_id", "detail"]), values)
        self.assertEqual(self.Log.search(self.domain), self.lines)
        self.assertFalse(self.Log.search([("date", "<", "2021-01-01")]))


@tagged("post_install", "-at_install")
class TestAccessLogReadOnlyCursor(HttpCase, AccessLogCommon):
    """Over HTTP Odoo serves web_read, search_read and reports on a read-only cursor (a replica
    in production, a read-only transaction in tests): the log is still written, without the
    failed INSERT and the retry on a read/write cursor that Odoo logs as a warning."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # HttpCase keeps its HTTP session in `session`: the charted session is `event` here.
        cls.event = cls.session
        cls.session = None

    def _call_kw(self, model, method, args, kwargs):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs},
        )

    def test_rpc_reads_and_prints_on_a_read_only_cursor_are_logged(self):
        self.authenticate(self.provider.login, self.provider.login)
        with self.assertNoLogs("odoo.http", "WARNING"), self.assertNoLogs("odoo.sql_db", "ERROR"):
            values = self._call_kw(
                "therapy.chart.note", "web_read", [self.note.ids], {"specification": NOTE_FORM}
            )
            rows = self._call_kw(
                "therapy.chart.note",
                "search_read",
                [[("event_id", "=", self.event.id)]],
                {"fields": ["body"]},
            )
            response = self.url_open(
                f"/report/html/group_therapy.therapy_chart_note_report_document/{self.note.id}"
            )
        self.assertIn("distress tolerance", values[0]["body"])
        self.assertEqual(len(rows), 3)
        self.assertEqual(response.status_code, 200)
        self.assertIn("distress tolerance", response.text)
        lines = self._new_lines()
        self.assertLogged(
            lines.filtered(lambda line: line.access_type == "read"),
            self.provider,
            "read",
            [self.note, self.addendum, *self.notes],
        )
        self.assertLogged(
            lines.filtered(lambda line: line.access_type == "print"),
            self.provider,
            "print",
            self.note,
        )
        self.assertTrue(all(line.ip_address for line in lines), "the request's address")
