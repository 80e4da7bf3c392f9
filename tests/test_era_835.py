import base64
from datetime import datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..wizards import x12
from .test_x12_837p import X12Common


class Era835Common(X12Common):
    """Signed, invoiced and submitted claims, and 835 files as the insurers send them."""

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

    def _835(
        self, payer, trace, entries, amount=None, payee_npi="1245319599", provider_adjustments=()
    ):
        """An 835 as the insurer sends it; entries: (claim, status, paid, adjustments, remarks)
        or (claim, status, paid, adjustments, remarks, {"charge": ..., "frequency": ...})."""
        claims = []
        for claim, status, paid, adjustments, remarks, *extra in entries:
            extra = extra[0] if extra else {}
            name = (claim.partner_id.name if claim else "Nobody Known").split()
            # A reversal (status 22) takes the claim back: its amounts are negative.
            charge = extra.get("charge", -75.0 if status == "22" else 75.0)
            claims.append(
                {
                    "ref": claim.name if claim else "GTC9999999",
                    "status": status,
                    "charge": charge,
                    "paid": paid,
                    "patient": sum(m for g, _c, m in adjustments if g == "PR"),
                    "payer_ref": f"PCN-{claim.name if claim else 'X'}",
                    "adjustments": adjustments,
                    "remarks": remarks,
                    "client": {"last": name[-1], "first": name[0]},
                    "member_ident": "M1",
                    "frequency": extra.get("frequency"),
                    "services": [("90853", charge, paid, self.today)],
                }
            )
        header = {
            "created": datetime(2026, 12, 7, 9, 0),
            "control_number": 7,
            "trace": trace,
            "payer": {"name": payer.name, "code": payer.therapy_payer_code},
            "payee": {"name": "Sunrise Counseling", "npi": payee_npi},
            "amount": sum(claim["paid"] for claim in claims)
            - sum(money for _reason, _ref, money in provider_adjustments)
            if amount is None
            else amount,
            "provider_adjustments": list(provider_adjustments),
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


@tagged("post_install", "-at_install")
class TestEra835(Era835Common):
    """Remittances posted through Odoo Accounting: paid, partially paid, denied, twice."""

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


@tagged("post_install", "-at_install")
class TestEra835Reversal(Era835Common):
    """CLP02 = 22: the insurer takes back a payment it posted, usually to pay the claim anew."""

    ANN_REVERSED = [("CO", "45", -10.0), ("PR", "1", -5.0), ("PR", "3", -20.0)]

    def setUp(self):
        super().setUp()
        self.blue_before = self._receivable(self.blue_shield)
        self.ann_before = self._receivable(self.ann)
        # The first remittance: Ann partially paid (40 paid, 10 written off, 5 deductible).
        self.first_era = self._import(self._blue_shield_file()).era_id
        self.first_refund = self.env["account.move"].search(
            [
                ("therapy_claim_id", "=", self.ann_claim.id),
                ("move_type", "=", "out_refund"),
                ("partner_id", "=", self.blue_shield.id),
            ]
        )
        self.deductible_invoice = self.env["account.move"].search(
            [("therapy_claim_id", "=", self.ann_claim.id), ("partner_id", "=", self.ann.id)]
        )

    def _open_payer_credit(self):
        """The insurer's payment money not matched to any invoice."""
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "=", self.blue_shield.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("move_id.origin_payment_id", "!=", False),
            ]
        )
        return round(sum(lines.mapped("amount_residual")), 2)

    def test_reversal_and_correction_in_one_file(self):
        self.assertEqual(self.ann_claim.state, "partial")
        self.assertEqual(self._receivable(self.ann), self.ann_before + 5.0)
        self.assertEqual(self._written_off(), 10.0)
        # The insurer takes back the 40 and pays 45 instead: the deductible did not apply.
        content = self._835(
            self.blue_shield,
            "EFT-1002",
            [
                (self.ann_claim, "22", -40.0, self.ANN_REVERSED, []),
                (self.ann_claim, "1", 45.0, [("CO", "45", 10.0), ("PR", "3", 20.0)], []),
            ],
        )
        wizard = self._import(content)
        era = wizard.era_id
        self.assertEqual(era.amount, 5.0, "the net of the two")
        self.assertEqual(era.payment_id.amount, 5.0)
        # The first remittance's write-off and the deductible moved to Ann are reversed by
        # Odoo's reversals; the claim is paid again as the insurer now says.
        for move in (self.first_refund, self.deductible_invoice):
            reversal = move.reversal_move_ids
            self.assertEqual(reversal.state, "posted", f"{move.name} is reversed")
            self.assertEqual((move.amount_residual, reversal.amount_residual), (0.0, 0.0))
        self.assertEqual(self.ann_claim.state, "paid")
        self.assertEqual(
            (self.ann_claim.amount_paid, self.ann_claim.amount_contractual), (45.0, 10.0)
        )
        self.assertEqual(self.ann_claim.amount_residual, 0.0)
        self.assertEqual(self._receivable(self.ann), self.ann_before, "only her copays")
        self.assertEqual(self._receivable(self.blue_shield), self.blue_before - 55.0)
        self.assertEqual(self._open_payer_credit(), 0.0, "40 + 5 settle the 45")
        self.assertEqual(self._written_off(), 10.0)
        self.assertEqual(
            era.line_ids.mapped("status"),
            ["reversal of a previous payment", "processed as primary"],
        )
        self.assertEqual(era.line_ids[0].amount_paid, -40.0)
        # The same file again changes nothing.
        self.assertIn("already posted", self._import(content).result)
        self.assertEqual(self._receivable(self.blue_shield), self.blue_before - 55.0)

    def test_reversal_netted_from_another_claims_payment(self):
        evening_claim = self._claim(self.evening, self.ann)
        self.assertEqual(evening_claim.state, "submitted")
        blue_after_first = self._receivable(self.blue_shield)
        content = self._835(
            self.blue_shield,
            "EFT-1003",
            [
                (self.ann_claim, "22", -40.0, self.ANN_REVERSED, []),
                (evening_claim, "1", 55.0, [("PR", "3", 20.0)], []),
            ],
        )
        era = self._import(content).era_id
        self.assertEqual(era.payment_id.amount, 15.0, "55 paid less the 40 taken back")
        # Ann's first claim waits for the insurer again, its invoice open for the 55.
        self.assertEqual(self.ann_claim.state, "submitted")
        self.assertEqual(self.ann_claim.amount_paid, 0.0)
        self.assertEqual(self.ann_claim.amount_residual, 55.0)
        self.assertEqual(evening_claim.state, "paid")
        self.assertEqual(evening_claim.amount_residual, 0.0, "15 paid + the 40 taken back")
        self.assertEqual(self._open_payer_credit(), 0.0)
        self.assertEqual(self._receivable(self.blue_shield), blue_after_first)
        self.assertEqual(self._written_off(), 0.0, "the write-off is reversed")
        self.assertEqual(self._receivable(self.ann), self.ann_before, "the deductible too")

    def test_reversal_of_what_was_not_posted_is_refused(self):
        moves_before = self.env["account.move"].search_count([])
        never_paid = self._835(
            self.aetna,
            "CHK-9",
            [(self.bob_claim, "22", 0.0, [("CO", "45", -75.0)], [])],
        )
        with self.assertRefused(UserError, "reverses a payment, but none was posted"):
            self._import(never_paid)
        wrong_amount = self._835(
            self.blue_shield,
            "EFT-1004",
            [
                (self.ann_claim, "22", -30.0, [("CO", "45", -20.0), ("PR", "3", -25.0)], []),
                (self.ann_claim, "1", 30.0, [("CO", "45", 20.0), ("PR", "3", 25.0)], []),
            ],
        )
        with self.assertRefused(UserError, "takes back 30.0, but 40.0 was posted"):
            self._import(wrong_amount)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(self.ann_claim.state, "partial")
        self.assertFalse(self.first_refund.reversal_move_ids)


@tagged("post_install", "-at_install")
class TestEra835ProviderAdjustments(Era835Common):
    """PLB: what the insurer withholds from its payment, or adds to it, for no one claim."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plb_account = cls.env["account.account"].create(
            {"name": "Insurer Adjustments", "code": "499200", "account_type": "expense"}
        )

    def _plb_balance(self):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", self.plb_account.id), ("parent_state", "=", "posted")]
        )
        return round(sum(lines.mapped("balance")), 2)

    def _bob_paid(self, trace, provider_adjustments):
        return self._835(
            self.aetna,
            trace,
            [(self.bob_claim, "1", 60.0, [("CO", "45", 15.0)], [])],
            provider_adjustments=provider_adjustments,
        )

    def test_overpayment_recovery_is_withheld(self):
        self.company.therapy_plb_account_id = self.plb_account
        aetna_before = self._receivable(self.aetna)
        era = self._import(self._bob_paid("CHK-700", [("WO", "PCN-OLD-1", 10.0)])).era_id
        self.assertEqual(era.payment_id.amount, 50.0, "60 paid less the 10 recovered")
        self.assertEqual(era.amount_provider_adjustments, 10.0)
        self.assertIn("WO: Overpayment recovery (ref PCN-OLD-1): 10.00", era.provider_adjustments)
        self.assertEqual(era.provider_adjustment_move_id.state, "posted")
        self.assertEqual(self.bob_claim.state, "paid")
        self.assertEqual(self.bob_claim.amount_residual, 0.0, "50 paid + 10 withheld + 15 CO")
        self.assertEqual(self._receivable(self.aetna), aetna_before - 75.0)
        self.assertEqual(self._plb_balance(), 10.0)
        self.assertEqual(self._written_off(), 15.0)

    def test_interest_is_added(self):
        self.company.therapy_plb_account_id = self.plb_account
        aetna_before = self._receivable(self.aetna)
        era = self._import(self._bob_paid("CHK-701", [("L6", "", -1.25)])).era_id
        self.assertEqual(era.payment_id.amount, 61.25)
        self.assertEqual(self.bob_claim.amount_residual, 0.0)
        self.assertEqual(self._receivable(self.aetna), aetna_before - 75.0, "no open credit")
        self.assertEqual(self._plb_balance(), -1.25, "the interest is earned")

    def test_refused_without_an_account_or_when_it_does_not_add_up(self):
        moves_before = self.env["account.move"].search_count([])
        with self.assertRefused(UserError, "Set the Provider Adjustments account"):
            self._import(self._bob_paid("CHK-702", [("WO", "X", 10.0)]))
        self.company.therapy_plb_account_id = self.plb_account
        wrong_total = self._835(
            self.aetna,
            "CHK-703",
            [(self.bob_claim, "1", 60.0, [("CO", "45", 15.0)], [])],
            amount=60.0,
            provider_adjustments=[("WO", "X", 10.0)],
        )
        with self.assertRefused(UserError, "less 10.0 of provider adjustments"):
            self._import(wrong_total)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(self.bob_claim.state, "submitted")

    def test_reasons_booked_to_their_own_accounts(self):
        recovery, interest = self.env["account.account"].create(
            [
                {"name": "Overpayment Recoveries", "code": "499300", "account_type": "expense"},
                {"name": "Interest Income", "code": "499400", "account_type": "income_other"},
            ]
        )
        chief = new_test_user(
            self.env, "gt_chief_accountant", groups="account.group_account_manager"
        )
        self.env["therapy.plb.account"].with_user(chief).create(
            [
                {"reason": "WO", "account_id": recovery.id},
                {"reason": "L6", "account_id": interest.id},
            ]
        )
        with self.assertRaises(AccessError):
            self.env["therapy.plb.account"].with_user(self.accountant).create(
                {"reason": "72", "account_id": recovery.id}
            )
        self.company.therapy_plb_account_id = self.plb_account
        aetna_before = self._receivable(self.aetna)
        content = self._bob_paid(
            "CHK-704", [("WO", "PCN-OLD-2", 10.0), ("L6", "", -1.25), ("72", "R1", 5.0)]
        )
        era = self._import(content).era_id
        self.assertEqual(era.payment_id.amount, 46.25, "60 - 10 + 1.25 - 5")
        self.assertEqual(self.bob_claim.amount_residual, 0.0)
        self.assertEqual(self._receivable(self.aetna), aetna_before - 75.0)
        balances = {
            account: round(
                sum(
                    era.provider_adjustment_move_id.line_ids.filtered(
                        lambda line, account=account: line.account_id == account
                    ).mapped("balance")
                ),
                2,
            )
            for account in (recovery, interest, self.plb_account)
        }
        self.assertEqual(
            balances, {recovery: 10.0, interest: -1.25, self.plb_account: 5.0}, "72: the default"
        )

    def test_without_the_default_account_each_reason_needs_its_own(self):
        recovery = self.env["account.account"].create(
            {"name": "Overpayment Recoveries", "code": "499300", "account_type": "expense"}
        )
        self.env["therapy.plb.account"].create({"reason": "WO", "account_id": recovery.id})
        moves_before = self.env["account.move"].search_count([])
        self.assertEqual(
            self._import(self._bob_paid("CHK-705", [("WO", "X", 10.0)])).era_id.payment_id.amount,
            50.0,
        )
        with self.assertRefused(UserError, "an account for reason L6: Interest owed") as catcher:
            self._import(self._bob_paid("CHK-706", [("WO", "X", 10.0), ("L6", "", -1.0)]))
        self.assertNotIn("WO:", str(catcher.exception), "WO has its account")
        self.assertGreater(self.env["account.move"].search_count([]), moves_before)


@tagged("post_install", "-at_install")
class TestEra835Performance(Era835Common):
    """An 835 posts its claims' entries in batches: each more claim costs a few queries (Odoo
    numbering its credit note), not a credit note, a posting and a reconciliation of its own."""

    def _queries(self, content):
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        self._import(content)
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def test_each_more_claim_costs_few_queries(self):
        evening_claim = self._claim(self.evening, self.ann)
        paid = [("CO", "45", 10.0), ("PR", "3", 20.0)]
        # A first remittance warms what any posting reads once (journals, sequences, accounts).
        bob_evening = self._claim(self.evening, self.bob)
        self._import(
            self._835(self.aetna, "CHK-P0", [(bob_evening, "1", 60.0, [("CO", "45", 15.0)], [])])
        )
        one = self._queries(
            self._835(self.aetna, "CHK-P1", [(self.bob_claim, "1", 60.0, [("CO", "45", 15.0)], [])])
        )
        three = self._queries(
            self._835(
                self.blue_shield,
                "EFT-P3",
                [
                    (self.ann_claim, "1", 45.0, paid, []),
                    (evening_claim, "1", 45.0, paid, []),
                    (self.dan_claim, "1", 55.0, [("CO", "45", 10.0), ("PR", "3", 10.0)], []),
                ],
            )
        )
        self.assertEqual(self.ann_claim.amount_residual, 0.0)
        self.assertEqual(self.dan_claim.amount_residual, 0.0)
        # Measured: 14.5 queries per more claim (it was 66.5 when each claim was posted and
        # reconciled on its own).
        self.assertLessEqual((three - one) / 2, 25, f"1 claim: {one} queries, 3 claims: {three}")
