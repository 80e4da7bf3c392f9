# Fed to `odoo-bin shell` by tools/bench.sh on a fresh database: prints the session-flow
# benchmark against Odoo's own invoicing, then opening a session on a loaded database.
# ruff: noqa: F821  (`env` is provided by odoo-bin shell)
# pylint: disable=print-used
import base64
import os
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.addons.group_therapy.models.therapy_access_log import TherapyAccessLog
from odoo.addons.group_therapy.wizards import x12
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

SIZES = (3, 12, 50)
# Each figure is the best of REPEAT runs, after one warm-up run; BENCH_REPEAT=7 on a loaded
# machine. BENCH_PARTS (comma-separated, default all) picks the parts: flow (the session flow),
# scale (the 100,000- and 1,000,000-line database: opening a session, a client's notes, the
# attendance report, the integrity verification, the access log), claims (837P and 835).
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
PARTS = set(os.environ.get("BENCH_PARTS", "all").split(","))
# BENCH_INTEGRITY=0: the 100,000 loaded notes are not chained nor verified (about 5 minutes less).
INTEGRITY = os.environ.get("BENCH_INTEGRITY", "1") != "0"
LOAD_SESSIONS, LOAD_CLIENTS = 2000, 50  # 100,000 attendance lines
# Then up to 1,000,000 lines (a multi-site practice after some years); BENCH_MILLION=0 skips it.
MILLION_SESSIONS = 20000 if os.environ.get("BENCH_MILLION", "1") != "0" else 0


def wanted(part):
    return "all" in PARTS or part in PARTS


admin = env.ref("base.user_admin")
env = env(user=admin, context=dict(env.context, tracking_disable=True, no_mail_to_attendees=True))
cpt = env.ref("group_therapy.product_product_cpt_90853")
diagnosis = env.ref("group_therapy.therapy_diagnosis_f41_1")


def switch_off_head_count_rule():
    """50 clients in one 90853 session is what the shipped payer rule forbids (Medicare's 12):
    switched off, so that the benchmark measures the mechanics at that size. The other rules
    still run."""
    env.ref("group_therapy.therapy_payer_rule_90853_head_count").active = False


switch_off_head_count_rule()


def measure(func):
    """(milliseconds, queries) of func(), everything flushed to the database."""
    env.invalidate_all()
    queries_before, started = env.cr.sql_log_count, time.perf_counter()
    func()
    env.flush_all()
    return (time.perf_counter() - started) * 1000, env.cr.sql_log_count - queries_before


def make_group(size, tag):
    clients = env["res.partner"].create(
        [
            {"name": f"Bench {tag} {i}", "therapy_diagnosis_ids": [(4, diagnosis.id)]}
            for i in range(size)
        ]
    )
    group = env["therapy.group"].create(
        {"name": f"Bench {tag}", "code": f"B{tag}", "provider_id": admin.id, "capacity": 0}
    )
    env["therapy.group.member"].create(
        [{"group_id": group.id, "partner_id": c.id, "date_start": "2020-01-01"} for c in clients]
    )
    return group, clients


def session_flow(group):
    """What the practice does for one session: schedule, attendance, invoice, chart, sign."""
    start = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    session = env["calendar.event"].create(
        {"therapy_group_id": group.id, "start": start, "stop": start + timedelta(hours=1)}
    )
    session.action_mark_all_attended()
    session.action_invoice_attendance()
    action = session.action_open_charting()
    wizard = env[action["res_model"]].browse(action["res_id"])
    wizard.group_note = "<p>Practised distress tolerance skills.</p>"
    wizard.action_review()
    wizard._sign()


def native_invoicing(clients):
    """Odoo's own batch: the same posted customer invoices, one per client, made directly."""
    day = datetime.now().date() - timedelta(days=1)
    moves = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": client.id,
                "invoice_date": day,
                "invoice_user_id": admin.id,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": cpt.id,
                            "name": "90853 Group psychotherapy",
                            "quantity": 1,
                            "price_unit": cpt.lst_price,
                        },
                    )
                ],
            }
            for client in clients
        ]
    )
    moves.action_post()


@contextmanager
def counting_accounting_queries(counter):
    """Count the queries spent inside Odoo's own account.move create and post."""
    Move = type(env["account.move"])
    real_create, real_post = Move.create, Move.action_post

    def counted(real):
        def wrapper(self, *args, **kwargs):
            before = self.env.cr.sql_log_count
            result = real(self, *args, **kwargs)
            self.env.flush_all()
            counter[0] += self.env.cr.sql_log_count - before
            return result

        return wrapper

    with (
        patch.object(Move, "create", counted(real_create)),
        patch.object(Move, "action_post", counted(real_post)),
    ):
        yield


def best_interleaved(size):
    """(flow, native): the best of REPEAT runs each, the two taking turns, so that another
    process's load on the shared machine weighs on both alike."""
    flows, natives = [], []
    for _ in range(REPEAT):
        group = make_group(size, next(counter_tags))[0]
        flows.append(measure(lambda group=group: session_flow(group)))
        clients = make_group(size, next(counter_tags))[1]
        natives.append(measure(lambda clients=clients: native_invoicing(clients)))
    return min(flows), min(natives)


def flow_steps(group):
    """{step: (milliseconds, queries)} of one session flow, step by step (the cache emptied
    once, before the first step, as for the whole flow)."""
    figures = {}

    def step(name, func):
        queries_before, started = env.cr.sql_log_count, time.perf_counter()
        result = func()
        env.flush_all()
        figures[name] = (
            (time.perf_counter() - started) * 1000,
            env.cr.sql_log_count - queries_before,
        )
        return result

    start = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    env.invalidate_all()
    session = step(
        "schedule",
        lambda: env["calendar.event"].create(
            {"therapy_group_id": group.id, "start": start, "stop": start + timedelta(hours=1)}
        ),
    )
    step("mark", session.action_mark_all_attended)
    step("invoice", session.action_invoice_attendance)
    action = step("chart", session.action_open_charting)
    wizard = env[action["res_model"]].browse(action["res_id"])

    def review():
        wizard.group_note = "<p>Practised distress tolerance skills.</p>"
        wizard.action_review()

    step("review", review)
    step("sign", wizard._sign)
    return figures


def accounting_share(size):
    """Queries of one session flow spent in Odoo's own invoice create and post."""
    counter = [0]
    group = make_group(size, next(counter_tags))[0]
    with counting_accounting_queries(counter):
        _ms, queries = measure(lambda: session_flow(group))
    return queries, counter[0]


if wanted("flow"):
    print(
        "== Session flow (schedule, mark all, invoice + post, chart, sign) vs Odoo's own "
        "create + post of the same invoices"
    )
    counter_tags = iter(range(10_000))
    session_flow(make_group(3, "warm")[0])
    native_invoicing(make_group(3, "warm2")[1])
    details = []
    for size in SIZES:
        (flow_ms, flow_queries), (native_ms, native_queries) = best_interleaved(size)
        print(
            f"bench N={size} flow_ms={flow_ms:.0f} native_ms={native_ms:.0f} "
            f"time_ratio={flow_ms / native_ms:.2f} flow_queries={flow_queries} "
            f"native_queries={native_queries} query_overhead={flow_queries - native_queries}"
        )
        details.append((size, *accounting_share(size)))
    print("== Where the flow's queries go: Odoo's invoice create + post, and all the rest")
    for size, queries, accounting in details:
        print(
            f"bench-detail N={size} flow_queries={queries} odoo_invoicing_queries={accounting} "
            f"rest_queries={queries - accounting}"
        )
    print("== Step by step for 3 clients (best of REPEAT each), and Odoo's invoicing alone")
    step_runs = defaultdict(list)
    for _ in range(REPEAT):
        for name, figures in flow_steps(make_group(3, next(counter_tags))[0]).items():
            step_runs[name].append(figures)
        clients = make_group(3, next(counter_tags))[1]
        step_runs["native"].append(measure(lambda clients=clients: native_invoicing(clients)))
    print(
        "bench-steps N=3 "
        + " ".join(
            f"{name}_ms={min(runs)[0]:.0f} {name}_queries={min(runs)[1]}"
            for name, runs in step_runs.items()
        )
    )
    env.cr.rollback()


if wanted("scale"):
    # --- Opening a session and one client's notes, on an empty and on a loaded database ---------
    switch_off_head_count_rule()
    provider = env["res.users"].create(
        {
            "name": "Bench Provider",
            "login": "bench_provider",
            "group_ids": [(4, env.ref("group_therapy.group_therapy_provider").id)],
        }
    )
    group, clients = make_group(LOAD_CLIENTS, "load")
    group.provider_id = provider
    start = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    session = env["calendar.event"].create(
        {
            "therapy_group_id": group.id,
            "start": start,
            "stop": start + timedelta(hours=1),
            "user_id": provider.id,
        }
    )
    session.action_mark_all_attended()
    wizard_action = session.with_user(provider).action_open_charting()
    wizard = env[wizard_action["res_model"]].with_user(provider).browse(wizard_action["res_id"])
    wizard.group_note = "<p>Group notes.</p>"
    wizard._sign()
    client = clients[0]

    SESSION_SPEC = {
        "name": {},
        "start": {},
        "therapy_group_id": {"fields": {"display_name": {}}},
        "therapy_attendance_state": {},
        "therapy_attended_count": {},
        "therapy_chart_state": {},
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
                "invoice_id": {"fields": {}},
            }
        },
    }
    NOTES_SPEC = {
        "session_start": {},
        "partner_id": {"fields": {"display_name": {}}},
        "group_id": {"fields": {"display_name": {}}},
        "state": {},
        "signed_by_id": {"fields": {"display_name": {}}},
    }

    # What the web client sends for the notes' list: its count_limit (1000) + 1.
    NOTES_COUNT_LIMIT = 1001

    def open_session_and_notes():
        session.with_user(provider).web_read(SESSION_SPEC)
        env["therapy.chart.note"].with_user(provider).web_search_read(
            [("partner_id", "=", client.id)], NOTES_SPEC, limit=80, count_limit=NOTES_COUNT_LIMIT
        )

    def open_session():
        session.with_user(provider).web_read(SESSION_SPEC)

    def open_notes():
        env["therapy.chart.note"].with_user(provider).web_search_read(
            [("partner_id", "=", client.id)], NOTES_SPEC, limit=80, count_limit=NOTES_COUNT_LIMIT
        )

    def attendance_report():
        """The Attendance Analysis graph as it opens: the attendance rate per group over the last
        12 months (the menu's default filter), as the provider sees it."""
        action = env.ref("group_therapy.therapy_attendance_action_analysis")
        domain = [*safe_eval(action.domain), ("session_date", ">=", "today -12m")]
        env["therapy.attendance"].with_user(provider).formatted_read_group(
            domain, ["group_id"], ["attended_percent:avg", "__count"]
        )

    def attendance_report_all():
        """The same graph with the period filter removed: every line in the database."""
        action = env.ref("group_therapy.therapy_attendance_action_analysis")
        env["therapy.attendance"].with_user(provider).formatted_read_group(
            safe_eval(action.domain), ["group_id"], ["attended_percent:avg", "__count"]
        )

    def best_of(func, runs=15, warmup=3):
        """The best of `runs` timings after `warmup` runs that fill Odoo's caches (access rules,
        views): a path's own cost, not the first request's cache misses nor another process's load
        on the shared machine."""
        for _ in range(warmup):
            measure(func)
        return min(measure(func) for _ in range(runs))

    def best_open():
        return best_of(open_session_and_notes)

    def figures():
        """(ms, queries) of opening the session, a client's notes and the attendance report."""
        return {name: best_of(func) for name, func in PATHS}

    PATHS = (
        ("session", open_session),
        ("notes", open_notes),
        ("report", attendance_report),
        ("report_all", attendance_report_all),
    )
    empty_ms, empty_queries = best_open()
    empty_figures = figures()

    def load(sessions, clients_per_session, days_back=0, chain=True):
        """Bulk-load past sessions of one group in SQL: events, attendance lines, signed notes.

        The notes are signed as signing does it: each takes its place in the company's chain of
        signed notes, with its hash (the chain's own code, oldest session first), so that the
        integrity verification finds them intact. ``chain=False`` leaves them out of the chain (the
        verification would report them as signed outside it): for loads nothing verifies."""
        cr = env.cr
        cr.execute(
            SQL(
                """
                INSERT INTO calendar_event (name, start, stop, user_id, therapy_group_id, active,
                    privacy, show_as, duration, allday, therapy_place_of_service,
                    therapy_session_date, create_uid, create_date, write_uid, write_date)
                SELECT name, start - make_interval(days => n), stop - make_interval(days => n),
                    user_id, therapy_group_id, true, privacy, show_as, duration, allday,
                    therapy_place_of_service, therapy_session_date - n, create_uid, now(),
                    write_uid, now()
                  FROM calendar_event, generate_series(%(first)s, %(first)s + %(sessions)s - 1) AS n
                 WHERE id = %(session)s
                RETURNING id
                """,
                sessions=sessions,
                first=days_back + 2,
                session=session.id,
            )
        )
        event_ids = [row[0] for row in cr.fetchall()]
        cr.execute(
            SQL(
                """
                INSERT INTO therapy_attendance (event_id, event_start, session_date, group_id,
                    company_id, partner_id, partner_name, state, product_id, attendance_status,
                    place_of_service, amount, attended_percent, create_uid, create_date, write_uid,
                    write_date)
                SELECT e.id, e.start, e.therapy_session_date, e.therapy_group_id, %(company)s, p.id,
                    p.name, 'attended',
                    %(product)s, 'attended', '11', 75, 100, %(uid)s, now(), %(uid)s, now()
                  FROM calendar_event e CROSS JOIN res_partner p
                 WHERE e.id IN %(events)s AND p.id IN %(partners)s
                RETURNING id
                """,
                company=env.company.id,
                product=cpt.id,
                uid=admin.id,
                events=tuple(event_ids),
                partners=tuple(clients[:clients_per_session].ids),
            )
        )
        lines = cr.rowcount
        cr.execute(
            SQL(
                """
                INSERT INTO therapy_chart_note (partner_id, partner_name, event_id, attendance_id,
                    session_start, group_id, company_id, provider_id, body, state, signed_by_id,
                    signed_on, create_uid, create_date, write_uid, write_date)
                SELECT a.partner_id, a.partner_name, a.event_id, a.id, a.event_start, a.group_id,
                    a.company_id, %(provider)s, '<p>Signed note of a past session.</p>', 'locked',
                    %(provider)s, now(), %(uid)s, now(), %(uid)s, now()
                  FROM therapy_attendance a
                 WHERE a.event_id IN %(events)s
                 ORDER BY a.event_start, a.id
                RETURNING id
                """,
                provider=provider.id,
                uid=admin.id,
                events=tuple(event_ids),
            )
        )
        note_ids = [row[0] for row in cr.fetchall()]
        cr.execute(
            SQL(
                "UPDATE therapy_attendance SET note_signed = TRUE WHERE event_id IN %s",
                tuple(event_ids),
            )
        )
        if chain:
            notes = (
                env["therapy.chart.note"].browse(note_ids).sorted(lambda n: (n.session_start, n.id))
            )
            env["therapy.chart.note.chain"]._therapy_append(notes)
        cr.execute("ANALYZE")
        return lines

    started = time.perf_counter()
    loaded_lines = load(LOAD_SESSIONS, LOAD_CLIENTS, chain=INTEGRITY)
    total_lines = env["therapy.attendance"].search_count([])
    print(
        f"== Loaded {loaded_lines} attendance lines and as many signed notes in "
        f"{time.perf_counter() - started:.1f}s ({total_lines} lines in the database)"
    )
    loaded_ms, loaded_queries = best_open()
    print(
        f"open_session empty_ms={empty_ms:.1f} empty_queries={empty_queries} "
        f"loaded_ms={loaded_ms:.1f} loaded_queries={loaded_queries} lines={total_lines} "
        f"time_ratio={loaded_ms / empty_ms:.2f}"
    )

    def print_figures(label, lines, measured):
        print(
            f"{label} lines={lines} "
            + " ".join(
                f"{name}_ms={ms:.1f} {name}_queries={queries} "
                f"{name}_ratio={ms / empty_figures[name][0]:.2f}"
                for name, (ms, queries) in measured.items()
            )
        )

    print_figures("paths-empty", 50, empty_figures)
    print_figures("paths-100k", total_lines, figures())

    # --- The chart notes' integrity: the report's full verification and the daily action's runs
    if INTEGRITY:
        Chain = env["therapy.chart.note.chain"]
        verification = {}

        def verify_everything():
            """What Verify Chart Note Integrity computes for the company."""
            verification.update(Chain._therapy_check_company(env.company))

        integrity_figures = {
            "report": measure(verify_everything),
            # The daily action's first run verifies everything once; the next ones, what is new
            # and a slice of the rest.
            "cron_first": measure(Chain._cron_verify_integrity),
            "cron_daily": measure(Chain._cron_verify_integrity),
        }
        print(
            f"bench integrity entries={verification['count']} status={verification['status']} "
            + " ".join(
                f"{name}_ms={ms:.0f} {name}_queries={queries}"
                for name, (ms, queries) in integrity_figures.items()
            )
        )

    # --- The clinical access log: the provider reads the text of 500 notes, logged or not -------

    ACCESS_LOG_NOTES = 500
    note_ids = (
        env["therapy.chart.note"].search([("group_id", "=", group.id)], limit=ACCESS_LOG_NOTES).ids
    )
    NOTE_FORM_SPEC = {**NOTES_SPEC, "body": {}, "addendum_ids": {"fields": {"body": {}}}}

    def search_read_notes():
        """An RPC client's search_read of the notes with their text."""
        env["therapy.chart.note"].with_user(provider).search_read(
            [("id", "in", note_ids)], ["partner_id", "session_start", "state", "body"]
        )

    def web_read_notes():
        """What the web client reads to show the notes' text (with their addenda)."""
        env["therapy.chart.note"].with_user(provider).browse(note_ids).web_read(NOTE_FORM_SPEC)

    def log_lines():
        return env["therapy.access.log"].search_count([])

    for name, func in (("search_read", search_read_notes), ("web_read", web_read_notes)):
        lines_before = log_lines()
        func()
        lines_per_read = log_lines() - lines_before
        logged_ms, logged_queries = best_of(func)
        with patch.object(TherapyAccessLog, "_log", lambda self, *args, **kwargs: None):
            plain_ms, plain_queries = best_of(func)
        print(
            f"bench access_log path={name} notes={len(note_ids)} lines_per_read={lines_per_read} "
            f"logged_ms={logged_ms:.1f} logged_queries={logged_queries} "
            f"unlogged_ms={plain_ms:.1f} unlogged_queries={plain_queries} "
            f"overhead_ms={logged_ms - plain_ms:.1f} "
            f"overhead_queries={logged_queries - plain_queries}"
        )
    if MILLION_SESSIONS:
        started = time.perf_counter()
        # Not chained (chaining 900,000 notes takes longer than the rest of the benchmark): nothing
        # verifies them, and they are rolled back below.
        load(MILLION_SESSIONS - LOAD_SESSIONS, LOAD_CLIENTS, days_back=LOAD_SESSIONS, chain=False)
        total_lines = env["therapy.attendance"].search_count([])
        print(
            f"== Loaded up to {total_lines} attendance lines in "
            f"{time.perf_counter() - started:.1f}s"
        )
        print_figures("paths-1m", total_lines, figures())
    env.cr.rollback()


if wanted("claims"):
    # --- Insurance: an 837P of 500 claims, then the insurer's 835 for them ---------------------

    # BENCH_CLAIMS=100 make bench: a smaller run (a multiple of 50) on a loaded machine.
    CLAIMS, CLAIMS_PER_SESSION = int(os.environ.get("BENCH_CLAIMS", "500")), 50
    switch_off_head_count_rule()
    company = env.company
    company.write(
        {
            "vat": "94-1234567",
            "street": "100 Main Street",
            "city": "Oakland",
            "state_id": env.ref("base.state_us_5").id,
            "zip": "94612-1234",
            "country_id": env.ref("base.us").id,
            "therapy_npi": "1245319599",
            "therapy_taxonomy_code": "101YM0800X",
            "therapy_writeoff_account_id": env["account.account"]
            .create(
                {"name": "Contractual Adjustments", "code": "499100", "account_type": "expense"}
            )
            .id,
        }
    )
    admin.therapy_npi = "1234567893"
    insurer = env["res.partner"].create(
        {"name": "Bench Insurer", "is_company": True, "therapy_payer_code": "94036"}
    )
    started = time.perf_counter()
    for batch in range(CLAIMS // CLAIMS_PER_SESSION):
        group, clients = make_group(CLAIMS_PER_SESSION, f"claims{batch}")
        clients.write(
            {
                "therapy_birthdate": "1980-01-01",
                "therapy_sex": "female",
                "street": "1 Bench Road",
                "city": "Oakland",
                "state_id": env.ref("base.state_us_5").id,
                "zip": "94610",
            }
        )
        env["therapy.coverage"].create(
            [
                {"partner_id": c.id, "payer_id": insurer.id, "member_ident": f"M{c.id}"}
                for c in clients
            ]
        )
        session_flow(group)
    claims = env["therapy.claim"].search([("payer_id", "=", insurer.id)])
    print(
        f"== {len(claims)} claims of {CLAIMS // CLAIMS_PER_SESSION} signed sessions made in "
        f"{time.perf_counter() - started:.1f}s"
    )
    day = claims[:1].date_of_service
    export = env["therapy.claim.export.wizard"].create(
        {"date_from": day, "date_to": day, "file_format": "x12_837p"}
    )
    export_ms, export_queries = measure(export.action_export)
    content_837 = base64.b64decode(export.data).decode()
    print(
        f"bench x12_837p claims={len(claims)} ms={export_ms:.0f} queries={export_queries} "
        f"segments={content_837.count('~')} (pyx12 validation included)"
    )
    remittance = x12.build_835(
        {
            "created": datetime.now(),
            "control_number": 1,
            "trace": "BENCH-EFT-1",
            "payer": {"name": insurer.name, "code": "94036"},
            "payee": {"name": company.name, "npi": "1245319599"},
            "amount": 60.0 * len(claims),
        },
        [
            {
                "ref": claim.name,
                "status": "1",
                "charge": claim.amount_charge,
                "paid": 60.0,
                "patient": 0.0,
                "payer_ref": f"PCN{claim.id}",
                "adjustments": [("CO", "45", claim.amount_charge - 60.0)],
                "remarks": [],
                "client": {"last": "Bench", "first": "Client"},
                "member_ident": f"M{claim.partner_id.id}",
                "services": [("90853", claim.amount_charge, 60.0, claim.date_of_service)],
            }
            for claim in claims
        ],
    )
    era_import = env["therapy.era.import.wizard"].create(
        {"data": base64.b64encode(remittance.encode()), "filename": "bench.835"}
    )
    import_ms, import_queries = measure(era_import.action_import)
    print(
        f"bench x12_835 claims={len(claims)} ms={import_ms:.0f} queries={import_queries} "
        f"paid={sum(claims.mapped('amount_paid')):.2f} (pyx12 validation included)"
    )
    env.cr.rollback()
