from datetime import datetime

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..wizards import x12
from .test_era_835 import Era835Common


@tagged("post_install", "-at_install")
class TestSecondaryClaims(Era835Common):
    """Coordination of benefits: what Ann's primary insurer (Blue Shield) leaves to her is
    claimed from her secondary insurer (Cigna), who says what she finally pays."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cigna = cls.env["res.partner"].create(
            {"name": "Cigna", "is_company": True, "therapy_payer_code": "62308"}
        )
        cls.env["therapy.coverage"].create(
            {
                "partner_id": cls.ann.id,
                "payer_id": cls.cigna.id,
                "member_ident": "CIG777",
                "priority": "secondary",
            }
        )

    def _remittance(self, payer, trace, claim, status, paid, adjustments, line_adjustments=()):
        """An 835 for one claim of Ann's 90853 ($75), adjusted per claim and per line."""
        header = {
            "created": datetime(2026, 12, 7, 9, 0),
            "control_number": 8,
            "trace": trace,
            "payer": {"name": payer.name, "code": payer.therapy_payer_code},
            "payee": {"name": "Sunrise Counseling", "npi": "1245319599"},
            "amount": paid,
        }
        charge = -75.0 if status == "22" else 75.0
        entry = {
            "ref": claim.name,
            "status": status,
            "charge": charge,
            "paid": paid,
            "patient": sum(m for g, _c, m in [*adjustments, *line_adjustments] if g == "PR"),
            "payer_ref": f"PCN-{claim.name}",
            "adjustments": list(adjustments),
            "remarks": [],
            "client": {"last": "Lee", "first": "Ann"},
            "member_ident": "XYZ123456",
            "services": [("90853", charge, paid, self.today, list(line_adjustments))],
        }
        content = x12.build_835(header, [entry])
        self.assertEqual(x12.validate(content), [], "the test's own 835 is valid")
        return content

    def _post_primary(self):
        """Blue Shield pays 40, writes off 10 (CO-45), leaves 5 deductible and the 20 copay."""
        return self._import(
            self._remittance(
                self.blue_shield,
                "EFT-3001",
                self.ann_claim,
                "1",
                40.0,
                [],
                [("CO", "45", 10.0), ("PR", "1", 5.0), ("PR", "3", 20.0)],
            )
        ).era_id

    def setUp(self):
        super().setUp()
        self.blue_before = self._receivable(self.blue_shield)
        self.ann_before = self._receivable(self.ann)
        self.primary_era = self._post_primary()
        self.secondary = self.ann_claim.secondary_claim_ids

    def test_primary_posting_claims_the_rest_from_the_secondary(self):
        self.assertEqual(self.ann_claim.state, "partial")
        self.assertEqual(self.ann_claim.amount_residual, 0.0)
        self.assertEqual(self._receivable(self.blue_shield), self.blue_before - 55.0)
        self.assertEqual(self._written_off(), 10.0)
        self.assertEqual(self.primary_era.payment_id.amount, 40.0)
        # The deductible is claimed from Cigna, not invoiced to Ann.
        self.assertEqual(len(self.secondary), 1)
        self.assertEqual(
            (self.secondary.payer_id, self.secondary.state, self.secondary.primary_claim_id),
            (self.cigna, "to_submit", self.ann_claim),
        )
        self.assertEqual(self.secondary.amount_charge, 75.0, "the secondary sees the full claim")
        self.assertEqual(self.secondary.amount_copay, 20.0, "Ann's copay is billed already")
        invoice = self.secondary.invoice_id
        self.assertEqual((invoice.partner_id, invoice.amount_total), (self.cigna, 5.0))
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(self._receivable(self.cigna), 5.0)
        self.assertEqual(self._receivable(self.ann), self.ann_before, "only her copays")
        self.assertFalse(
            self.env["account.move"].search(
                [("therapy_claim_id", "=", self.ann_claim.id), ("partner_id", "=", self.ann.id)]
            ),
            "no invoice to Ann for the deductible",
        )
        # Dan, who has no secondary insurer, keeps the client's invoice (test_era_835).
        self.assertFalse(self.dan_claim.secondary_claim_ids)

    def test_secondary_837p_carries_the_primary_adjudication(self):
        interchanges = self._interchanges(self._export())
        self.assertEqual(len(interchanges), 1, "only the secondary claim is left to submit")
        cigna = interchanges[0]
        self.assertEqual(x12.validate(cigna), [], "pyx12 accepts the COB loops")
        segments = [line.rstrip("~") for line in cigna.split("\n") if line]
        day = self.primary_era.payment_date.strftime("%Y%m%d")
        claim_at = segments.index(f"CLM*{self.secondary.name}*75***11:B:1*Y*A*Y*Y")
        # 2000B: Cigna's subscriber and payer, as the secondary payer (SBR01 = S).
        self.assertIn("SBR*S*18*******CI", segments)
        self.assertIn("NM1*IL*1*LEE*ANN****MI*CIG777", segments)
        self.assertIn("NM1*PR*2*CIGNA*****PI*62308", segments)
        cob_at = segments.index("SBR*P*18*G100******CI")
        self.assertGreater(cob_at, claim_at)
        self.assertEqual(
            segments[cob_at : cob_at + 7],
            [
                # 2320: Blue Shield is primary and paid 40 (its adjustments are per line).
                "SBR*P*18*G100******CI",
                "AMT*D*40",
                "OI***Y***Y",
                # 2330A: Ann's Blue Shield card; 2330B: Blue Shield and its claim number.
                "NM1*IL*1*LEE*ANN****MI*XYZ123456",
                "NM1*PR*2*BLUE SHIELD OF CALIFORNIA*****PI*94036",
                f"REF*F8*PCN-{self.ann_claim.name}",
                "LX*1",
            ],
        )
        line_at = segments.index("LX*1")
        self.assertEqual(
            segments[line_at + 3 : line_at + 7],
            [
                # 2430: the line as Blue Shield adjudicated it.
                "SVD*94036*40*HC:90853**1",
                "CAS*CO*45*10",
                "CAS*PR*1*5**3*20",
                f"DTP*573*D8*{day}",
            ],
        )
        self.assertEqual(self.secondary.state, "submitted")

    def test_secondary_pays_part_and_the_client_pays_what_it_leaves(self):
        self._export()
        # Cigna pays 3 of the deductible, leaves 2 coinsurance and the copay to Ann; OA-23 is
        # what Blue Shield paid and wrote off (40 + 10).
        era = self._import(
            self._remittance(
                self.cigna,
                "CHK-4001",
                self.secondary,
                "2",
                3.0,
                [("OA", "23", 50.0), ("PR", "2", 2.0), ("PR", "3", 20.0)],
            )
        ).era_id
        self.assertEqual(era.payment_id.amount, 3.0)
        self.assertEqual(self.secondary.state, "partial")
        self.assertEqual(
            (
                self.secondary.amount_paid,
                self.secondary.amount_contractual,
                self.secondary.amount_patient,
                self.secondary.amount_residual,
            ),
            (3.0, 0.0, 22.0, 0.0),
        )
        self.assertEqual(self._receivable(self.cigna), 0.0)
        self.assertEqual(self._receivable(self.ann), self.ann_before + 2.0, "copay + 2")
        self.assertEqual(self._receivable(self.blue_shield), self.blue_before - 55.0)
        self.assertEqual(self._written_off(), 10.0, "nothing more written off")
        # Revenue: 75 - 10 written off = 40 (Blue Shield) + 3 (Cigna) + 22 (Ann).
        self.assertEqual(self.ann_claim.amount_paid + self.secondary.amount_paid + 22.0, 65.0)

    def test_secondary_pays_the_copay_too(self):
        self._export()
        # Cigna pays 20 (Ann's copay) and writes off 5 of its own (CO-45): Ann owes nothing.
        era = self._import(
            self._remittance(
                self.cigna,
                "CHK-4002",
                self.secondary,
                "2",
                20.0,
                [("OA", "23", 50.0), ("CO", "45", 5.0)],
            )
        ).era_id
        self.assertEqual(era.payment_id.amount, 20.0)
        self.assertEqual(self.secondary.state, "paid")
        self.assertEqual(
            (self.secondary.amount_paid, self.secondary.amount_contractual), (20.0, 5.0)
        )
        self.assertEqual(self._receivable(self.cigna), 0.0)
        self.assertEqual(self._receivable(self.ann), self.ann_before - 20.0, "copay credited")
        self.assertEqual(self._written_off(), 15.0, "Blue Shield's 10 and Cigna's 5")
        self.assertTrue(era.payment_id.is_reconciled)

    def test_refused_when_the_secondary_pays_more_than_was_left(self):
        self._export()
        moves_before = self.env["account.move"].search_count([])
        too_much = self._remittance(
            self.cigna, "CHK-4003", self.secondary, "2", 30.0, [("OA", "23", 45.0)]
        )
        with self.assertRefused(UserError, "more than the 25.0 the primary insurer left"):
            self._import(too_much)
        reversal = self._remittance(
            self.blue_shield,
            "EFT-3002",
            self.ann_claim,
            "22",
            -40.0,
            [],
            [("CO", "45", -10.0), ("PR", "1", -5.0), ("PR", "3", -20.0)],
        )
        with self.assertRefused(UserError, "already claimed from the secondary insurer"):
            self._import(reversal)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(self.secondary.state, "submitted")


@tagged("post_install", "-at_install")
class TestSecondaryClaimOfTheCopay(TestSecondaryClaims):
    """Blue Shield pays all but Ann's copay: the secondary claim asks Cigna for the copay only;
    there is nothing to invoice Cigna until it says it pays."""

    def _post_primary(self):
        return self._import(
            self._remittance(
                self.blue_shield, "EFT-3101", self.ann_claim, "1", 55.0, [], [("PR", "3", 20.0)]
            )
        ).era_id

    def test_primary_posting_claims_the_rest_from_the_secondary(self):
        self.assertEqual(self.ann_claim.state, "paid")
        self.assertEqual((self.secondary.payer_id, self.secondary.state), (self.cigna, "to_submit"))
        self.assertEqual(self.secondary.amount_copay, 20.0)
        self.assertFalse(self.secondary.invoice_id, "Cigna owes nothing yet")
        self.assertEqual(self._receivable(self.cigna), 0.0)
        self.assertEqual(self._receivable(self.ann), self.ann_before)

    def test_secondary_837p_carries_the_primary_adjudication(self):
        cigna = self._interchanges(self._export())[0]
        self.assertEqual(x12.validate(cigna), [])
        self.assertIn("AMT*D*55~", cigna)
        self.assertIn("SVD*94036*55*HC:90853**1~\nCAS*PR*3*20~", cigna)

    def test_secondary_pays_part_and_the_client_pays_what_it_leaves(self):
        self._export()
        # Cigna pays 15 of the copay: Ann owes 5 of her 20.
        era = self._import(
            self._remittance(
                self.cigna,
                "CHK-4101",
                self.secondary,
                "2",
                15.0,
                [("OA", "23", 55.0), ("PR", "3", 5.0)],
            )
        ).era_id
        self.assertEqual(era.payment_id.amount, 15.0)
        self.assertTrue(era.payment_id.is_reconciled)
        self.assertEqual(self.secondary.state, "paid")
        self.assertEqual(self._receivable(self.cigna), 0.0)
        self.assertEqual(self._receivable(self.ann), self.ann_before - 15.0)
        self.assertEqual(self._written_off(), 0.0)

    def test_secondary_pays_the_copay_too(self):
        self._export()
        self._import(
            self._remittance(
                self.cigna, "CHK-4102", self.secondary, "2", 20.0, [("OA", "23", 55.0)]
            )
        )
        self.assertEqual(self._receivable(self.cigna), 0.0)
        self.assertEqual(self._receivable(self.ann), self.ann_before - 20.0)

    def test_refused_when_the_secondary_pays_more_than_was_left(self):
        self._export()
        with self.assertRefused(UserError, "more than the 20.0 the primary insurer left"):
            self._import(
                self._remittance(
                    self.cigna, "CHK-4103", self.secondary, "2", 25.0, [("OA", "23", 50.0)]
                )
            )
        self.assertEqual(self.secondary.state, "submitted")
