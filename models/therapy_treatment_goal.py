from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

GOAL_STATES = [
    ("active", "Active"),
    ("met", "Met"),
    ("revised", "Revised"),
    ("discontinued", "Discontinued"),
]


class TherapyTreatmentGoal(models.Model):
    """One measurable goal of a client's treatment plan, under the problem it addresses.

    The plan is clinical: it follows the client's groups like the client's diagnoses (front
    desk and administrators read every client's plan, the providers of the client's current and
    past groups read and change it, nobody else). Providers own it; the front desk reads it.
    The charting screen offers the client's active goals, and the progress recorded against
    them goes into that client's chart note only.
    """

    _name = "therapy.treatment.goal"
    _inherit = [
        "therapy.input.mixin",
        "therapy.access.logged.mixin",
        "therapy.readable.target.mixin",
    ]
    _description = "Treatment Plan Goal"
    _therapy_readable_target_fields = ("partner_id",)
    _order = "partner_id, sequence, date_target, id"
    _check_company_auto = True
    # Reading or exporting the plan's text is on the clinical access log.
    _therapy_clinical_fields = ("problem", "name")

    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    sequence = fields.Integer(default=10)
    # the plan
    problem = fields.Char(
        required=True,
        help="The problem this goal addresses, as the treatment plan names it (e.g. Depressed "
        "mood, Alcohol use).",
    )
    name = fields.Text(
        string="Goal",
        required=True,
        help="The measurable objective, e.g. “Uses two coping skills when anxious, 4 of 7 days, "
        "by self-report”.",
    )
    date_start = fields.Date(string="Start Date", required=True, default=fields.Date.context_today)
    date_target = fields.Date(string="Target Date", help="When the goal should be met.")
    state = fields.Selection(
        selection=GOAL_STATES,
        string="Status",
        required=True,
        default="active",
        index=True,
        help="Active goals are offered when charting a session of the client.",
    )
    # history: the progress recorded in the client's signed chart notes (clinical notes:
    # providers of the notes' groups)
    progress_ids = fields.One2many(
        "therapy.treatment.goal.progress",
        "goal_id",
        domain=[("note_id.state", "!=", "draft")],
        groups="group_therapy.group_therapy_provider",
        help="The progress recorded on this goal in the client's signed chart notes.",
    )

    @api.constrains("problem", "name")
    def _check_text(self):
        """A goal says which problem it addresses and what is to be reached."""
        for goal in self:
            if not (goal.problem or "").strip() or not (goal.name or "").strip():
                raise ValidationError(self._message_blank(goal.partner_id))

    @api.constrains("date_start", "date_target")
    def _check_dates(self):
        """A goal is reached after it is set."""
        for goal in self:
            if goal.date_target and goal.date_start and goal.date_target < goal.date_start:
                raise ValidationError(
                    self.env._(
                        "The target date of a goal of %(client)s (%(target)s) is before "
                        "its start date (%(start)s): choose a later target date.",
                        client=goal.partner_id.display_name,
                        target=goal.date_target,
                        start=goal.date_start,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        # An empty text would reach the database as a missing value: refuse it first, clearly.
        for vals in vals_list:
            self._check_text_values(vals, ("problem", "name"))
        return super().create(vals_list)

    def write(self, vals):
        self._check_text_values(vals, vals.keys() & {"problem", "name"})
        if "partner_id" in vals and any(goal.partner_id.id != vals["partner_id"] for goal in self):
            raise UserError(
                self.env._(
                    "A treatment-plan goal stays with its client: add a goal to the other "
                    "client's plan instead."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_charted(self):
        """A goal charted in a note is part of the client's record: it ends, it is not erased."""
        if (
            self.env["therapy.treatment.goal.progress"]
            .sudo()
            .search_count([("goal_id", "in", self.ids)], limit=1)
        ):
            raise UserError(
                self.env._(
                    "This goal has progress recorded in chart notes and stays in the treatment "
                    "plan: set its status to Met, Revised or Discontinued instead of deleting it."
                )
            )

    def _check_text_values(self, vals, fnames):
        """Refuse a problem or goal sent empty (or left out of a new goal)."""
        for fname in fnames:
            value = vals.get(fname)
            if value in (None, False) or (isinstance(value, str) and not value.strip()):
                partner = self.partner_id[:1]
                if not partner and type(vals.get("partner_id")) is int:
                    partner = self.env["res.partner"].browse(vals["partner_id"]).exists()
                raise ValidationError(self._message_blank(partner))

    @api.model
    def _message_blank(self, partner):
        return self.env._(
            "A treatment-plan goal of %(client)s needs a problem and a measurable goal: fill in "
            "both (e.g. Problem “Anxiety”, Goal “Uses two coping skills when anxious, 4 of 7 "
            "days”).",
            client=partner.display_name or self.env._("the client"),
        )
