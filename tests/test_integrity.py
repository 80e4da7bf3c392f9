import time
from datetime import timedelta
from unittest.mock import MagicMock, patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_charting import GROUP_NOTE, ChartingCommon


@tagged("post_install", "-at_install")
class TestServerOwnedFields(ChartingCommon):
    """What an RPC client sends to create/write, as each role: the server-owned fields of
    notes, attendance and sessions are refused, whatever `readonly` says in the web client."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._chart()
        cls.draft = cls._note(cls.clients[0])

    def test_provider_cannot_create_a_signed_note(self):
        Note = self.env["therapy.chart.note"].with_user(self.provider)
        forged = {
            "event_id": self.session.id,
            "partner_id": self.clients[2].id,  # the no-show
            "attendance_id": self.session.therapy_attendance_ids[2].id,
            "body": "<p>Attended and did well.</p>",
            "state": "locked",
            "signed_by_id": self.shared_provider.id,
            "signed_on": "2020-01-01 10:00:00",
        }
        for values in (forged, {"event_id": self.session.id, "partner_id": self.clients[2].id}):
            with self.assertRefused(UserError, "Chart notes are written by charting the session"):
                Note.create(values)
        # Nor through the session's one2many, nor with defaults in the context.
        with self.assertRefused(UserError, "Chart notes are written by charting the session"):
            self.session.with_user(self.provider).write(
                {"therapy_chart_note_ids": [Command.create(forged)]}
            )
        with self.assertRefused(UserError, "Chart notes are written by charting the session"):
            Note.with_context(default_state="locked").create(
                {"event_id": self.session.id, "partner_id": self.clients[2].id}
            )
        self.assertFalse(self._note(self.clients[2]))

    def test_provider_cannot_sign_or_rewrite_a_draft_by_write(self):
        draft = self.draft.with_user(self.provider)
        for values in (
            {"state": "locked"},
            {"signed_by_id": self.shared_provider.id},
            {"signed_on": "2020-01-01 10:00:00"},
            {"signed_by_credentials": "MD"},
            {"body": "<p>Forged</p>"},
            {"client_note": "<p>Forged</p>"},
            {"content_hash": "0" * 64},
        ):
            with self.subTest(values=values), self.assertRefused(UserError, "cannot be written"):
                draft.write(values)
        self.assertEqual(self.draft.state, "draft")
        self.assertFalse(self.draft.signed_by_id)

    def test_note_links_never_change(self):
        other_session = self._make_session(self.group, days=-3)
        other_session.action_mark_all_attended()
        draft = self.draft.with_user(self.provider)
        for values in (
            {"event_id": other_session.id},
            {"partner_id": self.clients[1].id},
            {"attendance_id": other_session.therapy_attendance_ids[0].id},
        ):
            with self.subTest(values=values), self.assertRaises(UserError):
                draft.write(values)
        # Not even the server moves a note: links are set once, by the charting.
        with self.assertRefused(UserError, "stays with its client and session"):
            self.draft._therapy_server_write({"event_id": other_session.id})
        self.assertEqual(self.draft.event_id, self.session)

    def test_front_desk_cannot_write_computed_attendance_fields(self):
        line = self.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[0]
        ).with_user(self.front_desk)
        invoice = line.sudo().action_invoice()
        self.assertTrue(line.invoice_id)
        for values in (
            {"invoice_id": False},
            {"units": -3},
            {"amount": 0},
            {"note_signed": True},
            {"billing_status": "to_invoice"},
            {"invoice_line_ids": [Command.clear()]},
        ):
            with self.subTest(values=values), self.assertRefused(UserError, "cannot be written"):
                line.write(values)
        self.assertEqual(line.invoice_id, invoice)
        # So "Invoice attendance" does not bill the client twice.
        self.assertFalse(line.action_invoice())
        self.assertEqual(line.units, 1)

    def test_front_desk_cannot_write_session_workflow_fields(self):
        session = self.session.with_user(self.front_desk)
        for values in (
            {"therapy_cancelled": True},
            {"therapy_attended_count": 40},
            {"therapy_attendance_state": "todo"},
        ):
            with self.subTest(values=values), self.assertRefused(UserError, "cannot be written"):
                session.write(values)
        self.assertFalse(self.session.therapy_cancelled)
        self.assertEqual(self.session.therapy_attended_count, 3)
        # The button that owns the flag still sets it (a future session, nothing charted).
        future = self._make_session(self.group, days=3)
        future.with_user(self.front_desk).action_cancel_session()
        self.assertTrue(future.therapy_cancelled)

    def test_deleting_a_colleagues_session_keeps_its_attendance(self):
        """The guard reads the lines whatever the caller may see."""
        lines = self.session.therapy_attendance_ids
        with self.assertRaises(UserError), mute_logger("odoo.models"):
            self.session.with_user(self.other_provider).unlink()
        self.assertTrue(self.session.exists())
        self.assertEqual(lines.exists(), lines)


@tagged("post_install", "-at_install")
class TestSigning(ChartingCommon):
    """Only a provider of the group signs, in their own name, through the pre-sign check and
    the payer rules, whichever button signs."""

    def test_signature_records_signer_name_and_credentials(self):
        self.shared_provider.therapy_credentials = "PsyD"
        self._chart(self.shared_provider)._sign()
        note = self._note(self.clients[0])
        self.assertEqual(note.state, "locked")
        self.assertEqual(note.signed_by_id, self.shared_provider)
        self.assertEqual((note.signed_by_name, note.signed_by_credentials), ("Shared Sam", "PsyD"))
        # Credentials changed later do not rewrite the signature.
        self.shared_provider.therapy_credentials = "LMFT"
        self.assertEqual(note.signed_by_credentials, "PsyD")
        report = self.env.ref("group_therapy.therapy_chart_note_report")
        html = str(report._render_qweb_html(report, note.ids)[0])
        self.assertIn("Shared Sam", html)
        self.assertIn("PsyD", html)

    def test_only_a_provider_of_the_group_signs(self):
        self._chart()
        notes = self.session.therapy_chart_note_ids
        # An administrator may read the notes, but does not run or share the group.
        with self.assertRefused(UserError, "Only a provider who runs or shares"):
            notes.with_user(self.manager)._sign()
        for user in (self.front_desk, self.other_provider):
            with (
                self.subTest(user=user.login),
                self.assertRaises(AccessError),
                mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
            ):
                notes.with_user(user)._sign()
        self.assertEqual(set(notes.mapped("state")), {"draft"})

    def test_note_form_sign_runs_the_pre_sign_check(self):
        self._chart()
        note = self._note(self.clients[0]).with_user(self.provider)
        self.clients[0].therapy_diagnosis_ids = [Command.clear()]
        with self.assertRefused(UserError, "no diagnosis code"):
            note._sign()
        self.assertEqual(note.state, "draft")

    def test_note_form_sign_runs_the_blocking_payer_rules(self):
        self._chart()
        note = self._note(self.clients[0]).with_user(self.provider)
        # The same client billed 90853 twice on one day: a warning by default, blocking here.
        self.env.ref("group_therapy.therapy_payer_rule_90853_once_per_day").severity = "block"
        second = self._make_session(self.group, hours=0.5)
        second.write({"start": self.session.stop, "stop": self.session.stop})
        self._answer(second, self.clients[0], "attended", self.cpt_90853)
        with self.assertRefused(UserError, "Signing is stopped by the payer rules"):
            note._sign()
        self.assertEqual(note.state, "draft")

    def test_a_note_whose_client_no_longer_attended_is_not_signed(self):
        self._chart()
        note = self._note(self.clients[1]).with_user(self.provider)
        self._answer(self.session, self.clients[1], "absent", self.no_show)
        with self.assertRefused(UserError, "no longer marked as attended"):
            note._sign()

    def test_signing_freezes_the_answer(self):
        self._chart()._sign()
        line = self.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[0]
        )
        self.assertTrue(line.note_signed)
        with self.assertRefused(UserError, "chart note for this session is signed"):
            line.with_user(self.front_desk).write({"state": "absent", "product_id": False})


@tagged("post_install", "-at_install")
class TestSignButtonIdentity(ChartingCommon):
    """The Sign buttons ask for the password again, every time; code cannot call them."""

    def _fake_request(self, last_check):
        fake = MagicMock()
        fake.session = {"identity-check-last": last_check}
        return fake

    def test_sign_buttons_refuse_outside_a_web_request(self):
        wizard = self._chart()
        for button in (wizard.action_sign, self._note(self.clients[0]).action_sign):
            with self.assertRefused(UserError, "can only be accessed over HTTP"):
                button()
        self.assertEqual(set(self.session.therapy_chart_note_ids.mapped("state")), {"draft"})

    def test_password_is_asked_again_even_just_after_another_check(self):
        wizard = self._chart()
        note = self._note(self.clients[0]).with_user(self.provider)
        fake = self._fake_request(time.time())  # confirmed a minute ago for something else
        with (
            patch("odoo.addons.base.models.res_users.request", fake),
            patch("odoo.addons.group_therapy.models.therapy_signing_mixin.request", fake),
        ):
            for button in (wizard.action_sign, note.action_sign):
                fake.session["identity-check-last"] = time.time()
                action = button()
                self.assertEqual(action["res_model"], "res.users.identitycheck")
        self.assertEqual(set(self.session.therapy_chart_note_ids.mapped("state")), {"draft"})

    def test_confirmed_password_signs_once(self):
        """What Odoo's identity check calls once the password is right."""
        wizard = self._chart()
        fake = self._fake_request(time.time())
        with (
            patch("odoo.addons.base.models.res_users.request", fake),
            patch("odoo.addons.group_therapy.models.therapy_signing_mixin.request", fake),
        ):
            action = wizard._action_sign_identified()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(set(self.session.therapy_chart_note_ids.mapped("state")), {"locked"})
        self.assertNotIn("identity-check-last", fake.session, "no grace left for the next one")
        self.assertIn(GROUP_NOTE[3:20], self._note(self.clients[0]).body)


@tagged("post_install", "-at_install")
class TestFrozenFacts(ChartingCommon):
    """Once a note of the session is signed, what it states no longer changes over any route."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._chart()._sign()
        cls.lines = {line.partner_id: line for line in cls.session.therapy_attendance_ids}

    def test_front_desk_cannot_move_a_signed_session(self):
        session = self.session.with_user(self.front_desk)
        start, stop = self.session.start, self.session.stop
        for values in (
            {"start": start - timedelta(days=1), "stop": stop - timedelta(days=1)},
            {"stop": stop + timedelta(hours=1)},
            {"duration": 3.0},
            {"therapy_group_id": self.other_group.id},
            {"user_id": self.shared_provider.id},
            {"therapy_place_of_service": "02"},
        ):
            with self.subTest(values=values), self.assertRefused(UserError, "has signed chart"):
                session.write(values)
        self.assertEqual((self.session.start, self.session.stop), (start, stop))
        self.assertEqual(self.session.user_id, self.provider)
        self.assertEqual(self.lines[self.clients[0]].place_of_service, "11")
        # What the web client sends back unchanged, or what the notes do not state, is fine.
        session.write({"start": start, "stop": stop, "description": "<p>Room 2</p>"})

    def test_signed_clients_line_is_frozen(self):
        line = self.lines[self.clients[0]].with_user(self.front_desk)
        for values in (
            {"product_id": self.cpt_90849.id},
            {"addon_product_ids": [Command.link(self.cpt_90785.id)]},
            {"place_of_service": "10"},
            {"modifiers": "95"},
            {"state": "absent", "product_id": self.no_show.id},
        ):
            with self.subTest(values=values), self.assertRefused(UserError, "can no longer change"):
                line.write(values)
        self.assertEqual(line.product_id, self.cpt_90853)
        # The no-show has no note: front desk may still correct that line.
        self.lines[self.clients[2]].with_user(self.front_desk).write(
            {"product_id": self.late_cancel.id}
        )

    def test_partner_merge_of_a_client_with_signed_notes_is_refused(self):
        duplicate = self.env["res.partner"].create(
            {"name": "Client 01 (duplicate)", "email": self.clients[0].email}
        )
        Merge = self.env["base.partner.merge.automatic.wizard"].with_user(self.front_desk)
        for partner_ids in ([duplicate.id, self.clients[0].id], [self.clients[0].id, duplicate.id]):
            with self.assertRefused(UserError, "has signed chart notes"):
                Merge._merge(partner_ids)
        self.assertTrue(self.clients[0].exists())
        self.assertEqual(self._note(self.clients[0]).partner_id, self.clients[0])
