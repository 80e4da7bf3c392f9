"""Red team over real HTTP (issue 12): the claim files (837P out, 835 in), the wizards that make
them and the charting wizard, Odoo 19's /json/2 API with a user's API key, server actions and
scheduled actions, and the addon's reports, each tried as provider A (runs the group), provider
B (runs another group, not shared), the front desk, an accountant without a Group Therapy role,
a colleague without one, and a client on the portal. README, "Privacy: routes red-teamed"."""

import base64
import json
from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .test_era_835 import Era835Common

REFUSED_LOGGERS = ("odoo.http", "odoo.models", "odoo.addons.base.models.ir_rule")


@tagged("post_install", "-at_install")
class TestPrivacyHttpRoutes(HttpCase, Era835Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.colleague = new_test_user(cls.env, "gt_http_colleague", groups="base.group_user")
        # the portal user is Ann, a client of the group
        cls.portal_user.partner_id = cls.ann
        cls.claim_files = cls.env["therapy.claim"].search([]).export_attachment_id
        # HttpCase keeps its HTTP session in `session`
        cls.event, cls.session = cls.session, None

    def _call(self, model, method, *args, **kwargs):
        """A JSON-RPC call as the web client sends it: the result, or the error's name."""
        try:
            return self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            )
        except JsonRpcException as error:
            return error.args[0] if error.args else str(error)

    def _as(self, user):
        self.authenticate(user.login, user.login)

    def _charting(self):
        """Provider A's charting page, a client's own note and the group notes typed in it."""
        session = self._make_session(self.group, days=-2)
        session.action_mark_all_attended()
        action = session.with_user(self.provider).action_open_charting()
        wizard = self.env[action["res_model"]].with_user(self.provider).browse(action["res_id"])
        wizard.write(
            {
                "group_note": "<p>Practised grounding.</p>",
                "line_ids": [(1, wizard.line_ids[0].id, {"note": "<p>Relapsed last week.</p>"})],
            }
        )
        return wizard

    def test_a_wizard_is_read_by_the_user_who_opened_it(self):
        """Odoo gives transient records no rule of their own: provider B read provider A's
        charting lines (each client's name and the note typed for them, before any note
        exists) by id and listed every one with search_read; the accountant read the claim
        lines the front desk exported (diagnoses, and the clients left out, named)."""
        wizard = self._charting()
        export = (
            self.env["therapy.claim.export.wizard"]
            .with_user(self.front_desk)
            .create(
                {
                    "date_from": self.today - timedelta(days=3),
                    "date_to": self.today,
                    "file_format": "csv",
                }
            )
        )
        export.action_export()
        self.assertIn(b"F41.1", base64.b64decode(export.data))
        line = wizard.line_ids[0]
        for user in (self.other_provider, self.shared_provider, self.accountant):
            self._as(user)
            with self.subTest(user=user.login), mute_logger(*REFUSED_LOGGERS):
                for model, records, names in (
                    ("therapy.charting.wizard", wizard, ["group_note"]),
                    ("therapy.charting.wizard.line", line, ["partner_id", "note"]),
                    ("therapy.claim.export.wizard", export, ["data", "left_out"]),
                ):
                    self.assertEqual(
                        self._call(model, "read", records.ids, names),
                        "odoo.exceptions.AccessError",
                    )
                    listed = self._call(model, "search_read", [], ["id"])
                    if listed != "odoo.exceptions.AccessError":  # no ACL at all
                        self.assertNotIn(records.id, [row["id"] for row in listed])
                response = self.url_open(
                    f"/web/content?model=therapy.claim.export.wizard&id={export.id}"
                    "&field=data&download=true"
                )
                self.assertNotEqual(response.status_code, 200)
                self.assertNotIn(b"F41.1", response.content)
        # their own, as before
        self._as(self.provider)
        self.assertEqual(
            self._call("therapy.charting.wizard.line", "read", line.ids, ["note"])[0]["note"],
            "<p>Relapsed last week.</p>",
        )
        self._as(self.front_desk)
        response = self.url_open(
            f"/web/content?model=therapy.claim.export.wizard&id={export.id}&field=data"
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"F41.1", response.content)

    def test_a_claim_file_is_read_only_by_its_download(self):
        """The 837P file kept on the claims is downloaded with a check (whoever does not serve
        every client in it is refused) and a log line per claim. Odoo kept the text of a
        text/plain attachment in index_content, read and searched by whoever reads the
        attachment: the accountant (who reads every claim) and provider A read the whole file
        there, diagnoses and birth dates included, though its download was refused to the
        accountant. copy_data() over RPC answered with the file itself, and a copy or the
        file moved off its claim (res_model) downloaded without the check or the log."""
        blue_file = self.claim_files.filtered(lambda file: "94036" in file.name)
        self.assertEqual(blue_file.sudo().mimetype, "application/edi-x12")
        Log = self.env["therapy.access.log"]
        for user in (self.provider, self.front_desk, self.accountant):
            self._as(user)
            with self.subTest(user=user.login), mute_logger(*REFUSED_LOGGERS):
                rows = self._call("ir.attachment", "read", blue_file.ids, ["index_content"])
                self.assertFalse(rows[0]["index_content"])
                self.assertFalse(
                    self._call("ir.attachment", "search", [("index_content", "ilike", "CLM*")])
                )
                for method, args in (
                    ("copy_data", [blue_file.ids]),
                    ("copy", [blue_file.ids, {"res_model": False, "res_id": False}]),
                    ("write", [blue_file.ids, {"res_model": False, "res_id": False}]),
                    ("write", [blue_file.ids, {"raw": "ISA*forged"}]),
                ):
                    self.assertIn(
                        self._call("ir.attachment", method, *args),
                        ("odoo.exceptions.UserError", "odoo.exceptions.AccessError"),
                        f"{method} refused",
                    )
        self.assertEqual(blue_file.sudo().res_model, "therapy.claim")
        self.assertIn(b"CLM*", blue_file.sudo().raw)
        # the download itself, as before: the front desk, with its log lines
        last_log = Log.search([], limit=1, order="id desc").id or 0
        self._as(self.front_desk)
        response = self.url_open(f"/web/content/{blue_file.id}?download=true")
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"CLM*", response.content)
        self.assertTrue(Log.search([("id", ">", last_log), ("access_type", "=", "export")]))
        self._as(self.accountant)
        with mute_logger(*REFUSED_LOGGERS):
            response = self.url_open(f"/web/content/{blue_file.id}?download=true")
        self.assertNotEqual(response.status_code, 200)

    def test_claim_files_stored_before_lose_their_text_index(self):
        """A file kept as text/plain before (its index held the file) is typed as X12 and its
        index emptied at the update."""
        blue_file = self.claim_files.sudo()[:1]
        blue_file.write({"mimetype": "text/plain", "index_content": "CLM*GTC0000001"})
        self.env["ir.attachment"]._therapy_unindex_x12_files()
        self.assertEqual(blue_file.mimetype, "application/edi-x12")
        self.assertFalse(blue_file.index_content)
        self.assertIn(b"CLM*", blue_file.raw)

    def _json2(self, user, model, method, **body):
        """POST /json/2/<model>/<method> with the user's API key, as an integration calls it."""
        key = (
            self.env["res.users.apikeys"]
            .with_user(user)
            ._generate("rpc", "red team", datetime.now() + timedelta(days=1))
        )
        return self.url_open(
            f"/json/2/{model}/{method}",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )

    def test_json_2_with_an_api_key_keeps_the_same_rules(self):
        """Odoo 19's /json/2 runs the public methods JSON-RPC runs, as the key's user: the
        record rules, the private methods, the signature's password, the access log and the
        server-owned fields hold there as they do over JSON-RPC."""
        wizard = self._charting()
        wizard.action_review()
        notes = wizard.note_ids
        self.assertTrue(notes)
        with mute_logger(*REFUSED_LOGGERS):
            response = self._json2(
                self.other_provider, "therapy.chart.note", "search_read", domain=[], fields=["body"]
            )
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.json(), [])
            response = self._json2(
                self.other_provider, "therapy.chart.note", "read", ids=notes.ids, fields=["body"]
            )
            self.assertEqual(response.status_code, 403)
            self.assertNotIn("grounding", response.text)
            # the note's own provider reads it, logged as over JSON-RPC (/json/2 serves read on
            # a read-only cursor: the log line is written all the same)
            Log = self.env["therapy.access.log"]
            last_log = Log.search([], limit=1, order="id desc").id or 0
            response = self._json2(
                self.provider, "therapy.chart.note", "read", ids=notes[:1].ids, fields=["body"]
            )
            self.assertEqual(response.status_code, 200)
            self.assertIn("grounding", response.json()[0]["body"])
            logged = Log.search([("id", ">", last_log)])
            self.assertEqual(
                (logged.user_id, logged.res_id, logged.access_type),
                (self.provider, notes[0].id, "read"),
            )
            # the signing itself is private; the Sign button asks for the password again
            response = self._json2(
                self.provider, "therapy.charting.wizard", "_sign", ids=wizard.ids
            )
            self.assertEqual(response.status_code, 403)
            response = self._json2(
                self.provider, "therapy.charting.wizard", "action_sign", ids=wizard.ids
            )
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.json()["res_model"], "res.users.identitycheck")
            self.assertEqual(set(notes.mapped("state")), {"draft"})
            # the access log is append-only, for every role
            for user in (self.provider, self.front_desk, self.manager):
                response = self._json2(
                    user,
                    "therapy.access.log",
                    "create",
                    vals_list=[{"res_model": "therapy.chart.note", "res_id": notes[0].id}],
                )
                self.assertNotEqual(response.status_code, 200)
            # a claim is the server's
            claim = self.ann_claim
            response = self._json2(
                self.front_desk, "therapy.claim", "write", ids=claim.ids, vals={"state": "paid"}
            )
            self.assertNotEqual(response.status_code, 200)
        self.assertEqual(claim.state, "submitted")

    def test_routes_with_no_finding_stay_refused(self):
        """What the red team tried with no finding, kept: the claim and remittance files, the
        reports with another's ids, running a server action on another's session, creating a
        server action or running a scheduled action."""
        self._import(self._blue_shield_file())
        era_file = self.env["therapy.era"].search([]).attachment_id
        self.assertTrue(era_file)
        blue_file = self.claim_files.filtered(lambda file: "94036" in file.name)
        note = self.env["therapy.chart.note"].search([("event_id", "=", self.event.id)], limit=1)
        invoice_action = self.env.ref("group_therapy.calendar_event_action_invoice_attendance")
        verify_action = self.env.ref("group_therapy.therapy_chart_note_chain_action_verify")
        consent = (
            self.env["therapy.part2.consent"]
            .with_user(self.front_desk)
            .create(
                {
                    "partner_id": self.ann.id,
                    "recipient_id": self.blue_shield.id,
                    "purpose": "payment",
                    "information": "Diagnoses and services billed",
                    "date_signed": "2026-01-05",
                    "expiry_event": "Discharge from the program",
                    "signed_form": base64.b64encode(b"%PDF-1.4 signed consent"),
                    "signed_form_name": "consent.pdf",
                }
            )
        )
        calendar_model = self.env.ref("calendar.model_calendar_event")
        cron = self.env["ir.cron"].search([], limit=1)
        reports = {
            "superbill": f"group_therapy.report_superbill_session/{self.event.id}",
            "note": f"group_therapy.therapy_chart_note_report_document/{note.id}",
            "sign_in": f"group_therapy.report_sign_in_sheet/{self.event.id}",
            "integrity": f"group_therapy.report_chart_note_integrity/{self.company.id}",
        }
        # (user, files they read, reports they print)
        cases = (
            (self.other_provider, set(), set()),
            (self.accountant, {"era"}, set()),
            (self.colleague, set(), set()),
            (self.portal_user, set(), set()),
            (self.front_desk, {"837", "era"}, {"superbill", "sign_in"}),
            (self.provider, {"837"}, {"note", "sign_in"}),
        )
        for user, files, printed in cases:
            self._as(user)
            with self.subTest(user=user.login), mute_logger(*REFUSED_LOGGERS):
                for name, attachment in (("837", blue_file), ("era", era_file)):
                    response = self.url_open(f"/web/content/{attachment.id}?download=true")
                    self.assertEqual(response.status_code == 200, name in files, name)
                response = self.url_open(
                    f"/web/content?model=therapy.part2.consent&id={consent.id}&field=signed_form"
                )
                self.assertEqual(
                    response.status_code == 200, user in (self.front_desk, self.provider)
                )
                self.assertEqual(
                    self._call_route("/web/action/run", action_id=verify_action.id),
                    "odoo.exceptions.AccessError",
                )
                for name, path in reports.items():
                    response = self.url_open(f"/report/html/{path}")
                    self.assertEqual(response.status_code == 200, name in printed, name)
                if user != self.front_desk:
                    self.assertEqual(
                        self._call_route(
                            "/web/action/run",
                            action_id=invoice_action.id,
                            context={
                                "active_model": "calendar.event",
                                "active_id": self.event.id,
                                "active_ids": self.event.ids,
                            },
                        ),
                        "odoo.exceptions.AccessError",
                    )
                self.assertEqual(
                    self._call(
                        "ir.actions.server",
                        "create",
                        [{"name": "x", "model_id": calendar_model.id, "code": "action = 1"}],
                    ),
                    "odoo.exceptions.AccessError",
                )
                self.assertEqual(
                    self._call("ir.cron", "method_direct_trigger", cron.ids),
                    "odoo.exceptions.AccessError",
                )
            # providers and portal clients have no access to the 835 import at all
            if user in (self.provider, self.other_provider, self.colleague, self.portal_user):
                with mute_logger(*REFUSED_LOGGERS):
                    self.assertEqual(
                        self._call("therapy.era.import.wizard", "create", [{"data": "SVNB"}]),
                        "odoo.exceptions.AccessError",
                    )

    def _call_route(self, route, **params):
        try:
            return self.make_jsonrpc_request(route, params)
        except JsonRpcException as error:
            return error.args[0] if error.args else str(error)

    def test_exporting_a_claim_file_is_downloading_it(self):
        """Odoo's Export (export_data, /web/export) of an attachment's content, or of the claims
        with their Submitted File's content, read the file without the download's check or
        log: the accountant, refused the download, exported the whole 837P."""
        allow_export = self.env.ref("base.group_allow_export")
        (self.accountant | self.front_desk).group_ids = [(4, allow_export.id)]
        blue_file = self.claim_files.filtered(lambda file: "94036" in file.name)
        claims = self.env["therapy.claim"].search([("export_attachment_id", "=", blue_file.id)])
        with mute_logger(*REFUSED_LOGGERS):
            for records, names in (
                (blue_file, ["datas"]),
                (blue_file, ["raw"]),
                (claims, ["name", "export_attachment_id/datas"]),
            ):
                with self.subTest(model=records._name, names=names):
                    with self.assertRaises(AccessError):
                        records.with_user(self.accountant).export_data(names)
        Log = self.env["therapy.access.log"]
        last_log = Log.search([], limit=1, order="id desc").id or 0
        rows = blue_file.with_user(self.front_desk).export_data(["raw"])["datas"]
        self.assertIn(b"CLM*", rows[0][0])
        logged = Log.search([("id", ">", last_log)])
        self.assertEqual(set(logged.mapped("res_id")), set(claims.ids))
        self.assertEqual(set(logged.mapped("access_type")), {"export"})
