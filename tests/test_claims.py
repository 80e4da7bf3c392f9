import base64
import csv
import io
import json
from datetime import datetime, timedelta

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import GroupTherapyCommon
from .test_fees_and_claims import sign_session_notes


@tagged("post_install", "-at_install")
class TestClaims(GroupTherapyCommon):
    """Claim-ready lines, the superbill and the clearinghouse export: services, never fees."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.provider.therapy_npi = "1234567893"
        cls.clients[0].therapy_diagnosis_ids = cls.env.ref(
            "group_therapy.therapy_diagnosis_f41_1"
        ) | cls.env.ref("group_therapy.therapy_diagnosis_f32_1")
        cls.session = cls._make_session(cls.group, days=-1)
        cls.session.action_mark_all_attended()
        lines = {line.partner_id: line for line in cls.session.therapy_attendance_ids}
        lines[cls.clients[0]].write(
            {
                "addon_product_ids": [(6, 0, cls.cpt_90785.ids)],
                "place_of_service": "10",
                "modifiers": "95",
            }
        )
        lines[cls.clients[1]].write({"state": "absent", "product_id": cls.no_show.id})
        cls.lines = cls.session.therapy_attendance_ids
        sign_session_notes(cls.session, cls.provider)  # claims are for documented services

    def test_claim_lines_hold_box_24_and_never_fees(self):
        rows = self._claim_rows(self.lines)
        self.assertEqual(len(rows), 4, "three services plus one add-on; the no-show is no claim")
        self.assertNotIn(self.clients[1].name, {row["client"] for row in rows})
        first = [row for row in rows if row["client"] == self.clients[0].name]
        self.assertEqual([row["cpt"] for row in first], ["90853", "90785"])
        self.assertEqual(first[0]["place_of_service"], "10")
        self.assertEqual(first[0]["modifiers"], "95")
        self.assertEqual(first[0]["units"], 1)
        self.assertEqual(first[0]["diagnoses"], "F41.1,F32.1", "primary first, as entered")
        self.assertEqual(first[0]["rendering_npi"], "1234567893")
        self.assertEqual(first[0]["charge"], self.cpt_90853.lst_price)

    def test_export_csv_and_json(self):
        Wizard = self.env["therapy.claim.export.wizard"].with_user(self.front_desk)
        today = datetime.now().date()
        wizard = Wizard.create(
            {"date_from": today - timedelta(days=7), "date_to": today, "file_format": "csv"}
        )
        wizard.action_export()
        rows = list(csv.DictReader(io.StringIO(base64.b64decode(wizard.data).decode())))
        self.assertEqual(len(rows), 4)
        self.assertEqual(rows[0]["cpt"], "90853")
        self.assertTrue(wizard.filename.endswith(".csv"))
        wizard.file_format = "json"
        wizard.action_export()
        payload = json.loads(base64.b64decode(wizard.data))
        self.assertEqual(len(payload["claim_lines"]), 4)
        self.assertFalse(
            [line for line in payload["claim_lines"] if line["client"] == self.clients[1].name]
        )
        with self.assertRefused(UserError, "The period ends before it starts"):
            Wizard.create(
                {"date_from": today, "date_to": today - timedelta(days=1)}
            ).action_export()
        with self.assertRefused(UserError, "No service to claim") as catcher:
            Wizard.create(
                {"date_from": today - timedelta(days=90), "date_to": today - timedelta(days=60)}
            ).action_export()
        self.assertIn("choose another period", str(catcher.exception))

    def test_superbill_per_client(self):
        report = self.env.ref("group_therapy.therapy_superbill_report")
        self.assertIn("superbill", report.report_name)
        html = (
            report.with_user(self.front_desk)
            ._render_qweb_html(report.report_name, self.lines.ids)[0]
            .decode()
        )
        self.assertEqual(html.count("<h2>Superbill</h2>"), 3, "one per client with services")
        self.assertIn("F41.1", html)
        self.assertIn("1234567893", html)
        self.assertNotIn(self.clients[1].name, html, "a no-show fee is not on a superbill")
        self.assertNotIn(self.no_show.name, html)

    def test_reference_data_refusals(self):
        with self.assertRefused(ValidationError, "an NPI has 10 digits"):
            self.provider.therapy_npi = "12345"
        with self.assertRefused(ValidationError, "is not an ICD-10-CM code"):
            self.env["therapy.diagnosis"].with_user(self.provider).create(
                {"code": "anxiety", "name": "Anxiety"}
            )
