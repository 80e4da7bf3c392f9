import base64
import csv
import io
from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import format_datetime, html2plaintext
from odoo.tools.safe_eval import safe_eval, time

from .common import GroupTherapyCommon
from .test_fees_and_claims import sign_session_notes

# 19:00 in Los Angeles on 15 June 2026 (PDT, UTC-7) is already 16 June in UTC.
EVENING_START_UTC = datetime(2026, 6, 16, 2, 0)
LOCAL_DAY = date(2026, 6, 15)
UTC_DAY = date(2026, 6, 16)


@tagged("post_install", "-at_install")
class TestSessionDate(GroupTherapyCommon):
    """One session day everywhere: the practice's local day, not UTC's nor the user's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.provider.tz = "America/Los_Angeles"
        cls.group.member_ids.date_start = date(2026, 5, 1)
        cls.session = cls._make_evening_session()
        cls.line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.clients[0]
        )

    @classmethod
    def _make_evening_session(cls, start=EVENING_START_UTC):
        return cls.env["calendar.event"].create(
            {
                "therapy_group_id": cls.group.id,
                "start": start,
                "stop": start.replace(hour=start.hour + 1),
                "user_id": cls.provider.id,
            }
        )

    def test_evening_session_is_the_local_day(self):
        self.assertEqual(self.session.therapy_session_date, LOCAL_DAY)
        self.assertEqual(self.line.session_date, LOCAL_DAY)
        self.assertEqual(
            self.env["therapy.attendance"].search_count(
                [("id", "=", self.line.id), ("session_date", "=", LOCAL_DAY)]
            ),
            1,
            "stored, so it can be searched",
        )

    def test_company_time_zone_when_the_organizer_has_none_then_utc(self):
        self.provider.tz = False
        self.company.partner_id.tz = "America/Los_Angeles"
        self.assertEqual(self.session.therapy_session_date, LOCAL_DAY)
        self.company.partner_id.tz = False
        self.assertEqual(self.session.therapy_session_date, UTC_DAY)
        self.provider.tz = "America/New_York"  # 22:00 in New York: still the 15th
        self.assertEqual(self.session.therapy_session_date, LOCAL_DAY)

    def test_members_on_the_local_day(self):
        joins_next_day, left_next_day = self.clients[4:6]
        self.env["therapy.group.member"].create(
            [
                {"group_id": self.group.id, "partner_id": joins_next_day.id, "date_start": UTC_DAY},
                {
                    "group_id": self.group.id,
                    "partner_id": left_next_day.id,
                    "date_start": date(2026, 5, 1),
                    "date_end": UTC_DAY,
                },
            ]
        )
        evening_15 = self._make_evening_session()
        evening_22 = self._make_evening_session(datetime(2026, 6, 23, 2, 0))
        self.assertEqual(evening_22.therapy_session_date, date(2026, 6, 22))
        clients_15 = evening_15.therapy_attendance_ids.partner_id
        clients_22 = evening_22.therapy_attendance_ids.partner_id
        self.assertIn(left_next_day, clients_15, "left on the 16th: still a member on the 15th")
        self.assertNotIn(joins_next_day, clients_15, "joins on the 16th: not yet on the 15th")
        self.assertNotIn(left_next_day, clients_22)
        self.assertIn(joins_next_day, clients_22)
        Member = self.env["therapy.group.member"]
        on_day = Member.search(
            [("group_id", "=", self.group.id), *Member._domain_member_on(LOCAL_DAY)]
        )
        self.assertIn(left_next_day, on_day.partner_id)
        self.assertNotIn(joins_next_day, on_day.partner_id)
        self.assertEqual(
            on_day, self.group.member_ids.filtered(lambda member: member._is_member_on(LOCAL_DAY))
        )

    def test_invoice_and_price_dated_on_the_local_day(self):
        # A price that starts on the UTC day must not apply to the session of the local day.
        pricelist = self.env["product.pricelist"].create(
            {
                "name": "Sliding scale from the 16th",
                "item_ids": [
                    (
                        0,
                        0,
                        {
                            "applied_on": "0_product_variant",
                            "product_id": self.cpt_90853.id,
                            "compute_price": "fixed",
                            "fixed_price": 1.0,
                            "date_start": datetime(2026, 6, 16, 0, 0),
                        },
                    )
                ],
            }
        )
        self.clients[0].property_product_pricelist = pricelist
        self.line.with_user(self.front_desk).write(
            {"state": "attended", "product_id": self.cpt_90853.id}
        )
        invoice = self.line.with_user(self.front_desk).action_invoice()
        self.assertEqual(invoice.invoice_date, LOCAL_DAY)
        self.assertGreaterEqual(invoice.invoice_date_due, invoice.invoice_date)
        self.assertEqual(invoice.therapy_session_date, LOCAL_DAY)
        self.assertEqual(invoice.invoice_line_ids.price_unit, self.cpt_90853.lst_price)
        self.assertIn("06/15/2026", invoice.invoice_line_ids.name)
        # The session's group and provider are stored on the invoice, for accountants' search.
        self.assertEqual(invoice.therapy_group_id, self.group)
        self.assertEqual(invoice.therapy_provider_id, self.provider)
        self.assertEqual(
            self.env["account.move"].search([("therapy_provider_id", "=", self.provider.id)]),
            invoice,
        )

    @freeze_time("2026-03-10 12:00:00")
    def test_due_date_never_before_the_invoice_date(self):
        # The practice is a day ahead of the desk: the date of service is "tomorrow" for it.
        self.provider.tz = "Pacific/Kiritimati"
        self.front_desk.tz = "Pacific/Honolulu"
        self.group.member_ids.date_start = date(2026, 3, 1)
        session = self._make_evening_session(datetime(2026, 3, 10, 11, 0))
        self.assertEqual(session.therapy_session_date, date(2026, 3, 11))
        line = session.therapy_attendance_ids[:1]
        line.write({"state": "absent", "product_id": self.no_show.id})
        invoice = line.with_user(self.front_desk).with_context(tz="Pacific/Honolulu")
        invoice = invoice.action_invoice()
        self.assertEqual(invoice.invoice_date, date(2026, 3, 11))
        self.assertEqual(invoice.invoice_date_due, date(2026, 3, 11))

    @freeze_time("2026-03-10 12:00:00")
    def test_insurer_and_copay_invoices_due_on_or_after_the_date_of_service(self):
        self.provider.tz = "Pacific/Kiritimati"
        self.front_desk.tz = "Pacific/Honolulu"
        self.group.member_ids.date_start = date(2026, 3, 1)
        session = self._make_evening_session(datetime(2026, 3, 10, 11, 0))
        client = self.clients[0]
        insurer = self.env["res.partner"].create(
            {"name": "Blue Shield", "is_company": True, "therapy_payer_code": "94036"}
        )
        self.env["therapy.coverage"].create(
            {
                "partner_id": client.id,
                "payer_id": insurer.id,
                "member_ident": "XYZ123456",
                "copay_amount": 20.0,
            }
        )
        line = session.therapy_attendance_ids.filtered(lambda line: line.partner_id == client)
        line.with_user(self.front_desk).write(
            {"state": "attended", "product_id": self.cpt_90853.id}
        )
        line.with_user(self.front_desk).with_context(tz="Pacific/Honolulu").action_invoice()
        claim = line.therapy_claim_ids
        invoices = claim.invoice_id | claim.copay_invoice_id
        self.assertEqual(invoices.partner_id, insurer | client)
        for invoice in invoices:
            self.assertEqual(invoice.invoice_date, date(2026, 3, 11))
            self.assertEqual(invoice.invoice_date_due, date(2026, 3, 11))

    def test_claim_period_and_same_day_rule_use_the_local_day(self):
        self.session.action_mark_all_attended()
        sign_session_notes(self.session, self.provider)
        Wizard = self.env["therapy.claim.export.wizard"].with_user(self.front_desk)
        wizard = Wizard.create({"date_from": LOCAL_DAY, "date_to": LOCAL_DAY})
        wizard.action_export()
        rows = list(csv.DictReader(io.StringIO(base64.b64decode(wizard.data).decode())))
        self.assertEqual({row["date_of_service"] for row in rows}, {"2026-06-15"})
        self.assertEqual(len(rows), 4)
        # The next morning's session (09:00 local, the same UTC day) is another day of service.
        morning = self._make_evening_session(datetime(2026, 6, 16, 16, 0))
        morning.action_mark_all_attended()
        rule = self.env.ref("group_therapy.therapy_payer_rule_90853_once_per_day")
        self.assertFalse(rule._check_once_per_day(self.session.therapy_attendance_ids))
        # The same local day twice is found.
        late = self._make_evening_session(datetime(2026, 6, 16, 4, 0))  # 21:00 on the 15th
        late.action_mark_all_attended()
        self.assertEqual(len(rule._check_once_per_day(self.session.therapy_attendance_ids)), 4)

    def test_chart_note_dated_on_the_local_day(self):
        # The organizer has no time zone of their own: the practice's (the company's) dates the
        # note, its PDF and the PDF's file name, not the signer's nor the printer's (UTC here).
        self.provider.tz = False
        self.company.partner_id.tz = "America/Los_Angeles"
        self.session.action_mark_all_attended()
        sign_session_notes(self.session, self.provider)
        note = self.session.therapy_chart_note_ids.filtered(
            lambda note: note.partner_id == self.clients[0]
        ).with_user(self.provider)
        self.assertEqual(note.session_date, LOCAL_DAY)
        local_time = format_datetime(
            self.env, EVENING_START_UTC, tz="America/Los_Angeles", dt_format="short"
        )
        self.assertIn(f"{local_time} (America/Los_Angeles)", html2plaintext(note.body))
        report = self.env.ref("group_therapy.therapy_chart_note_report").with_user(self.provider)
        html, _kind = report._render_qweb_html(report, note.ids)
        page = html2plaintext(html.decode())
        self.assertIn("06/15/2026", page)
        self.assertNotIn("06/16/2026", page)
        filename = safe_eval(report.print_report_name, {"object": note, "time": time})
        self.assertEqual(filename, f"Chart note - {self.clients[0].name} - 2026-06-15")

    def _billed_session(self, start):
        """An evening session everybody attended, invoiced (posted) by the front desk."""
        session = self._make_evening_session(start)
        session.with_user(self.front_desk).action_mark_all_attended()
        session.with_user(self.front_desk).action_invoice_attendance()
        return session

    def _stored_days(self, session):
        """The dates of service the database holds for the session, its lines and notes."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT therapy_session_date FROM calendar_event WHERE id = %(id)s
             UNION ALL
            SELECT session_date FROM therapy_attendance WHERE event_id = %(id)s
             UNION ALL
            SELECT session_date FROM therapy_chart_note WHERE event_id = %(id)s
            """,
            {"id": session.id},
        )
        return {day for (day,) in self.env.cr.fetchall()}

    def test_billed_or_signed_session_keeps_its_day_when_the_time_zone_changes(self):
        """A later change of the organizer's or the practice's time zone does not move the date
        of service of a session already invoiced or signed; a session not billed follows it."""
        signed = self.session  # 19:00 on 15 June in Los Angeles, 04:00 on the 16th in Paris
        signed.with_user(self.front_desk).action_mark_all_attended()
        sign_session_notes(signed, self.provider)
        billed = self._billed_session(datetime(2026, 6, 23, 2, 0))  # 22 June in Los Angeles
        invoices = billed.therapy_attendance_ids.invoice_id
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        unbilled = self._make_evening_session(datetime(2026, 6, 30, 2, 0))
        unbilled.with_user(self.front_desk).action_mark_all_attended()
        self.assertEqual(self._stored_days(unbilled), {date(2026, 6, 29)})

        # The provider moves to Paris and sets their own time zone.
        self.provider.with_user(self.provider).write({"tz": "Europe/Paris"})
        self.assertEqual(self._stored_days(signed), {LOCAL_DAY})
        self.assertEqual(len(signed.therapy_chart_note_ids), 4)
        self.assertEqual(self._stored_days(billed), {date(2026, 6, 22)})
        self.assertEqual(set(invoices.mapped("therapy_session_date")), {date(2026, 6, 22)})
        self.assertEqual(set(invoices.mapped("invoice_date")), {date(2026, 6, 22)})
        self.assertEqual(self._stored_days(unbilled), {date(2026, 6, 30)}, "not billed: follows")
        self.assertEqual(unbilled.therapy_session_tz, "Europe/Paris")
        self.assertEqual(signed.therapy_session_tz, "America/Los_Angeles")
        # The signed note's PDF still says the day it was signed for.
        report = self.env.ref("group_therapy.therapy_chart_note_report").with_user(self.provider)
        html, _kind = report._render_qweb_html(report, signed.therapy_chart_note_ids[:1].ids)
        self.assertIn("06/15/2026", html2plaintext(html.decode()))

        # Without an organizer's time zone, the practice's: changing it moves nothing billed.
        self.provider.with_user(self.provider).write({"tz": False})
        self.company.partner_id.tz = "Asia/Tokyo"
        self.assertEqual(self._stored_days(signed), {LOCAL_DAY})
        self.assertEqual(self._stored_days(billed), {date(2026, 6, 22)})
        self.assertEqual(self._stored_days(unbilled), {date(2026, 6, 30)})
        self.assertEqual(unbilled.therapy_session_tz, "Asia/Tokyo")

    def test_the_date_of_service_is_not_written_from_outside(self):
        session = self.session.with_user(self.front_desk)
        for values in ({"therapy_session_date": UTC_DAY}, {"therapy_session_tz": "Asia/Tokyo"}):
            with self.subTest(values=values), self.assertRefused(UserError, "set by the app"):
                session.write(values)
        self.assertEqual(self._stored_days(self.session), {LOCAL_DAY})

    def test_time_zone_change_costs_no_query_per_session(self):
        """The kept days are found for every session of the organizer at once."""
        provider = self.provider.with_user(self.provider)
        self._billed_session(datetime(2026, 6, 23, 2, 0))
        one = self._queries(lambda: provider.write({"tz": "Europe/Paris"}))
        self._billed_session(datetime(2026, 6, 30, 2, 0))
        self._billed_session(datetime(2026, 7, 7, 2, 0))
        three = self._queries(lambda: provider.write({"tz": "America/New_York"}))
        self.assertEqual(three, one)
