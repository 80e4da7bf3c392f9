from odoo import api, fields, models
from odoo.exceptions import UserError

# The clinical instruments the addon scores: survey.survey.therapy_instrument.
THERAPY_INSTRUMENTS = [("phq9", "PHQ-9"), ("gad7", "GAD-7")]


class SurveySurvey(models.Model):
    """The PHQ-9 and GAD-7 are surveys of their own type, ``therapy_measure``.

    Odoo's survey rules give survey officers and administrators the answers of the four
    standard types only (as hr_recruitment_survey does for recruitment): a client's answers to
    a clinical measure follow the addon's rules instead, like the rest of the clinical record.
    """

    _name = "survey.survey"
    _inherit = ["survey.survey", "therapy.readable.target.mixin"]
    # Its responsible (user_id) names a user: a client's portal login is named as the client.
    _therapy_readable_target_fields = ("user_id",)
    _therapy_own_record_fields = ("user_id",)

    survey_type = fields.Selection(
        selection_add=[("therapy_measure", "Clinical Measure")],
        ondelete={"therapy_measure": "cascade"},
    )
    therapy_instrument = fields.Selection(
        selection=THERAPY_INSTRUMENTS,
        string="Clinical Instrument",
        readonly=True,
        help="The published instrument this survey carries, scored by Group Therapy.",
    )

    def write(self, vals):
        """A clinical measure stays one: its answers are clinical data under the addon's rules,
        which a change of type would hand to every survey officer."""
        if {"survey_type", "therapy_instrument"} & vals.keys() and not self.env.su:
            measures = self.filtered(lambda survey: survey.survey_type == "therapy_measure")
            if measures and (
                vals.get("survey_type", "therapy_measure") != "therapy_measure"
                or "therapy_instrument" in vals
            ):
                raise UserError(
                    self.env._(
                        "%(survey)s is a clinical measure: its type and instrument cannot "
                        "change. Create a new survey for any other use.",
                        survey=measures[0].title,
                    )
                )
        return super().write(vals)

    @api.depends("survey_type")
    @api.depends_context("uid")
    def _compute_allowed_survey_types(self):
        """Group Therapy administrators may open the clinical measures' form."""
        result = super()._compute_allowed_survey_types()
        if self.env.user.has_group("group_therapy.group_therapy_manager"):
            for survey in self:
                survey.allowed_survey_types = (survey.allowed_survey_types or []) + [
                    "therapy_measure"
                ]
        return result
