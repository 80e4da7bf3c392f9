from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_charting import GROUP_NOTE
from .test_insurance_claims import ClaimsCommon


@tagged("post_install", "-at_install")
class TestBilledSessionRemoval(ClaimsCommon):
    """A billed session is not archived, deleted or cancelled, and a billed client is not
    removed from it, by whatever route an RPC client takes: the refusal says what to do first
    and leaves everything as it was. Cara is on a posted invoice, Bob on a claim (no copay)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session = cls._attended_session(days=-2, hour=18)
        cls.cara_line, cls.bob_line, cls.dan_line = (
            cls.session.therapy_attendance_ids.filtered(lambda line, c=client: line.partner_id == c)
            for client in (cls.cara, cls.bob, cls.dan)
        )
        cls.invoice = cls.cara_line.with_user(cls.front_desk).action_invoice()
        cls.bob_line.with_user(cls.front_desk).action_invoice()
        cls.claim = cls._claim(cls.session, cls.bob)
        cls.other_session = cls._make_session(cls.group, days=-1)

    def _assert_unchanged(self):
        self.assertTrue(self.session.active)
        self.assertFalse(self.session.therapy_cancelled)
        self.assertEqual(len(self.session.therapy_attendance_ids), 4)
        self.assertLessEqual(self.cara | self.bob, self.session.partner_ids)
        self.assertLessEqual(self.cara | self.bob, self.session.attendee_ids.partner_id)
        self.assertEqual(self.cara_line.state, "attended")
        self.assertEqual(self.cara_line.invoice_id, self.invoice)
        self.assertEqual(self.invoice.state, "posted")
        self.assertEqual(self.claim.state, "to_submit")

    def _credit_and_void(self):
        self._credit_invoice(self.invoice, self.accountant)
        self.claim.with_user(self.accountant).action_void()

    def test_archive_refused(self):
        for user in (self.front_desk, self.provider):
            for route in ("action_archive", "write"):
                with self.subTest(user=user.login, route=route):
                    session = self.session.with_user(user)
                    with self.assertRefused(UserError, "to archive the session") as catcher:
                        if route == "write":
                            session.write({"active": False})
                        else:
                            session.action_archive()
                    self.assertRegex(
                        str(catcher.exception),
                        "credit the invoice first|void the claim first",
                    )
                    self._assert_unchanged()

    def test_delete_refused(self):
        with self.assertRefused(UserError, "to delete the session") as catcher:
            self.session.with_user(self.manager).unlink()
        self.assertRegex(str(catcher.exception), "Add Credit Note|Void on the claim")
        self._assert_unchanged()

    def test_remove_billed_client_refused(self):
        for client, line, what in (
            (self.cara, self.cara_line, f"posted invoice {self.invoice.name}"),
            (self.bob, self.bob_line, f"insurance claim {self.claim.name}"),
        ):
            attendee = self.session.attendee_ids.filtered(lambda a, c=client: a.partner_id == c)
            session = self.session.with_user(self.front_desk)
            remaining = (self.session.partner_ids - client).ids
            for name, remove in (
                (
                    "partner_ids unlink",
                    lambda s=session, c=client: s.write({"partner_ids": [Command.unlink(c.id)]}),
                ),
                (
                    "partner_ids set",
                    lambda s=session, r=remaining: s.write({"partner_ids": [Command.set(r)]}),
                ),
                (
                    "attendee_ids delete",
                    lambda s=session, a=attendee: s.write({"attendee_ids": [Command.delete(a.id)]}),
                ),
                ("attendee unlink", lambda a=attendee: a.with_user(self.front_desk).unlink()),
                ("attendance unlink", lambda ln=line: ln.with_user(self.manager).unlink()),
                (
                    "attendance cleared",
                    lambda ln=line: ln.with_user(self.front_desk).write(
                        {"state": False, "product_id": False}
                    ),
                ),
                (
                    "attendance moved to another session",
                    lambda ln=line: ln.with_user(self.front_desk).write(
                        {"event_id": self.other_session.id}
                    ),
                ),
            ):
                with self.subTest(client=client.name, route=name):
                    with self.assertRefused(UserError, what):
                        remove()
                    self._assert_unchanged()

    def test_cancel_refused_for_a_claim_without_copay(self):
        # Bob's claim has no copay: no client invoice, claimed all the same.
        self.cara_line.invoice_id.button_draft()
        self.cara_line.invoice_id.button_cancel()
        self.assertFalse(self.cara_line.invoice_id)
        with self.assertRefused(UserError, "to cancel the session, void the claim first"):
            self.session.with_user(self.front_desk).action_cancel_session()
        self.assertFalse(self.session.therapy_cancelled)
        self.assertEqual(self.bob_line.state, "attended")

    def test_signed_note_refuses_archive_and_removal(self):
        self._credit_and_void()
        action = self.session.with_user(self.provider).action_open_charting()
        wizard = self.env[action["res_model"]].with_user(self.provider).browse(action["res_id"])
        wizard.group_note = GROUP_NOTE
        wizard._sign()
        with self.assertRefused(UserError, "chart note for"):
            self.session.with_user(self.front_desk).action_archive()
        with self.assertRefused(UserError, "adds an addendum"):
            self.session.with_user(self.front_desk).write(
                {"partner_ids": [Command.unlink(self.dan.id)]}
            )
        self.assertTrue(self.session.active)
        self.assertIn(self.dan, self.session.partner_ids)

    def test_unbilled_again_archives_and_removes(self):
        self._credit_and_void()
        self.assertEqual(self.claim.state, "cancelled")
        self.assertEqual(self.cara_line.billing_status, "to_invoice")
        # a client whose attendance is recorded but not billed leaves the session
        session = self.session.with_user(self.front_desk)
        session.write({"partner_ids": [Command.unlink(self.cara.id)]})
        self.assertNotIn(self.cara, self.session.attendee_ids.partner_id)
        session.action_archive()
        self.assertFalse(self.session.active)
        session.action_unarchive()
        self.assertTrue(self.session.active)
