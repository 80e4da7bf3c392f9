"""Smoke test of a production-style server, run by tools/test.sh against tools/serve.sh.

    smoke.py URL DATABASE SERVER_PID SERVER_LOG

Waits (with a timeout) until the server answers, logs in over HTTP as the administrator, runs a
group session's first steps through JSON-RPC as the web client does (a client joins a group, the
session is scheduled and opened, everybody is marked attended), opens a live connection on
/websocket (served by the gevent worker), then checks the server's log: HTTP workers started,
the gevent worker started exactly once (no crash loop), no ERROR or CRITICAL line.
Prints "SMOKE OK" and exits 0 when all of it holds.
"""

import os
import re
import sys
import time
from datetime import UTC, datetime, timedelta

import requests
import websocket

URL, DB, SERVER_PID, SERVER_LOG = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
READY_TIMEOUT = 180  # seconds: a cold start on a busy 2-core machine loads every module first


def fail(message):
    print(f"SMOKE FAILED: {message}")
    sys.exit(1)


def server_alive():
    try:
        os.kill(SERVER_PID, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until_ready():
    """Both kinds of worker answer: the HTTP workers and, through /websocket, the gevent one
    (Odoo starts it beside the HTTP workers; it loads the registry on its own)."""
    deadline = time.monotonic() + READY_TIMEOUT
    waiting_for = [f"{URL}/web/health", f"{URL}/websocket/health"]
    while waiting_for and time.monotonic() < deadline:
        if not server_alive():
            fail(f"the server stopped before answering (see {SERVER_LOG})")
        try:
            if requests.get(waiting_for[0], timeout=5).status_code == 200:
                waiting_for.pop(0)
                continue
        except requests.RequestException:
            pass
        time.sleep(1)
    if waiting_for:
        fail(f"no answer on {waiting_for[0]} within {READY_TIMEOUT}s")


class Client:
    """The web client's two calls: authenticate, then call_kw / call_button."""

    def __init__(self):
        self.http = requests.Session()
        self.uid = None

    def rpc(self, path, params):
        response = self.http.post(
            f"{URL}{path}",
            json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
            timeout=120,
        )
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            fail(f"{path}: {body['error'].get('data', {}).get('message') or body['error']}")
        return body["result"]

    def login(self, login, password):
        info = self.rpc(
            "/web/session/authenticate", {"db": DB, "login": login, "password": password}
        )
        self.uid = info.get("uid")
        if not self.uid:
            fail(f"could not log in as {login}")

    def call(self, model, method, *args, **kwargs):
        return self.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def button(self, model, method, ids):
        return self.rpc(
            "/web/dataset/call_button",
            {"model": model, "method": method, "args": [ids], "kwargs": {}},
        )


def run_session(client):
    """A client joins a group, a session is scheduled, opened and marked attended."""
    diagnosis = client.call(
        "therapy.diagnosis", "search_read", [], fields=["id"], limit=1
    )  # the shipped chart note template asks for one
    partner_id = client.call(
        "res.partner",
        "create",
        {
            "name": "Smoke Client",
            "therapy_diagnosis_ids": [(4, diagnosis[0]["id"])] if diagnosis else [],
        },
    )
    group_id = client.call(
        "therapy.group",
        "create",
        {"name": "Smoke Group", "code": "SMK", "provider_id": client.uid},
    )
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    # A member since last month: two hours ago may still be yesterday in the practice's time
    # zone, and a client who joins today has no line in yesterday's session.
    client.call(
        "therapy.group.member",
        "create",
        {
            "group_id": group_id,
            "partner_id": partner_id,
            "date_start": (start - timedelta(days=30)).strftime("%Y-%m-%d"),
        },
    )
    session_id = client.call(
        "calendar.event",
        "create",
        {
            "therapy_group_id": group_id,
            "start": start.strftime("%Y-%m-%d %H:%M:%S"),
            "stop": (start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
            "user_id": client.uid,
        },
    )
    spec = {
        "name": {},
        "therapy_group_id": {"fields": {"display_name": {}}},
        "therapy_attendance_ids": {
            "fields": {"partner_id": {"fields": {"display_name": {}}}, "attendance_status": {}}
        },
    }
    session = client.call("calendar.event", "web_read", [session_id], specification=spec)[0]
    lines = session["therapy_attendance_ids"]
    if [line["partner_id"]["id"] for line in lines] != [partner_id]:
        fail(f"the opened session should list the group's one client, got {lines}")
    client.button("calendar.event", "action_mark_all_attended", [session_id])
    session = client.call("calendar.event", "web_read", [session_id], specification=spec)[0]
    statuses = [line["attendance_status"] for line in session["therapy_attendance_ids"]]
    if statuses != ["attended"]:
        fail(f"Mark all attended should mark the client attended, got {statuses}")
    print(f"session {session_id} of group {session['therapy_group_id']['display_name']} opened")


def open_live_connection(client):
    """The browser's live connection: the websocket handshake reaches the gevent worker."""
    ws_url = URL.replace("http", "ws", 1) + "/websocket"
    cookie = "; ".join(f"{name}={value}" for name, value in client.http.cookies.items())
    try:
        connection = websocket.create_connection(ws_url, cookie=cookie, origin=URL, timeout=30)
    except (OSError, websocket.WebSocketException) as exc:
        fail(f"no live connection on {ws_url}: {exc}")
    try:
        connection.send('{"event_name": "subscribe", "data": {"channels": [], "last": 0}}')
        time.sleep(1)
        if not connection.connected:
            fail("the gevent worker closed the live connection")
    finally:
        connection.close()
    print("live connection (/websocket) opened on the gevent worker")


def check_log():
    with open(SERVER_LOG, encoding="utf-8", errors="replace") as log:
        text = log.read()
    http_workers = len(re.findall(r"Worker WorkerHTTP \(\d+\) alive", text))
    gevent_starts = len(re.findall(r"Evented Service \(longpolling\) running", text))
    errors = re.findall(r"^\S+ \S+ \d+ (?:ERROR|CRITICAL) .*$", text, re.MULTILINE)
    if http_workers < 2:
        fail(f"expected several HTTP worker processes, the log shows {http_workers}")
    if gevent_starts != 1:
        fail(f"the gevent worker started {gevent_starts} times (a crash loop when > 1)")
    if errors or "Traceback" in text:
        fail(f"errors in the server log {SERVER_LOG}: {errors[:3] or 'a Traceback'}")
    print(f"{http_workers} HTTP workers and one gevent worker, no error in the log")


wait_until_ready()
client = Client()
client.login("admin", "admin")
run_session(client)
open_live_connection(client)
time.sleep(3)  # a gevent worker that crash-loops restarts within a second or two
check_log()
print("SMOKE OK")
