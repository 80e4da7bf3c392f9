from . import models
from . import report
from . import wizards


def _uninstall_hook(env):
    """Busy blocks stand for group sessions only: without the addon they would be orphan
    "Busy" events on the providers' calendars."""
    env["calendar.event"].sudo().with_context(
        active_test=False, no_mail_to_attendees=True, dont_notify=True
    ).search([("therapy_busy_for_id", "!=", False)]).unlink()
