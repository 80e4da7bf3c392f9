"""The hot paths of a session cost as many queries for a group of 50 as for a group of 3.

Each path runs as the role that does it every day: scheduling, opening the session form and
marking everybody attended (front desk), invoicing (front desk; Odoo's own creation and posting
of the invoices grows with the number of invoices, the addon's part around it does not),
signing (provider).
Run alone with `--test-tags group_therapy_perf`.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import SQL

from .common import GroupTherapyCommon

# Query budgets of each path, whatever the group's size: the counts measured on 2026-12-07
# (scheduling 57 before its members were invited in the create itself, invoicing 42 and signing
# 112 before the payer rules and the pre-sign check read less; scheduling 45, charting 72 and
# signing 109 before the record rules through a group's shared providers stopped querying the
# Provider role's existence each time; scheduling 44, opening 20, charting 57, invoicing 41 and
# signing 82 before the rows locked were no longer read again and signing no longer wrote the
# drafts again; charting 48 and signing 73 before the record rules that follow a group tested
# therapy.group.user_serves, one query of its own where the shared providers were already in
# the cache; charting 49 and signing 74 before the checks of the records a field names and of
# exports reaching clinical text, 53 and 79 with the former group rules; signing 80 before the
# charting page's client lines, sections and goals were kept to the user who opened it, one
# record rule check each). A change that needs
# more queries raises its budget here and says why in its commit.
SCHEDULE_BUDGET = 42
OPEN_SESSION_BUDGET = 16
MARK_ALL_BUDGET = 34
INVOICE_BUDGET = 39
CHART_BUDGET = 55
SIGN_BUDGET = 84

# What the session form reads when it opens (the fields of its header, tabs and attendance list).
SESSION_FORM = {
    "name": {},
    "start": {},
    "stop": {},
    "user_id": {"fields": {"display_name": {}}},
    "partner_ids": {"fields": {"display_name": {}}},
    "therapy_group_id": {"fields": {"display_name": {}}},
    "therapy_attendance_state": {},
    "therapy_attended_count": {},
    "therapy_rule_report": {},
    "therapy_attendance_ids": {
        "fields": {
            "partner_id": {"fields": {"display_name": {}}},
            "attendance_status": {},
            "state": {},
            "product_id": {"fields": {"display_name": {}}},
            "place_of_service": {},
            "amount": {},
            "billing_status": {},
            "rule_flags": {},
            "therapy_measure_summary": {},
            "invoice_id": {"fields": {}},
        }
    },
}


@tagged("post_install", "-at_install", "group_therapy_perf")
class TestSessionPerformance(GroupTherapyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 50 clients in one 90853 session is what the shipped head-count rule forbids (12):
        # switched off to measure the mechanics at that size; the other payer rules still run.
        cls.env.ref("group_therapy.therapy_payer_rule_90853_head_count").active = False
        members = cls.env["res.partner"].create(
            [
                {"name": f"Member {index:02d}", "therapy_diagnosis_ids": [(4, cls.diagnosis.id)]}
                for index in range(55)
            ]
        )
        # Every client has an active treatment-plan goal, charted with the session.
        cls.env["therapy.treatment.goal"].create(
            [
                {"partner_id": member.id, "problem": "Anxiety", "name": "Uses a coping skill daily"}
                for member in members
            ]
        )
        cls.warmup_group, cls.small_group, cls.big_group = cls.env["therapy.group"].create(
            [
                {"name": "Two", "code": "TWO", "provider_id": cls.provider.id, "capacity": 0},
                {"name": "Three", "code": "TRE", "provider_id": cls.provider.id, "capacity": 0},
                {"name": "Fifty", "code": "FTY", "provider_id": cls.provider.id, "capacity": 0},
            ]
        )
        cls.env["therapy.group.member"].create(
            [
                {"group_id": group.id, "partner_id": member.id, "date_start": "2020-01-01"}
                # different clients: 90853 is billed once per client and day
                for group, group_members in (
                    (cls.warmup_group, members[:2]),
                    (cls.small_group, members[2:5]),
                    (cls.big_group, members[5:]),
                )
                for member in group_members
            ]
        )

    def setUp(self):
        super().setUp()
        # A first session warms the caches that any first call fills once (sequences, journals,
        # templates), as Odoo's own @warmup does.
        self.warmup = self._make_session(self.warmup_group)
        self.small = self._make_session(self.small_group)
        self.big = self._make_session(self.big_group)
        self.assertEqual(
            (len(self.small.therapy_attendance_ids), len(self.big.therapy_attendance_ids)), (3, 50)
        )

    def _assert_same_for_3_and_50(self, run, budget):
        """run(session) costs no more queries for 50 clients than for 3, and stays in budget."""
        run(self.warmup)
        small_count = self._queries(lambda: run(self.small))
        self.assertLessEqual(small_count, budget, "more queries than the path's budget")
        self.env.invalidate_all()
        with self.assertQueryCount(small_count):
            run(self.big)

    def _charted(self, session):
        """The charting wizard with group notes written, reviewed, as the provider."""
        action = session.with_user(self.provider).action_open_charting()
        wizard = self.env[action["res_model"]].with_user(self.provider).browse(action["res_id"])
        wizard.group_note = "<p>Practised distress tolerance skills.</p>"
        wizard.line_ids.goal_line_ids.write({"rating": "progressing", "comment": "Daily"})
        wizard.action_review()
        return wizard

    def test_schedule(self):
        """Scheduling a session as the front desk: the session with its members invited, their
        attendance lines and the provider's busy block, in one create."""

        def schedule(group):
            start = datetime.now().replace(hour=14, minute=0, second=0, microsecond=0)
            return (
                self.env["calendar.event"]
                .with_user(self.front_desk)
                .create(
                    {
                        "therapy_group_id": group.id,
                        "start": start - timedelta(days=2),
                        "stop": start - timedelta(days=2, hours=-1),
                    }
                )
            )

        schedule(self.warmup_group)
        small_count = self._queries(lambda: schedule(self.small_group))
        self.assertLessEqual(small_count, SCHEDULE_BUDGET, "more queries than the path's budget")
        self.env.invalidate_all()
        with self.assertQueryCount(small_count):
            big = schedule(self.big_group)
        self.assertEqual(len(big.therapy_attendance_ids), 50)
        self.assertEqual(
            big.partner_ids & self.big_group.member_ids.partner_id,
            big.therapy_attendance_ids.partner_id,
        )

    def test_open_session(self):
        self._assert_same_for_3_and_50(
            lambda session: session.with_user(self.front_desk).web_read(SESSION_FORM),
            budget=OPEN_SESSION_BUDGET,
        )

    def test_mark_all_attended(self):
        self._assert_same_for_3_and_50(
            lambda session: session.with_user(self.front_desk).action_mark_all_attended(),
            budget=MARK_ALL_BUDGET,
        )
        self.assertEqual(set(self.big.therapy_attendance_ids.mapped("state")), {"attended"})

    def test_invoice(self):
        (self.warmup | self.small | self.big).action_mark_all_attended()
        counts = {}
        for session in (self.warmup, self.small, self.big):
            accounting = [0]
            with self._counting_accounting(accounting):
                total = self._queries(
                    lambda session=session: session.with_user(
                        self.front_desk
                    ).action_invoice_attendance()
                )
            counts[len(session.therapy_attendance_ids)] = total - accounting[0]
        self.assertEqual(
            counts[3], counts[50], f"the addon's queries around Odoo's invoicing: {counts}"
        )
        self.assertLessEqual(counts[3], INVOICE_BUDGET, "more queries than the path's budget")
        self.assertEqual(len(self.big.therapy_attendance_ids.invoice_id), 50)

    def test_chart(self):
        """Opening the charting screen (each client's goals beside their note), recording
        progress on every goal and reviewing."""
        (self.warmup | self.small | self.big).action_mark_all_attended()
        self._assert_same_for_3_and_50(self._charted, budget=CHART_BUDGET)
        self.assertEqual(len(self.big.therapy_chart_note_ids.goal_progress_ids), 50)

    def test_sign(self):
        (self.warmup | self.small | self.big).action_mark_all_attended()
        sessions = self.warmup | self.small | self.big
        wizards = {session: self._charted(session) for session in sessions}
        self._assert_same_for_3_and_50(lambda session: wizards[session]._sign(), budget=SIGN_BUDGET)
        self.assertEqual(set(self.big.therapy_chart_note_ids.mapped("state")), {"locked"})

    @contextmanager
    def _counting_accounting(self, counter):
        """Count the queries spent inside Odoo's own account.move create and post."""
        Move = type(self.env["account.move"])
        real_create, real_post = Move.create, Move.action_post

        def counted(real):
            def wrapper(records, *args, **kwargs):
                records.env.flush_all()
                before = records.env.cr.sql_log_count
                result = real(records, *args, **kwargs)
                records.env.flush_all()
                counter[0] += records.env.cr.sql_log_count - before
                return result

            return wrapper

        with (
            patch.object(Move, "create", counted(real_create)),
            patch.object(Move, "action_post", counted(real_post)),
        ):
            yield


@tagged("post_install", "-at_install", "group_therapy_perf")
class TestRulesOnLargeTables(GroupTherapyCommon):
    """The record rules checked on every read find their rows through indexes, so that a read
    costs the same with years of chart notes (make bench: 100,000 and 1,000,000 lines). The
    planner is told not to scan tables; it still does when no index answers a condition."""

    def _plan(self, query):
        cr = self.env.cr
        cr.execute("SET LOCAL enable_seqscan = off")
        try:
            cr.execute(SQL("EXPLAIN %s", query.select()))
            return "\n".join(row[0] for row in cr.fetchall())
        finally:
            cr.execute("SET LOCAL enable_seqscan = DEFAULT")

    def test_contact_rule_finds_cosigned_notes_by_index(self):
        """Whether a provider sees a contact asks for the notes they co-signed or are to
        co-sign (the session form checks it for every client listed): the co-signer's notes
        are found through an index, not by reading every note."""
        query = (
            self.env["res.partner"]
            .with_user(self.provider)
            ._search([("id", "in", self.clients.ids)])
        )
        plan = self._plan(query)
        self.assertIn("therapy_chart_note", plan)
        self.assertRegex(plan, r"Index Cond: \(cosigned_by_id = ")
        self.assertNotIn("Seq Scan on therapy_chart_note", plan)
