import base64
from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..wizards import x12
from .test_charting import GROUP_NOTE
from .test_insurance_claims import ClaimsCommon


class X12Common(ClaimsCommon):
    """Two signed sessions of insured clients, one of them in the evening (next day in UTC)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 10:00 UTC yesterday: 02:00 in California, the same day.
        cls.session = cls._attended_session(days=-1, hour=10)
        # 03:30 UTC yesterday is 19:30 in California the day before: the date of service.
        cls.evening = cls._attended_session(days=-1, hour=3)
        cls.evening.write({"start": cls.evening.start.replace(minute=30)})
        dan_line = cls.evening.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.dan
        )
        dan_line.write({"state": "absent", "product_id": cls.no_show.id})
        for session in (cls.session, cls.evening):
            cls._sign(session)
            cls._invoice(session)
        cls.today = cls.session.start.date()

    @classmethod
    def _sign(cls, session):
        action = session.with_user(cls.provider).action_open_charting()
        wizard = cls.env[action["res_model"]].with_user(cls.provider).browse(action["res_id"])
        wizard.group_note = GROUP_NOTE
        wizard.action_review()
        # The signature itself (the Sign button asks for the password again over HTTP).
        getattr(wizard, "_sign", wizard.action_sign)()

    @classmethod
    def _export(cls, user=None, date_from=None, date_to=None):
        wizard = (
            cls.env["therapy.claim.export.wizard"]
            # The file carries diagnoses: front desk exports it (test_access_matrix shows the
            # accountant without a Group Therapy role refused).
            .with_user(user or cls.front_desk)
            .create(
                {
                    "date_from": date_from or cls.today - timedelta(days=3),
                    "date_to": date_to or cls.today,
                    "file_format": "x12_837p",
                }
            )
        )
        wizard.action_export()
        return wizard

    @staticmethod
    def _interchanges(wizard):
        content = base64.b64decode(wizard.data).decode()
        return ["ISA" + part for part in content.split("ISA")[1:]]


@tagged("post_install", "-at_install")
class Test837P(X12Common):
    def test_one_valid_interchange_per_payer(self):
        wizard = self._export()
        self.assertTrue(wizard.filename.endswith(".x12"))
        interchanges = self._interchanges(wizard)
        self.assertEqual(len(interchanges), 2, "one interchange per insurer")
        for interchange in interchanges:
            self.assertEqual(x12.validate(interchange), [], "pyx12 finds nothing to fix")
        by_payer = {
            "94036" if "*PI*94036~" in interchange else "60054": interchange
            for interchange in interchanges
        }
        blue = by_payer["94036"]
        claims = self.env["therapy.claim"].search(
            [("event_id", "in", (self.session | self.evening).ids)]
        )
        self.assertEqual(len(claims), 5, "Ann and Bob twice, Dan once; Cara pays herself")
        for claim in claims:
            interchange = by_payer[claim.payer_id.therapy_payer_code]
            self.assertIn(f"CLM*{claim.name}*75***11:B:1*Y*A*Y*Y~", interchange)
            self.assertEqual(claim.state, "submitted")
            self.assertTrue(claim.export_attachment_id.raw.startswith(b"ISA"))
        self.assertNotIn("DIAZ", blue + by_payer["60054"], "self-pay clients are no claims")
        self.assertEqual(blue.count("CLM*"), 3, "Dan's no-show fee is never claimed")
        self.assertIn("NM1*85*2*SUNRISE COUNSELING*****XX*1245319599~", blue)
        self.assertIn("N4*OAKLAND*CA*946121234~", blue)
        self.assertIn("REF*EI*941234567~", blue)
        self.assertIn("PRV*BI*PXC*101YM0800X~", blue)
        self.assertIn("NM1*IL*1*LEE*ANN****MI*XYZ123456~", blue)
        self.assertIn("DMG*D8*19850412*F~", blue)
        self.assertIn("SBR*P*18*G100******CI~", blue)
        self.assertIn("NM1*PR*2*BLUE SHIELD OF CALIFORNIA*****PI*94036~", blue)
        self.assertIn("HI*ABK:F411~", blue)
        self.assertIn("NM1*82*1*PAT*PROVIDER****XX*1234567893~", blue)
        self.assertIn("SV1*HC:90853*75*UN*1***1~", blue)
        # Dates of service are the local days: the evening session is the day before in UTC.
        day = self.session.start.date().strftime("%Y%m%d")
        evening_day = (self.evening.start.date() - timedelta(days=1)).strftime("%Y%m%d")
        self.assertEqual(
            self._claim(self.evening, self.ann).date_of_service,
            self.evening.start.date() - timedelta(days=1),
        )
        self.assertIn(f"DTP*472*D8*{day}~", blue)
        self.assertIn(f"DTP*472*D8*{evening_day}~", blue)
        with self.assertRefused(UserError, "No insurance claim to submit"):
            self._export()

    def test_refused_per_client_with_what_to_fix(self):
        self.ann.therapy_birthdate = False
        self.company.therapy_taxonomy_code = False
        self.provider.therapy_npi = False
        with self.assertRefused(UserError, "Client Ann Lee has no birth date.") as catcher:
            self._export()
        message = str(catcher.exception)
        self.assertIn("has no taxonomy code", message)
        self.assertIn("Provider Provider Pat, who ran the session", message)
        self.assertNotIn("Bob Stone", message)
        claims = self.env["therapy.claim"].search([("event_id", "=", self.session.id)])
        self.assertEqual(set(claims.mapped("state")), {"to_submit"}, "nothing was submitted")

    def test_unsigned_note_is_refused(self):
        session = self._invoice(self._attended_session(days=-3))
        day = session.start.date()
        with self.assertRefused(UserError, "Client Ann Lee: the chart note of") as catcher:
            self._export(date_from=day, date_to=day)
        self.assertIn("is not signed", str(catcher.exception))
        self.assertEqual(self._claim(session, self.ann).state, "to_submit")

    def test_validator_findings_name_the_client(self):
        real_validate = x12.validate

        def validate(content):
            # A finding on Ann's subscriber segment (the 16th line of the Blue Shield file).
            lines = content.split("\n")
            number = next(i for i, line in enumerate(lines, 1) if line.startswith("DMG"))
            return [*real_validate(content), (number, "Subscriber Birth Date is invalid")]

        with patch.object(x12, "validate", side_effect=validate):
            with self.assertRefused(UserError, "does not pass the 837P checks") as catcher:
                self._export()
        self.assertRegex(
            str(catcher.exception), r"Client (Ann Lee|Bob Stone), claim GTC\d+: Subscriber Birth"
        )

    def test_replacement_claim_quotes_the_original(self):
        self._export()
        claim = self._claim(self.session, self.bob)
        claim.write({"state": "denied", "payer_claim_ref": "AET-2026-0001"})
        claim.with_user(self.accountant).action_resubmit()
        self.assertEqual((claim.state, claim.frequency_code), ("to_submit", "7"))
        interchanges = self._interchanges(self._export())
        self.assertEqual(len(interchanges), 1)
        self.assertEqual(x12.validate(interchanges[0]), [])
        self.assertIn(
            f"CLM*{claim.name}*75***11:B:7*Y*A*Y*Y~\nREF*F8*AET-2026-0001~", interchanges[0]
        )


@tagged("post_install", "-at_install")
class Test837PDiagnoses(X12Common):
    @classmethod
    def _sign(cls, session):
        """Ann's line points at her second diagnosis, chosen before the note is signed (the
        pointers are frozen with it)."""
        if session == cls.session:
            ptsd = cls.env.ref("group_therapy.therapy_diagnosis_f43_10")
            cls.ann.therapy_diagnosis_line_ids = [
                (5, 0, 0),
                (0, 0, {"diagnosis_id": ptsd.id, "sequence": 1}),
                (0, 0, {"diagnosis_id": cls.diagnosis.id, "sequence": 2}),
            ]
            session.therapy_attendance_ids.filtered(
                lambda line: line.partner_id == cls.ann
            ).diagnosis_pointers = "B"
        return super()._sign(session)

    def test_diagnoses_in_claim_order_and_each_line_points_at_its_own(self):
        blue = next(
            interchange
            for interchange in self._interchanges(self._export())
            if "*PI*94036~" in interchange and "*LEE*ANN*" in interchange
        )
        self.assertIn("HI*ABK:F4310*ABF:F411~", blue, "primary first, then the others")
        self.assertIn("SV1*HC:90853*75*UN*1***2~", blue, "Ann's session line points at B")
        self.assertEqual(x12.validate(blue), [])


@tagged("post_install", "-at_install")
class Test837PRenderingProvider(X12Common):
    """Loop 2420A: a line names its rendering provider when it is not the claim's, or on every
    line for an insurer that asks for it."""

    @staticmethod
    def _segments(interchange):
        return [line.rstrip("~") for line in interchange.split("\n") if line]

    def test_claim_level_only_by_default(self):
        for interchange in self._interchanges(self._export()):
            self.assertEqual(x12.validate(interchange), [])
            segments = self._segments(interchange)
            rendering = [seg for seg in segments if seg.startswith("NM1*82*")]
            self.assertEqual(len(rendering), interchange.count("CLM*"), "once per claim (2310B)")
            for index, seg in enumerate(segments):
                if seg.startswith("DTP*472*"):
                    following = segments[index + 1] if index + 1 < len(segments) else ""
                    self.assertFalse(following.startswith("NM1*82"), "no 2420A by default")

    def test_every_line_for_an_insurer_that_asks(self):
        self.aetna.with_user(self.manager).therapy_line_rendering = True
        interchanges = self._interchanges(self._export())
        aetna = next(i for i in interchanges if "*PI*60054~" in i)
        blue = next(i for i in interchanges if "*PI*94036~" in i)
        self.assertEqual(x12.validate(aetna), [], "pyx12 accepts the 2420A loops")
        segments = self._segments(aetna)
        lines = [index for index, seg in enumerate(segments) if seg.startswith("DTP*472*")]
        self.assertEqual(len(lines), aetna.count("SV1*"))
        for index in lines:
            self.assertEqual(segments[index + 1], "NM1*82*1*PAT*PROVIDER****XX*1234567893")
        self.assertEqual(
            aetna.count("NM1*82*"), aetna.count("CLM*") + aetna.count("SV1*"), "2310B and 2420A"
        )
        self.assertEqual(blue.count("NM1*82*"), blue.count("CLM*"), "other insurers unchanged")

    def test_a_line_by_another_provider(self):
        """A covering provider on one line (e.g. the add-on code): only that line says so."""
        claim = self._claim(self.session, self.ann)
        values = claim._x12_claim_values()
        covering = {"last": "Sam", "first": "Shared", "npi": "1003000001"}
        extra = {**values["services"][0], "code": "90785", "charge": 20.0, "rendering": covering}
        values["services"].append(extra)
        values["charge"] += 20.0
        header = {
            "created": self.session.start,
            "control_number": 7,
            "batch_ref": "GT7",
            "sender_id": self.company.therapy_npi,
            "receiver_id": "94036",
            "billing": {
                "name": self.company.name,
                "contact": "Biller",
                "phone": "5105550100",
                "taxonomy": self.company.therapy_taxonomy_code,
                "npi": self.company.therapy_npi,
                "street": self.company.street,
                "city": self.company.city,
                "state": "CA",
                "zip": "946121234",
                "tin": "941234567",
            },
            "payer": {"name": "Blue Shield of California"},
        }
        content, owners = x12.build_837p(header, [values])
        self.assertEqual(x12.validate(content), [], "pyx12 accepts the differing 2420A")
        segments = self._segments(content)
        self.assertEqual(
            [seg for seg in segments if seg.startswith("NM1*82*")],
            [
                "NM1*82*1*PAT*PROVIDER****XX*1234567893",
                "NM1*82*1*SAM*SHARED****XX*1003000001",
            ],
            "the claim's provider once (2310B), the covering one on its line only (2420A)",
        )
        last_line = max(i for i, seg in enumerate(segments) if seg.startswith("LX*"))
        self.assertEqual(segments[last_line + 3], "NM1*82*1*SAM*SHARED****XX*1003000001")
        self.assertEqual(len(owners), len(segments) - 4, "every segment has its owner")


@tagged("post_install", "-at_install")
class Test837PProviderTaxonomy(X12Common):
    """PRV*PE: the rendering provider's own taxonomy, next to their NPI; the billing provider's
    PRV*BI stays the practice's."""

    @staticmethod
    def _segments(interchange):
        return [line.rstrip("~") for line in interchange.split("\n") if line]

    def test_rendering_provider_taxonomy_in_2310b_and_2420a(self):
        self.provider.therapy_taxonomy_code = "1041C0700X"
        self.aetna.with_user(self.manager).therapy_line_rendering = True
        interchanges = self._interchanges(self._export())
        self.assertEqual(len(interchanges), 2)
        for interchange in interchanges:
            self.assertEqual(x12.validate(interchange), [], "pyx12 accepts PRV*PE")
            segments = self._segments(interchange)
            self.assertIn("PRV*BI*PXC*101YM0800X", segments, "the billing provider: the practice")
            self.assertEqual(segments.count("PRV*BI*PXC*101YM0800X"), 1)
            for index, seg in enumerate(segments):
                if seg.startswith("NM1*82*"):
                    self.assertEqual(segments[index + 1], "PRV*PE*PXC*1041C0700X")
            self.assertEqual(
                interchange.count("PRV*PE*PXC*1041C0700X~"), interchange.count("NM1*82*")
            )
        aetna = next(i for i in interchanges if "*PI*60054~" in i)
        self.assertEqual(
            aetna.count("PRV*PE*"), aetna.count("CLM*") + aetna.count("SV1*"), "2310B and 2420A"
        )

    def test_no_taxonomy_no_prv(self):
        for interchange in self._interchanges(self._export()):
            self.assertNotIn("PRV*PE*", interchange)
            self.assertEqual(x12.validate(interchange), [])

    def test_taxonomy_format_is_checked(self):
        for code in ("101YM0800", "101ym0800x", "1O1YM0800X", "101YM0800XX"):
            with self.assertRefused(ValidationError, "is not a taxonomy code"):
                self.provider.therapy_taxonomy_code = code
        self.provider.therapy_taxonomy_code = "101YM0800X"
        self.assertEqual(self.provider.therapy_taxonomy_code, "101YM0800X")
