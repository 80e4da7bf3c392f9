from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon


class ClaimsCommon(GroupTherapyCommon):
    """A practice in California that bills two insurers; Ann and Bob are insured, Cara pays."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        california = cls.env.ref("base.state_us_5")
        usa = cls.env.ref("base.us")
        company_values = {
            "name": "Sunrise Counseling",
            "vat": "94-1234567",
            "street": "100 Main Street",
            "city": "Oakland",
            "state_id": california.id,
            "zip": "94612-1234",
            "country_id": usa.id,
            "phone": "510-555-0100",
            "therapy_taxonomy_code": "101YM0800X",
            "therapy_npi": "1245319599",
        }
        cls.company.write(company_values)
        cls.provider.write({"therapy_npi": "1234567893", "tz": "America/Los_Angeles"})
        cls.blue_shield = cls.env["res.partner"].create(
            {"name": "Blue Shield of California", "is_company": True, "therapy_payer_code": "94036"}
        )
        cls.aetna = cls.env["res.partner"].create(
            {"name": "Aetna", "is_company": True, "therapy_payer_code": "60054"}
        )
        people = [
            ("Ann Lee", "1985-04-12", "female", "12 Oak Avenue", "94610"),
            ("Bob Stone", "1979-11-02", "male", "8 Pine Road", "94611"),
            ("Cara Diaz", "1990-06-30", "female", "3 Elm Court", "94612"),
            ("Dan Moss", "1968-01-15", "male", "77 Bay Street", "94607"),
            ("Eve Park", "2012-09-09", "female", "5 Hill Lane", "94618"),
            ("Fay Park", "1981-03-03", "female", "5 Hill Lane", "94618"),
        ]
        for client, (name, birthdate, sex, street, zip_code) in zip(
            cls.clients, people, strict=True
        ):
            client.write(
                {
                    "name": name,
                    "therapy_birthdate": birthdate,
                    "therapy_sex": sex,
                    "street": street,
                    "city": "Oakland",
                    "state_id": california.id,
                    "zip": zip_code,
                    "country_id": usa.id,
                }
            )
        cls.ann, cls.bob, cls.cara, cls.dan = cls.clients[:4]
        Coverage = cls.env["therapy.coverage"]
        cls.ann_coverage = Coverage.create(
            {
                "partner_id": cls.ann.id,
                "payer_id": cls.blue_shield.id,
                "member_ident": "XYZ123456",
                "group_number": "G100",
                "copay_amount": 20.0,
            }
        )
        cls.bob_coverage = Coverage.create(
            {"partner_id": cls.bob.id, "payer_id": cls.aetna.id, "member_ident": "W987654"}
        )
        cls.dan_coverage = Coverage.create(
            {
                "partner_id": cls.dan.id,
                "payer_id": cls.blue_shield.id,
                "member_ident": "XYZ555000",
                "copay_amount": 10.0,
            }
        )
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=60)
        cls.charge = cls.cpt_90853.lst_price

    @classmethod
    def _attended_session(cls, days=-1, hour=10):
        """A session `days` from today at `hour` (UTC) where every member attended (90853)."""
        session = cls._make_session(cls.group, days=days)
        start = session.start.replace(hour=hour)
        session.write({"start": start, "stop": start + timedelta(hours=1)})
        session.action_mark_all_attended()
        return session

    @classmethod
    def _invoice(cls, session):
        session.with_user(cls.front_desk).action_invoice_attendance()
        return session

    @classmethod
    def _claim(cls, session, client):
        return cls.env["therapy.claim"].search(
            [("event_id", "=", session.id), ("partner_id", "=", client.id)]
        )

    def _credit_invoice(self, invoice, user=None, reason="billed in error"):
        """Add Credit Note on the whole invoice (by ``user``, else as the test's environment),
        and the credit note posted."""
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": reason})
        )
        (wizard.with_user(user) if user else wizard).refund_moves()
        invoice.reversal_move_ids.action_post()

    @staticmethod
    def _receivable(partner):
        """What the partner owes, from Odoo's own receivable journal items."""
        lines = partner.env["account.move.line"].search(
            [
                ("partner_id", "=", partner.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
            ]
        )
        return round(sum(lines.mapped("amount_residual")), 2)


@tagged("post_install", "-at_install")
class TestInsuranceClaims(ClaimsCommon):
    """Insured clients: the insurer's share is a receivable from the insurer, the copay the
    client's; self-pay clients are invoiced as before."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session = cls._invoice(cls._attended_session())

    def _line(self, client):
        return self.session.therapy_attendance_ids.filtered(lambda line: line.partner_id == client)

    def test_insurer_invoice_and_copay(self):
        claim = self._claim(self.session, self.ann)
        self.assertEqual(len(claim), 1, "one claim per client and session")
        self.assertEqual(claim.state, "to_submit")
        self.assertTrue(claim.name.startswith("GTC"))
        self.assertEqual(claim.payer_id, self.blue_shield)
        self.assertEqual(claim.amount_charge, self.charge)
        self.assertEqual(claim.amount_copay, 20.0)
        self.assertEqual(claim.date_of_service, self.session.start.date())
        invoice = claim.invoice_id
        self.assertEqual(invoice.partner_id, self.blue_shield)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, self.charge - 20.0)
        self.assertEqual(invoice.therapy_claim_id, claim)
        self.assertEqual(invoice.therapy_event_id, self.session)
        self.assertIn("Ann Lee", invoice.invoice_line_ids[0].name)
        self.assertEqual(invoice.invoice_line_ids[0].therapy_code, "90853")
        copay = claim.copay_invoice_id
        self.assertEqual(copay.partner_id, self.ann)
        self.assertEqual(copay.amount_total, 20.0)
        self.assertEqual(self._line(self.ann).invoice_id, copay, "the desk collects the copay")
        self.assertEqual(self._line(self.ann).billing_status, "invoiced")
        # Separate receivables, in Odoo's own books; together they are the charge.
        self.assertEqual(self._receivable(self.ann), 20.0)
        self.assertEqual(self.blue_shield.credit, self.charge - 20.0 + self.charge - 10.0)
        self.assertEqual(self._receivable(self.blue_shield), 2 * self.charge - 30.0)
        self.assertEqual(self._receivable(self.aetna), self.charge)

    def test_no_copay_and_self_pay(self):
        bob_claim = self._claim(self.session, self.bob)
        self.assertFalse(bob_claim.copay_invoice_id)
        self.assertEqual(bob_claim.invoice_id.amount_total, self.charge)
        self.assertFalse(self._receivable(self.bob))
        with self.assertRefused(UserError, "billed to Aetna and the client has no copay"):
            self._line(self.bob).with_user(self.front_desk).action_register_payment()
        # Cara has no coverage: invoiced in full, exactly as before.
        self.assertFalse(self._claim(self.session, self.cara))
        self.assertEqual(self._line(self.cara).invoice_id.partner_id, self.cara)
        self.assertEqual(self._receivable(self.cara), self.charge)

    def test_invoicing_twice_changes_nothing(self):
        claims = self.env["therapy.claim"].search([("event_id", "=", self.session.id)])
        self.assertEqual(len(claims), 3)
        self.session.therapy_attendance_ids.with_user(self.front_desk).action_invoice()
        self.assertEqual(
            self.env["therapy.claim"].search_count([("event_id", "=", self.session.id)]), 3
        )
        with self.assertRefused(UserError, "is on the insurance claim"):
            self._line(self.ann).with_user(self.front_desk).write({"product_id": self.no_fee.id})

    def test_claims_by_role(self):
        claim = self._claim(self.session, self.ann)
        for user in (self.front_desk, self.accountant, self.provider, self.shared_provider):
            self.assertEqual(
                self.env["therapy.claim"].with_user(user).search([("id", "=", claim.id)]), claim
            )
        # a provider who does not serve the group reads none of its claims, by any route
        Claim = self.env["therapy.claim"].with_user(self.other_provider)
        self.assertFalse(Claim.search_read([("event_id", "=", self.session.id)], ["name"]))
        self.assertFalse(
            Claim.formatted_read_group(
                [("event_id", "=", self.session.id)], ["payer_id"], ["__count"]
            )
        )
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            claim.with_user(self.other_provider).read(["partner_id", "coverage_id"])
        self.assertEqual(claim.with_user(self.provider).coverage_id, self.ann_coverage)
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            claim.with_user(self.provider).write({"denial_reason": "Test"})
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            claim.with_user(self.portal_user).read(["name"])
        groups = (
            self.env["therapy.claim"]
            .with_user(self.accountant)
            ._read_group([("event_id", "=", self.session.id)], ["payer_id", "state"], ["__count"])
        )
        self.assertEqual(
            sorted((payer.name, state, count) for payer, state, count in groups),
            [("Aetna", "to_submit", 1), ("Blue Shield of California", "to_submit", 2)],
        )

    def test_resubmit_needs_the_insurers_number(self):
        claim = self._claim(self.session, self.ann)
        with self.assertRefused(UserError, "has not been sent yet"):
            claim.with_user(self.front_desk).action_resubmit()
