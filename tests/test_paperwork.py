import re
from datetime import date, datetime, timedelta
from unittest.mock import patch

from odoo import fields
from odoo.addons.base.models.ir_actions_report import _wkhtml
from odoo.tests import HttpCase, tagged

from .common import GroupTherapyCommon, pdf_text


@tagged("post_install", "-at_install")
class TestPaperwork(HttpCase, GroupTherapyCommon):
    """Documents a practice hands out, rendered as real PDFs (wkhtmltopdf) and read back."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.company.write(
            {
                "name": "Harbor Counseling",
                "street": "1 Harbor Way",
                "city": "Gloucester",
                "phone": "+1 978-555-0142",
                "vat": "12-3456789",
                "therapy_npi": "1245319599",
            }
        )
        cls.provider.write({"therapy_npi": "1234567893", "therapy_credentials": "LCSW"})
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=60)
        cls.client = cls.clients[0]
        cls.client.write(
            {
                "name": "Jane Doe",
                "street": "12 Elm Street",
                "city": "Salem",
                "therapy_birthdate": date(1984, 3, 9),
            }
        )
        cls.clients[1].name = "Omar Q. Little"
        cls.client.therapy_diagnosis_ids = cls.env.ref(
            "group_therapy.therapy_diagnosis_f43_10"
        ) | cls.env.ref("group_therapy.therapy_diagnosis_f41_1")
        cls.sessions = cls._make_session(cls.group, days=-14) | cls._make_session(
            cls.group, days=-7
        )
        cls.sessions.action_mark_all_attended()

    def _pdf_text(self, report_xmlid, ids, user, **context):
        """Render the report as `user` through wkhtmltopdf and return the PDF's own text."""
        self.authenticate(user.login, user.login)
        report = self.env.ref(report_xmlid).with_user(user).with_context(**context)
        pdf, kind = report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report.report_name, ids
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        return pdf_text(pdf)

    def _line(self, session, client):
        return session.therapy_attendance_ids.filtered(lambda line: line.partner_id == client)

    def assertRow(self, cells, text):
        """The cells appear in this order on one row of the PDF's text (columns apart)."""
        pattern = r"[ \t]+".join(re.escape(cell) for cell in cells)
        self.assertRegex(text, pattern, f"a row reading {' | '.join(cells)}")

    def _sign_notes(self, session):
        """The provider signs the session's notes; returns them."""
        action = session.with_user(self.provider).action_open_charting()
        wizard = self.env[action["res_model"]].with_user(self.provider).browse(action["res_id"])
        wizard.group_note = "<p>We practised distress tolerance skills (TIPP).</p>"
        wizard._sign()
        return session.therapy_chart_note_ids

    def test_chart_note_on_the_practice_letterhead(self):
        session = self.sessions[1]
        notes = self._sign_notes(session)
        note = notes.filtered(lambda note: note.partner_id == self.client)
        self.assertEqual(note.state, "locked")
        report_class = type(self.env["ir.actions.report"])
        with patch.object(
            report_class,
            "_run_wkhtmltopdf",
            autospec=True,
            side_effect=report_class._run_wkhtmltopdf,
        ) as run_wkhtmltopdf:
            # The session's notes at once: several documents, which Debian's wkhtmltopdf
            # converts one per run (ir.actions.report._run_wkhtmltopdf).
            text = self._pdf_text(
                "group_therapy.therapy_chart_note_report", notes.ids, self.provider
            )
        self.assertEqual(run_wkhtmltopdf.call_count, 1)
        self.assertEqual(len(run_wkhtmltopdf.call_args.args[1]), 4, "one document per note")
        for client in notes.partner_id:
            self.assertIn(f"Chart note: {client.name}", text)
        # The letterhead is Odoo's external layout header, handed to wkhtmltopdf as a page
        # header, which Debian's wkhtmltopdf (Qt without wkhtmltopdf's patches) drops: the
        # addon then prints it in the body of each note. Either way it is on the paper.
        header = run_wkhtmltopdf.call_args.kwargs["header"]
        self.assertIn("Harbor Counseling", header)
        self.assertIn("1 Harbor Way", header)
        for expected in ("Harbor Counseling", "1 Harbor Way", "Gloucester", "978-555-0142"):
            self.assertGreaterEqual(text.count(expected), len(notes), f"{expected} on every note")
        for expected in (
            "Chart note: Jane Doe",
            f"Electronically signed by {self.provider.name}, LCSW",
            "We practised distress tolerance skills (TIPP).",
            note.content_hash,
        ):
            self.assertIn(expected, text)
        # The session facts, as signed.
        self.assertRow(["Client", "Jane Doe"], text)
        self.assertRow(["Group", self.group.display_name], text)
        self.assertRow(["Provider", self.provider.name], text)
        self.assertRow(["Clients attending", "4"], text)
        self.assertRow(["Service", "90853"], text)
        self.assertRow(["Place of service", "11"], text)
        self.assertRegex(text, r"Duration\s+\d+ minutes")

    def test_letterhead_in_the_body_only_where_the_header_is_lost(self):
        notes = self._sign_notes(self.sessions[0])
        Report = self.env["ir.actions.report"].with_user(self.provider)

        def render(report_type, patched_qt):
            wkhtml = _wkhtml()._replace(is_patched_qt=patched_qt)
            with patch(
                "odoo.addons.group_therapy.models.ir_actions_report._wkhtml",
                return_value=wkhtml,
            ):
                html, _kind = Report._render_qweb_html(
                    "group_therapy.therapy_chart_note_report",
                    notes.ids,
                    data={"report_type": report_type},
                )
            return html.decode()

        html = render("pdf", patched_qt=False)
        self.assertEqual(html.count("o_therapy_letterhead"), len(notes))
        self.assertIn("1 Harbor Way", html)
        # wkhtmltopdf with patched Qt prints Odoo's header; the HTML view shows it.
        for report_type, patched_qt in (("pdf", True), ("html", False)):
            html = render(report_type, patched_qt)
            self.assertNotIn("o_therapy_letterhead", html)
            self.assertIn("Harbor Counseling", html, "the external layout's header")

    def test_superbill_from_the_client_and_from_the_session(self):
        first_line = self._line(self.sessions[0], self.client)
        first_line.write({"diagnosis_pointers": "A,B", "modifiers": "HQ"})
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
            "1 Harbor Way",
            "TIN: 12-3456789",
            "NPI: 1245319599",  # the practice, billing provider
            "Jane Doe",
            "Date of birth: 03/09/1984",
            "12 Elm Street",
            "F43.10",
            "F41.1",
        ):
            self.assertIn(expected, text)
        # Per line: date, POS, CPT, modifiers, pointers, units, charge, rendering provider's NPI.
        for session, modifiers, pointers in (
            (self.sessions[0], ["HQ"], "AB"),
            (self.sessions[1], [], "A"),
        ):
            day = session.therapy_session_date.strftime("%m/%d/%Y")
            rendering = f"{self.provider.name} (1234567893)"
            self.assertRow(
                [day, "11", "90853", *modifiers, pointers, "1", "$ 75.00", rendering], text
            )
        self.assertRow(["Total charges", "$ 150.00"], text)
        self.assertRow(["Amount paid", "$ 30.00"], text)
        self.assertRow(["Balance", "$ 120.00"], text)
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

    def test_superbill_dates_and_amounts_in_the_clients_language(self):
        """Each client's superbill reads like their invoices: in the client's language."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.client.lang = "fr_FR"
        omar = self.clients[1]
        self.assertEqual(omar.lang, "en_US")
        today = fields.Date.context_today(self.client.with_user(self.front_desk))
        first_day, last_day = self.sessions.mapped("therapy_session_date")
        text = self._pdf_text(
            "group_therapy.therapy_superbill_report_client", self.client.ids, self.front_desk
        )
        self.assertIn("Date of birth: 09/03/1984", text)
        self.assertIn(f"Statement date: {today.strftime('%d/%m/%Y')}", text)
        self.assertIn(f"services from {first_day.strftime('%d/%m/%Y')}", text)
        for day in (first_day, last_day):
            self.assertRow([day.strftime("%d/%m/%Y"), "11", "90853"], text)
        self.assertRow(["Total charges", "$ 150,00"], text)
        self.assertNotRegex(text, r"\d{4}-\d{2}-\d{2}", "no ISO date on paper")
        # A session's superbills: Jane's page in French, Omar's in English.
        session = self.sessions[1]
        text = self._pdf_text(
            "group_therapy.therapy_superbill_report_session", session.ids, self.front_desk
        )
        pages = text.split("\f")
        jane_page = next(page for page in pages if "Jane Doe" in page)
        omar_page = next(page for page in pages if "Omar Q. Little" in page)
        self.assertRow([last_day.strftime("%d/%m/%Y"), "11", "90853"], jane_page)
        self.assertRow(["Total charges", "$ 75,00"], jane_page)
        self.assertIn(f"Statement date: {today.strftime('%m/%d/%Y')}", omar_page)
        self.assertRow([last_day.strftime("%m/%d/%Y"), "11", "90853"], omar_page)
        self.assertRow(["Total charges", "$ 75.00"], omar_page)

    def test_sign_in_sheet_initials_or_names(self):
        session = self.sessions[1]
        text = self._pdf_text(
            "group_therapy.therapy_sign_in_sheet_report", session.ids, self.front_desk
        )
        self.assertIn("Sign-in sheet", text)
        self.assertIn("Harbor Counseling", text)
        self.assertIn("1 Harbor Way", text)
        self.assertRow(["Client (initials)", "Time in", "Signature"], text)
        self.assertIn("J. D.", text)
        self.assertIn("O. Q. L.", text)
        self.assertNotIn("Jane Doe", text, "initials by default: members see each other's sheet")
        self.assertIn(f"Provider: {self.provider.name}", text)
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
        # The invoice as printed, and what the portal serves before Odoo keeps an official PDF
        # (rendered "proforma").
        for proforma in (False, True):
            text = self._pdf_text(
                "account.account_invoices", invoice.ids, self.front_desk, proforma_invoice=proforma
            )
            self.assertIn(f"Invoice {invoice.name}", text)
            self.assertNotIn("Proforma", text)
            self.assertNotIn("Salesperson", text)
            self.assertNotIn("✓", text)
            self.assertIn("Date of service", text)
            self.assertIn(service_day, text)
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
