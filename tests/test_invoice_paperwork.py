from odoo.tests import HttpCase, tagged
from odoo.tools import format_date

from .common import pdf_text
from .test_insurance_claims import ClaimsCommon


class InvoicePaperworkCommon(ClaimsCommon):
    """One session: Ann is insured with a copay, Bob insured without, Cara pays herself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group_session = cls._invoice(cls._attended_session(days=-2))
        cls.ann_claim = cls._claim(cls.group_session, cls.ann)
        cls.cara_line = cls.group_session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.cara
        )
        # The payer's invoice, the copay invoice Ann receives, Cara's own invoice.
        cls.invoices = (
            cls.ann_claim.invoice_id | cls.ann_claim.copay_invoice_id | cls.cara_line.invoice_id
        )
        cls.label = "Adult Anxiety Group, session of " + format_date(
            cls.env, cls.group_session.therapy_session_date
        )


@tagged("post_install", "-at_install")
class TestInvoiceReadsAsInvoice(InvoicePaperworkCommon):
    def test_source_is_the_group_and_the_date_of_service(self):
        self.assertIn("✓", self.group_session.display_name, "the calendar marks attendance taken")
        self.assertEqual(len(self.invoices), 3)
        for invoice in self.invoices:
            self.assertEqual(invoice.state, "posted")
            self.assertEqual(invoice.invoice_origin, self.label)
            self.assertFalse(invoice.invoice_user_id, "no salesperson on a therapy invoice")
            self.assertEqual(invoice.therapy_provider_id, self.provider)


@tagged("post_install", "-at_install")
class TestPortalInvoice(HttpCase, InvoicePaperworkCommon):
    def test_copay_invoice_on_the_portal_and_as_pdf(self):
        invoice = self.ann_claim.copay_invoice_id
        service_day = format_date(self.env, self.group_session.therapy_session_date)
        self.authenticate(None, None)
        for url in (
            invoice.get_portal_url(),
            invoice.get_portal_url(report_type="html"),
        ):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200)
            self.assertNotIn("Salesperson", response.text)
            self.assertNotIn("Proforma", response.text)
            self.assertNotIn("✓", response.text)
            self.assertNotIn("Bob Stone", response.text, "no other member")
        self.assertIn("Date of service", response.text)
        self.assertIn(service_day, response.text)


@tagged("post_install", "-at_install")
class TestInvoicePdf(HttpCase, InvoicePaperworkCommon):
    def test_invoices_as_pdf(self):
        """The invoice as printed, and the PDF the portal serves before Odoo keeps an official
        one (rendered proforma): the PDF's own text."""
        self.authenticate(self.front_desk.login, self.front_desk.login)
        report = (
            self.env.ref("account.account_invoices")
            .with_user(self.front_desk)
            .with_context(force_report_rendering=True)
        )
        service_day = format_date(self.env, self.group_session.therapy_session_date)
        for proforma in (False, True):
            for invoice in self.invoices:
                pdf, kind = report.with_context(proforma_invoice=proforma)._render_qweb_pdf(
                    report.report_name, invoice.ids
                )
                self.assertEqual(kind, "pdf")
                text = pdf_text(pdf)
                self.assertIn(invoice.name, text)
                self.assertNotIn("Proforma", text, "a posted invoice is an invoice")
                self.assertNotIn("Salesperson", text)
                self.assertNotIn("✓", text)
                self.assertIn("Date of service", text)
                self.assertIn(service_day, text)
