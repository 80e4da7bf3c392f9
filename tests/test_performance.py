"""The hot paths of a session cost as many queries for a group of 50 as for a group of 3.

Each path runs as the role that does it every day: scheduling, opening the session form and
marking everybody attended (front desk), invoicing (front desk; Odoo's own creation and posting
of the invoices grows with the number of invoices, the addon's part around it does not),
signing (provider).
Run alone with `--test-tags group_therapy_perf`.
"""

import base64
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import SQL

from ..wizards import x12
from .common import GroupTherapyCommon
from .test_insurance_claims import ClaimsCommon

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
# record rule check each; scheduling 42 before the group's memberships came with their dates
# in the search that finds them, 41 before a session entered after it took place skipped
# Odoo's invitation of nobody (its template, attachments and mail servers looked up, for the
# session and its busy blocks) and the blocks' attendees were created accepted instead of
# written so after, 35 before the check of the new attendance lines used the memberships they
# were made from instead of searching them again, 34 before a session without reminders no
# longer had Odoo look its reminder cron up; marking all attended 34 until its budget was
# brought down to its count, 31, on 2026-12-08). A change that needs more queries raises its
# budget here and says why in its commit.
SCHEDULE_BUDGET = 33
OPEN_SESSION_BUDGET = 16
MARK_ALL_BUDGET = 31
# (invoicing: 39 before the invoice list it opens was built without reading Odoo's action, 31
# before the payer rules were found and read in one query and the two same-day checks shared
# one search; signing 84 before the latter, 82 before the company's chain row was locked and
# read in one query)
INVOICE_BUDGET = 29
CHART_BUDGET = 55
SIGN_BUDGET = 81
# Insurance: the queries each further claim adds, between 5 and 50 claims (2026-12-07: invoicing
# 20.2 a claim, 2.0 of them outside Odoo's create and post of the moves, every other claim with
# a copay invoice as well; 62 and 5 when each claim and its invoices were created and posted
# alone. Importing the 835 that pays them: 15.0 a claim, Odoo's numbering, posting and
# reconciliation of each entry).
CLAIMS_SMALL, CLAIMS_BIG = 5, 50
CLAIM_INVOICE_PER_CLAIM = 21
CLAIM_INVOICE_OURS_PER_CLAIM = 2
ERA_IMPORT_PER_CLAIM = 15

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


@contextmanager
def counting_accounting(env, counter):
    """Count the queries spent inside Odoo's own account.move create and post."""
    Move = type(env["account.move"])
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

    def _counting_accounting(self, counter):
        return counting_accounting(self.env, counter)


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


@tagged("post_install", "-at_install", "group_therapy_perf")
class TestClaimPerformance(ClaimsCommon):
    """Insurance at scale (make bench: 500 claims): invoicing insured clients and importing the
    insurer's 835 cost queries that grow with the number of claims by a small constant, what
    Odoo's own create, post and reconcile of the entries spend per entry, not by one create,
    post and reconcile of ours per claim."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("group_therapy.therapy_payer_rule_90853_head_count").active = False
        cls.company.therapy_writeoff_account_id = cls.env["account.account"].create(
            {"name": "Contractual Adjustments", "code": "499100", "account_type": "expense"}
        )
        members = cls.env["res.partner"].create(
            [
                {"name": f"Insured {index:02d}", "therapy_diagnosis_ids": [(4, cls.diagnosis.id)]}
                for index in range(CLAIMS_SMALL + CLAIMS_BIG + 2)
            ]
        )
        # Every other client has a copay, billed to them on an invoice of its own.
        cls.env["therapy.coverage"].create(
            [
                {
                    "partner_id": member.id,
                    "payer_id": cls.blue_shield.id,
                    "member_ident": f"M{index:03d}",
                    "copay_amount": 10.0 if index % 2 else 0.0,
                }
                for index, member in enumerate(members)
            ]
        )
        cls.groups = cls.env["therapy.group"].create(
            [
                {"name": name, "code": code, "provider_id": cls.provider.id, "capacity": 0}
                for name, code in (("Warm", "WRM"), ("Small", "SML"), ("Big", "BIG"))
            ]
        )
        sizes = (2, CLAIMS_SMALL, CLAIMS_BIG)
        cuts = [0, 2, 2 + CLAIMS_SMALL, 2 + CLAIMS_SMALL + CLAIMS_BIG]
        cls.env["therapy.group.member"].create(
            [
                {"group_id": group.id, "partner_id": member.id, "date_start": "2020-01-01"}
                for group, start, stop in zip(cls.groups, cuts[:-1], cuts[1:], strict=True)
                for member in members[start:stop]
            ]
        )
        cls.sessions = {}
        for group, size in zip(cls.groups, sizes, strict=True):
            session = cls._make_session(group)
            session.action_mark_all_attended()
            cls.sessions[size] = session

    def _invoice_queries(self, size):
        """(all queries, those outside Odoo's own create and post of the moves)."""
        session, accounting = self.sessions[size], [0]
        with counting_accounting(self.env, accounting):
            total = self._queries(
                lambda: session.with_user(self.front_desk).action_invoice_attendance()
            )
        return total, total - accounting[0]

    def _remittance(self, claims):
        """The insurer's 835 paying each claim 60 and writing off the rest."""
        entries = [
            {
                "ref": claim.name,
                "status": "1",
                "charge": claim.amount_charge,
                "paid": 60.0,
                "patient": claim.amount_copay,
                "payer_ref": f"PCN{claim.id}",
                "adjustments": [
                    ("CO", "45", claim.amount_charge - 60.0 - claim.amount_copay),
                    *([("PR", "3", claim.amount_copay)] if claim.amount_copay else []),
                ],
                "remarks": [],
                "client": {"last": "Insured", "first": "Client"},
                "member_ident": "M1",
                "services": [("90853", claim.amount_charge, 60.0, claim.date_of_service)],
            }
            for claim in claims
        ]
        header = {
            "created": datetime(2026, 12, 7, 9, 0),
            "control_number": len(claims),
            "trace": f"EFT-PERF-{len(claims)}",
            "payer": {"name": self.blue_shield.name, "code": "94036"},
            "payee": {"name": "Sunrise Counseling", "npi": "1245319599"},
            "amount": 60.0 * len(claims),
        }
        return x12.build_835(header, entries)

    def _import_queries(self, size):
        claims = self.sessions[size].therapy_attendance_ids.therapy_claim_ids
        self.assertEqual(len(claims), size)
        claims._therapy_server_write({"state": "submitted"})
        wizard = (
            self.env["therapy.era.import.wizard"]
            .with_user(self.accountant)
            .create(
                {
                    "data": base64.b64encode(self._remittance(claims).encode()),
                    "filename": "perf.835",
                }
            )
        )
        count = self._queries(wizard.action_import)
        self.assertEqual(set(claims.mapped("state")), {"paid"})
        self.assertLessEqual(set(claims.invoice_id.mapped("payment_state")), {"paid", "in_payment"})
        return count

    def _assert_linear(self, counts, per_claim, label):
        """counts {claims: queries}: a fixed cost plus at most per_claim queries a claim."""
        small, big = counts[CLAIMS_SMALL], counts[CLAIMS_BIG]
        self.assertLessEqual(
            big - small,
            per_claim * (CLAIMS_BIG - CLAIMS_SMALL),
            f"{label}: more than {per_claim} queries per claim ({counts})",
        )

    def test_invoice_insured(self):
        """Invoicing a session of insured clients: the claims, the insurer's invoices and the
        copays, created and posted in batches."""
        counts = {size: self._invoice_queries(size) for size in (2, CLAIMS_SMALL, CLAIMS_BIG)}
        self._assert_linear(
            {size: total for size, (total, _ours) in counts.items()},
            CLAIM_INVOICE_PER_CLAIM,
            "invoicing insured clients",
        )
        self._assert_linear(
            {size: ours for size, (_total, ours) in counts.items()},
            CLAIM_INVOICE_OURS_PER_CLAIM,
            "invoicing insured clients, outside Odoo's create and post",
        )

    def test_import_835(self):
        """Importing the 835 that pays the claims: write-offs, copays and the payment posted
        and reconciled in batches."""
        for size in (2, CLAIMS_SMALL, CLAIMS_BIG):
            self.sessions[size].with_user(self.front_desk).action_invoice_attendance()
        counts = {size: self._import_queries(size) for size in (2, CLAIMS_SMALL, CLAIMS_BIG)}
        self._assert_linear(counts, ERA_IMPORT_PER_CLAIM, "importing the 835")
