from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..wizards import x12
from .test_era_835 import Era835Common
from .test_insurance_claims import ClaimsCommon
from .test_x12_837p import X12Common


@tagged("post_install", "-at_install")
class TestClaimVoid(X12Common):
    """Voiding a claim billed in error, as the accountant does it: a claim the insurer has is
    voided by a frequency-8 claim quoting its number; one never sent is cancelled."""

    def _line(self, client, session=None):
        return (session or self.session).therapy_attendance_ids.filtered(
            lambda line: line.partner_id == client
        )

    def _sent(self, claim, ref):
        """The insurer's acknowledgement: its claim number (the 835 import stores it)."""
        claim._therapy_server_write({"payer_claim_ref": ref})

    def test_claim_never_sent_is_cancelled(self):
        claim = self._claim(self.session, self.bob)
        self.assertEqual(claim.state, "to_submit")
        invoice = claim.invoice_id
        claim.with_user(self.accountant).action_void()
        self.assertEqual((claim.state, claim.frequency_code), ("cancelled", "1"))
        self.assertEqual(invoice.payment_state, "reversed", "the insurer owes nothing")
        self.assertFalse(self._receivable(self.aetna) - self.charge, "the evening's claim stays")
        self.assertIn("Claim cancelled before it was sent", claim.message_ids[:1].body)
        line = self._line(self.bob)
        self.assertEqual(line.billing_status, "to_invoice")
        # claimed again: a new original claim, which the next export sends
        line.with_user(self.front_desk).action_invoice()
        claims = self.env["therapy.claim"].search([("attendance_id", "=", line.id)])
        new_claim = claims - claim
        self.assertEqual((new_claim.state, new_claim.frequency_code), ("to_submit", "1"))
        self.assertNotEqual(new_claim.name, claim.name)
        self.assertEqual(line.billing_status, "invoiced")
        self.assertEqual(self._receivable(self.aetna), 2 * self.charge)

    def test_sent_claim_is_voided_by_a_frequency_8_claim(self):
        self._export()
        claim = self._claim(self.session, self.ann)
        self.assertEqual(claim.state, "submitted")
        self._sent(claim, "BSC-2026-0042")
        copay = claim.copay_invoice_id
        claim.with_user(self.accountant).action_void()
        self.assertEqual((claim.state, claim.frequency_code), ("to_submit", "8"))
        self.assertEqual(claim.invoice_id.payment_state, "reversed")
        self.assertEqual(copay.payment_state, "reversed", "the copay is credited too")
        self.assertEqual(self._receivable(self.ann), 20.0, "the evening session's copay only")
        note = claim.message_ids[:1].body
        self.assertIn("Void of Blue Shield of California's claim BSC-2026-0042", note)
        self.assertIn(claim.invoice_id.reversal_move_ids.name, note)
        # Until the void is sent, the insurer still has the claim: the service stays claimed.
        line = self._line(self.ann)
        self.assertEqual(line.billing_status, "invoiced")
        with self.assertRefused(UserError, "already waiting to be submitted"):
            claim.with_user(self.accountant).action_void()
        interchanges = self._interchanges(self._export())
        self.assertEqual(len(interchanges), 1, "only the void is left to send")
        self.assertEqual(x12.validate(interchanges[0]), [], "pyx12 accepts the void")
        self.assertIn(
            f"CLM*{claim.name}*{self.charge:g}***11:B:8*Y*A*Y*Y~\nREF*F8*BSC-2026-0042~",
            interchanges[0],
        )
        self.assertEqual(claim.state, "voided")
        self.assertTrue(claim.submitted_on)
        self.assertEqual(line.billing_status, "to_invoice", "the void is sent: claimable again")
        line.with_user(self.front_desk).action_invoice()
        new_claim = self._claim(self.session, self.ann) - claim
        self.assertEqual((new_claim.state, new_claim.frequency_code), ("to_submit", "1"))
        self.assertEqual(new_claim.copay_invoice_id.state, "posted")
        self.assertEqual(self._receivable(self.ann), 40.0)
        with self.assertRefused(UserError, "is already voided"):
            claim.with_user(self.accountant).action_void()

    def test_state_change_tracked_in_the_chatter(self):
        claim = self._claim(self.session, self.bob).with_context(tracking_disable=False)
        # Odoo tracks no record created in the same transaction (the claim was, at setup): as in
        # a later one, the void is the first change Odoo tracks.
        claim.env.flush_all()
        claim.env.cr.precommit.data.pop("mail.tracking.therapy.claim", None)
        claim.with_user(self.accountant).action_void()
        # Odoo writes tracking values when the transaction commits
        claim.env.flush_all()
        claim.env.cr.precommit.run()
        tracked = claim.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "state"
        )
        self.assertEqual(
            (tracked.old_value_char, tracked.new_value_char), ("To submit", "Cancelled")
        )

    def test_pending_replacement_is_voided(self):
        self._export()
        claim = self._claim(self.session, self.bob)
        claim._therapy_server_write({"state": "denied", "payer_claim_ref": "AET-7"})
        claim.with_user(self.accountant).action_resubmit()
        claim.with_user(self.accountant).action_void()
        self.assertEqual((claim.state, claim.frequency_code), ("to_submit", "8"))

    def test_denied_claim_is_voided(self):
        """A denial posts nothing: the claim is voided with the insurer as it stands."""
        self._export()
        claim = self._claim(self.session, self.bob)
        claim._therapy_server_write({"state": "denied", "payer_claim_ref": "AET-9"})
        claim.with_user(self.front_desk).action_void()
        self.assertEqual((claim.state, claim.frequency_code), ("to_submit", "8"))
        self.assertEqual(claim.invoice_id.payment_state, "reversed")
        self.assertEqual(self._receivable(self.aetna), self.charge, "the evening's claim")

    def test_refusals(self):
        self._export()
        ann_claim = self._claim(self.session, self.ann)
        # sent, but the insurer has not given its number yet: a void cannot quote it
        with self.assertRefused(UserError, "a void must quote it"):
            ann_claim.with_user(self.accountant).action_void()
        self.assertEqual((ann_claim.state, ann_claim.frequency_code), ("submitted", "1"))
        self.assertEqual(ann_claim.invoice_id.payment_state, "not_paid")
        bob_claim = self._claim(self.session, self.bob)
        for state, paid in (("paid", 75.0), ("partial", 50.0), ("to_submit", 50.0)):
            # the last: a replacement of a partly paid claim, waiting to be sent
            with self.subTest(state=state):
                bob_claim._therapy_server_write(
                    {"state": state, "amount_paid": paid, "payer_claim_ref": "AET-1"}
                )
                with self.assertRefused(UserError, "remittance is posted on it"):
                    bob_claim.with_user(self.accountant).action_void()
                self.assertEqual(bob_claim.invoice_id.payment_state, "not_paid")
        # a provider reads the claims of the groups they serve, and voids none
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            ann_claim.with_user(self.provider).action_void()
        self.assertEqual(ann_claim.state, "submitted")

    def test_workflow_fields_refused_over_rpc(self):
        claim = self._claim(self.session, self.ann)
        for user in (self.accountant, self.front_desk):
            for vals in (
                {"state": "voided"},
                {"state": "cancelled"},
                {"frequency_code": "8"},
                {"frequency_code": "8", "state": "to_submit", "payer_claim_ref": "X"},
            ):
                with self.subTest(user=user.login, vals=vals):
                    with self.assertRefused(UserError, "is set by the application itself"):
                        claim.with_user(user).write(vals)
        self.assertEqual((claim.state, claim.frequency_code), ("to_submit", "1"))
        self.assertEqual(claim.invoice_id.state, "posted")


@tagged("post_install", "-at_install")
class TestVoidedClaimFreesTheSession(ClaimsCommon):
    """Once its claim is cancelled or its void sent, a session may move to another day."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 18:00 UTC is the morning in California: the same local day.
        cls.session = cls._attended_session(days=-3, hour=18)
        cls.day = cls.session.therapy_session_date
        cls.bob_line = cls.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.bob
        )
        cls.bob_line.with_user(cls.front_desk).action_invoice()
        cls.claim = cls._claim(cls.session, cls.bob)

    def _move_a_day(self):
        start = self.session.start + timedelta(days=1)
        self.session.with_user(self.front_desk).write(
            {
                "start": fields.Datetime.to_string(start),
                "stop": fields.Datetime.to_string(start + timedelta(hours=1)),
            }
        )

    def test_cancelled_claim_frees_the_session(self):
        self.claim.with_user(self.accountant).action_void()
        self._move_a_day()
        new_day = self.day + timedelta(days=1)
        self.assertEqual(self.bob_line.session_date, new_day)
        self.bob_line.with_user(self.front_desk).action_invoice()
        new_claim = self._claim(self.session, self.bob) - self.claim
        self.assertEqual(new_claim.date_of_service, new_day)
        self.assertEqual(self.claim.date_of_service, self.day, "the cancelled claim stays")

    def test_void_waiting_to_be_sent_keeps_the_session(self):
        # sent, as the 837P export marks it (test_claim_void sends one for real)
        self.claim._therapy_server_write(
            {"state": "submitted", "submitted_on": fields.Datetime.now(), "payer_claim_ref": "A1"}
        )
        self.claim.with_user(self.accountant).action_void()
        with self.assertRefused(UserError, "Void the claim first") as catcher:
            self._move_a_day()
        self.assertIn(self.claim.name, str(catcher.exception))
        self.assertEqual(self.session.therapy_session_date, self.day)
        self.claim._therapy_server_write({"state": "voided"})
        self._move_a_day()
        self.assertEqual(self.bob_line.session_date, self.day + timedelta(days=1))


# What the insurer takes back of Ann's first remittance (as in test_era_835).
ANN_REVERSED = [("CO", "45", -10.0), ("PR", "1", -5.0), ("PR", "3", -20.0)]


@tagged("post_install", "-at_install")
class TestClaimVoidAfterRemittance(Era835Common):
    """A paid claim is voided once the insurer has reversed its payment (835, CLP02 = 22)."""

    def test_paid_claim_voided_once_the_insurer_reversed_it(self):
        self._import(self._blue_shield_file())
        payer_ref = self.ann_claim.payer_claim_ref
        self.assertEqual(self.ann_claim.state, "partial")
        with self.assertRefused(UserError, "remittance is posted on it"):
            self.ann_claim.with_user(self.accountant).action_void()
        # The insurer takes Ann's 40 back, netted from the evening session's payment.
        evening_claim = self._claim(self.evening, self.ann)
        self._import(
            self._835(
                self.blue_shield,
                "EFT-2001",
                [
                    (self.ann_claim, "22", -40.0, ANN_REVERSED, []),
                    (evening_claim, "1", 55.0, [("PR", "3", 20.0)], []),
                ],
            )
        )
        self.assertEqual(self.ann_claim.state, "submitted")
        self.assertEqual(self.ann_claim.amount_residual, 55.0)
        blue_before_void = self._receivable(self.blue_shield)
        self.ann_claim.with_user(self.accountant).action_void()
        self.assertEqual((self.ann_claim.state, self.ann_claim.frequency_code), ("to_submit", "8"))
        self.assertEqual(self.ann_claim.invoice_id.payment_state, "reversed")
        interchanges = self._interchanges(self._export())
        self.assertEqual(x12.validate(interchanges[0]), [])
        self.assertIn(f"11:B:8*Y*A*Y*Y~\nREF*F8*{payer_ref}~", interchanges[0])
        self.assertEqual(self.ann_claim.state, "voided")
        # Blue Shield no longer owes the 55 left on Ann's claim once its payment was taken back.
        self.assertEqual(self._receivable(self.blue_shield), blue_before_void - 55.0)
        self.assertEqual(self.ann_claim.amount_residual, 0.0)
