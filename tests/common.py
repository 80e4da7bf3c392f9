import binascii
import logging
import pathlib
import shutil
import subprocess
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.tests import TransactionCase, new_test_user
from odoo.tests.common import ChromeBrowser
from odoo.tools import config

from ..models import therapy_chart_note_chain

_logger = logging.getLogger(__name__)


def integrity_key_configured(key):
    """A patcher: the server's chart note integrity key (odoo.conf) is ``key`` meanwhile, or
    none for None, whatever the configuration the tests run with says."""
    return patch.object(therapy_chart_note_chain, "_configured_integrity_key", lambda: key or "")


def save_tour_screenshots(test):
    """A tour step that logs ``screenshot:<name>`` gets a PNG of the screen, saved as
    ``<screenshots dir>/group_therapy/<name>.png`` for the README (until the test ends)."""
    real_handle_console = ChromeBrowser._handle_console
    screenshots_dir = pathlib.Path(config["screenshots"]) / "group_therapy"

    # Same signature as the method it wraps: the browser passes these by keyword.
    def handle_console(browser, type, args=None, **kwargs):  # pylint: disable=redefined-builtin
        message = str((args or [{}])[0].get("value", ""))
        if message.startswith("screenshot:"):
            name = message.removeprefix("screenshot:")
            future = browser._websocket_send("Page.captureScreenshot", with_future=True)
            future.add_done_callback(lambda done: save(name, done))
        return real_handle_console(browser, type, args, **kwargs)

    def save(name, done):
        screenshots_dir.mkdir(parents=True, exist_ok=True)
        path = screenshots_dir / f"{name}.png"
        path.write_bytes(binascii.a2b_base64(done.result()["data"]))
        _logger.info("Screenshot of the %s screen: %s", name, path)

    patcher = patch.object(ChromeBrowser, "_handle_console", handle_console)
    patcher.start()
    test.addCleanup(patcher.stop)


# What a machine needs for PDFs with a text layer (README, "Requirements"); make test installs it.
PDF_TEXT_PACKAGES = "poppler-utils fonts-lato fonts-roboto-unhinted fonts-open-sans"


def pdf_text(pdf):
    """The text of a PDF as a reader gets it (pdftotext, layout kept). A PDF without text (its
    fonts drawn as outlines) or a machine without pdftotext fails the test, saying what to do."""
    if not shutil.which("pdftotext"):
        raise AssertionError(
            f"pdftotext is missing: install Debian's {PDF_TEXT_PACKAGES} "
            f"(sudo apt-get install {PDF_TEXT_PACKAGES}; make test does it as root)."
        )
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    if not text.strip():
        raise AssertionError(
            "The PDF has no text layer: wkhtmltopdf drew the report's fonts as outlines, which "
            "Debian's build does for web fonts. Install the report fonts on this machine "
            f"(sudo apt-get install {PDF_TEXT_PACKAGES}; make test does it as root)."
        )
    return text


class GroupTherapyCommon(TransactionCase):
    """One user per role, two groups (one shared) and a few clients, built by the test itself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        # One user per role: (attribute, login, groups, name).
        for attribute, login, groups, name in (
            ("provider", "gt_provider", "group_therapy.group_therapy_provider", "Provider Pat"),
            ("shared_provider", "gt_shared", "group_therapy.group_therapy_provider", "Shared Sam"),
            ("other_provider", "gt_other", "group_therapy.group_therapy_provider", "Other Olga"),
            ("front_desk", "gt_front_desk", "group_therapy.group_therapy_front_desk", "Fran Desk"),
            ("manager", "gt_manager", "group_therapy.group_therapy_manager", "Admin Ada"),
            ("accountant", "gt_accountant", "account.group_account_invoice", "Accountant Al"),
        ):
            setattr(cls, attribute, new_test_user(cls.env, login, groups=groups, name=name))
        cls.portal_user = new_test_user(cls.env, "gt_portal", groups="base.group_portal")

        cls.cpt_90853 = cls.env.ref("group_therapy.product_product_cpt_90853")
        cls.cpt_90849 = cls.env.ref("group_therapy.product_product_cpt_90849")
        cls.cpt_90785 = cls.env.ref("group_therapy.product_product_cpt_90785")
        cls.no_show = cls.env.ref("group_therapy.product_product_no_show")
        cls.late_cancel = cls.env.ref("group_therapy.product_product_late_cancel")
        cls.no_fee = cls.env.ref("group_therapy.product_product_no_fee")

        cls.diagnosis = cls.env.ref("group_therapy.therapy_diagnosis_f41_1")
        cls.clients = cls.env["res.partner"].create(
            [
                {
                    "name": f"Client {index:02d}",
                    "email": f"client{index}@example.com",
                    "therapy_diagnosis_ids": [(4, cls.diagnosis.id)],
                }
                for index in range(1, 7)
            ]
        )
        cls.group = cls.env["therapy.group"].create(
            {
                "name": "Adult Anxiety Group",
                "code": "AAG",
                "provider_id": cls.provider.id,
                "shared_provider_ids": [(4, cls.shared_provider.id)],
            }
        )
        cls.other_group = cls.env["therapy.group"].create(
            {
                "name": "Family Recovery Group",
                "code": "FRG",
                "provider_id": cls.other_provider.id,
                "default_product_id": cls.cpt_90849.id,
            }
        )
        cls.env["therapy.group.member"].create(
            [{"group_id": cls.group.id, "partner_id": client.id} for client in cls.clients[:4]]
            + [{"group_id": cls.other_group.id, "partner_id": cls.clients[4].id}]
        )

    @classmethod
    def _ensure_chart_of_accounts(cls, company=None):
        """A company without a chart of accounts gets Odoo's generic one (its sale journal, its
        payment journals), as a practice does when it starts invoicing."""
        company = company or cls.company
        if not cls.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        ):
            cls.env["account.chart.template"].try_loading(
                "generic_coa", company=company, install_demo=False
            )

    @classmethod
    def _make_session(cls, group, days=-1, hours=1.0):
        """A session of the group at 10:00, `days` from today, on its provider's calendar."""
        start = datetime.now().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(
            days=days
        )
        return cls.env["calendar.event"].create(
            {
                "therapy_group_id": group.id,
                "start": start,
                "stop": start + timedelta(hours=hours),
                "user_id": group.provider_id.id,
            }
        )

    def _claim_rows(self, lines, user=None):
        """The claim lines of the attendance lines, as the export and the superbill get them."""
        report = self.env["report.group_therapy.claim_lines"].with_user(user or self.front_desk)
        return report._get_report_values(lines.ids)["rows"]

    def _queries(self, func):
        """Queries of func(), counted as assertQueryCount does, from a cold cache."""
        self.env.invalidate_all()
        self.env.flush_all()
        before = self.cr.sql_log_count
        func()
        self.env.flush_all()
        return self.cr.sql_log_count - before

    @contextmanager
    def assertRefused(self, exception, message):
        """The refusal is raised, says `message`, and rolls back what was attempted.

        Odoo's assertRaises runs the block in a savepoint (assertRaisesRegex does not), so what
        the test checks afterwards is what the database kept.
        """
        with self.assertRaises(exception) as catcher:
            yield catcher
        self.assertIn(message, str(catcher.exception))
        self.env.invalidate_all()
