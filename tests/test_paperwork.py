import shutil
import subprocess
from datetime import date, datetime, timedelta

from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestPaperwork(HttpCase, GroupTherapyCommon):
    """Documents a practice hands out, rendered as real PDFs (wkhtmltopdf) and read back."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.company.write(
            {"name": "Harbor Counseling", "vat": "12-3456789", "therapy_npi": "1245319599"}
        )
        cls.provider.therapy_npi = "1234567893"
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=60)
        cls.client = cls.clients[0]
        cls.client.write({"name": "Jane Doe", "street": "12 Elm Street", "city": "Salem"})
        cls.clients[1].name = "Omar Q. Little"
        cls.client.therapy_diagnosis_ids = cls.env.ref(
            "group_therapy.therapy_diagnosis_f43_10"
        ) | cls.env.ref("group_therapy.therapy_diagnosis_f41_1")
        cls.sessions = cls._make_session(cls.group, days=-14) | cls._make_session(
            cls.group, days=-7
        )
        cls.sessions.action_mark_all_attended()

    def _pdf_text(self, report_xmlid, ids, user, **context):
        """Render the report as `user` through wkhtmltopdf: a one-page-or-more PDF. Return its
        text (pdftotext), or, where wkhtmltopdf draws the report's web fonts as outlines (Debian's
        build does: no text to extract), the text of the same render's HTML."""
        self.authenticate(user.login, user.login)
        report = self.env.ref(report_xmlid).with_user(user).with_context(**context)
        pdf, kind = report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report.report_name, ids
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertIn(b"/Type /Page", pdf)
        if shutil.which("pdftotext"):
            result = subprocess.run(
                ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
            )
            if result.stdout.strip():
                return result.stdout.decode()
        html = report._render_qweb_html(report.report_name, ids)[0].decode()
        return html2plaintext(html)

    def _line(self, session, client):
        return session.therapy_attendance_ids.filtered(lambda line: line.partner_id == client)

    def test_superbill_from_the_client_and_from_the_session(self):
        first_line = self._line(self.sessions[0], self.client)
        first_line.diagnosis_pointers = "A,B"
        invoice = first_line.with_user(self.front_desk).action_invoice()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": 30.0}).action_create_payments()
        values = self.env["report.group_therapy.report_superbill_client"]._get_report_values(
            self.client.ids
        )
        (bill,) = values["superbills"]
        self.assertEqual(bill["total"], 150.0, "two sessions of 90853 at 75.00")
        self.assertEqual(bill["paid"], 30.0)
        self.assertEqual(bill["balance"], 120.0)
        self.assertEqual([row["diagnosis_pointers"] for row in bill["rows"]], ["AB", "A"])
        text = self._pdf_text(
            "group_therapy.therapy_superbill_report_client", self.client.ids, self.front_desk
        )
        for expected in (
            "Superbill",
            "Harbor Counseling",
            "12-3456789",
            "1245319599",  # billing NPI
            "1234567893",  # rendering provider's NPI
            "Jane Doe",
            "12 Elm Street",
            "F43.10",
            "F41.1",
            str(self.sessions[0].therapy_session_date),
            "90853",
            "AB",
            "150.00",
            "30.00",
            "120.00",
        ):
            self.assertIn(expected, text)
        self.assertLess(text.index("F43.10"), text.index("F41.1"), "primary diagnosis first")
        # From the session: one superbill per client who attended.
        text = self._pdf_text(
            "group_therapy.therapy_superbill_report_session", self.sessions[1].ids, self.provider
        )
        self.assertIn("Omar Q. Little", text)
        self.assertIn("Jane Doe", text)
        session_values = self.env[
            "report.group_therapy.report_superbill_session"
        ]._get_report_values(self.sessions[1].ids)
        self.assertEqual(len(session_values["superbills"]), 4, "one per client who attended")
        action = self.client.with_user(self.front_desk).action_print_therapy_superbill()
        self.assertEqual(action["report_name"], "group_therapy.report_superbill_client")

    def test_sign_in_sheet_initials_or_names(self):
        session = self.sessions[1]
        text = self._pdf_text(
            "group_therapy.therapy_sign_in_sheet_report", session.ids, self.front_desk
        )
        self.assertIn("Sign-in sheet", text)
        self.assertIn("J. D.", text)
        self.assertIn("O. Q. L.", text)
        self.assertNotIn("Jane Doe", text, "initials by default: members see each other's sheet")
        self.assertIn("Signature", text)
        self.assertIn(self.provider.name, text)
        self.company.therapy_sign_in_names = "names"
        text = self._pdf_text(
            "group_therapy.therapy_sign_in_sheet_report", session.ids, self.front_desk
        )
        self.assertIn("Jane Doe", text)
        self.assertIn("Omar Q. Little", text)

    def test_client_invoice_reads_as_an_invoice(self):
        session = self.sessions[0]
        self.assertIn("✓", session.display_name, "the calendar marks attendance taken")
        invoice = self._line(session, self.client).with_user(self.front_desk).action_invoice()
        self.assertEqual(invoice.state, "posted")
        self.assertNotIn("✓", invoice.invoice_origin)
        service_day = session.therapy_session_date.strftime("%m/%d/%Y")
        # What the portal serves before Odoo keeps an official PDF: rendered "proforma".
        text = self._pdf_text(
            "account.account_invoices", invoice.ids, self.front_desk, proforma_invoice=True
        )
        self.assertIn("Invoice", text)
        self.assertNotIn("Proforma", text)
        self.assertIn("Date of service", text)
        self.assertIn(service_day, text)
        self.assertNotIn("✓", text)
        # The client's portal page and the invoice it embeds, opened with the invoice's link.
        self.authenticate(None, None)
        for url in (invoice.get_portal_url(), invoice.get_portal_url(report_type="html")):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200)
            self.assertNotIn("Salesperson", response.text)
            self.assertNotIn("Proforma", response.text)
            self.assertNotIn("✓", response.text)
        self.assertIn("Date of service", response.text)
        self.assertIn(service_day, response.text)
        self.assertFalse(invoice.invoice_user_id)
        self.assertEqual(invoice.therapy_provider_id, self.provider)
        self.assertLessEqual(invoice.invoice_date, date.today())
