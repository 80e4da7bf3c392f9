from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL, html_sanitize, mute_logger

from ..models import res_partner, therapy_chart_note
from .common import GroupTherapyCommon

GROUP_NOTE = "<p>Practised <strong>distress tolerance</strong> skills (TIPP).</p>"


class ChartingCommon(GroupTherapyCommon):
    """A session of yesterday: 01 and 02 attended, 03 was a no-show, 04 attended (no fee)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.session = cls._make_session(cls.group, hours=1.5)
        cls.template = cls.env.ref("group_therapy.therapy_chart_template_group_progress")
        cls._answer(cls.session, cls.clients[0], "attended", cls.cpt_90853)
        cls._answer(cls.session, cls.clients[1], "attended", cls.cpt_90853, place_of_service="10")
        cls._answer(cls.session, cls.clients[2], "absent", cls.no_show)
        cls._answer(cls.session, cls.clients[3], "attended", cls.no_fee)
        cls.attendees = cls.clients[0] | cls.clients[1] | cls.clients[3]

    @classmethod
    def _answer(cls, session, client, state, product, **values):
        session.therapy_attendance_ids.filtered(lambda line: line.partner_id == client).write(
            {"state": state, "product_id": product.id, **values}
        )

    @classmethod
    def _open_wizard(cls, user=None, session=None):
        user = user or cls.provider
        action = (session or cls.session).with_user(user).action_open_charting()
        return cls.env[action["res_model"]].with_user(user).browse(action["res_id"])

    @classmethod
    def _chart(cls, user=None, client_notes=None, session=None):
        """Open the wizard, write the group notes and the given client notes, review."""
        wizard = cls._open_wizard(user, session)
        wizard.group_note = GROUP_NOTE
        for line in wizard.line_ids:
            line.note = (client_notes or {}).get(line.partner_id, False)
        wizard.action_review()
        return wizard

    @classmethod
    def _note(cls, client, session=None):
        return (session or cls.session).therapy_chart_note_ids.filtered(
            lambda note: note.partner_id == client
        )


@tagged("post_install", "-at_install")
class TestChartingWizard(ChartingCommon):
    def test_wizard_has_one_line_per_attending_client(self):
        wizard = self._open_wizard()
        self.assertEqual(wizard.event_id, self.session)
        self.assertEqual(wizard.line_ids.partner_id, self.attendees, "no line for the no-show")
        self.assertEqual(wizard.template_id, self.template, "the shipped template by default")
        self.assertEqual(wizard.head_count, 3)
        self.assertEqual(wizard.step, "write")

    def test_review_writes_a_draft_note_per_attending_client(self):
        client_note = "<p>Asked for a referral to a psychiatrist.</p>"
        wizard = self._chart(client_notes={self.clients[1]: client_note})
        notes = self.session.therapy_chart_note_ids
        self.assertEqual(notes.partner_id, self.attendees)
        self.assertFalse(self._note(self.clients[2]), "clients who did not attend get no note")
        self.assertEqual(set(notes.mapped("state")), {"draft"})
        self.assertEqual(wizard.step, "review")
        self.assertEqual(wizard.note_ids, notes)
        for note in notes:
            self.assertIn("distress tolerance", note.body, "group notes go into every note")
            self.assertNotIn("Interventions", note.body, "the template's guidance is not signed")
            self.assertEqual(note.template_id, self.template)
            self.assertEqual(note.provider_id, self.provider)
            self.assertEqual(note.group_id, self.group)
        self.assertIn("referral to a psychiatrist", self._note(self.clients[1]).body)
        self.assertNotIn("referral", self._note(self.clients[0]).body, "client notes stay private")
        self.assertNotIn("referral", self._note(self.clients[3]).body)

    def test_note_records_the_session_facts(self):
        self._chart()
        body = self._note(self.clients[1]).body
        self.assertIn("90853", body)
        self.assertIn("10 - Telehealth at home", body, "the client's own place of service")
        self.assertIn("90 minutes", body)
        self.assertIn("[AAG] Adult Anxiety Group", body)
        self.assertIn("Provider Pat", body)
        self.assertRegex(str(body), r"Clients attending</th><td>3<")
        self.assertIn("No fee", self._note(self.clients[3]).body)
        for other in (self.clients[0], self.clients[2], self.clients[3]):
            self.assertNotIn(other.name, body, "a note names no other member")

    def test_reopening_loads_the_drafts(self):
        self._chart(client_notes={self.clients[0]: "<p>Quiet today.</p>"})
        wizard = self._open_wizard()
        self.assertIn("distress tolerance", wizard.group_note)
        line = wizard.line_ids.filtered(lambda line: line.partner_id == self.clients[0])
        self.assertIn("Quiet today", line.note)
        # Reviewing again updates the same notes instead of adding others.
        notes_before = self.session.therapy_chart_note_ids
        wizard.group_note = "<p>Revised group notes.</p>"
        wizard.action_review()
        self.assertEqual(self.session.therapy_chart_note_ids, notes_before)
        self.assertIn("Revised group notes", self._note(self.clients[0]).body)

    def test_closing_before_review_keeps_every_word(self):
        """The dialog closed (X, Escape, Close) before Review: what was typed comes back."""
        template = self.env["therapy.chart.template"].create(
            {"name": "Structured group note", "section_ids": [(0, 0, {"name": "Interventions"})]}
        )
        wizard = self._open_wizard()
        wizard.template_id = template
        wizard._onchange_template_id()
        wizard.group_note = GROUP_NOTE
        wizard.section_line_ids.content = "<p>Mindfulness exercise.</p>"
        wizard.line_ids.filtered(
            lambda line: line.partner_id == self.clients[1]
        ).note = "<p>Asked for a referral.</p>"
        action = wizard.action_keep_drafts()
        self.assertEqual(action["type"], "ir.actions.act_window_close")
        notes = self.session.therapy_chart_note_ids
        self.assertEqual(notes.partner_id, self.attendees)
        self.assertEqual(set(notes.mapped("state")), {"draft"})
        reopened = self._open_wizard()
        self.assertEqual(reopened.step, "write")
        self.assertEqual(reopened.template_id, template)
        self.assertIn("distress tolerance", reopened.group_note)
        self.assertIn("Mindfulness", reopened.section_line_ids.content)
        notes_by_client = {line.partner_id: line.note for line in reopened.line_ids}
        self.assertIn("referral", notes_by_client[self.clients[1]])
        self.assertFalse(notes_by_client[self.clients[0]])
        # Emptied and closed again: the drafts follow, nothing is signed.
        reopened.group_note = False
        reopened.action_keep_drafts()
        self.assertNotIn("distress tolerance", self._note(self.clients[0]).group_note or "")
        self.assertEqual(set(self.session.therapy_chart_note_ids.mapped("state")), {"draft"})

    def test_closing_a_blank_page_writes_nothing(self):
        """Chart opened and closed unwritten leaves no draft: the session stays cancellable."""
        self._open_wizard().action_keep_drafts()
        self.assertFalse(self.session.therapy_chart_note_ids)

    def test_only_who_charts_keeps_drafts(self):
        wizard = self._open_wizard()
        wizard.group_note = GROUP_NOTE
        for user in (self.front_desk, self.other_provider):
            with (
                self.subTest(user=user.login),
                self.assertRaises(AccessError),
                mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
            ):
                wizard.with_user(user).action_keep_drafts()
        self.assertFalse(self.session.therapy_chart_note_ids)
        # The provider the group is shared with charts it, and keeps drafts like its owner.
        shared = self._open_wizard(self.shared_provider)
        shared.group_note = GROUP_NOTE
        shared.action_keep_drafts()
        self.assertEqual(self.session.therapy_chart_note_ids.partner_id, self.attendees)

    def test_a_client_no_longer_attending_loses_the_draft(self):
        self._chart()
        self.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[3]
        ).write({"state": "absent", "product_id": self.no_fee.id})
        self._open_wizard().action_review()
        self.assertEqual(
            self.session.therapy_chart_note_ids.partner_id, self.clients[0] | self.clients[1]
        )

    def test_sign_locks_every_note(self):
        self.provider.therapy_credentials = "LCSW"
        wizard = self._chart()
        signed = wizard._sign()
        notes = self.session.therapy_chart_note_ids
        self.assertEqual(signed, notes)
        self.assertEqual(len(notes), 3)
        for note in notes:
            self.assertEqual(note.state, "locked")
            self.assertEqual(note.signed_by_id, self.provider)
            self.assertEqual(note.signed_by_name, "Provider Pat")
            self.assertEqual(note.signed_by_credentials, "LCSW")
            self.assertTrue(note.signed_on)
            self.assertRegex(note.content_hash, r"^[0-9a-f]{64}$")
            self.assertTrue(note.hash_verified)
        self.assertEqual(len(set(notes.mapped("content_hash"))), 3, "one hash per note")
        self.assertEqual(self.session.with_user(self.provider).therapy_chart_state, "locked")

    def test_sign_states_the_facts_at_signing(self):
        """A fact changed between review and signature is in the signed text; the other notes
        sign the text reviewed."""
        wizard = self._chart()
        reviewed = {note: note.body for note in self.session.therapy_chart_note_ids}
        self.assertIn("11 - Office", reviewed[self._note(self.clients[0])])
        self.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[0]
        ).place_of_service = "10"
        wizard._sign()
        moved = self._note(self.clients[0])
        self.assertIn("10 - Telehealth at home", moved.body)
        self.assertNotIn("11 - Office", moved.body)
        for note, body in reviewed.items():
            if note != moved:
                self.assertEqual(note.body, body)
            self.assertEqual(note.state, "locked")
            self.assertTrue(note.hash_verified)

    def test_notes_of_two_sessions_signed_together_state_their_own_session(self):
        self._chart()
        other = self._make_session(self.group, days=-2, hours=1.0)
        self._answer(other, self.clients[0], "attended", self.cpt_90853)
        for client in self.clients[1:4]:
            self._answer(other, client, "absent", self.no_show)
        self._chart(session=other)
        notes = (self.session | other).therapy_chart_note_ids
        self.assertEqual(len(notes), 4)
        notes.with_user(self.provider)._sign()
        self.assertEqual(set(notes.mapped("state")), {"locked"})
        first = self._note(self.clients[0])
        self.assertIn("90 minutes", first.body)
        self.assertRegex(str(first.body), r"Clients attending</th><td>3<")
        second = self._note(self.clients[0], session=other)
        self.assertIn("60 minutes", second.body)
        self.assertRegex(str(second.body), r"Clients attending</th><td>1<")
        self.assertTrue(all(notes.mapped("hash_verified")))

    def test_signing_makes_the_chain_row_of_a_company_made_behind_the_orm(self):
        company = self.session.therapy_group_id.company_id
        chain = self.env["therapy.chart.note.chain"].search([("company_id", "=", company.id)])
        self.assertEqual(chain.last_sequence, 0, "nothing signed in the company yet")
        self.env.cr.execute(
            SQL("DELETE FROM therapy_chart_note_chain WHERE company_id = %s", company.id)
        )
        self.env.invalidate_all()
        self._chart()._sign()
        notes = self.session.therapy_chart_note_ids.sorted("id")
        self.assertEqual(notes.mapped("integrity_sequence"), [1, 2, 3])
        self.assertFalse(notes[0].integrity_previous_hash)
        self.assertTrue(all(notes.mapped("hash_verified")))
        chain = self.env["therapy.chart.note.chain"].search([("company_id", "=", company.id)])
        self.assertEqual((chain.last_sequence, chain.last_hash), (3, notes[-1].content_hash))

    def test_sign_without_review_writes_the_notes_first(self):
        wizard = self._open_wizard()
        wizard.group_note = GROUP_NOTE
        wizard._sign()
        notes = self.session.therapy_chart_note_ids
        self.assertEqual(notes.partner_id, self.attendees)
        self.assertEqual(set(notes.mapped("state")), {"locked"})

    def test_sign_is_all_or_nothing(self):
        wizard = self._chart()
        notes = self.session.therapy_chart_note_ids
        Note = type(self.env["therapy.chart.note"])
        real_payload = Note._therapy_integrity_payload
        failing = notes[1]

        def hash_failing_on_one_note(note, sequence):
            if note == failing:
                raise UserError(note.env._("disk full"))
            return real_payload(note, sequence)

        with (
            patch.object(Note, "_therapy_integrity_payload", hash_failing_on_one_note),
            self.assertRefused(UserError, "disk full"),
        ):
            wizard._sign()
        self.assertEqual(set(notes.mapped("state")), {"draft"}, "no note was locked")
        self.assertFalse(any(notes.mapped("signed_by_id")))
        self.assertFalse(any(notes.mapped("content_hash")))
        # Once the problem is gone, signing works for all of them.
        wizard._sign()
        self.assertEqual(set(notes.mapped("state")), {"locked"})

    def test_reopening_a_signed_session_points_to_addenda(self):
        self._chart()._sign()
        with self.assertRefused(UserError, "write an addendum"):
            self.session.with_user(self.provider).action_open_charting()
        with self.assertRefused(UserError, "Provider Pat just signed"):
            self.session.therapy_chart_note_ids.with_user(self.provider)._sign()

    def test_charting_needs_attendance(self):
        fresh = self._make_session(self.group, days=-2)
        with self.assertRefused(UserError, "Take the attendance first"):
            fresh.with_user(self.provider).action_open_charting()
        for client in self.clients[:4]:
            self._answer(fresh, client, "absent", self.no_show)
        with self.assertRefused(UserError, "Nobody attended"):
            fresh.with_user(self.provider).action_open_charting()
        self.assertFalse(fresh.therapy_chart_note_ids)
        appointment = self.env["calendar.event"].create(
            {"name": "Intake", "start": datetime.now(), "stop": datetime.now() + timedelta(hours=1)}
        )
        with self.assertRefused(UserError, "Only group sessions are charted"):
            appointment.action_open_charting()

    def test_only_custom_templates_for_groups(self):
        single = self.env["therapy.chart.template"].create(
            {"name": "Individual SOAP", "template_type": "single_client", "body": "<p>S O A P</p>"}
        )
        wizard = self._open_wizard()
        with self.assertRefused(
            ValidationError, "group sessions are charted with custom templates"
        ):
            wizard.template_id = single
        self.assertEqual(wizard.template_id, self.template)
        self.assertFalse(self.session.therapy_chart_note_ids)

    def test_no_template_refused(self):
        wizard = self._open_wizard()
        wizard.template_id = False
        with self.assertRefused(UserError, "Choose a Chart Entry Style"):
            wizard.action_review()
        self.assertFalse(self.session.therapy_chart_note_ids)

    def test_scripts_in_notes_are_removed(self):
        wizard = self._open_wizard()
        wizard.group_note = '<p onclick="steal()">Group<script>alert("x")</script></p>'
        wizard.line_ids[0].note = '<img src="x" onerror="alert(1)"/><p>Fine</p>'
        wizard.action_review()
        for note in self.session.therapy_chart_note_ids:
            self.assertNotIn("<script", note.body)
            self.assertNotIn("onclick", note.body)
            self.assertNotIn("onerror", note.body)
            self.assertNotIn("<script", note.group_note, "in every note's group notes")
            self.assertNotIn("onclick", note.group_note)
        client_note = self._note(wizard.line_ids[0].partner_id)
        self.assertIn("Fine", client_note.body)
        self.assertNotIn("onerror", client_note.client_note)
        # Signing writes the text again: still without them.
        wizard._sign()
        for note in self.session.therapy_chart_note_ids:
            self.assertEqual(note.state, "locked")
            self.assertNotIn("<script", note.body)
            self.assertNotIn("onclick", note.body)
            self.assertNotIn("onerror", note.body)

    def test_notes_are_sanitized_once_the_transaction_has_sanitized_much(self):
        """Past its size, what the transaction remembers of sanitized texts starts over: every
        note still stores its text as the field sanitizes it, at review and at signing."""
        group_note = '<p onclick="steal()">Group<script>alert("x")</script></p>'
        wizard = self._open_wizard()
        wizard.group_note = group_note
        for line in wizard.line_ids:
            line.note = f'<p onmouseover="x()">For {line.partner_id.name}</p><script>y()</script>'
        with patch.object(therapy_chart_note, "_SANITIZED_MEMO_SIZE", 300):
            wizard.action_review()
            wizard.action_back()
            wizard.action_review()
            wizard._sign()
        for line in wizard.line_ids:
            note = self._note(line.partner_id)
            self.assertEqual(note.state, "locked")
            self.assertEqual(
                note.group_note, html_sanitize(wizard.group_note, sanitize_attributes=True)
            )
            self.assertEqual(note.client_note, html_sanitize(line.note, sanitize_attributes=True))
            self.assertIn(f"For {line.partner_id.name}", note.body)
            for removed in ("onclick", "onmouseover", "<script"):
                self.assertNotIn(removed, note.group_note)
                self.assertNotIn(removed, note.client_note)
                self.assertNotIn(removed, note.body)

    def test_attendance_of_a_signed_note_cannot_change(self):
        self._chart()._sign()
        line = self.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[0]
        )
        with self.assertRefused(UserError, "ask the provider to add an addendum"):
            line.with_user(self.front_desk).write({"state": "absent", "product_id": False})
        self.assertEqual(line.state, "attended")


@tagged("post_install", "-at_install")
class TestChartingAutosave(ChartingCommon):
    """What the provider types is kept as drafts while the dialog stays open (the browser
    saves the page, then asks for the drafts, a few seconds after typing stops)."""

    def _type(self, wizard, group_note, client_notes=None):
        """The page as the browser saves it: RPC-style values."""
        wizard.write(
            {
                "group_note": group_note,
                "line_ids": [
                    Command.update(line.id, {"note": note})
                    for line in wizard.line_ids
                    for client, note in (client_notes or {}).items()
                    if line.partner_id == client
                ],
            }
        )

    def test_typing_is_kept_while_the_dialog_stays_open(self):
        wizard = self._open_wizard()
        self._type(wizard, GROUP_NOTE, {self.clients[1]: "<p>Asked for a referral.</p>"})
        self.assertTrue(wizard.action_autosave_drafts())
        notes = self.session.therapy_chart_note_ids
        self.assertEqual(notes.partner_id, self.attendees)
        self.assertEqual(set(notes.mapped("state")), {"draft"}, "autosave never signs")
        self.assertEqual(wizard.step, "write", "the dialog stays on the page being written")
        self.assertIn("referral", self._note(self.clients[1]).client_note)
        # Typing on: the same drafts follow the text.
        self._type(wizard, "<p>Practised TIPP, then grounding.</p>")
        wizard.action_autosave_drafts()
        self.assertEqual(self.session.therapy_chart_note_ids, notes)
        self.assertIn("grounding", self._note(self.clients[0]).group_note)
        # The browser crashed: Chart brings back the last saved text.
        reopened = self._open_wizard()
        self.assertIn("grounding", reopened.group_note)
        notes_by_client = {line.partner_id: line.note for line in reopened.line_ids}
        self.assertIn("referral", notes_by_client[self.clients[1]])

    def test_a_blank_page_or_a_reviewed_one_writes_nothing(self):
        wizard = self._open_wizard()
        self.assertFalse(wizard.action_autosave_drafts())
        self.assertFalse(self.session.therapy_chart_note_ids)
        reviewed = self._chart()
        body = self._note(self.clients[0]).body
        reviewed.group_note = "<p>Changed behind the review.</p>"
        self.assertFalse(reviewed.action_autosave_drafts(), "at Review the drafts are written")
        self.assertEqual(self._note(self.clients[0]).body, body)

    def test_a_colleague_who_may_not_chart_is_refused(self):
        wizard = self._open_wizard()
        self._type(wizard, GROUP_NOTE)
        Wizard = self.env["therapy.charting.wizard"]
        for user in (self.other_provider, self.front_desk, self.accountant):
            with (
                self.subTest(user=user.login),
                mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
            ):
                # The provider's page, or a page of their own on the session.
                with self.assertRaises(AccessError):
                    wizard.with_user(user).action_autosave_drafts()
                with self.assertRaises(AccessError):
                    own = Wizard.with_user(user).create(
                        {"event_id": self.session.id, "template_id": self.template.id}
                    )
                    own.group_note = GROUP_NOTE
                    own.action_autosave_drafts()
        self.assertFalse(self.session.therapy_chart_note_ids, "nothing written")

    def test_a_signed_session_is_never_overwritten(self):
        """A page left open while a colleague signs: its autosave changes nothing signed."""
        left_open = self._open_wizard()
        self._type(left_open, "<p>Typed before the colleague signed.</p>")
        left_open.action_autosave_drafts()
        signing = self._open_wizard(self.shared_provider)
        signing.group_note = GROUP_NOTE
        signing._sign()
        notes = self.session.therapy_chart_note_ids
        signed = {note: (note.body, note.content_hash) for note in notes}
        self._type(left_open, "<p>Typed after the session was signed.</p>")
        with self.assertRaisesRegex(UserError, "signed and locked"):
            left_open.action_autosave_drafts()
        self.assertEqual(self.session.therapy_chart_note_ids, notes)
        for note, (body, content_hash) in signed.items():
            self.assertEqual(
                (note.body, note.content_hash, note.state), (body, content_hash, "locked")
            )
            self.assertNotIn("after the session was signed", note.group_note)


@tagged("post_install", "-at_install")
class TestChartNoteLock(ChartingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wizard = cls._chart()
        cls.wizard._sign()
        cls.notes = cls.session.therapy_chart_note_ids
        cls.note = cls.notes.filtered(lambda note: note.partner_id == cls.clients[0])

    def test_locked_note_cannot_be_written_by_anyone(self):
        body = self.note.body
        for env in (
            self.note.with_user(self.provider),
            self.note.with_user(self.manager),
            self.note.sudo(),
        ):
            with self.subTest(user=env.env.user.login, su=env.env.su):
                for vals in (
                    {"body": "<p>rewritten</p>"},
                    {"state": "draft"},
                    {"client_note": "<p>x</p>"},
                    {"addendum_ids": [Command.clear()]},
                ):
                    with self.assertRefused(UserError, "can no longer change"):
                        env.write(vals)
        self.assertEqual(self.note.body, body)
        self.assertEqual(self.note.state, "locked")
        self.assertTrue(self.note.hash_verified)

    def test_locked_note_cannot_be_deleted(self):
        for note in (self.note.with_user(self.manager), self.note.sudo()):
            with self.assertRefused(UserError, "can no longer change"):
                note.unlink()
        self.assertTrue(self.note.exists())

    def test_an_empty_draft_is_not_signed(self):
        draft = self._make_session(self.group, days=-4)
        draft.action_mark_all_attended()
        self._chart(session=draft)
        note = draft.therapy_chart_note_ids[:1]
        note.sudo().write({"group_note": False, "client_note": False})
        with self.assertRefused(UserError, "the note is empty (write group notes"):
            note.with_user(self.provider)._sign()
        self.assertEqual(note.state, "draft")

    def test_hash_reveals_a_change_behind_the_orm(self):
        self.env.cr.execute(
            "UPDATE therapy_chart_note SET body = %s WHERE id = %s", ["<p>forged</p>", self.note.id]
        )
        self.note.invalidate_recordset()
        self.assertFalse(self.note.hash_verified)

    def test_addenda(self):
        self.note.with_user(self.shared_provider).write(
            {"addendum_ids": [Command.create({"body": "<p>Client called: feeling better.</p>"})]}
        )
        addendum = self.note.addendum_ids
        self.assertEqual(addendum.author_id, self.shared_provider)
        self.assertTrue(addendum.date)
        self.assertTrue(self.note.hash_verified, "an addendum leaves the signed note as it was")
        with self.assertRefused(UserError, "cannot be changed or deleted once saved"):
            addendum.with_user(self.shared_provider).body = "<p>edited</p>"
        with self.assertRefused(UserError, "cannot be changed or deleted once saved"):
            addendum.with_user(self.manager).unlink()
        self.assertIn("feeling better", addendum.body)
        # The author and date are the writer's, whatever the client sends.
        second = (
            self.env["therapy.chart.note.addendum"]
            .with_user(self.provider)
            .create(
                {
                    "note_id": self.note.id,
                    "body": "<p>Second</p>",
                    "author_id": self.manager.id,
                    "date": "2000-01-01 00:00:00",
                }
            )
        )
        self.assertEqual(second.author_id, self.provider)
        self.assertGreater(second.date.year, 2000)

    def test_addendum_refusals(self):
        Addendum = self.env["therapy.chart.note.addendum"].with_user(self.provider)
        with self.assertRefused(ValidationError, "Write the text of the addendum"):
            Addendum.create({"note_id": self.note.id, "body": "<p><br></p>"})
        draft_session = self._make_session(self.group, days=-3)
        for client in self.clients[:4]:
            self._answer(draft_session, client, "attended", self.cpt_90853)
        self._chart(session=draft_session)
        draft = draft_session.therapy_chart_note_ids[:1]
        with self.assertRefused(ValidationError, "is still a draft"):
            Addendum.create({"note_id": draft.id, "body": "<p>too early</p>"})
        self.assertFalse(draft.addendum_ids)

    def test_pdf_report(self):
        self.note.write({"addendum_ids": [Command.create({"body": "<p>Late addendum</p>"})]})
        report = self.env.ref("group_therapy.therapy_chart_note_report")
        html, _kind = report.with_user(self.provider)._render_qweb_html(report, self.notes.ids)
        html = html.decode()
        self.assertIn("Electronically signed by", html)
        self.assertIn(self.note.content_hash, html)
        self.assertIn("Late addendum", html)
        self.assertIn("distress tolerance", html)
        self.assertEqual(html.count("Chart note:"), 3, "one page per note")
        # The PDF itself needs the HTTP server (wkhtmltopdf fetches the styles): see test_tours.

    def test_client_profile_lists_the_notes(self):
        client = self.clients[0].with_user(self.provider)
        self.assertEqual(client.therapy_chart_note_count, 1)
        action = client.action_open_therapy_chart_notes()
        self.assertEqual(
            self.env["therapy.chart.note"].with_user(self.provider).search(action["domain"]),
            self.note,
        )


@tagged("post_install", "-at_install")
class TestChartingAccess(ChartingCommon):
    """Clinical notes: the group's provider, shared providers and administrators only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._chart()
        cls.notes = cls.session.therapy_chart_note_ids

    def test_who_reads_the_notes(self):
        Note = self.env["therapy.chart.note"]
        rows = [
            (self.provider, True),
            (self.shared_provider, True),
            (self.manager, True),
            (self.other_provider, False),
            (self.front_desk, False),
            (self.accountant, False),
            (self.portal_user, False),
        ]
        for user, allowed in rows:
            with self.subTest(user=user.login):
                self.env.invalidate_all()
                if allowed:
                    self.assertEqual(
                        Note.with_user(user).search([("id", "in", self.notes.ids)]), self.notes
                    )
                    self.notes.with_user(user).read(["body"])
                else:
                    with (
                        self.assertRaises(AccessError),
                        mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
                    ):
                        self.notes.with_user(user).read(["body"])

    def test_who_charts(self):
        for user in (self.front_desk, self.accountant, self.other_provider):
            with (
                self.subTest(user=user.login),
                self.assertRaises(AccessError),
                mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
            ):
                self._open_wizard(user).action_review()
        with (
            self.assertRaises(AccessError),
            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
        ):
            self.notes.with_user(self.other_provider)._sign()
        self.assertEqual(set(self.notes.mapped("state")), {"draft"})
        # The shared provider charts and signs the shared group's session.
        wizard = self._open_wizard(self.shared_provider)
        wizard.group_note = GROUP_NOTE
        wizard._sign()
        self.assertEqual(self.notes.signed_by_id, self.shared_provider)

    def test_note_count_is_what_the_user_reads(self):
        """The client form's Chart Notes count: only the notes the user may read, counted up
        to a limit ("1000+" beyond it) so that years of history do not make it slow."""
        client = self.clients[0]
        self.env["therapy.group.member"].create(
            {
                "group_id": self.other_group.id,
                "partner_id": client.id,
                "date_start": datetime.now().date() - timedelta(days=30),
            }
        )
        other_session = self._make_session(self.other_group)
        self._answer(other_session, client, "attended", self.cpt_90849)
        self._chart(self.other_provider, session=other_session)
        rows = [(self.provider, 1), (self.other_provider, 1), (self.manager, 2)]
        for user, expected in rows:
            with self.subTest(user=user.login):
                self.env.invalidate_all()
                record = client.with_user(user)
                self.assertEqual(
                    (record.therapy_chart_note_count, record.therapy_chart_note_count_label),
                    (expected, str(expected)),
                )
        self.env.invalidate_all()
        with patch.object(res_partner, "CHART_NOTE_COUNT_LIMIT", 1):
            record = client.with_user(self.manager)
            self.assertEqual(
                (record.therapy_chart_note_count, record.therapy_chart_note_count_label),
                (2, "1+"),
            )

    def test_front_desk_does_not_see_clinical_fields(self):
        session = self.session.with_user(self.front_desk)
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            session.read(["therapy_chart_note_ids"])
        client = self.clients[0].with_user(self.front_desk)
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            client.read(["therapy_chart_note_count"])


@tagged("post_install", "-at_install")
class TestChartingPerformance(ChartingCommon):
    def test_signing_costs_the_same_for_3_and_50_notes(self):
        clients = self.env["res.partner"].create(
            [
                {"name": f"Member {i:02d}", "therapy_diagnosis_ids": [(4, self.diagnosis.id)]}
                for i in range(50)
            ]
        )
        sizes = (3, 3, 50)  # the first session only warms the caches up
        # 50 clients is over Medicare's head count, which signing checks (as the benchmark).
        self.env.ref("group_therapy.therapy_payer_rule_90853_head_count").active = False
        groups = self.env["therapy.group"].create(
            [
                {
                    "name": f"Group {index}",
                    "code": f"G{index}",
                    "provider_id": self.provider.id,
                    "capacity": 0,
                }
                for index in range(len(sizes))
            ]
        )
        self.env["therapy.group.member"].create(
            [
                {"group_id": group.id, "partner_id": client.id, "date_start": "2020-01-01"}
                for group, size in zip(groups, sizes, strict=True)
                for client in clients[:size]
            ]
        )
        counts = []
        for days, group in enumerate(groups, start=1):
            # One session a day: the same clients twice on one day would be stopped by the
            # payer rules, which signing checks.
            session = self._make_session(group, days=-days)
            session.action_mark_all_attended()
            self._chart(session=session)
            notes = session.therapy_chart_note_ids.with_user(self.provider)
            self.env.invalidate_all()
            queries_before = self.cr.sql_log_count
            notes._sign()
            counts.append(self.cr.sql_log_count - queries_before)
            self.assertEqual(set(notes.mapped("state")), {"locked"})
        self.assertEqual(counts[1], counts[2], f"queries to sign 3 and 50 notes: {counts[1:]}")


@tagged("post_install", "-at_install")
class TestChartingPrivacy(ChartingCommon):
    def test_group_notes_naming_a_member_are_flagged(self):
        wizard = self._open_wizard()
        wizard.group_note = "<p>The group supported one another.</p>"
        self.assertFalse(wizard.privacy_warning)
        wizard.group_note = "<p>client 03 was missed; Client spoke first.</p>"
        self.assertIn("Client 03", wizard.privacy_warning, "a full name, whatever its case")
        self.assertIn("without naming its members", wizard.privacy_warning)
        # A warning, not a refusal: the provider may still sign.
        wizard._sign()
        self.assertEqual(set(self.session.therapy_chart_note_ids.mapped("state")), {"locked"})

    def test_group_addendum_goes_into_every_signed_note(self):
        Wizard = self.env["therapy.group.addendum.wizard"].with_user(self.shared_provider)
        with self.assertRefused(UserError, "has no signed chart note yet"):
            Wizard.create({"event_id": self.session.id, "body": "<p>Too early</p>"}).action_add()
        self._chart()._sign()
        wizard = Wizard.create(
            {"event_id": self.session.id, "body": "<p>Correction: the session ran 75 minutes.</p>"}
        )
        self.assertEqual(wizard.note_count, 3)
        wizard.action_add()
        addenda = self.session.therapy_chart_note_ids.addendum_ids
        self.assertEqual(len(addenda), 3, "one addendum recorded per note")
        self.assertEqual(addenda.author_id, self.shared_provider)
        self.assertTrue(all(self.session.therapy_chart_note_ids.mapped("hash_verified")))
        with self.assertRefused(UserError, "Write the text of the addendum"):
            Wizard.create({"event_id": self.session.id, "body": "<p><br></p>"}).action_add()
        self.assertEqual(len(self.session.therapy_chart_note_ids.addendum_ids), 3)

    def test_presign_check_lists_every_blocker(self):
        self.template.require_diagnosis = True  # as shipped (noupdate data: set it here too)
        (self.clients[1] | self.clients[3]).therapy_diagnosis_ids = False
        wizard = self._open_wizard()
        wizard.line_ids.filtered(
            lambda line: line.partner_id == self.clients[1]
        ).note = "<p>Spoke about work.</p>"
        wizard.action_review()
        report = wizard.presign_report
        self.assertIn("Client 02: no diagnosis code", report)
        self.assertIn("Client 04: no diagnosis code", report)
        self.assertIn("Client 04: the note is empty", report)
        self.assertIn("Client 01: the note is empty", report)
        self.assertNotIn("Client 01: no diagnosis", report, "client 01 has one")
        self.assertNotIn("Client 02: the note is empty", report, "a client note is enough")
        with self.assertRefused(UserError, "cannot be signed yet"):
            wizard._sign()
        self.assertEqual(set(self.session.therapy_chart_note_ids.mapped("state")), {"draft"})
        self.template.require_diagnosis = False
        wizard.group_note = GROUP_NOTE
        self.assertFalse(wizard.presign_report)
        wizard._sign()
        self.assertEqual(set(self.session.therapy_chart_note_ids.mapped("state")), {"locked"})

    def test_required_template_sections(self):
        template = self.env["therapy.chart.template"].create(
            {
                "name": "Structured group note",
                "section_ids": [
                    (0, 0, {"name": "Interventions", "sequence": 1}),
                    (0, 0, {"name": "Risk assessment", "sequence": 2, "required": True}),
                ],
            }
        )
        wizard = self._open_wizard()
        wizard.template_id = template
        wizard._onchange_template_id()
        self.assertEqual(
            wizard.section_line_ids.mapped("name"), ["Interventions", "Risk assessment"]
        )
        wizard.group_note = GROUP_NOTE
        interventions = wizard.section_line_ids[0]
        interventions.content = "<p>Mindfulness exercise.</p>"
        wizard.action_review()
        self.assertIn(
            "Client 01: the required section “Risk assessment” is empty", wizard.presign_report
        )
        with self.assertRefused(UserError, "the required section “Risk assessment” is empty"):
            wizard._sign()
        # The draft keeps the sections written so far; reopening loads them.
        reopened = self._open_wizard()
        self.assertEqual(reopened.template_id, template)
        self.assertIn("Mindfulness", reopened.section_line_ids[0].content)
        reopened.section_line_ids[1].content = "<p>No safety concerns reported.</p>"
        reopened._sign()
        body = self._note(self.clients[0]).body
        self.assertIn("Risk assessment", body)
        self.assertIn("No safety concerns reported", body)
        self.assertLess(body.index("Mindfulness"), body.index("No safety concerns"))
