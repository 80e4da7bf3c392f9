from odoo import fields, models


class SurveyUserInput(models.Model):
    """A client's answers to a clinical measure, sent for one session."""

    _name = "survey.user_input"
    _inherit = ["survey.user_input", "therapy.readable.target.mixin"]
    _therapy_readable_target_fields = ("therapy_event_id", "partner_id")

    therapy_event_id = fields.Many2one(
        "calendar.event",
        string="Group Session",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The group session this questionnaire was sent for.",
    )
    therapy_result_ids = fields.One2many(
        "therapy.measure.result", "user_input_id", string="Clinical Measure Results"
    )

    def _therapy_session_answers(self):
        """The answers sent to this client for the same session (one e-mail carries them)."""
        self.ensure_one()
        if not self.therapy_event_id:
            return self
        return self.search(
            [
                ("therapy_event_id", "=", self.therapy_event_id.id),
                ("partner_id", "=", self.partner_id.id),
                ("state", "!=", "done"),
            ],
            order="id",
        )

    def _therapy_is_measure(self):
        return self.survey_id.survey_type == "therapy_measure"

    def _mark_done(self):
        """A completed PHQ-9 or GAD-7 is scored at once (see therapy.measure.result)."""
        result = super()._mark_done()
        measures = self.filtered(
            lambda user_input: user_input._therapy_is_measure()
            and not user_input.test_entry
            and not user_input.sudo().therapy_result_ids
        )
        if measures:
            # The client answers through their private link (a token, as the public user):
            # the answers are theirs, the scoring is the addon's.
            self.env["therapy.measure.result"].sudo()._therapy_create_from_user_inputs(
                measures.sudo()
            )
        return result

    def _notify_new_participation_subscribers(self):
        """Nobody is told in the survey's chatter that a client answered a clinical measure:
        the survey's followers are not necessarily those who serve the client."""
        return super(
            SurveyUserInput, self.filtered(lambda user_input: not user_input._therapy_is_measure())
        )._notify_new_participation_subscribers()
