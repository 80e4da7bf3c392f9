import base64
import csv
import io
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .test_charting import ChartingCommon


@tagged("post_install", "-at_install")
class TestCosign(ChartingCommon):
    """Provider Pat is pre-licensed: Supervisor Sue co-signs Pat's notes. Shared Sam (who
    shares the group, no supervisor) signs as before."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supervisor = new_test_user(
            cls.env,
            "gt_supervisor",
            groups="group_therapy.group_therapy_provider",
            name="Supervisor Sue",
        )
        cls.supervisor.therapy_credentials = "LCSW"
        cls.provider.therapy_credentials = "ACSW"
        cls.provider.therapy_supervisor_id = cls.supervisor
        cls.practice = cls.env["res.company"].create({"name": "Supervised Practice"})
        for user in (
            cls.provider,
            cls.shared_provider,
            cls.supervisor,
            cls.manager,
            cls.front_desk,
        ):
            user.company_ids = [Command.link(cls.practice.id)]
        cls.group.company_id = cls.practice
        cls.Note = cls.env["therapy.chart.note"]

    def _intern_signs(self):
        self._chart(user=self.provider)._sign()
        return self.session.therapy_chart_note_ids

    def _cosign_activities(self, user=None):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "therapy.chart.note"),
                (
                    "activity_type_id",
                    "=",
                    self.env.ref("group_therapy.mail_activity_type_cosign").id,
                ),
                ("user_id", "=", (user or self.supervisor).id),
            ]
        )

    def _verify_chain(self):
        Chain = self.env["therapy.chart.note.chain"].with_user(self.manager)
        [result] = Chain._therapy_check_integrity(self.practice)
        return result

    def _report_html(self, notes, user):
        report = self.env.ref("group_therapy.therapy_chart_note_report")
        html, _kind = report.with_user(user)._render_qweb_html(report, notes.ids)
        return html.decode()

    # ------------------------------------------------------------------
    # The intern signs
    # ------------------------------------------------------------------

    def test_intern_signs_and_the_notes_wait_for_the_supervisor(self):
        notes = self._intern_signs()
        self.assertEqual(notes.partner_id, self.attendees)
        self.assertEqual(set(notes.mapped("state")), {"to_cosign"})
        for note in notes:
            self.assertEqual(note.signed_by_id, self.provider)
            self.assertEqual(note.signed_by_name, "Provider Pat")
            self.assertEqual(note.signed_by_credentials, "ACSW")
            self.assertTrue(note.signed_on)
            self.assertFalse(note.cosigned_by_id)
            self.assertFalse(note.integrity_sequence, "not final: not in the chain yet")
        self.assertTrue(all(notes.attendance_id.mapped("note_signed")), "facts frozen")
        self.assertEqual(self.session.therapy_chart_state, "to_cosign")
        self.assertEqual(
            self._verify_chain()["status"], "empty", "a waiting note is not 'signed outside'"
        )
        # One activity for the supervisor for the session, naming no client.
        [activity] = self._cosign_activities()
        date = self.session.therapy_session_date
        self.assertIn("Co-sign 3 notes of Adult Anxiety Group", activity.summary)
        self.assertIn(str(date.day), activity.summary)
        for client in self.clients:
            self.assertNotIn(client.name, activity.summary)
        self.assertFalse(activity.note and "distress" in str(activity.note), "no clinical text")
        self.assertFalse(
            self.env["mail.mail"].search([("recipient_ids", "in", self.supervisor.partner_id.ids)]),
            "no e-mail: the activity names the note, hence the client",
        )

    def test_a_waiting_note_is_frozen_like_a_signed_one(self):
        notes = self._intern_signs()
        note = notes[0]
        for values in (
            {"body": "<p>Rewritten.</p>"},
            {"client_note": "<p>Rewritten.</p>"},
            {"state": "draft"},
            {"addendum_ids": [Command.create({"body": "<p>Later.</p>"})]},
        ):
            with self.subTest(values=values), self.assertRaises(UserError):
                note.with_user(self.provider).write(values)
        with self.assertRefused(UserError, "wait for Supervisor Sue's co-signature"):
            self.session.with_user(self.provider).action_open_charting()
        with self.assertRefused(UserError, "waits for Supervisor Sue's co-signature"):
            note.with_user(self.provider).unlink()
        with self.assertRefused(UserError, "has signed chart notes"):
            self.session.with_user(self.front_desk).duration = 2.5
        with self.assertRefused(UserError, "just signed"):
            notes.with_user(self.provider)._sign()

    def test_a_provider_without_supervisor_still_locks_directly(self):
        self._chart(user=self.shared_provider)._sign()
        notes = self.session.therapy_chart_note_ids
        self.assertEqual(set(notes.mapped("state")), {"locked"})
        self.assertFalse(any(notes.mapped("cosigned_by_id")))
        self.assertEqual(notes.mapped("integrity_sequence"), [1, 2, 3])
        self.assertFalse(self._cosign_activities())
        # Their hash covers no co-signature at all: it is the hash such notes always had.
        payload = notes[0].sudo()._therapy_integrity_payload(notes[0].integrity_sequence)
        self.assertNotIn("cosigned_by_id", payload["note"])
        self.assertEqual(self._verify_chain()["status"], "verified")

    # ------------------------------------------------------------------
    # The supervisor co-signs
    # ------------------------------------------------------------------

    def test_supervisor_reads_and_cosigns_them_all_at_once(self):
        self._intern_signs()
        # The To Co-sign list: the supervisor's supervisees' waiting notes.
        action = self.env.ref("group_therapy.therapy_chart_note_action_cosign")
        to_cosign = self.Note.with_user(self.supervisor).search(
            [("state", "=", "to_cosign"), ("cosign_supervisor_id", "=", self.supervisor.id)]
        )
        self.assertEqual(to_cosign.partner_id, self.attendees)
        self.assertIn("filter_to_cosign", action.context)
        self.assertIn("distress tolerance", to_cosign[0].body, "the supervisor reviews the text")
        # ... and reads the clients of those notes, no other member of the group.
        self.assertEqual(
            self.env["res.partner"]
            .with_user(self.supervisor)
            .search([("id", "in", self.clients[:4].ids)]),
            self.attendees,
        )
        cosigned = to_cosign._cosign()
        self.assertEqual(cosigned, to_cosign)
        self.env.invalidate_all()
        for note in to_cosign:
            self.assertEqual(note.state, "locked")
            self.assertEqual(note.signed_by_id, self.provider)
            self.assertEqual(note.cosigned_by_id, self.supervisor)
            self.assertEqual(note.cosigned_by_name, "Supervisor Sue")
            self.assertEqual(note.cosigned_by_credentials, "LCSW")
            self.assertTrue(note.cosigned_on >= note.signed_on)
            self.assertTrue(note.hash_verified)
        self.assertEqual(self.session.therapy_chart_state, "locked")
        # The chain: entries at co-signing, their hash covering both signatures.
        self.assertEqual(sorted(to_cosign.mapped("integrity_sequence")), [1, 2, 3])
        payload = to_cosign[0].sudo()._therapy_integrity_payload(to_cosign[0].integrity_sequence)
        self.assertEqual(payload["note"]["cosigned_by_id"], self.supervisor.id)
        self.assertEqual(payload["note"]["cosigned_by_credentials"], "LCSW")
        self.assertEqual(payload["note"]["signed_by_id"], self.provider.id)
        self.assertEqual(self._verify_chain()["status"], "verified")
        # A forged co-signer (behind the ORM) no longer matches the hash.
        self.env.cr.execute(
            "UPDATE therapy_chart_note SET cosigned_by_name = 'Someone Else' WHERE id = %s",
            [to_cosign[0].id],
        )
        self.env.invalidate_all()
        self.assertEqual(self._verify_chain()["status"], "broken")
        self.env.cr.execute(
            "UPDATE therapy_chart_note SET cosigned_by_name = 'Supervisor Sue' WHERE id = %s",
            [to_cosign[0].id],
        )
        self.env.invalidate_all()
        # The activity is done; the supervisor still reads what they co-signed.
        self.assertFalse(self._cosign_activities())
        self.assertEqual(
            self.Note.with_user(self.supervisor).search(
                [("cosigned_by_id", "=", self.supervisor.id)]
            ),
            to_cosign,
        )
        # The PDF (and so the record) shows both signatures.
        html = self._report_html(to_cosign[:1], self.supervisor)
        self.assertIn("Electronically signed by <strong>Provider Pat</strong>", html)
        self.assertIn("<strong>ACSW</strong>", html)
        self.assertIn("co-signed by <strong>Supervisor Sue</strong>", html)
        self.assertIn("<strong>LCSW</strong>", html)
        self.assertNotIn("does not match", html)
        # Final: addenda now, like any signed note.
        to_cosign[0].with_user(self.provider).write(
            {"addendum_ids": [Command.create({"body": "<p>Called back.</p>"})]}
        )
        self.assertEqual(self._verify_chain()["status"], "verified")

    def test_a_waiting_note_pdf_says_it_is_not_final(self):
        notes = self._intern_signs()
        html = self._report_html(notes[:1], self.supervisor)
        self.assertIn("waiting for co-signature: not final", html)
        self.assertIn("Electronically signed by <strong>Provider Pat</strong>", html)
        self.assertNotIn("co-signed by", html)

    def test_the_supervisor_cosigns_only_what_still_waits(self):
        notes = self._intern_signs()
        notes[:1].with_user(self.supervisor)._cosign()
        [activity] = self._cosign_activities()
        self.assertIn("Co-sign 2 notes", activity.summary, "the count follows what waits")
        with self.assertRefused(UserError, "no longer waits for a co-signature"):
            notes.with_user(self.supervisor)._cosign()
        self.assertEqual(notes[1:].mapped("state"), ["to_cosign", "to_cosign"])

    # ------------------------------------------------------------------
    # The supervisor returns the notes
    # ------------------------------------------------------------------

    def test_return_with_a_comment_then_the_intern_edits_and_signs_again(self):
        notes = self._intern_signs()
        wizard_action = notes.with_user(self.supervisor).action_open_return()
        Wizard = self.env["therapy.cosign.return.wizard"].with_user(self.supervisor)
        with self.assertRefused(UserError, "Write what the signer should change"):
            notes.with_user(self.supervisor)._return_to_signer("   ")
        wizard = Wizard.with_context(**wizard_action["context"]).create(
            {"comment": "Tie each client's progress to their treatment goals."}
        )
        self.assertEqual(wizard.note_ids, notes)
        wizard.action_return()
        self.env.invalidate_all()
        self.assertEqual(set(notes.mapped("state")), {"draft"})
        self.assertFalse(any(notes.mapped("signed_by_id")))
        self.assertFalse(any(notes.mapped("signed_on")))
        self.assertFalse(any(notes.attendance_id.mapped("note_signed")), "facts free again")
        self.assertEqual(self.session.therapy_chart_state, "draft")
        self.assertFalse(self._cosign_activities())
        # The comment reaches the intern on each note; the chatter (internal) and the activity
        # point to it without quoting it, since reading chatter is not on the access log.
        message = notes[0].message_ids.filtered(lambda msg: "Returned for changes" in str(msg.body))
        self.assertTrue(message)
        self.assertTrue(message.subtype_id.internal)
        self.assertEqual(message.author_id, self.supervisor.partner_id)
        self.assertNotIn("treatment goals", str(message.body))
        [todo] = self.env["mail.activity"].search(
            [("res_model", "=", "therapy.chart.note"), ("user_id", "=", self.provider.id)]
        )
        self.assertIn("Revise and sign again 3 notes of Adult Anxiety Group", todo.summary)
        self.assertNotIn("treatment goals", str(todo.note))
        Log = self.env["therapy.access.log"]
        last_log_id = Log.search([], limit=1, order="id desc").id or 0
        [values] = notes[0].with_user(self.provider).read(["return_comment", "returned_by_id"])
        self.assertEqual(
            values["return_comment"], "Tie each client's progress to their treatment goals."
        )
        self.assertEqual(values["returned_by_id"][0], self.supervisor.id)
        [logged] = Log.search([("id", ">", last_log_id)])
        self.assertEqual(
            (logged.user_id, logged.res_model, logged.res_id, logged.access_type),
            (self.provider, "therapy.chart.note", notes[0].id, "read"),
        )
        self.assertEqual(logged.partner_id, notes[0].partner_id)
        # The supervisor no longer reads them; the intern edits and signs again.
        self.assertFalse(self.Note.with_user(self.supervisor).search([("id", "in", notes.ids)]))
        wizard = self._open_wizard(self.provider)
        self.assertIn("distress tolerance", wizard.group_note, "the returned text comes back")
        wizard.group_note = "<p>Practised TIPP; each client set a goal-linked step.</p>"
        wizard.action_review()
        wizard._sign()
        self.env.invalidate_all()
        self.assertEqual(self.session.therapy_chart_note_ids, notes, "the same notes, revised")
        self.assertEqual(set(notes.mapped("state")), {"to_cosign"})
        self.assertIn("goal-linked", notes[0].body)
        self.assertEqual(len(self._cosign_activities()), 1)
        notes.with_user(self.supervisor)._cosign()
        self.assertEqual(set(notes.mapped("state")), {"locked"})
        self.assertEqual(self._verify_chain()["status"], "verified")

    # ------------------------------------------------------------------
    # Who cannot
    # ------------------------------------------------------------------

    def test_nobody_else_cosigns_returns_or_forges_a_cosignature(self):
        notes = self._intern_signs()
        note = notes[0]
        calls = {
            "action_cosign": lambda records: records.action_cosign(),
            "_cosign": lambda records: records._cosign(),
            "_return_to_signer": lambda records: records._return_to_signer("Redo."),
            "action_open_return": lambda records: records.action_open_return(),
            "write state": lambda records: records.write({"state": "locked"}),
            "write cosigned_by_id": lambda records: records.write(
                {"cosigned_by_id": self.supervisor.id}
            ),
            "write cosigned_on": lambda records: records.write(
                {"cosigned_on": fields.Datetime.now()}
            ),
            "write return_comment": lambda records: records.write(
                {"return_comment": "Forged.", "returned_by_id": self.supervisor.id}
            ),
        }
        users = {
            "the intern": self.provider,
            "a provider sharing the group": self.shared_provider,
            "another provider": self.other_provider,
            "front desk": self.front_desk,
            "an administrator": self.manager,
        }
        for who, user in users.items():
            for call_name, call in calls.items():
                with (
                    self.subTest(who=who, call=call_name),
                    self.assertRaises(UserError),
                    mute_logger("odoo.addons.base.models.ir_rule", "odoo.models"),
                ):
                    call(note.with_user(user))
        # The supervisor can co-sign, but not forge: no direct write, no co-sign outside HTTP.
        for call_name in (
            "action_cosign",
            "write state",
            "write cosigned_by_id",
            "write return_comment",
        ):
            with (
                self.subTest(who="the supervisor", call=call_name),
                self.assertRaises(UserError),
                mute_logger("odoo.addons.base.models.ir_rule", "odoo.models"),
            ):
                calls[call_name](note.with_user(self.supervisor))
        self.env.invalidate_all()
        self.assertEqual(set(notes.mapped("state")), {"to_cosign"})
        self.assertFalse(any(notes.mapped("cosigned_by_id")))
        self.assertFalse(any(notes.mapped("return_comment")))
        # Nobody creates a note already co-signed.
        with self.assertRaises(UserError):
            self.Note.with_user(self.provider).create(
                {
                    "partner_id": self.clients[0].id,
                    "event_id": self.session.id,
                    "attendance_id": note.attendance_id.id,
                    "state": "locked",
                    "cosigned_by_id": self.supervisor.id,
                }
            )

    def test_an_earlier_supervisor_no_longer_cosigns(self):
        """Who co-signs is the signer's supervisor now: an administrator who changes it moves
        the waiting notes to the new supervisor."""
        notes = self._intern_signs()
        new_supervisor = new_test_user(
            self.env, "gt_supervisor2", groups="group_therapy.group_therapy_provider", name="Nia"
        )
        new_supervisor.company_ids = [Command.link(self.practice.id)]
        self.provider.therapy_supervisor_id = new_supervisor
        self.assertFalse(self._cosign_activities(), "the activity moves to the new supervisor")
        self.assertIn("Co-sign 3 notes", self._cosign_activities(new_supervisor).summary)
        with self.assertRaises(UserError), mute_logger("odoo.addons.base.models.ir_rule"):
            notes.with_user(self.supervisor)._cosign()
        notes.with_user(new_supervisor)._cosign()
        self.assertEqual(set(notes.mapped("cosigned_by_id.name")), {"Nia"})

    # ------------------------------------------------------------------
    # The supervisor field
    # ------------------------------------------------------------------

    def test_only_an_administrator_sets_a_supervisor(self):
        for value in (self.other_provider.id, False):
            with (
                self.subTest(value=value),
                self.assertRaises(UserError),
                mute_logger("odoo.addons.base.models.ir_rule", "odoo.models"),
            ):
                self.provider.with_user(self.provider).write({"therapy_supervisor_id": value})
        with self.assertRaises(UserError):
            self.provider.with_user(self.manager).write({"therapy_supervisor_id": False})
        self.assertEqual(self.provider.therapy_supervisor_id, self.supervisor)
        admin = self.env.ref("base.user_admin")
        self.provider.with_user(admin).therapy_supervisor_id = self.other_provider
        self.assertEqual(self.provider.therapy_supervisor_id, self.other_provider)
        # The provider reads it in their preferences.
        self.assertEqual(
            self.provider.with_user(self.provider).read(["therapy_supervisor_id"])[0][
                "therapy_supervisor_id"
            ][0],
            self.other_provider.id,
        )

    def test_a_supervisor_is_another_provider_without_a_loop(self):
        admin = self.env.ref("base.user_admin")
        with self.assertRefused(ValidationError, "cannot be their own clinical supervisor"):
            self.provider.with_user(admin).therapy_supervisor_id = self.provider
        with self.assertRefused(ValidationError, "must have the Group Therapy Provider role"):
            self.provider.with_user(admin).therapy_supervisor_id = self.front_desk
        with self.assertRefused(ValidationError, "cannot go round in a circle"):
            self.supervisor.with_user(admin).therapy_supervisor_id = self.provider

    # ------------------------------------------------------------------
    # Billing waits for the final note
    # ------------------------------------------------------------------

    def test_claim_export_leaves_out_a_note_waiting_for_cosignature(self):
        self._intern_signs()
        today = fields.Date.today()
        wizard = (
            self.env["therapy.claim.export.wizard"]
            .with_user(self.front_desk)
            .create(
                {
                    "date_from": today - timedelta(days=7),
                    "date_to": today,
                    "file_format": "csv",
                    "group_ids": [Command.set(self.group.ids)],
                }
            )
        )
        with self.assertRefused(UserError, "waits for the supervisor's co-signature"):
            wizard.action_export()
        self.session.therapy_chart_note_ids[:1].with_user(self.supervisor)._cosign()
        wizard.action_export()
        rows = list(csv.DictReader(io.StringIO(base64.b64decode(wizard.data).decode())))
        self.assertEqual(len(rows), 1, "the co-signed note's service only")
        self.assertIn("waits for the supervisor's co-signature", wizard.left_out)
        blockers = self.session.therapy_attendance_ids._claim_blockers()
        self.assertEqual(len(blockers), 3, "two waiting notes and the no-show's line")
