from datetime import datetime, timedelta

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestDiagnosesAndNpi(GroupTherapyCommon):
    """Ordered diagnoses with claim pointers, the ICD-10-CM code set, NPI check digits."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.f41_1 = cls.env.ref("group_therapy.therapy_diagnosis_f41_1")
        cls.f43_10 = cls.env.ref("group_therapy.therapy_diagnosis_f43_10")
        cls.f32_1 = cls.env.ref("group_therapy.therapy_diagnosis_f32_1")
        cls.session = cls._make_session(cls.group)
        cls.session.action_mark_all_attended()
        cls.client = cls.clients[0]
        cls.line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.client
        )

    def _set_diagnoses(self, user, diagnoses):
        self.client.with_user(user).therapy_diagnosis_line_ids = [(5, 0, 0)] + [
            (0, 0, {"diagnosis_id": diagnosis.id, "sequence": position})
            for position, diagnosis in enumerate(diagnoses, start=1)
        ]

    def test_primary_diagnosis_first_on_claims(self):
        self._set_diagnoses(self.front_desk, self.f43_10 | self.f41_1)
        self.assertEqual(self.client.therapy_diagnosis_ids.mapped("code"), ["F43.10", "F41.1"])
        self.assertEqual(self.client.therapy_diagnosis_line_ids.mapped("pointer"), ["A", "B"])
        row = self._claim_rows(self.line)[0]
        self.assertEqual(row["diagnoses"], "F43.10,F41.1", "claim order, not sorted by code")
        self.assertEqual(row["diagnosis_pointers"], "A", "the primary when no pointer is set")
        # Reordering makes F41.1 the primary.
        self.client.therapy_diagnosis_line_ids.filtered(
            lambda line: line.diagnosis_id == self.f41_1
        ).sequence = 0
        self.assertEqual(self.client.therapy_diagnosis_ids[:1], self.f41_1)

    def test_pointers_per_line(self):
        self._set_diagnoses(self.front_desk, self.f43_10 | self.f41_1 | self.f32_1)
        self.line.with_user(self.front_desk).diagnosis_pointers = "A, C"
        self.assertEqual(self._claim_rows(self.line)[0]["diagnosis_pointers"], "AC")
        with self.assertRefused(ValidationError, "Use up to 4 different letters among A, B, C"):
            self.line.with_user(self.front_desk).diagnosis_pointers = "D"
        codes = self.env["therapy.diagnosis"].search([("code", "=like", "F4%")], limit=5)
        self._set_diagnoses(self.front_desk, codes)
        with self.assertRefused(ValidationError, "diagnosis pointers “A,B,C,D,E” are not valid"):
            self.line.with_user(self.front_desk).diagnosis_pointers = "A,B,C,D,E"

    def test_at_most_twelve_diagnoses(self):
        codes = self.env["therapy.diagnosis"].search([("code", "=like", "F%")], limit=13)
        with self.assertRefused(ValidationError, "a claim carries at most 12"):
            self._set_diagnoses(self.front_desk, codes)
        self._set_diagnoses(self.front_desk, codes[:12])
        self.assertEqual(len(self.client.therapy_diagnosis_ids), 12)

    def test_only_billable_icd10cm_codes(self):
        Diagnosis = self.env["therapy.diagnosis"].with_user(self.provider)
        with self.assertRefused(ValidationError, "F43.1 is a category, not a billable") as catcher:
            Diagnosis.create({"code": "F43.1", "name": "PTSD"})
        self.assertIn("F43.10", str(catcher.exception), "suggests the billable codes under it")
        with self.assertRefused(ValidationError, "F32 is a category, not a billable"):
            Diagnosis.create({"code": "F32", "name": "Depression"})
        with self.assertRefused(ValidationError, "“F99.99” is not an ICD-10-CM code"):
            Diagnosis.create({"code": "F99.99", "name": "Made up"})
        # A valid code outside the shipped chapter: the description comes from the code set.
        covid = Diagnosis.create({"code": "u071"})
        self.assertEqual(covid.code, "U07.1")
        self.assertEqual(covid.name, "COVID-19")
        diagnosis_id, display_name = Diagnosis.name_create("Z63.0")
        self.assertTrue(display_name.startswith("Z63.0 Problems in relationship"))
        self.assertTrue(diagnosis_id)

    def test_find_any_f_code_by_code_or_words(self):
        Diagnosis = self.env["therapy.diagnosis"].with_user(self.front_desk)
        self.assertGreater(Diagnosis.search_count([("code", "=like", "F%")]), 800)
        found = Diagnosis.name_search("trichotillomania")
        self.assertIn("F63.3 Trichotillomania", [name for _id, name in found])
        found = Diagnosis.name_search("F43.1")
        self.assertEqual(
            {name.split()[0] for _id, name in found} >= {"F43.10", "F43.11", "F43.12"}, True
        )
        self.assertFalse(Diagnosis.search([("code", "in", ("F43.1", "F32"))]), "no categories")

    def test_npi_check_digit(self):
        # The administrator enters the providers' NPIs (user form) and the practice's (company).
        admin = self.env.ref("base.user_admin")
        with self.assertRefused(ValidationError, "last digit checks the others"):
            self.provider.with_user(admin).therapy_npi = "1234567890"
        self.provider.with_user(admin).therapy_npi = "1234567893"
        self.assertEqual(self.provider.therapy_npi, "1234567893")
        company = self.company.with_user(admin)
        with self.assertRefused(ValidationError, "The billing NPI “123456789” of"):
            company.therapy_npi = "123456789"
        with self.assertRefused(ValidationError, "Copy it again from the NPI registry"):
            company.therapy_npi = "1245319598"
        company.therapy_npi = "1245319599"
        self.assertEqual(self.company.therapy_npi, "1245319599")
