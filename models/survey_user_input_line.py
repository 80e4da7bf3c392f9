from odoo import models

# What a client answered on a line (its question alone is not an answer).
ANSWER_FIELDS = {
    "display_name",
    "suggested_answer_id",
    "matrix_row_id",
    "answer_score",
    "value_char_box",
    "value_numerical_box",
    "value_scale",
    "value_date",
    "value_datetime",
    "value_text_box",
}


class SurveyUserInputLine(models.Model):
    _inherit = "survey.user_input.line"

    def _read_format(self, fnames, load="_classic_read"):
        """Reading a client's answers to a clinical measure is on the clinical access log,
        one line per questionnaire (survey.user_input) whose answers were returned."""
        values_list = super()._read_format(fnames, load=load)
        if values_list and ANSWER_FIELDS.intersection(fnames):
            lines_sudo = self.sudo().browse([values["id"] for values in values_list])
            measures_sudo = lines_sudo.user_input_id.filtered(
                lambda user_input: user_input.survey_id.survey_type == "therapy_measure"
            )
            if measures_sudo:
                self.env["therapy.access.log"]._log(
                    measures_sudo.with_env(self.env), "read", detail="answers"
                )
        return values_list
