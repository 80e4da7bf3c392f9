import importlib.util
import pathlib

from odoo.tests import tagged
from odoo.tools import html2plaintext

from .test_charting import GROUP_NOTE, ChartingCommon

RISK_GUIDANCE = "Safety concerns assessed; none reported unless noted below."
MIGRATION = pathlib.Path(__file__).parent.parent / "migrations/19.0.1.2.0/post-migrate.py"
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


@tagged("post_install", "-at_install")
class TestShippedTemplateWordingUpgrade(ChartingCommon):
    """Databases installed before 19.0.1.1.0 kept the shipped template's first wording
    (`noupdate` data): the 19.0.1.2.0 upgrade gives it the current one, unless the practice
    changed it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        spec = importlib.util.spec_from_file_location("gt_post_migrate_1_2", MIGRATION)
        cls.migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cls.migration)
        cls.current_body = str(cls.template.body)
        [cls.first_body] = cls.migration.SHIPPED_BEFORE

    def _upgrade(self):
        self.migration.migrate(self.env.cr, "19.0.1.1.0")
        self.env.invalidate_all()

    def test_the_shipped_wording_is_what_the_data_file_says(self):
        self.assertEqual(
            self.migration.normalized(self.migration.shipped_body()),
            self.migration.normalized(self.current_body),
        )

    def test_an_untouched_template_gets_the_current_wording(self):
        self.template.body = self.first_body
        self.assertIn(RISK_GUIDANCE, str(self.template.body))
        copy = self.template.copy({"name": "Our copy of the progress note"})
        self._upgrade()
        body = html2plaintext(self.template.body)
        self.assertNotIn(RISK_GUIDANCE, body)
        self.assertIn("document the safety assessment", body)
        self.assertEqual(
            self.migration.normalized(str(self.template.body)),
            self.migration.normalized(self.current_body),
        )
        self.assertIn(RISK_GUIDANCE, str(copy.body), "the practice's own copy is theirs")
        # Charting then shows the new wording as guidance, and signs none of it.
        wizard = self._open_wizard()
        self.assertIn("document the safety assessment", wizard.template_body)
        wizard.group_note = GROUP_NOTE
        wizard._sign()
        for note in self.session.therapy_chart_note_ids:
            self.assertNotIn("safety assessment", note.body)

    def test_a_template_the_practice_changed_is_kept(self):
        edited = self.first_body.replace(
            "none reported unless noted below", "ask about ideation at every session"
        )
        self.template.with_user(self.manager).body = edited
        self._upgrade()
        self.assertIn("ask about ideation at every session", str(self.template.body))
        self.assertIn("Focus of the session", str(self.template.body))

    def test_an_upgraded_or_new_database_is_left_alone(self):
        self._upgrade()
        self.assertEqual(str(self.template.body), self.current_body)
        self.template.body = self.first_body
        self.migration.migrate(self.env.cr, None)  # a new install: nothing to upgrade
        self.env.invalidate_all()
        self.assertIn(RISK_GUIDANCE, str(self.template.body))
