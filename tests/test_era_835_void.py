from odoo.exceptions import UserError
from odoo.tests import tagged

from ..wizards import x12
from .test_era_835 import Era835Common

# Ann's remittance, as in test_era_835: paid 40, contractual 10, deductible 5, copay 20.
ANN_PAID = [("CO", "45", 10.0), ("PR", "1", 5.0), ("PR", "3", 20.0)]


@tagged("post_install", "-at_install")
class TestEra835VoidAnswer(Era835Common):
    """The insurer's 835 answers a void (frequency 8): recorded on the claim, nothing posted,
    the rest of the remittance posted as usual; money on a voided claim refused whole."""

    def _void(self, claim, send=True):
        """The accountant voids a claim the insurer has; the 837P export sends the void."""
        claim._therapy_server_write({"payer_claim_ref": f"PCN-{claim.name}"})
        claim.with_user(self.accountant).action_void()
        self.assertEqual((claim.state, claim.frequency_code), ("to_submit", "8"))
        if send:
            self._export()
            self.assertEqual(claim.state, "voided")

    def _claim_moves(self, claim):
        return self.env["account.move"].search_count([("therapy_claim_id", "=", claim.id)])

    def test_void_answered_with_a_reversal_posts_nothing(self):
        self._void(self.dan_claim)
        self.assertEqual(self.dan_claim.invoice_id.payment_state, "reversed")
        blue_before = self._receivable(self.blue_shield)
        dan_before = self._receivable(self.dan)
        dan_moves = self._claim_moves(self.dan_claim)
        self.assertFalse(self.dan_claim.void_answered_date)
        # Blue Shield reverses Dan's claim (status 22, negative charge, nothing paid: it had
        # paid nothing) in the same remittance that pays Ann's claim.
        content = self._835(
            self.blue_shield,
            "EFT-3001",
            [
                (self.ann_claim, "1", 40.0, ANN_PAID, []),
                (
                    self.dan_claim,
                    "22",
                    0.0,
                    [("CO", "50", -75.0)],
                    [],
                    {"charge": -75.0, "frequency": "8"},
                ),
            ],
        )
        self.assertIn(f"CLP*{self.dan_claim.name}*22*-75*0**12*", content)
        dan_entry = x12.parse_835(content)["claims"][1]
        self.assertEqual((dan_entry["status"], dan_entry["frequency"]), ("22", "8"))
        wizard = self._import(content)
        era = wizard.era_id
        self.assertIn("Posted 2 claims from Blue Shield", wizard.result)
        # Dan's void: answered, nothing posted (the void credited his claim's invoice already)
        self.assertEqual(self.dan_claim.state, "voided")
        self.assertEqual(self.dan_claim.void_answered_date, era.payment_date)
        self.assertEqual(self._claim_moves(self.dan_claim), dan_moves)
        self.assertEqual(self._receivable(self.dan), dan_before)
        self.assertEqual(
            (self.dan_claim.amount_paid, self.dan_claim.amount_contractual), (0.0, 0.0)
        )
        note = self.dan_claim.message_ids[:1].body
        self.assertIn(
            "Blue Shield of California answered the void in its remittance EFT-3001", note
        )
        self.assertIn("reversal of a previous payment, nothing paid", note)
        self.assertIn("CO-50", note)
        dan_line = era.line_ids.filtered(lambda line: line.claim_id == self.dan_claim)
        self.assertEqual(
            (dan_line.amount_paid, dan_line.amount_contractual, dan_line.amount_patient),
            (0.0, 0.0, 0.0),
        )
        # Ann's claim is posted as in any remittance: only her claim moves the insurer's balance
        self.assertEqual(self.ann_claim.state, "partial")
        self.assertEqual(self._receivable(self.blue_shield), blue_before - 55.0)
        self.assertEqual(self._written_off(), 10.0, "Ann's write-off, none for Dan")
        self.assertEqual(era.payment_id.amount, 40.0)
        # the accountant finds the voids the insurer answered, and those it has not
        Claim = self.env["therapy.claim"].with_user(self.accountant)
        self.assertIn(self.dan_claim, Claim.search([("void_answered_date", "!=", False)]))
        self.assertNotIn(
            self.dan_claim,
            Claim.search([("state", "=", "voided"), ("void_answered_date", "=", False)]),
        )

    def test_void_waiting_to_be_sent_answered(self):
        """The insurer answers a void before our export sent it (the biller also sent it on
        the insurer's portal): the claim is Voided and the void is no longer sent."""
        self._void(self.bob_claim, send=False)
        bob_line = self.bob_claim.attendance_id
        self.assertEqual(bob_line.billing_status, "invoiced", "the void is not sent yet")
        aetna_before = self._receivable(self.aetna)
        wizard = self._import(
            self._835(
                self.aetna,
                "CHK-777",
                # processed with a charge of 0 and nothing paid: all the file holds
                [(self.bob_claim, "1", 0.0, [], [], {"charge": 0.0, "frequency": "8"})],
            )
        )
        self.assertEqual(wizard.era_id.amount, 0.0)
        self.assertFalse(wizard.era_id.payment_id, "nothing paid, no payment")
        self.assertEqual(self.bob_claim.state, "voided")
        self.assertEqual(self.bob_claim.void_answered_date, wizard.era_id.payment_date)
        self.assertIn("not sent again", self.bob_claim.message_ids[:1].body)
        self.assertEqual(self._receivable(self.aetna), aetna_before)
        self.assertEqual(bob_line.billing_status, "to_invoice", "claimable again")
        self.assertNotIn(
            self.bob_claim,
            self.env["therapy.claim"].search([("state", "=", "to_submit")]),
            "the next 837P export does not send the void",
        )

    def test_money_on_a_voided_claim_refused_whole(self):
        self._void(self.dan_claim)
        self._void(self.bob_claim, send=False)
        moves_before = self.env["account.move"].search_count([])
        blue_before = self._receivable(self.blue_shield)
        cases = [
            (
                self.blue_shield,
                (self.dan_claim, "1", 30.0, [("CO", "45", 45.0)], [], {"frequency": "1"}),
                "Blue Shield of California pays 30.0 on a claim that is Voided (its invoices "
                "were credited when it was voided): a voided claim is paid nothing. Ask Blue "
                "Shield of California for a remittance without this payment",
            ),
            (
                self.blue_shield,
                (self.dan_claim, "22", -30.0, [("CO", "45", -45.0)], []),
                "takes back 30.0 on a voided claim, but nothing was posted as paid on it (a "
                "claim is voided only once its payments are reversed). Ask",
            ),
            (
                self.aetna,
                (self.bob_claim, "1", 60.0, [("CO", "45", 15.0)], []),
                "Aetna pays 60.0 on a claim whose void waits to be sent (its invoices were "
                "credited when it was voided): the insurer paid the claim before it had the "
                "void. Ask Aetna",
            ),
            (
                self.blue_shield,
                (self.dan_claim, "22", 0.0, [("CO", "50", -60.0)], [], {"charge": -60.0}),
                "the insurer answers for a charge of -60.0, the claim was for 75.0",
            ),
        ]
        for number, (payer, entry, message) in enumerate(cases):
            with self.subTest(message=message):
                entries = [entry]
                if payer == self.blue_shield:
                    # the rest of the file is fine, and is not posted either
                    entries.insert(0, (self.ann_claim, "1", 40.0, ANN_PAID, []))
                with self.assertRefused(UserError, "nothing changed") as catcher:
                    self._import(self._835(payer, f"EFT-40{number}", entries))
                self.assertIn(message, str(catcher.exception))
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(self._receivable(self.blue_shield), blue_before)
        self.assertEqual(self.ann_claim.state, "submitted")
        self.assertEqual((self.dan_claim.state, self.bob_claim.state), ("voided", "to_submit"))
        self.assertFalse(self.dan_claim.void_answered_date)
        self.assertFalse(self.env["therapy.era"].search([]))

    def test_cancelled_claim_answered_refused(self):
        """A claim cancelled before it was sent: the insurer cannot answer it."""
        self.bob_claim._therapy_server_write(
            {"state": "to_submit", "submitted_on": False, "export_attachment_id": False}
        )
        self.bob_claim.with_user(self.accountant).action_void()
        self.assertEqual(self.bob_claim.state, "cancelled")
        with self.assertRefused(UserError, "nothing changed") as catcher:
            self._import(
                self._835(
                    self.aetna, "CHK-888", [(self.bob_claim, "1", 0.0, [("CO", "45", 75.0)], [])]
                )
            )
        self.assertIn(
            "the claim was cancelled before it was ever sent, so Aetna cannot have it. Check "
            "the claim ID with the insurer",
            str(catcher.exception),
        )
        self.assertEqual(self.bob_claim.state, "cancelled")
        self.assertFalse(self.bob_claim.void_answered_date)
