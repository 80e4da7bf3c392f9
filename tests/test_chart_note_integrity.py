import importlib.util
import json
import os
import pathlib
import tempfile
from itertools import pairwise
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import BaseCase, tagged
from odoo.tools import SQL, config

from ..models import therapy_chart_note_chain
from ..models.therapy_chart_note_chain import (
    INTEGRITY_CYCLE_PARAMETER,
    integrity_digest,
    integrity_key,
    integrity_key_fingerprint,
    integrity_scheme,
)
from .common import integrity_key_configured
from .test_charting import GROUP_NOTE, ChartingCommon

MIGRATION = pathlib.Path(__file__).parent.parent / "migrations/19.0.1.1.0/post-migrate.py"
# The integrity key of the server the tests pretend to run on (odoo.conf), and another one.
KEY = "test-integrity-key-0123456789abcdef0123456789abcdef"
OTHER_KEY = "another-integrity-key-0123456789abcdef0123456789ab"


@tagged("post_install", "-at_install")
class TestChartNoteIntegrity(ChartingCommon):
    """The chain of signed notes and addenda of one practice (a company of its own, so that its
    chain holds only what the test signed), tampered with behind the ORM as someone with
    database access would, then verified by the report and the daily cron. The server has an
    integrity key (KEY) unless a test says otherwise."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(integrity_key_configured(KEY))
        # The daily verification re-verifies the whole chain at every run, unless a test says.
        cls.env["ir.config_parameter"].set_param(INTEGRITY_CYCLE_PARAMETER, 1)
        cls.practice = cls.env["res.company"].create({"name": "Integrity Practice"})
        for user in (cls.provider, cls.shared_provider, cls.manager, cls.front_desk):
            user.company_ids = [Command.link(cls.practice.id)]
        cls.group.company_id = cls.practice
        cls.Chain = cls.env["therapy.chart.note.chain"]
        # Entries 1-3: yesterday's notes; 4-7: the notes of the session before; 8: an addendum.
        cls._chart()._sign()
        cls.earlier = cls._make_session(cls.group, days=-2)
        cls.earlier.action_mark_all_attended()
        cls._chart(session=cls.earlier)._sign()
        cls.first_note = cls._note(cls.clients[0])
        cls.first_note.with_user(cls.provider).write(
            {"addendum_ids": [Command.create({"body": "<p>Called back: feeling better.</p>"})]}
        )
        cls.addendum = cls.first_note.addendum_ids

    def _entries(self):
        """Every chained record of the practice, in chain order."""
        records = [
            *self.env["therapy.chart.note"].search([("company_id", "=", self.practice.id)]),
            *self.env["therapy.chart.note.addendum"].search(
                [("company_id", "=", self.practice.id)]
            ),
        ]
        return sorted(records, key=lambda record: record.integrity_sequence)

    def _entry(self, sequence):
        return next(entry for entry in self._entries() if entry.integrity_sequence == sequence)

    def _verify(self, user=None):
        """The report's findings for the practice, as the administrator (or ``user``)."""
        Chain = self.Chain.with_user(user or self.manager)
        [result] = Chain._therapy_check_integrity(self.practice)
        return result

    def _report_html(self, user=None):
        report = self.env.ref("group_therapy.therapy_chart_note_integrity_report")
        html, _kind = report.with_user(user or self.manager)._render_qweb_html(
            report, self.practice.ids
        )
        return html.decode()

    def _sql(self, query, *args):
        self.env.flush_all()
        self.env.cr.execute(SQL(query, *args))
        self.env.invalidate_all()

    # ------------------------------------------------------------------
    # the chain as signing writes it

    def test_signing_chains_every_note_and_addendum(self):
        entries = self._entries()
        self.assertEqual([entry.integrity_sequence for entry in entries], list(range(1, 9)))
        self.assertEqual(entries[-1], self.addendum, "an addendum is chained when it is saved")
        self.assertFalse(entries[0].integrity_previous_hash, "the first entry has no previous")
        for previous, entry in pairwise(entries):
            self.assertEqual(entry.integrity_previous_hash, previous.content_hash)
        for entry in entries:
            self.assertRegex(entry.content_hash, r"^[0-9a-f]{64}$")
            self.assertEqual(entry.integrity_scheme, integrity_scheme(KEY), "hashed with the key")
            payload = entry.sudo()._therapy_integrity_payload(entry.integrity_sequence)
            self.assertEqual(
                entry.content_hash, integrity_digest(entry.integrity_previous_hash, payload, KEY)
            )
            self.assertNotIn(KEY, entry.integrity_scheme)
        self.assertEqual(len({entry.content_hash for entry in entries}), 8)
        chain = self.Chain.search([("company_id", "=", self.practice.id)])
        self.assertEqual((chain.last_sequence, chain.last_hash), (8, self.addendum.content_hash))
        self.assertTrue(all(self.session.therapy_chart_note_ids.mapped("hash_verified")))
        result = self._verify()
        self.assertEqual(
            (result["status"], result["count"], result["problems"]), ("verified", 8, [])
        )
        self.assertEqual(result["last"]["hash"], self.addendum.content_hash)
        html = self._report_html()
        self.assertIn("still match", html)
        self.assertIn(self.addendum.content_hash, html, "the newest hash, to keep outside")
        self.assertIn(integrity_key_fingerprint(KEY), html)
        self.assertIn("this server&#39;s key", html.replace("'", "&#39;"))
        self.assertNotIn(KEY, html)
        self.assertNotIn("distress tolerance", html, "the report carries no clinical text")

    def test_the_hash_covers_the_session_facts_and_the_line(self):
        note = self._note(self.clients[1])
        payload = note.sudo()._therapy_integrity_payload(note.integrity_sequence)
        self.assertEqual(payload["session"]["start"], str(self.session.start))
        self.assertEqual(payload["session"]["duration"], "1.500000")
        self.assertEqual(payload["session"]["therapy_group_id"], self.group.id)
        self.assertEqual(payload["session"]["user_id"], self.provider.id)
        self.assertEqual(payload["session_company"], self.practice.id)
        line = payload["attendance"]
        self.assertEqual(
            (line["state"], line["product_id"], line["place_of_service"]),
            ("attended", self.cpt_90853.id, "10"),
        )
        self.assertIn("audio_only", line)
        self.assertIn("diagnosis_pointers", line)
        self.assertEqual(payload["note"]["signed_by_id"], self.provider.id)
        self.assertIn("distress tolerance", payload["note"]["body"])

    def test_the_hash_is_server_owned_and_written_once(self):
        note = self.first_note
        original = (note.integrity_sequence, note.content_hash)
        forged = [{"content_hash": "0" * 64}, {"integrity_sequence": 99}]
        forged.append({"integrity_previous_hash": "0" * 64})
        for user in (self.provider, self.manager):
            for values in forged:
                with self.subTest(user=user.login, values=values), self.assertRaises(UserError):
                    note.with_user(user).write(values)
                with self.subTest(user=user.login, values=values), self.assertRaises(UserError):
                    self.addendum.with_user(user).write(values)
        # Not even the server writes it twice.
        with self.assertRefused(UserError, "can no longer change"):
            note.sudo().write({"content_hash": "0" * 64})
        with self.assertRefused(UserError, "cannot be written directly"):
            self.env["therapy.chart.note.addendum"].with_user(self.provider).create(
                {"note_id": note.id, "body": "<p>Forged</p>", "content_hash": "0" * 64}
            )
        with self.assertRaises(UserError):  # an AccessError is one too
            self.Chain.with_user(self.manager).search([]).write({"last_sequence": 0})
        self.assertEqual((note.integrity_sequence, note.content_hash), original)
        self.assertEqual(self._verify()["status"], "verified")

    def test_a_group_addendum_chains_one_entry_per_note(self):
        wizard = (
            self.env["therapy.group.addendum.wizard"]
            .with_user(self.shared_provider)
            .create({"event_id": self.earlier.id, "body": "<p>The session ran 75 minutes.</p>"})
        )
        wizard.action_add()
        addenda = self.earlier.therapy_chart_note_ids.addendum_ids
        self.assertEqual(sorted(addenda.mapped("integrity_sequence")), [9, 10, 11, 12])
        self.assertEqual(set(addenda.author_id.ids), {self.shared_provider.id})
        for addendum in addenda:
            payload = addendum._therapy_integrity_payload(addendum.integrity_sequence)
            self.assertEqual(payload["note_hash"], addendum.note_id.content_hash)
        result = self._verify()
        self.assertEqual((result["status"], result["count"]), ("verified", 12))

    # ------------------------------------------------------------------
    # tampering behind the ORM

    def test_a_changed_text_is_reported(self):
        note = self._entry(2)
        self._sql("UPDATE therapy_chart_note SET body = %s WHERE id = %s", "<p>forged</p>", note.id)
        self.assertFalse(note.hash_verified)
        result = self._verify()
        self.assertEqual(result["status"], "broken")
        self.assertEqual([problem["sequence"] for problem in result["problems"]], [2])
        self.assertEqual(result["first_break"]["label"], note._therapy_integrity_label())
        self.assertIn("text, its signature or the session facts", result["first_break"]["reason"])
        html = self._report_html()
        self.assertIn(note._therapy_integrity_label(), html)
        self.assertNotIn("forged", html)

    def test_a_changed_session_fact_or_line_is_reported(self):
        self._sql(
            "UPDATE calendar_event SET start = start - interval '1 day' WHERE id = %s",
            self.session.id,
        )
        result = self._verify()
        self.assertEqual(
            {problem["label"] for problem in result["problems"]},
            {note._therapy_integrity_label() for note in self.session.therapy_chart_note_ids},
            "every note of the moved session",
        )
        self._sql(
            "UPDATE calendar_event SET start = start + interval '1 day' WHERE id = %s",
            self.session.id,
        )
        self.assertEqual(self._verify()["status"], "verified", "put back, it matches again")
        note = self._note(self.clients[0], self.earlier)
        for column, value in (
            ("audio_only", True),
            ("diagnosis_pointers", "B"),
            ("place_of_service", "02"),
            ("product_id", self.cpt_90849.id),
        ):
            with self.subTest(column=column):
                line = note.attendance_id
                self.env.cr.execute(
                    SQL(
                        "SELECT %s FROM therapy_attendance WHERE id = %s",
                        SQL.identifier(column),
                        line.id,
                    )
                )
                [[before]] = self.env.cr.fetchall()
                for new_value, expected in ((value, [note]), (before, [])):
                    self._sql(
                        "UPDATE therapy_attendance SET %s = %s WHERE id = %s",
                        SQL.identifier(column),
                        new_value,
                        line.id,
                    )
                    problems = self._verify()["problems"]
                    self.assertEqual(
                        [problem["label"] for problem in problems],
                        [entry._therapy_integrity_label() for entry in expected],
                    )

    def test_a_changed_addendum_is_reported(self):
        self._sql(
            "UPDATE therapy_chart_note_addendum SET body = %s WHERE id = %s",
            "<p>rewritten</p>",
            self.addendum.id,
        )
        result = self._verify()
        self.assertEqual([problem["sequence"] for problem in result["problems"]], [8])
        self.assertIn("Addendum", result["first_break"]["label"])
        self.assertIn("text, author or date", result["first_break"]["reason"])

    def test_a_note_deleted_from_the_middle_is_reported(self):
        self._sql("DELETE FROM therapy_chart_note WHERE id = %s", self._entry(5).id)
        result = self._verify()
        self.assertEqual(result["first_break"]["sequence"], 6)
        self.assertIn("numbered 5 to 5 before it are missing", result["first_break"]["reason"])
        self.assertEqual(len(result["problems"]), 1)

    def test_the_newest_entry_deleted_is_reported(self):
        self._sql("DELETE FROM therapy_chart_note_addendum WHERE id = %s", self.addendum.id)
        result = self._verify()
        self.assertEqual(len(result["problems"]), 1)
        self.assertIn(
            "newest entries, numbered 8 to 8, are missing", result["first_break"]["reason"]
        )

    def test_a_rehashed_note_breaks_the_next_link(self):
        """Someone who changes a note and computes its hash again, even with the key, still
        breaks the chain."""
        note = self._entry(3)
        self._sql("UPDATE therapy_chart_note SET body = %s WHERE id = %s", "<p>forged</p>", note.id)
        rehashed = integrity_digest(
            note.integrity_previous_hash, note.sudo()._therapy_integrity_payload(3), KEY
        )
        self._sql(
            "UPDATE therapy_chart_note SET content_hash = %s WHERE id = %s", rehashed, note.id
        )
        self.assertTrue(note.hash_verified, "the note alone looks right")
        result = self._verify()
        self.assertEqual(result["first_break"]["sequence"], 4)
        self.assertIn("link to the entry before it", result["first_break"]["reason"])

    def test_a_note_signed_outside_the_chain_is_reported(self):
        later = self._make_session(self.group, days=-3)
        later.action_mark_all_attended()
        self._chart(session=later)
        draft = later.therapy_chart_note_ids[:1]
        self._sql("UPDATE therapy_chart_note SET state = 'locked' WHERE id = %s", draft.id)
        result = self._verify()
        self.assertEqual(
            [problem["label"] for problem in result["problems"]], [draft._therapy_integrity_label()]
        )
        self.assertIn("no place in the chain", result["first_break"]["reason"])

    # ------------------------------------------------------------------
    # the integrity key

    def test_a_rehash_without_the_key_is_found(self):
        """Someone with database access but without the key changes a note and computes its
        hash again: as it was (keyed), as SHA-256 alone, or rewrites every later entry and the
        chain's end without the key: each is reported."""
        note = self._entry(3)
        payload_before = note.sudo()._therapy_integrity_payload(3)
        self._sql("UPDATE therapy_chart_note SET body = %s WHERE id = %s", "<p>forged</p>", note.id)
        payload = note.sudo()._therapy_integrity_payload(3)
        self.assertNotEqual(payload, payload_before)
        for guessed_key in (None, "a-guessed-key-0123456789abcdef0123456789"):
            rehashed = integrity_digest(note.integrity_previous_hash, payload, guessed_key)
            self._sql(
                "UPDATE therapy_chart_note SET content_hash = %s WHERE id = %s", rehashed, note.id
            )
            with self.subTest(guessed_key=guessed_key):
                self.assertEqual(note.hash_status, "changed")
                result = self._verify()
                self.assertEqual(result["first_break"]["sequence"], 3)
                self.assertIn("text, its signature", result["first_break"]["reason"])
        # The whole tail rewritten without the key, from the changed note to the chain's end.
        previous_hash = note.integrity_previous_hash
        for entry in self._entries()[2:]:
            digest = integrity_digest(
                previous_hash,
                entry.sudo()._therapy_integrity_payload(entry.integrity_sequence),
            )
            self._sql(
                "UPDATE %s SET content_hash = %s, integrity_previous_hash = %s, "
                "integrity_scheme = 'sha256' WHERE id = %s",
                SQL.identifier(entry._table),
                digest,
                previous_hash,
                entry.id,
            )
            previous_hash = digest
        self._sql(
            "UPDATE therapy_chart_note_chain SET last_hash = %s, last_scheme = 'sha256' "
            "WHERE company_id = %s",
            previous_hash,
            self.practice.id,
        )
        result = self._verify()
        self.assertEqual(result["status"], "broken")
        self.assertEqual(
            [problem["sequence"] for problem in result["problems"]], [3, 4, 5, 6, 7, 8]
        )
        self.assertTrue(
            all("without the integrity key" in problem["reason"] for problem in result["problems"])
        )
        schemes = [
            (scheme["first"], scheme["last"], scheme["keyed"]) for scheme in result["schemes"]
        ]
        self.assertEqual(schemes, [(1, 2, True), (3, 8, False)])

    def test_keyed_entries_cannot_be_verified_without_the_key(self):
        with integrity_key_configured(None):
            result = self._verify()
            note = self._entry(2)
            self.assertEqual(note.hash_status, "unverifiable")
            self.assertFalse(note.hash_verified)
            html = self._report_html()
        self.assertEqual((result["status"], result["problems"]), ("unverifiable", []))
        [scheme] = result["unverifiable"]
        self.assertEqual((scheme["first"], scheme["last"], scheme["count"]), (1, 8, 8))
        self.assertIn("the integrity key is not configured on this server", scheme["reason"])
        self.assertIn("cannot be verified", html)
        self.assertIn("the integrity key is not configured on this server", html)
        self.assertNotIn("does not match", html)
        self.assertNotIn("no longer match", html)
        with integrity_key_configured(OTHER_KEY):
            result = self._verify()
            self.assertEqual(self._entry(2).hash_status, "unverifiable")
        self.assertEqual((result["status"], result["problems"]), ("unverifiable", []))
        self.assertIn(
            "the integrity key configured on this server differs",
            result["unverifiable"][0]["reason"],
        )
        # A text changed meanwhile is found again as soon as the key is back.
        self._sql(
            "UPDATE therapy_chart_note SET body = %s WHERE id = %s", "<p>x</p>", self._entry(2).id
        )
        with integrity_key_configured(None):
            self.assertEqual(self._verify()["status"], "unverifiable")
        self.assertEqual(self._verify()["first_break"]["sequence"], 2)

    def test_signing_without_the_key_after_keyed_entries_is_refused(self):
        later = self._make_session(self.group, days=-3)
        later.action_mark_all_attended()
        self._chart(session=later)
        notes = later.therapy_chart_note_ids.with_user(self.provider)
        with integrity_key_configured(None):
            with self.assertRefused(UserError, "this server has none configured"):
                notes._sign()
        with integrity_key_configured("too-short"):
            with self.assertRefused(UserError, "shorter than 32 characters"):
                notes._sign()
        self.assertEqual(set(notes.mapped("state")), {"draft"})
        # With another key (the key was changed): signed, and older entries name their key.
        with integrity_key_configured(OTHER_KEY):
            notes._sign()
            result = self._verify()
        self.assertEqual(set(notes.mapped("integrity_scheme")), {integrity_scheme(OTHER_KEY)})
        self.assertEqual(result["status"], "unverifiable")
        self.assertEqual(
            [(scheme["first"], scheme["last"]) for scheme in result["unverifiable"]], [(1, 8)]
        )
        self.assertEqual(self._verify()["unverifiable"][0]["first"], 9)

    def test_a_chain_begun_without_a_key_continues_with_one(self):
        """Entries hashed before the key was configured still verify; later ones use it."""
        company = self.env["res.company"].create({"name": "Keyless Practice"})
        for user in (self.manager, self.other_provider):
            user.company_ids = [Command.link(company.id)]
        self.other_group.company_id = company
        self.other_group.member_ids.date_start = self.group.member_ids[0].date_start
        later = self._make_session(self.other_group, days=-3)
        later.action_mark_all_attended()
        self._chart(user=self.other_provider, session=later)
        note = later.therapy_chart_note_ids.with_user(self.other_provider)
        with integrity_key_configured(None):
            note._sign()
        self.assertEqual(note.integrity_scheme, "sha256")
        self.assertTrue(note.hash_verified)
        note.write({"addendum_ids": [Command.create({"body": "<p>Signed with the key.</p>"})]})
        self.assertEqual(note.addendum_ids.integrity_scheme, integrity_scheme(KEY))
        result = self._verify_company(company)
        self.assertEqual((result["status"], result["count"]), ("verified", 2))
        self.assertEqual(
            [(scheme["first"], scheme["last"], scheme["keyed"]) for scheme in result["schemes"]],
            [(1, 1, False), (2, 2, True)],
        )
        # Entries signed before keys existed (no scheme recorded) are unkeyed ones.
        self._sql("UPDATE therapy_chart_note SET integrity_scheme = NULL WHERE id = %s", note.id)
        self.assertEqual(self._verify_company(company)["status"], "verified")

    def test_cron_reports_entries_it_cannot_verify_once(self):
        with integrity_key_configured(None):
            self.Chain._cron_verify_integrity()
            activities = self._activities()
            self.assertEqual(len(activities), len(activities.user_id))
            self.assertIn(self.manager, activities.user_id)
            activity = activities.filtered(lambda act: act.user_id == self.manager)
            self.assertIn("cannot be verified", activity.summary)
            self.assertIn("the integrity key is not configured", str(activity.note))
            self.Chain._cron_verify_integrity()
            self.assertEqual(self._activities(), activities, "reported once")

    # ------------------------------------------------------------------
    # who verifies

    def test_only_administrators_verify(self):
        for user in (self.provider, self.front_desk, self.accountant):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self._verify(user)
                with self.assertRaises(AccessError):
                    self._report_html(user)
                with self.assertRaises(AccessError):
                    self.Chain.with_user(user).action_verify_integrity()
        menu_action = self.env.ref("group_therapy.therapy_chart_note_chain_action_verify")
        self.assertEqual(menu_action.group_ids, self.env.ref("group_therapy.group_therapy_manager"))
        action = menu_action.with_user(self.manager).run()
        self.assertEqual(action["report_name"], "group_therapy.report_chart_note_integrity")
        # The chain's own Verify Now button (from the cron's activity): its company only.
        chain = self.Chain.with_user(self.manager).search([("company_id", "=", self.practice.id)])
        action = chain.action_verify()
        self.assertEqual(action["context"]["active_ids"], self.practice.ids)
        with self.assertRaises(AccessError):
            chain.with_user(self.provider).action_verify()

    # ------------------------------------------------------------------
    # the daily cron

    def _activities(self):
        chain = self.Chain.search([("company_id", "=", self.practice.id)])
        return self.env["mail.activity"].search(
            [("res_model", "=", chain._name), ("res_id", "=", chain.id)]
        )

    def test_cron_reports_each_break_once(self):
        self.Chain._cron_verify_integrity()
        self.assertFalse(self._activities(), "an intact chain is not reported")
        self._sql(
            "UPDATE therapy_chart_note SET body = %s WHERE id = %s", "<p>x</p>", self._entry(2).id
        )
        self.Chain._cron_verify_integrity()
        activities = self._activities()
        admins = activities.user_id
        self.assertIn(self.manager, admins, "every administrator of the practice")
        self.assertNotIn(self.provider, admins)
        self.assertEqual(len(activities), len(admins), "one activity per administrator")
        activity = activities.filtered(lambda act: act.user_id == self.manager)
        self.assertIn(self._entry(2)._therapy_integrity_label(), str(activity.note))
        self.assertNotIn("distress tolerance", str(activity.note), "no clinical text")
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("group_therapy.mail_activity_type_chart_note_integrity"),
        )
        # The next day, the same break is not reported again.
        self.Chain._cron_verify_integrity()
        self.assertEqual(self._activities(), activities)
        # Nor after the upgrade from the list the breaks were remembered as before 19.0.1.2.0.
        chain = self._chain()
        self._sql(
            "UPDATE therapy_chart_note_chain SET reported_breaks = %s WHERE id = %s",
            json.dumps(list(chain.reported_breaks)),
            chain.id,
        )
        self.Chain._cron_verify_integrity()
        self.assertEqual(self._activities(), activities)
        # A new break is.
        self._sql("DELETE FROM therapy_chart_note_addendum WHERE id = %s", self.addendum.id)
        self.Chain._cron_verify_integrity()
        new = self._activities() - activities
        self.assertEqual(len(new), len(admins))
        self.assertIn(
            "End of the chain", str(new.filtered(lambda act: act.user_id == self.manager).note)
        )
        self.assertNotIn(self._entry(2)._therapy_integrity_label(), str(new[0].note))

    def _chain(self):
        return self.Chain.search([("company_id", "=", self.practice.id)])

    def _cron_progress(self):
        """(checkpoint, rolling position) of the practice's chain after a cron run."""
        self.Chain._cron_verify_integrity()
        chain = self._chain()
        return chain.verified_sequence, chain.rolling_sequence

    def test_cron_verifies_what_is_new_and_the_rest_within_the_cycle(self):
        """Each run verifies the entries added since the last one, and a slice of the older
        ones: with a cycle of 4 runs, 2 of the 8 entries each time."""
        self.env["ir.config_parameter"].set_param(INTEGRITY_CYCLE_PARAMETER, 4)
        self.assertEqual(self._cron_progress(), (8, 0), "the first run verifies everything")
        self._sql(
            "UPDATE therapy_chart_note SET body = %s WHERE id = %s", "<p>x</p>", self._entry(7).id
        )
        self.assertEqual(self._verify()["first_break"]["sequence"], 7, "the report: at once")
        for progress in ((8, 2), (8, 4), (8, 6)):
            self.assertEqual(self._cron_progress(), progress)
            self.assertFalse(self._activities(), "entry 7 is not in this run's slice")
        self.assertEqual(self._cron_progress(), (8, 8))
        activities = self._activities()
        self.assertIn(self._entry(7)._therapy_integrity_label(), str(activities[:1].note))
        # The next cycle finds it again, and does not report it again.
        for progress in ((8, 2), (8, 4), (8, 6), (8, 8)):
            self.assertEqual(self._cron_progress(), progress)
        self.assertEqual(self._activities(), activities)
        # New entries are verified by the next run, whatever the slice.
        later = self._make_session(self.group, days=-3)
        later.action_mark_all_attended()
        self._chart(session=later)._sign()
        self._sql(
            "UPDATE therapy_chart_note SET body = %s WHERE id = %s", "<p>x</p>", self._entry(11).id
        )
        self.assertEqual(self._cron_progress(), (12, 2))
        new = self._activities() - activities
        self.assertTrue(new)
        self.assertIn(self._entry(11)._therapy_integrity_label(), str(new[:1].note))
        self.assertNotIn(self._entry(7)._therapy_integrity_label(), str(new[:1].note))

    def test_cron_checks_the_end_of_the_chain_and_unchained_notes_at_every_run(self):
        self.env["ir.config_parameter"].set_param(INTEGRITY_CYCLE_PARAMETER, 30)
        self.assertEqual(self._cron_progress(), (8, 0))
        later = self._make_session(self.group, days=-3)
        later.action_mark_all_attended()
        self._chart(session=later)
        draft = later.therapy_chart_note_ids[:1]
        self._sql("UPDATE therapy_chart_note SET state = 'locked' WHERE id = %s", draft.id)
        self._sql("DELETE FROM therapy_chart_note_addendum WHERE id = %s", self.addendum.id)
        self.assertEqual(self._cron_progress(), (8, 1))
        note = str(self._activities().filtered(lambda act: act.user_id == self.manager).note)
        self.assertIn(draft._therapy_integrity_label(), note)
        self.assertIn("End of the chain", note)

    def test_a_deleted_newest_entry_is_reported_once_after_a_new_signing(self):
        self.Chain._cron_verify_integrity()
        self._sql("DELETE FROM therapy_chart_note_addendum WHERE id = %s", self.addendum.id)
        self.Chain._cron_verify_integrity()
        activities = self._activities()
        self.assertIn("End of the chain", str(activities[:1].note))
        # Signing goes on after the gap: the same gap, now before entry 9, is the same break.
        later = self._make_session(self.group, days=-3)
        later.action_mark_all_attended()
        self._chart(session=later)._sign()
        result = self._verify()
        self.assertEqual(len(result["problems"]), 1)
        self.assertEqual(result["first_break"]["sequence"], 9)
        self.assertIn("numbered 8 to 8 before it are missing", result["first_break"]["reason"])
        self.Chain._cron_verify_integrity()
        self.assertEqual(self._activities(), activities, "not reported a second time")

    def test_cron_finds_each_kind_of_tampering(self):
        self._sql(
            "UPDATE therapy_chart_note SET body = %s WHERE id = %s", "<p>x</p>", self._entry(1).id
        )
        self._sql("UPDATE calendar_event SET duration = 3 WHERE id = %s", self.earlier.id)
        self._sql("DELETE FROM therapy_chart_note_addendum WHERE id = %s", self.addendum.id)
        self.Chain._cron_verify_integrity()
        note = str(self._activities().filtered(lambda act: act.user_id == self.manager).note)
        for entry in [self._entry(1), *self.earlier.therapy_chart_note_ids]:
            self.assertIn(entry._therapy_integrity_label(), note)
        self.assertIn("End of the chain", note)

    # ------------------------------------------------------------------
    # what else signing freezes

    def test_audio_only_and_diagnosis_pointers_are_frozen_once_signed(self):
        signed_line = self._note(self.clients[1]).attendance_id
        for user in (self.front_desk, self.provider):
            for values in ({"audio_only": True}, {"diagnosis_pointers": "A"}):
                with self.subTest(user=user.login, values=values):
                    with self.assertRefused(UserError, "chart note for this session is signed"):
                        signed_line.with_user(user).write(values)
        self.assertFalse(signed_line.audio_only)
        # The no-show's line has no signed note: it can still change.
        unsigned_line = self.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[2]
        )
        unsigned_line.with_user(self.front_desk).write({"diagnosis_pointers": "A"})
        self.assertEqual(unsigned_line.diagnosis_pointers, "A")

    def test_a_group_with_signed_notes_keeps_its_company(self):
        main_company = self.env.ref("base.main_company")
        self.manager.company_ids = [Command.link(main_company.id)]
        with self.assertRefused(UserError, "the group's company can no longer change"):
            self.group.with_user(self.manager).company_id = main_company
        self.assertEqual(self.session.therapy_chart_note_ids.company_id, self.practice)
        # A group without signed notes moves freely.
        self.other_group.with_user(self.manager).company_id = self.practice
        self.assertEqual(self.other_group.company_id, self.practice)

    def test_every_company_has_its_chain_from_the_start(self):
        company = self.env["res.company"].create({"name": "New Practice"})
        chain = self.Chain.search([("company_id", "=", company.id)])
        self.assertEqual((chain.last_sequence, chain.last_hash), (0, False))
        self.assertEqual(self._verify_company(company)["status"], "empty")
        # A company without groups (so without notes) can still be deleted.
        company.unlink()
        self.assertFalse(chain.exists())

    def _verify_company(self, company):
        [result] = self.Chain.with_user(self.manager)._therapy_check_integrity(company)
        return result

    # ------------------------------------------------------------------
    # upgrade from 19.0.1.0.0

    def test_upgrade_chains_notes_signed_before(self):
        """Notes signed before the chain existed are chained by the upgrade, in signing order."""
        self._sql(
            "UPDATE therapy_chart_note SET integrity_sequence = NULL, "
            "integrity_previous_hash = NULL, content_hash = 'legacy' WHERE company_id = %s",
            self.practice.id,
        )
        self._sql(
            "UPDATE therapy_chart_note_addendum SET integrity_sequence = NULL, "
            "integrity_previous_hash = NULL, content_hash = NULL WHERE company_id = %s",
            self.practice.id,
        )
        self._sql("DELETE FROM therapy_chart_note_chain WHERE company_id = %s", self.practice.id)
        # Signed the other way round: the earlier session's notes first.
        self._sql(
            "UPDATE therapy_chart_note SET signed_on = signed_on - interval '1 hour' "
            "WHERE event_id = %s",
            self.earlier.id,
        )
        result = self._verify()
        self.assertEqual(len(result["problems"]), 8, "signed but outside any chain")
        spec = importlib.util.spec_from_file_location("gt_post_migrate", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "19.0.1.0.0")
        self.env.invalidate_all()
        result = self._verify()
        self.assertEqual((result["status"], result["count"]), ("verified", 8))
        self.assertEqual(
            {note.integrity_sequence for note in self.earlier.therapy_chart_note_ids}, {1, 2, 3, 4}
        )
        self.assertEqual(self.addendum.integrity_sequence, 8)
        self.assertTrue(all(entry.content_hash != "legacy" for entry in self._entries()))

    def test_signing_continues_the_chain_in_another_session(self):
        later = self._make_session(self.group, days=-3)
        later.action_mark_all_attended()
        self._chart(session=later)
        self.assertFalse(any(later.therapy_chart_note_ids.mapped("content_hash")), "drafts: none")
        later.therapy_chart_note_ids.with_user(self.provider)._sign()
        notes = later.therapy_chart_note_ids.sorted("id")
        self.assertEqual(notes.mapped("integrity_sequence"), [9, 10, 11, 12])
        self.assertEqual(notes[0].integrity_previous_hash, self.addendum.content_hash)
        self.assertIn(GROUP_NOTE, str(notes[0].body))
        result = self._verify()
        self.assertEqual((result["status"], result["count"]), ("verified", 12))


@tagged("post_install", "-at_install")
class TestIntegrityKeySetting(BaseCase):
    """Where the server's integrity key comes from: a [group_therapy] section of the
    configuration file (Odoo logs no warning about it), or the environment, which wins."""

    def _config_file(self, text):
        handle, path = tempfile.mkstemp(suffix=".conf")
        with os.fdopen(handle, "w") as conf:
            conf.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def _key_with(self, path, environ=None):
        therapy_chart_note_chain._integrity_key_of_file.cache_clear()
        self.addCleanup(therapy_chart_note_chain._integrity_key_of_file.cache_clear)
        environment = {
            k: v for k, v in os.environ.items() if k != "GROUP_THERAPY_INTEGRITY_KEY"
        } | (environ or {})
        with (
            patch.dict(config._runtime_options, {"config": path}),
            patch.dict(os.environ, environment, clear=True),
        ):
            return integrity_key()

    def test_key_from_the_configuration_files_own_section(self):
        path = self._config_file(
            f"[options]\nhttp_port = 8069\n\n[group_therapy]\nintegrity_key = {KEY}\n"
        )
        self.assertEqual(self._key_with(path), KEY)

    def test_environment_wins_over_the_file(self):
        path = self._config_file(f"[group_therapy]\nintegrity_key = {KEY}\n")
        self.assertEqual(
            self._key_with(path, {"GROUP_THERAPY_INTEGRITY_KEY": OTHER_KEY}), OTHER_KEY
        )

    def test_no_key_anywhere(self):
        path = self._config_file("[options]\nhttp_port = 8069\n")
        self.assertIsNone(self._key_with(path))
        path = self._config_file("[group_therapy]\nintegrity_key =   \n")
        self.assertIsNone(self._key_with(path), "blank is no key")
