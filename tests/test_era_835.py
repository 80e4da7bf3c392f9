import base64
from datetime import datetime

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..wizards import x12
from .test_x12_837p import X12Common


@tagged("post_install", "-at_install")
class TestEra835(X12Common):
    """Remittances posted through Odoo Accounting: paid, partially paid, denied, twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.writeoff_account = cls.env["account.account"].create(
            {"name": "Contractual Adjustments", "code": "499100", "account_type": "expense"}
        )
        cls.company.therapy_writeoff_account_id = cls.writeoff_account
        cls._export()
        cls.ann_claim = cls._claim(cls.session, cls.ann)
        cls.dan_claim = cls._claim(cls.session, cls.dan)
        cls.bob_claim = cls._claim(cls.session, cls.bob)

    def _835(self, payer, trace, entries, amount=None, payee_npi="1245319599"):
        """An 835 as the insurer sends it; entries: (claim, status, paid, adjustments, remarks)."""
        claims = []
        for claim, status, paid, adjustments, remarks in entries:
            name = (claim.partner_id.name if claim else "Nobody Known").split()
            claims.append(
                {
                    "ref": claim.name if claim else "GTC9999999",
                    "status": status,
                    "charge": 75.0,
                    "paid": paid,
                    "patient": sum(m for g, _c, m in adjustments if g == "PR"),
                    "payer_ref": f"PCN-{claim.name if claim else 'X'}",
                    "adjustments": adjustments,
                    "remarks": remarks,
                    "client": {"last": name[-1], "first": name[0]},
                    "member_ident": "M1",
                    "services": [("90853", 75.0, paid, self.today)],
                }
            )
        header = {
            "created": datetime(2026, 12, 7, 9, 0),
            "control_number": 7,
            "trace": trace,
            "payer": {"name": payer.name, "code": payer.therapy_payer_code},
            "payee": {"name": "Sunrise Counseling", "npi": payee_npi},
            "amount": sum(claim["paid"] for claim in claims) if amount is None else amount,
        }
        content = x12.build_835(header, claims)
        self.assertEqual(x12.validate(content), [], "the test's own 835 is valid")
        return content

    def _import(self, content, user=None):
        wizard = (
            self.env["therapy.era.import.wizard"]
            .with_user(user or self.accountant)
            .create({"data": base64.b64encode(content.encode()), "filename": "era.835"})
        )
        wizard.action_import()
        return wizard

    def _blue_shield_file(self):
        return self._835(
            self.blue_shield,
            "EFT-1001",
            [
                # Ann: charge 75 = paid 40 + contractual 10 + deductible 5 + copay 20.
                (
                    self.ann_claim,
                    "1",
                    40.0,
                    [("CO", "45", 10.0), ("PR", "1", 5.0), ("PR", "3", 20.0)],
                    [],
                ),
                # Dan: denied, not medically necessary.
                (self.dan_claim, "4", 0.0, [("CO", "50", 75.0)], ["N115"]),
            ],
        )

    def _written_off(self):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", self.writeoff_account.id), ("parent_state", "=", "posted")]
        )
        return round(sum(lines.mapped("balance")), 2)

    def test_paid_in_full_with_contractual_adjustment(self):
        aetna_before = self._receivable(self.aetna)
        wizard = self._import(
            self._835(
                self.aetna, "CHK-555", [(self.bob_claim, "1", 60.0, [("CO", "45", 15.0)], [])]
            )
        )
        self.assertIn("Posted 1 claims from Aetna", wizard.result)
        self.assertEqual(self.bob_claim.state, "paid")
        self.assertEqual(self.bob_claim.amount_residual, 0.0)
        self.assertEqual(self.bob_claim.amount_paid, 60.0)
        self.assertEqual(self.bob_claim.amount_contractual, 15.0)
        self.assertEqual(self.bob_claim.payer_claim_ref, f"PCN-{self.bob_claim.name}")
        self.assertEqual(self._receivable(self.aetna), aetna_before - 75.0)
        self.assertEqual(self._receivable(self.bob), 0.0, "Bob owes nothing")
        self.assertEqual(self._written_off(), 15.0)
        payment = wizard.era_id.payment_id
        self.assertEqual(
            (payment.amount, payment.partner_id, payment.state != "draft"), (60.0, self.aetna, True)
        )
        self.assertTrue(payment.is_reconciled)

    def test_partial_denied_and_duplicate(self):
        blue_before = self._receivable(self.blue_shield)
        ann_before = self._receivable(self.ann)
        moves_before = self.env["account.move"].search_count([])
        content = self._blue_shield_file()
        wizard = self._import(content)
        era = wizard.era_id
        # Ann: the insurer's invoice (75 - 20 copay) is settled: 40 paid, 10 written off, and
        # the 5 deductible moved to Ann, who now owes her copay and the deductible.
        self.assertEqual(self.ann_claim.state, "partial")
        self.assertEqual(self.ann_claim.amount_residual, 0.0)
        self.assertEqual(self.ann_claim.amount_patient, 25.0)
        self.assertEqual(self._receivable(self.ann), ann_before + 5.0)
        self.assertEqual(self._receivable(self.ann), 20.0 + 20.0 + 5.0, "two copays + deductible")
        # Dan: denied, with the reason in words; his claim's balance waits for the biller.
        self.assertEqual(self.dan_claim.state, "denied")
        self.assertIn("CO-50: Non-covered service", self.dan_claim.denial_reason)
        self.assertIn(
            "N115: Decision based on a local coverage determination", self.dan_claim.denial_reason
        )
        self.assertEqual(self.dan_claim.amount_residual, 65.0)
        self.assertEqual(self._receivable(self.blue_shield), blue_before - 55.0)
        self.assertEqual(self._written_off(), 10.0)
        self.assertEqual(era.payment_id.amount, 40.0)
        self.assertEqual(era.amount, 40.0)
        self.assertEqual(len(era.line_ids), 2)
        self.assertEqual(era.attachment_id.raw.decode(), content)
        moves_after = self.env["account.move"].search_count([])
        # The same file again: nothing changes.
        again = self._import(content)
        self.assertIn("already posted: nothing changed", again.result)
        self.assertEqual(again.era_id, era)
        self.assertEqual(self.env["account.move"].search_count([]), moves_after)
        self.assertEqual(self._receivable(self.blue_shield), blue_before - 55.0)
        self.assertEqual(self._written_off(), 10.0)
        self.assertGreater(moves_after, moves_before)
        # The denied claim is corrected and resubmitted as a replacement of the insurer's.
        self.dan_claim.with_user(self.accountant).action_resubmit()
        self.assertEqual(self.dan_claim.frequency_code, "7")
        self.assertEqual(self.dan_claim.payer_claim_ref, f"PCN-{self.dan_claim.name}")

    def test_bad_files_post_nothing(self):
        moves_before = self.env["account.move"].search_count([])
        payments_before = self.env["account.payment"].search_count([])
        unknown_and_unbalanced = self._835(
            self.blue_shield,
            "EFT-2002",
            [
                (self.ann_claim, "1", 40.0, [("CO", "45", 10.0), ("PR", "3", 20.0)], []),
                (None, "1", 10.0, [("CO", "45", 65.0)], []),
            ],
            amount=99.0,
        )
        with self.assertRefused(UserError, "nothing changed") as catcher:
            self._import(unknown_and_unbalanced)
        message = str(catcher.exception)
        self.assertIn("The remittance does not balance: the payment is 99.0", message)
        self.assertIn("Claim GTC9999999 (segment", message)
        self.assertIn("no such claim here", message)
        self.assertIn(f"Claim {self.ann_claim.name} (segment 13) does not balance", message)
        other_payee = self._835(
            self.blue_shield,
            "EFT-2003",
            [(self.ann_claim, "1", 55.0, [("CO", "45", 20.0)], [])],
            payee_npi="1003000126",
        )
        with self.assertRefused(UserError, "is for the provider with NPI 1003000126"):
            self._import(other_payee)
        with self.assertRefused(UserError, "not a valid 835"):
            self._import("ISA*garbage~")
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(self.env["account.payment"].search_count([]), payments_before)
        self.assertEqual(self.ann_claim.state, "submitted")
        self.assertFalse(self.env["therapy.era"].search([]))
