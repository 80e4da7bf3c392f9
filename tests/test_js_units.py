from odoo.addons.web.tests.test_js import unit_test_error_checker
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestJsUnits(HttpCase):
    """The addon's JavaScript unit tests (Odoo's hoot runner, in headless Chromium)."""

    def test_draft_autosave(self):
        """Charting's autosave: once when typing pauses, never per keystroke; one save at a
        time; failures told, not thrown; a choice made on the page while a save is in flight
        is saved after it (static/tests/unit/draft_autosave.test.js, charting_form.test.js)."""
        self.browser_js(
            "/web/tests?headless&loglevel=2&preset=desktop&timeout=15000"
            "&filter=therapy_draft_autosave",
            "",
            "",
            login="admin",
            timeout=900,
            success_signal="[HOOT] Test suite succeeded",
            error_checker=unit_test_error_checker,
        )
