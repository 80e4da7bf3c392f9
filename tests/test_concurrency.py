from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import pairwise

from psycopg2.errors import SerializationFailure

from odoo import api
from odoo.exceptions import UserError
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, mute_logger

QUIET = {"tracking_disable": True, "mail_create_nolog": True, "no_mail_to_attendees": True}


@tagged("post_install", "-at_install")
class TestConcurrency(TransactionCase):
    """Two users at once, each in their own transaction (two real database connections).

    A test's own cursor never commits, so the session these tests race on is committed by a
    connection of its own, and removed again at the end.
    """

    def setUp(self):
        super().setUp()
        self.admin_id = self.env.ref("base.user_admin").id
        with self._transaction() as env:
            self.session_id, self.partner_ids = self._make_session(env)
            env.cr.commit()
            company = env["calendar.event"].browse(self.session_id).therapy_group_id.company_id
            self.chain_head = self._chain_head(env, company.id)
        self.addCleanup(self._restore_chain, company.id)
        self.addCleanup(self._remove_session)

    @contextmanager
    def _transaction(self):
        """A user's own transaction, rolled back unless the caller commits."""
        cr = db_connect(self.env.cr.dbname).cursor()
        try:
            yield api.Environment(cr, self.admin_id, dict(QUIET))
        finally:
            cr.rollback()
            cr.close()

    def _make_session(self, env):
        """A session of yesterday where three clients attended, to invoice and chart."""
        stamp = datetime.now().strftime("%H%M%S%f")
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Race Client {stamp} {index}",
                    "therapy_diagnosis_ids": [
                        (4, env.ref("group_therapy.therapy_diagnosis_f41_1").id)
                    ],
                }
                for index in range(3)
            ]
        )
        group = env["therapy.group"].create(
            {"name": f"Race Group {stamp}", "code": f"R{stamp[-4:]}", "provider_id": self.admin_id}
        )
        env["therapy.group.member"].create(
            [
                {"group_id": group.id, "partner_id": partner.id, "date_start": "2020-01-01"}
                for partner in partners
            ]
        )
        start = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(
            days=1
        )
        session = env["calendar.event"].create(
            {
                "therapy_group_id": group.id,
                "start": start,
                "stop": start + timedelta(hours=1),
                "user_id": self.admin_id,
            }
        )
        session.action_mark_all_attended()
        return session.id, partners.ids

    @staticmethod
    def _chain_head(env, company_id):
        """The company's chain of signed notes as committed: (number, hash), or None."""
        env.cr.execute(
            SQL(
                "SELECT last_sequence, last_hash FROM therapy_chart_note_chain "
                "WHERE company_id = %s",
                company_id,
            )
        )
        return env.cr.fetchone()

    def _restore_chain(self, company_id):
        """The notes the test signed are deleted: the company's chain ends where it did."""
        with self._transaction() as env:
            if self.chain_head:
                env.cr.execute(
                    SQL(
                        "UPDATE therapy_chart_note_chain SET last_sequence = %s, last_hash = %s "
                        "WHERE company_id = %s",
                        *self.chain_head,
                        company_id,
                    )
                )
            else:
                env.cr.execute(
                    SQL("DELETE FROM therapy_chart_note_chain WHERE company_id = %s", company_id)
                )
            env.cr.commit()

    def _remove_session(self, session_id=None):
        """Delete what the test committed; signed notes and posted invoices refuse the ORM."""
        session_id = session_id or self.session_id
        with self._transaction() as env:
            session = env["calendar.event"].browse(session_id)
            group_id = session.therapy_group_id.id
            invoice_ids = tuple(
                env["account.move"].search([("therapy_event_id", "=", session_id)]).ids
            ) or (0,)
            env.cr.execute(SQL("DELETE FROM account_move WHERE id IN %s", invoice_ids))
            for table, column, value in (
                ("therapy_chart_note", "event_id", session_id),
                ("therapy_attendance", "event_id", session_id),
                ("calendar_event", "id", session_id),
                ("therapy_group_member", "group_id", group_id),
                ("therapy_group", "id", group_id),
            ):
                env.cr.execute(
                    SQL(
                        "DELETE FROM %s WHERE %s = %s",
                        SQL.identifier(table),
                        SQL.identifier(column),
                        value,
                    )
                )
            env.cr.commit()

    def _draft_notes(self, env, session_id=None):
        session = env["calendar.event"].browse(session_id or self.session_id)
        action = session.action_open_charting()
        wizard = env[action["res_model"]].browse(action["res_id"])
        wizard.group_note = "<p>Worked on sleep hygiene.</p>"
        wizard.action_review()
        return session.therapy_chart_note_ids

    def test_two_providers_sign_the_same_session(self):
        with self._transaction() as env:
            note_ids = self._draft_notes(env).ids
            env.cr.commit()
        with self._transaction() as first, self._transaction() as second:
            first["therapy.chart.note"].browse(note_ids)._sign()
            # The first has not committed yet: the second is told to wait, not blocked.
            with (
                self.assertRaisesRegex(UserError, "Someone else is signing these chart notes"),
                mute_logger("odoo.sql_db"),
            ):
                second["therapy.chart.note"].browse(note_ids)._sign()
            second.cr.rollback()
            first.cr.commit()
            # Trying again once the first has finished: already signed, nothing signed twice.
            second.invalidate_all()
            with self.assertRaisesRegex(UserError, "Administrator just signed"):
                second["therapy.chart.note"].browse(note_ids)._sign()
        with self._transaction() as env:
            notes = env["therapy.chart.note"].browse(note_ids)
            self.assertEqual(set(notes.mapped("state")), {"locked"})
            self.assertEqual(len(set(notes.mapped("signed_on"))), 1, "one signature, once")
            self.assertTrue(all(notes.mapped("hash_verified")))

    def _two_sessions_to_sign(self):
        """The drafts of the test's session and of another group's session, same company."""
        with self._transaction() as env:
            other_id, _partner_ids = self._make_session(env)
            env.cr.commit()
        self.addCleanup(self._remove_session, other_id)
        with self._transaction() as env:
            first_ids = self._draft_notes(env).ids
            second_ids = self._draft_notes(env, other_id).ids
            env.cr.commit()
        return first_ids, second_ids

    def test_two_signings_in_one_company_keep_one_chain(self):
        first_ids, second_ids = self._two_sessions_to_sign()
        with self._transaction() as first, self._transaction() as second:
            first["therapy.chart.note"].browse(first_ids)._sign()
            # The first has not committed: the second is told to wait, and signs nothing.
            with (
                self.assertRaisesRegex(UserError, "being signed or amended right now"),
                mute_logger("odoo.sql_db"),
            ):
                second["therapy.chart.note"].browse(second_ids)._sign()
            second.cr.rollback()
            first.cr.commit()
            second.invalidate_all()
            # Once the first has finished, the second continues the same chain.
            second["therapy.chart.note"].browse(second_ids)._sign()
            second.cr.commit()
        self._assert_one_chain(first_ids + second_ids)

    def test_a_signing_that_read_the_chain_before_another_committed_is_retried(self):
        first_ids, second_ids = self._two_sessions_to_sign()
        with self._transaction() as first, self._transaction() as second:
            # The second request has started (its snapshot of the database is taken)...
            self.assertEqual(
                set(second["therapy.chart.note"].browse(second_ids).mapped("state")), {"draft"}
            )
            # ... when the first signs and commits.
            first["therapy.chart.note"].browse(first_ids)._sign()
            first.cr.commit()
            # The second cannot chain after an end it does not see: the database refuses, and
            # Odoo's RPC layer runs such a request again (odoo.service.model.retrying).
            with self.assertRaises(SerializationFailure), mute_logger("odoo.sql_db"):
                second["therapy.chart.note"].browse(second_ids)._sign()
            second.cr.rollback()
            second.invalidate_all()
            second["therapy.chart.note"].browse(second_ids)._sign()
            second.cr.commit()
        self._assert_one_chain(first_ids + second_ids)

    def _assert_one_chain(self, note_ids):
        """The notes follow each other in one chain, numbered without gap, each linked to the
        one before, and the company's chain ends with the last of them."""
        with self._transaction() as env:
            notes = env["therapy.chart.note"].browse(note_ids).sorted("integrity_sequence")
            self.assertEqual(set(notes.mapped("state")), {"locked"})
            numbers = notes.mapped("integrity_sequence")
            start = (self.chain_head or (0,))[0] + 1
            self.assertEqual(numbers, list(range(start, start + len(note_ids))))
            for previous, note in pairwise(notes):
                self.assertEqual(note.integrity_previous_hash, previous.content_hash)
            self.assertEqual(
                notes[0].integrity_previous_hash or None, (self.chain_head or {1: None})[1]
            )
            self.assertTrue(all(notes.mapped("hash_verified")))
            company_id = notes.company_id.id
            self.assertEqual(
                self._chain_head(env, company_id), (numbers[-1], notes[-1].content_hash)
            )

    def test_two_users_invoice_the_same_session(self):
        with self._transaction() as first, self._transaction() as second:
            action = first["calendar.event"].browse(self.session_id).action_invoice_attendance()
            with (
                self.assertRaisesRegex(UserError, "being invoiced by someone else"),
                mute_logger("odoo.sql_db"),
            ):
                second["calendar.event"].browse(self.session_id).action_invoice_attendance()
            second.cr.rollback()
            first.cr.commit()
            second.invalidate_all()
            with self.assertRaisesRegex(UserError, "Nothing to invoice"):
                second["calendar.event"].browse(self.session_id).action_invoice_attendance()
            self.assertEqual(len(action["domain"][0][2]), 3)
        with self._transaction() as env:
            invoices = env["account.move"].search([("therapy_event_id", "=", self.session_id)])
            self.assertEqual(len(invoices), 3, "one invoice per client, never two")
            self.assertEqual(set(invoices.partner_id.ids), set(self.partner_ids))
            self.assertEqual(set(invoices.mapped("state")), {"posted"})

    def test_signing_while_front_desk_turns_a_charted_client_into_a_no_show(self):
        with self._transaction() as env:
            note_ids = self._draft_notes(env).ids
            env.cr.commit()
        no_show = {"state": "absent", "product_id": False}
        partner_id = self.partner_ids[0]

        def client_line(env):
            return env["therapy.attendance"].search(
                [("event_id", "=", self.session_id), ("partner_id", "=", partner_id)]
            )

        # The signer goes first: front desk is told, and changes nothing.
        with self._transaction() as signer, self._transaction() as desk:
            signer["therapy.chart.note"].browse(note_ids)._sign()
            with (
                self.assertRaisesRegex(UserError, "being changed or signed by someone else"),
                mute_logger("odoo.sql_db"),
            ):
                client_line(desk).write(no_show)
            desk.cr.rollback()
            signer.cr.commit()
            desk.invalidate_all()
            with self.assertRaisesRegex(UserError, "chart note for this session is signed"):
                client_line(desk).write(no_show)
        with self._transaction() as env:
            self.assertEqual(client_line(env).state, "attended")
            notes = env["therapy.chart.note"].browse(note_ids)
            self.assertEqual(set(notes.mapped("state")), {"locked"})

    def test_front_desk_changes_attendance_while_the_provider_signs(self):
        with self._transaction() as env:
            note_ids = self._draft_notes(env).ids
            env.cr.commit()
        # Front desk goes first: the signer is told, and signs nothing.
        with self._transaction() as desk, self._transaction() as signer:
            desk["therapy.attendance"].search(
                [("event_id", "=", self.session_id), ("partner_id", "=", self.partner_ids[0])]
            ).write({"state": "absent", "product_id": False})
            with (
                self.assertRaisesRegex(UserError, "changing this session's attendance"),
                mute_logger("odoo.sql_db"),
            ):
                signer["therapy.chart.note"].browse(note_ids)._sign()
            signer.cr.rollback()
            desk.cr.commit()
            signer.invalidate_all()
            with self.assertRaisesRegex(UserError, "no longer marked as attended"):
                signer["therapy.chart.note"].browse(note_ids)._sign()
        with self._transaction() as env:
            notes = env["therapy.chart.note"].browse(note_ids)
            self.assertEqual(set(notes.mapped("state")), {"draft"})

    def test_two_payment_dialogs_for_one_invoice(self):
        with self._transaction() as env:
            line = env["therapy.attendance"].search(
                [("event_id", "=", self.session_id), ("partner_id", "=", self.partner_ids[0])]
            )
            line.action_invoice()
            invoice_id = line.invoice_id.id
            # Two payment dialogs open on the full balance.
            wizard_ids = [
                env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=[invoice_id])
                .create({})
                .id
                for _dialog in range(2)
            ]
            env.cr.commit()
        self.addCleanup(self._remove_payments, invoice_id)
        with self._transaction() as first, self._transaction() as second:
            first["account.payment.register"].browse(wizard_ids[0])._create_payments()
            # The first has not committed yet: the second is told, not blocked.
            with (
                self.assertRaisesRegex(UserError, "registering a payment for"),
                mute_logger("odoo.sql_db"),
            ):
                second["account.payment.register"].browse(wizard_ids[1])._create_payments()
            second.cr.rollback()
            first.cr.commit()
            second.invalidate_all()
            # Confirmed once the first has finished: the balance is paid, nothing paid twice.
            with self.assertRaisesRegex(UserError, "has just been paid"):
                second["account.payment.register"].browse(wizard_ids[1])._create_payments()
        with self._transaction() as env:
            invoice = env["account.move"].browse(invoice_id)
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            payments = env["account.payment"].search([("invoice_ids", "in", invoice_id)])
            self.assertEqual(len(payments), 1, "one payment, never two")

    def _remove_payments(self, invoice_id):
        """Delete the committed payment and its reconciliation (before the invoice goes)."""
        with self._transaction() as env:
            payments = env["account.payment"].search([("invoice_ids", "in", invoice_id)])
            lines = env["account.move"].browse(invoice_id).line_ids | payments.move_id.line_ids
            line_ids = tuple(lines.ids) or (0,)
            full_ids = tuple(lines.full_reconcile_id.ids) or (0,)
            for query in (
                SQL(
                    "DELETE FROM account_partial_reconcile WHERE debit_move_id IN %s "
                    "OR credit_move_id IN %s",
                    line_ids,
                    line_ids,
                ),
                SQL(
                    "UPDATE account_move_line SET full_reconcile_id = NULL WHERE id IN %s", line_ids
                ),
                SQL("DELETE FROM account_full_reconcile WHERE id IN %s", full_ids),
                SQL("DELETE FROM account_payment WHERE id IN %s", tuple(payments.ids) or (0,)),
                SQL("DELETE FROM account_move WHERE id IN %s", tuple(payments.move_id.ids) or (0,)),
            ):
                env.cr.execute(query)
            env.cr.commit()
