from odoo.tests import tagged
from odoo.tools import html2plaintext

from .test_charting import GROUP_NOTE, ChartingCommon

RISK_GUIDANCE = "Safety concerns assessed; none reported unless noted below."
SECTION_GUIDANCE = "Ideation, plan, intent, protective factors"


@tagged("post_install", "-at_install")
class TestChartGuidance(ChartingCommon):
    """A template's text guides the provider while charting; only what they write is signed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.risk_template = cls.env["therapy.chart.template"].create(
            {
                "name": "Group note with risk prompt",
                "body": f"<h3>Risk</h3><p>{RISK_GUIDANCE}</p>",
                "section_ids": [
                    (0, 0, {"name": "Risk assessment", "hint": SECTION_GUIDANCE}),
                ],
            }
        )

    def _chart_with(self, template, group_note=GROUP_NOTE, risk=None):
        wizard = self._open_wizard()
        wizard.template_id = template
        wizard._onchange_template_id()
        wizard.group_note = group_note
        if risk:
            wizard.section_line_ids.content = risk
        return wizard

    def _signed_text(self):
        """Every signed note of the session and its PDF, as the provider reads them."""
        notes = self.session.therapy_chart_note_ids
        self.assertEqual(set(notes.mapped("state")), {"locked"})
        report = self.env.ref("group_therapy.therapy_chart_note_report")
        html, _kind = report.with_user(self.provider)._render_qweb_html(report, notes.ids)
        return [html2plaintext(note.body) for note in notes] + [html.decode()]

    def test_guidance_is_shown_while_charting(self):
        wizard = self._chart_with(self.risk_template)
        self.assertIn(RISK_GUIDANCE, wizard.template_body)
        self.assertEqual(wizard.section_line_ids.hint, SECTION_GUIDANCE)
        self.assertFalse(wizard.group_note == wizard.template_body, "not copied as the notes")
        self.assertFalse(wizard.section_line_ids.content, "the section starts empty")

    def test_signed_note_has_no_guidance(self):
        wizard = self._chart_with(self.risk_template)
        wizard.action_review()
        for note in wizard.note_ids:
            self.assertNotIn("Safety concerns assessed", note.body, "not even in the draft")
        wizard._sign()
        for text in self._signed_text():
            self.assertIn("distress tolerance", text, "what the provider wrote is signed")
            self.assertNotIn("Safety concerns assessed", text)
            self.assertNotIn("none reported", text)
            self.assertNotIn(SECTION_GUIDANCE, text)

    def test_shipped_template_guidance_is_not_signed(self):
        wizard = self._open_wizard()
        self.assertEqual(wizard.template_id, self.template)
        guidance = [
            line.strip("* ")
            for line in html2plaintext(wizard.template_body).splitlines()
            if len(line.strip("* ")) > 3
        ]
        self.assertGreaterEqual(len(guidance), 5, "the shipped template guides every heading")
        wizard.group_note = GROUP_NOTE
        wizard._sign()
        for text in self._signed_text():
            for guidance_line in guidance:
                self.assertNotIn(guidance_line, text)

    def test_what_the_provider_typed_is_signed(self):
        typed = "<p>Safety concerns assessed; none reported by the client.</p>"
        wizard = self._chart_with(self.risk_template, risk=typed)
        wizard._sign()
        for note in self.session.therapy_chart_note_ids:
            text = html2plaintext(note.body)
            self.assertIn("Risk assessment", text)
            self.assertIn("Safety concerns assessed; none reported by the client.", text)
            self.assertNotIn("unless noted below", text, "the template's wording stays out")
            self.assertNotIn(SECTION_GUIDANCE, text)
