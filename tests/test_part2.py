import base64
import csv
import io
from datetime import timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools import mute_logger

from .test_x12_837p import X12Common

NOTICE_START = "This record which has been disclosed to you is protected by Federal confidentiality"


class Part2Common(X12Common):
    """The insured clients' group is a 42 CFR Part 2 program: Ann and Dan are insured by Blue
    Shield, Bob by Aetna, Cara pays herself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.therapy_part2 = True
        cls.Log = cls.env["therapy.access.log"]
        cls.claims = cls.env["therapy.claim"].search(
            [("event_id", "in", (cls.session | cls.evening).ids)]
        )

    def setUp(self):
        super().setUp()
        self.last_log_id = self.Log.search([], limit=1, order="id desc").id or 0

    def _new_log_lines(self):
        return self.Log.search([("id", ">", self.last_log_id)])

    @classmethod
    def _consent(cls, client, recipient, purpose="tpo", **values):
        """The client's signed consent, recorded by the front desk as an RPC client sends it."""
        return (
            cls.env["therapy.part2.consent"]
            .with_user(cls.front_desk)
            .create(
                {
                    "partner_id": client.id,
                    "recipient_id": recipient.id,
                    "purpose": purpose,
                    "information": "Diagnoses, dates of service and services billed",
                    "date_signed": "2026-01-05",
                    "expiry_event": "Discharge from the program",
                    "signed_form": base64.b64encode(b"%PDF-1.4 signed consent"),
                    "signed_form_name": "consent.pdf",
                    **values,
                }
            )
        )

    @classmethod
    def _claims_of(cls, *clients):
        return cls.claims.filtered(lambda claim: claim.partner_id in clients)

    def _export_csv(self, file_format="csv"):
        wizard = (
            self.env["therapy.claim.export.wizard"]
            .with_user(self.front_desk)
            .create(
                {
                    "date_from": self.today - timedelta(days=3),
                    "date_to": self.today,
                    "file_format": file_format,
                }
            )
        )
        wizard.action_export()
        return wizard

    def _render(self, report_xmlid, ids, user, **context):
        # A print is a request of its own: nothing the test wrote is in the cache.
        self.env.invalidate_all()
        report = self.env.ref(report_xmlid).with_user(user).with_context(**context)
        content, _kind = report._render_qweb_pdf(report.report_name, ids)
        return content.decode()


@tagged("post_install", "-at_install")
class TestPart2Claims(Part2Common):
    def test_837p_without_consent_is_refused_and_nothing_changes(self):
        attachments = self.env["ir.attachment"].search_count([("res_model", "=", "therapy.claim")])
        with self.assertRefused(
            UserError,
            "Ann Lee is in a 42 CFR Part 2 program: no written consent to disclose to Blue "
            "Shield of California for payment is on file.",
        ) as catcher:
            self._export()
        self.assertIn("Bob Stone is in a 42 CFR Part 2 program", str(catcher.exception))
        self.assertIn("to Aetna for payment", str(catcher.exception))
        self.assertEqual(set(self.claims.mapped("state")), {"to_submit"})
        self.assertFalse(self.claims.export_attachment_id)
        self.assertEqual(
            self.env["ir.attachment"].search_count([("res_model", "=", "therapy.claim")]),
            attachments,
        )
        self.assertFalse(self._new_log_lines(), "nothing was disclosed")

    def test_837p_with_consents_is_sent_with_the_notice_and_logged_with_the_consent(self):
        # Ann and Dan signed one consent for all treatment, payment and operations (2024
        # rule); Bob's covers payment only.
        consents = {
            self.ann: self._consent(self.ann, self.blue_shield),
            self.dan: self._consent(self.dan, self.blue_shield),
            self.bob: self._consent(self.bob, self.aetna, purpose="payment"),
        }
        wizard = self._export()
        self.assertEqual(set(self.claims.mapped("state")), {"submitted"})
        self.assertFalse(wizard.left_out)
        self.assertIn(NOTICE_START, wizard.part2_notice)
        self.assertIn(
            "Disclosed to Aetna for payment under the written consent of Bob Stone",
            wizard.part2_notice,
        )
        lines = self._new_log_lines()
        self.assertEqual(
            sorted((line.res_model, line.res_id) for line in lines),
            sorted(("therapy.claim", claim.id) for claim in self.claims),
        )
        for line in lines:
            self.assertEqual(line.part2_consent_id, consents[line.partner_id])
            self.assertEqual(line.access_type, "export")

    def test_expired_or_revoked_consent_is_refused(self):
        yesterday = self.today - timedelta(days=1)
        self._consent(self.ann, self.blue_shield, date_expiry=yesterday, expiry_event=False)
        self._consent(self.dan, self.blue_shield, revoked_on=self.today)
        with self.assertRefused(UserError, "No claim can be sent") as catcher:
            self._export()
        message = str(catcher.exception)
        self.assertIn(
            "Ann Lee is in a 42 CFR Part 2 program: no written consent to disclose to Blue Shield "
            "of California for payment is on file, or it expired on",
            message,
        )
        self.assertIn("Dan Moss is in a 42 CFR Part 2 program", message)
        self.assertIn("or it was revoked on", message)
        self.assertEqual(set(self.claims.mapped("state")), {"to_submit"})
        self.assertFalse(self._new_log_lines())

    def test_mixed_export_leaves_the_client_without_consent_out_with_the_reason(self):
        self._consent(self.ann, self.blue_shield)
        self._consent(self.dan, self.blue_shield, date_expiry=self.today - timedelta(days=1))
        self._consent(self.bob, self.aetna, revoked_on=self.today - timedelta(days=2))
        wizard = self._export()
        self.assertEqual(set(self._claims_of(self.ann).mapped("state")), {"submitted"})
        self.assertEqual(
            set(self._claims_of(self.bob, self.dan).mapped("state")),
            {"to_submit"},
            "no consent valid today: not sent",
        )
        self.assertIn("Dan Moss is in a 42 CFR Part 2 program", wizard.left_out)
        self.assertIn("or it expired on", wizard.left_out)
        self.assertIn("Bob Stone is in a 42 CFR Part 2 program", wizard.left_out)
        self.assertIn("or it was revoked on", wizard.left_out)
        content = base64.b64decode(wizard.data).decode()
        self.assertIn("*LEE*ANN*", content)
        self.assertNotIn("*STONE*BOB*", content)
        self.assertNotIn("*MOSS*DAN*", content)
        self.assertEqual(self._new_log_lines().partner_id, self.ann)
        # Later, Bob's new consent lets his claims go.
        self._consent(self.bob, self.aetna, purpose="payment")
        self._export()
        self.assertEqual(set(self._claims_of(self.bob).mapped("state")), {"submitted"})

    def test_a_consent_to_another_recipient_or_purpose_does_not_cover_the_claim(self):
        self._consent(self.ann, self.aetna)
        self._consent(self.dan, self.blue_shield, purpose="treatment")
        self._consent(self.bob, self.aetna, purpose="other", purpose_other="Court program")
        with self.assertRefused(UserError, "no written consent to disclose to Blue Shield"):
            self._export()
        self.assertEqual(set(self.claims.mapped("state")), {"to_submit"})

    def test_csv_and_json_leave_out_part2_lines_without_consent(self):
        self._consent(self.ann, self.blue_shield)
        wizard = self._export_csv()
        rows = list(csv.DictReader(io.StringIO(base64.b64decode(wizard.data).decode())))
        self.assertEqual({row["client"] for row in rows}, {"Ann Lee"})
        self.assertIn("Bob Stone is in a 42 CFR Part 2 program", wizard.left_out)
        # Cara pays herself: no insurer to hold a consent for.
        self.assertIn("Cara Diaz is in a 42 CFR Part 2 program: no insurer", wizard.left_out)
        self.assertIn(NOTICE_START, wizard.part2_notice)
        lines = self._new_log_lines()
        self.assertEqual(lines.partner_id, self.ann)
        self.assertTrue(all(line.part2_consent_id.partner_id == self.ann for line in lines))
        json_wizard = self._export_csv("json")
        self.assertIn(NOTICE_START, base64.b64decode(json_wizard.data).decode())

    def test_csv_without_any_consent_is_refused(self):
        with self.assertRefused(UserError, "No service to claim") as catcher:
            self._export_csv()
        self.assertIn("Ann Lee is in a 42 CFR Part 2 program", str(catcher.exception))
        self.assertFalse(self._new_log_lines())

    def test_the_whole_practice_as_a_part2_program(self):
        self.group.therapy_part2 = False
        self.company.therapy_part2 = True
        with self.assertRefused(UserError, "Ann Lee is in a 42 CFR Part 2 program"):
            self._export()

    def test_clients_of_other_programs_are_unaffected(self):
        self.group.therapy_part2 = False
        wizard = self._export()
        self.assertEqual(set(self.claims.mapped("state")), {"submitted"})
        self.assertFalse(wizard.part2_notice)
        self.assertFalse(self._new_log_lines().part2_consent_id)


@tagged("post_install", "-at_install")
class TestPart2ClaimFileDownloadedAgain(HttpCase, Part2Common):
    """The 837P file kept on the claims was sent under the clients' consents: downloading it
    again discloses it again, so it needs the consents still valid today. Over real HTTP, as
    the browser downloads it, and over RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.consents = {
            cls.ann: cls._consent(cls.ann, cls.blue_shield),
            cls.dan: cls._consent(cls.dan, cls.blue_shield),
            cls.bob: cls._consent(cls.bob, cls.aetna, purpose="payment"),
        }
        cls._export()
        cls.blue_file = cls._claims_of(cls.ann).export_attachment_id
        cls.aetna_file = cls._claims_of(cls.bob).export_attachment_id
        # HttpCase keeps its HTTP session in `session`
        cls.event, cls.session = cls.session, None

    def _download(self, attachment):
        """The file, as the browser downloads it for the front desk."""
        self.authenticate(self.front_desk.login, self.front_desk.login)
        return self.url_open(f"/web/content/{attachment.id}?download=true")

    def test_downloaded_again_under_the_consents_is_logged_with_them(self):
        response = self._download(self.blue_file)
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"CLM*", response.content)
        lines = self._new_log_lines()
        filed = self._claims_of(self.ann, self.dan)
        self.assertEqual(sorted(lines.mapped("res_id")), sorted(filed.ids))
        for line in lines:
            self.assertEqual(line.access_type, "export")
            self.assertEqual(line.user_id, self.front_desk)
            self.assertEqual(line.part2_consent_id, self.consents[line.partner_id])
            self.assertIn("downloaded again", line.detail)

    def test_refused_once_a_consent_is_revoked_or_expired(self):
        """Ann revoked her consent: the Blue Shield file (Ann and Dan) is refused, naming Ann
        alone and what to do; Bob's file to Aetna still downloads. Then Bob's expires."""
        self.consents[self.ann].with_user(self.front_desk).revoked_on = self.today
        with mute_logger("odoo.http"):
            response = self._download(self.blue_file)
        self.assertNotEqual(response.status_code, 200)
        self.assertNotIn(b"CLM*", response.content)
        with self.assertRefused(
            UserError,
            f"{self.blue_file.name} cannot be downloaded again: that would disclose its claims "
            "to the insurer again, and\n- Ann Lee is in a 42 CFR Part 2 program: no written "
            "consent to disclose to Blue Shield of California for payment is on file, or it was "
            "revoked on",
        ) as catcher:
            self.blue_file.with_user(self.front_desk).read(["datas"])
        message = str(catcher.exception)
        self.assertIn("Record the client's signed consent", message)
        self.assertNotIn(self.dan.name, message)
        self.assertFalse(self._new_log_lines(), "nothing was disclosed")

        response = self._download(self.aetna_file)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._new_log_lines().part2_consent_id, self.consents[self.bob])

        self.last_log_id = max(self._new_log_lines().ids)
        self.consents[self.bob].with_user(self.front_desk).write(
            {"date_expiry": self.today - timedelta(days=1), "expiry_event": False}
        )
        with mute_logger("odoo.http"):
            self.assertNotEqual(self._download(self.aetna_file).status_code, 200)
        with self.assertRefused(UserError, "or it expired on"):
            self.aetna_file.with_user(self.front_desk).read(["raw"])
        self.assertFalse(self._new_log_lines())


@tagged("post_install", "-at_install")
class TestPart2Printing(Part2Common):
    def _ann_note(self):
        return self.env["therapy.chart.note"].search(
            [("event_id", "=", self.session.id), ("partner_id", "=", self.ann.id)]
        )

    def test_superbill_needs_a_consent_to_the_insurer_and_carries_the_notice(self):
        ann_lines = (self.session | self.evening).therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.ann
        )
        with self.assertRefused(UserError, "Nothing was printed") as catcher:
            self._render("group_therapy.therapy_superbill_report", ann_lines.ids, self.front_desk)
        self.assertIn("to Blue Shield of California for payment", str(catcher.exception))
        self.assertFalse(self._new_log_lines())
        consent = self._consent(self.ann, self.blue_shield, purpose="payment")
        html = self._render(
            "group_therapy.therapy_superbill_report", ann_lines.ids, self.front_desk
        )
        self.assertIn("o_therapy_part2_notice", html)
        self.assertIn(NOTICE_START, html)
        self.assertIn("Disclosed to Blue Shield of California for payment", html)
        lines = self._new_log_lines()
        self.assertEqual(lines.mapped("part2_consent_id"), consent)
        self.assertEqual(set(lines.mapped("access_type")), {"print"})

    def test_a_self_pay_clients_superbill_is_their_own(self):
        """Cara pays herself: her superbill is handed to her (her own record, 42 CFR 2.23),
        not disclosed to an insurer, so it needs no consent; the print is logged."""
        cara_lines = (self.session | self.evening).therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.cara
        )
        self.assertTrue(cara_lines)
        html = self._render(
            "group_therapy.therapy_superbill_report", cara_lines.ids, self.front_desk
        )
        self.assertIn("Cara Diaz", html)
        self.assertNotIn("Disclosed to", html)
        lines = self._new_log_lines()
        self.assertEqual(set(lines.mapped("access_type")), {"print"})
        self.assertFalse(lines.part2_consent_id)

    def test_chart_note_is_disclosed_to_a_named_recipient_with_the_notice(self):
        note = self._ann_note()
        with self.assertRefused(UserError, "Disclose (42 CFR Part 2)"):
            self._render("group_therapy.therapy_chart_note_report", note.ids, self.provider)
        clinic = self.env["res.partner"].create({"name": "Bayview Medical", "is_company": True})
        wizard = Form(
            self.env["therapy.part2.disclosure.wizard"]
            .with_user(self.provider)
            .with_context(active_model="therapy.chart.note", active_ids=note.ids)
        )
        wizard.recipient_id = clinic
        wizard = wizard.save()
        with self.assertRefused(UserError, "no written consent to disclose to Bayview Medical"):
            wizard.action_print()
        consent = self._consent(self.ann, clinic, purpose="treatment")
        action = wizard.action_print()
        self.assertEqual(action["type"], "ir.actions.report")
        self.assertEqual(action["context"]["therapy_part2_recipient_id"], clinic.id)
        self.assertFalse(self._new_log_lines(), "the download logs the disclosure, once")
        html = self._render(
            "group_therapy.therapy_chart_note_report",
            note.ids,
            self.provider,
            therapy_part2_recipient_id=clinic.id,
            therapy_part2_purpose="treatment",
        )
        self.assertIn(NOTICE_START, html)
        self.assertIn("Disclosed to Bayview Medical for treatment", html)
        line = self._new_log_lines()
        self.assertEqual((line.res_id, line.part2_consent_id), (note.id, consent))

    def test_notes_of_other_programs_print_as_before(self):
        self.group.therapy_part2 = False
        html = self._render(
            "group_therapy.therapy_chart_note_report", self._ann_note().ids, self.provider
        )
        self.assertNotIn("o_therapy_part2_notice", html)


@tagged("post_install", "-at_install")
class TestPart2Consents(Part2Common):
    def test_who_keeps_and_who_reads_consents(self):
        consent = self._consent(self.ann, self.blue_shield)
        self.assertEqual(consent.state, "valid")
        # The providers of Ann's group read it; a provider who does not serve her does not.
        self.assertEqual(consent.with_user(self.provider).read(["purpose"])[0]["purpose"], "tpo")
        self.assertEqual(self.ann.with_user(self.provider).therapy_part2_consent_ids, consent)
        with self.assertRaises(AccessError):
            consent.with_user(self.other_provider).read(["purpose"])
        with self.assertRaises(AccessError):
            consent.with_user(self.accountant).read(["purpose"])
        with self.assertRaises(AccessError):
            consent.with_user(self.provider).write({"revoked_on": self.today})
        # The front desk records the revocation.
        consent.with_user(self.front_desk).write({"revoked_on": self.today})
        self.assertEqual(consent.state, "revoked")

    def test_a_consent_states_its_expiry_and_purpose(self):
        with self.assertRefused(ValidationError, "needs an expiry"):
            self._consent(self.ann, self.blue_shield, expiry_event=False)
        with self.assertRefused(ValidationError, "expires before it was signed"):
            self._consent(self.ann, self.blue_shield, date_expiry="2025-01-01")
        with self.assertRefused(ValidationError, "State the purpose"):
            self._consent(self.ann, self.blue_shield, purpose="other")

    def test_a_used_consent_is_kept(self):
        consent = self._consent(self.ann, self.blue_shield)
        self._consent(self.dan, self.blue_shield)
        self._consent(self.bob, self.aetna)
        self._export()
        with self.assertRefused(UserError, "revoke it instead"):
            consent.with_user(self.manager).unlink()
        self.assertTrue(consent.exists())
        self._consent(self.ann, self.aetna).with_user(self.manager).unlink()


@tagged("post_install", "-at_install")
class TestPart2Invoices(Part2Common):
    """The insurer's invoice of a claim names the client, the session and the codes: printing
    it is a disclosure to the insurer."""

    def _print_invoice(self, invoice):
        return self._render("account.account_invoices", invoice.ids, self.accountant)

    def test_insurer_invoice_needs_the_consent_and_carries_the_notice(self):
        claim = self._claims_of(self.ann)[:1]
        with self.assertRefused(UserError, "Ann Lee is in a 42 CFR Part 2 program"):
            self._print_invoice(claim.invoice_id)
        self.assertFalse(self._new_log_lines())
        consent = self._consent(self.ann, self.blue_shield)
        html = self._print_invoice(claim.invoice_id)
        self.assertIn(NOTICE_START, html)
        self.assertIn("Disclosed to Blue Shield of California", html)
        line = self._new_log_lines()
        self.assertEqual(
            (line.res_model, line.res_id, line.part2_consent_id, line.user_id),
            ("therapy.claim", claim.id, consent, self.accountant),
        )

    def test_the_clients_own_invoices_print_as_before(self):
        copay = self._claims_of(self.ann)[:1].copay_invoice_id
        self.assertTrue(copay)
        html = self._print_invoice(copay)
        self.assertNotIn("o_therapy_part2_notice", html)
        self.group.therapy_part2 = False
        html = self._print_invoice(self._claims_of(self.ann)[:1].invoice_id)
        self.assertNotIn("o_therapy_part2_notice", html)
        self.assertFalse(self._new_log_lines())


@tagged("post_install", "-at_install")
class TestPart2Queries(Part2Common):
    def _queries(self, func):
        self.env.invalidate_all()
        self.env.flush_all()
        before = self.cr.sql_log_count
        func()
        return self.cr.sql_log_count - before

    def test_the_consent_check_costs_the_same_for_one_client_or_many(self):
        """The check before an export: one search of the consents, whatever the clients."""
        self._consent(self.ann, self.blue_shield)
        self._consent(self.dan, self.blue_shield)
        self._consent(self.bob, self.aetna)
        Consent = self.env["therapy.part2.consent"].with_user(self.front_desk)

        def check(claims):
            found, missing = Consent._check_disclosure(
                claims.with_user(self.front_desk),
                "payment",
                lambda claim: claim.payer_id,
                group_of=lambda claim: claim.event_id.therapy_group_id,
            )
            self.assertEqual((len(found), missing), (len(claims), {}))

        check(self._claims_of(self.bob))  # warms the caches any first call fills (rules, ACLs)
        one = self._queries(lambda: check(self._claims_of(self.ann)))
        self.assertEqual(len(self._claims_of(self.ann, self.bob, self.dan)), 5)
        many = self._queries(lambda: check(self._claims_of(self.ann, self.bob, self.dan)))
        self.assertEqual(one, many)
