from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..models.therapy_chart_note import NOTE_SIZE_LIMIT
from .test_charting import ChartingCommon

PARAGRAPH = (
    "<p>Members practised distress tolerance skills (TIPP), reviewed their diary cards and "
    "rehearsed a coping plan for the week.</p>"
)


def html_of(size):
    """Group-notes HTML of exactly ``size`` characters, as the editor writes it."""
    html = PARAGRAPH * ((size - 7) // len(PARAGRAPH))
    return html + "<p>" + "x" * (size - len(html) - 7) + "</p>"


@tagged("post_install", "-at_install")
class TestNoteSize(ChartingCommon):
    """A chart note (group notes, sections and the client's note) has a size limit, well below
    what the PDF can take (the README gives the PDF time measured at the limit)."""

    def _wizard_with(self, group_note, client_notes=None):
        wizard = self._open_wizard()
        wizard.group_note = group_note
        for line in wizard.line_ids:
            line.note = (client_notes or {}).get(line.partner_id, False)
        return wizard

    def test_a_note_at_the_limit_is_signed_and_printed(self):
        wizard = self._wizard_with(html_of(NOTE_SIZE_LIMIT))
        self.assertEqual(len(wizard.group_note), NOTE_SIZE_LIMIT, "the editor kept it as is")
        wizard.action_review()
        wizard._sign()
        notes = self.session.therapy_chart_note_ids
        self.assertEqual(notes.partner_id, self.attendees)
        self.assertEqual(set(notes.mapped("state")), {"locked"})
        self.assertIn(html_of(NOTE_SIZE_LIMIT)[-60:], notes[0].body)
        report = self.env.ref("group_therapy.therapy_chart_note_report")
        html = str(
            report.with_user(self.provider)._render_qweb_html(report.report_name, notes[:1].ids)[0]
        )
        self.assertIn("xxxxxxxxxx</p>", html)

    def test_a_note_just_above_the_limit_is_refused(self):
        wizard = self._wizard_with(html_of(NOTE_SIZE_LIMIT + 1))
        self.assertEqual(len(wizard.group_note), NOTE_SIZE_LIMIT + 1)
        message = f"chart note is too long: {NOTE_SIZE_LIMIT + 1:,} characters"
        for button in (wizard.action_review, wizard._sign):
            with self.subTest(button=button.__name__), self.assertRefused(UserError, message):
                button()
        self.assertFalse(self.session.therapy_chart_note_ids)

    def test_the_client_note_counts_with_the_group_notes(self):
        """Group notes within the limit, one client's note pushing that client's note over."""
        client_note = html_of(200)
        wizard = self._wizard_with(
            html_of(NOTE_SIZE_LIMIT - 100), client_notes={self.clients[1]: client_note}
        )
        with self.assertRefused(UserError, "Client 02's chart note is too long") as refusal:
            wizard.action_review()
        self.assertNotIn("Client 01", str(refusal.exception))
        self.assertFalse(self.session.therapy_chart_note_ids)
        # Drafts written before are left as they were.
        wizard.line_ids.filtered(lambda line: line.partner_id == self.clients[1]).note = False
        wizard.action_review()
        drafts = self.session.therapy_chart_note_ids
        self.assertEqual(len(drafts), 3)
        wizard.line_ids.filtered(lambda line: line.partner_id == self.clients[1]).note = client_note
        with self.assertRefused(UserError, "Client 02's chart note is too long"):
            wizard.action_review()
        self.assertEqual(self.session.therapy_chart_note_ids, drafts)
        self.assertFalse(any(drafts.mapped("client_note")))

    def test_an_addendum_above_the_limit_is_refused(self):
        self._chart()._sign()
        note = self._note(self.clients[0])
        Addendum = self.env["therapy.chart.note.addendum"].with_user(self.provider)
        with self.assertRefused(ValidationError, "This addendum is too long"):
            Addendum.create({"note_id": note.id, "body": html_of(NOTE_SIZE_LIMIT + 1)})
        self.assertFalse(note.addendum_ids)
        Addendum.create({"note_id": note.id, "body": html_of(NOTE_SIZE_LIMIT)})
        self.assertEqual(len(note.addendum_ids), 1)
