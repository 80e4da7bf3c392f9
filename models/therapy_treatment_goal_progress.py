from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

# A progress comment is a line beside the goal; the client's note holds the narrative.
COMMENT_SIZE_LIMIT = 500

PROGRESS_RATINGS = [
    ("progressing", "Progressing"),
    ("no_change", "No change"),
    ("regressing", "Regressing"),
    ("met", "Goal met"),
]


class TherapyTreatmentGoalProgress(models.Model):
    """The progress on one treatment-plan goal recorded in one client's chart note.

    Written by charting (the note's draft), frozen with the note when it is signed: its text is
    part of the signed note (its "Treatment plan progress" section), these rows keep the history
    the goal shows. Clinical notes: read by the providers of the note's group and administrators.
    """

    _name = "therapy.treatment.goal.progress"
    _inherit = [
        "therapy.input.mixin",
        "therapy.server.owned.mixin",
        "therapy.access.logged.mixin",
        "therapy.clinical.reference.mixin",
    ]
    _description = "Treatment Plan Goal Progress"
    _order = "session_start desc, id desc"
    _therapy_server_owned_fields = ("note_id", "goal_id", "rating", "comment")
    # The provider's comment is clinical text: reading or exporting it is on the access log.
    _therapy_clinical_fields = ("comment",)

    note_id = fields.Many2one(
        "therapy.chart.note",
        string="Chart Note",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    goal_id = fields.Many2one(
        "therapy.treatment.goal", required=True, index=True, ondelete="restrict", readonly=True
    )
    partner_id = fields.Many2one(related="note_id.partner_id", store=True, string="Client")
    company_id = fields.Many2one(related="note_id.company_id", store=True, index=True)
    session_start = fields.Datetime(
        related="note_id.session_start", store=True, string="Session Date"
    )
    session_date = fields.Date(
        related="note_id.event_id.therapy_session_date", store=True, string="Date of Service"
    )
    note_state = fields.Selection(related="note_id.state", string="Note Status")
    rating = fields.Selection(selection=PROGRESS_RATINGS, required=True, readonly=True)
    comment = fields.Char(readonly=True)

    _note_goal_uniq = models.Constraint(
        "UNIQUE(note_id, goal_id)", "A chart note records each goal's progress once."
    )

    @api.constrains("note_id", "goal_id")
    def _check_goal_of_client(self):
        """Progress goes into the note of the goal's own client, never another's."""
        for progress in self:
            if progress.goal_id.partner_id != progress.note_id.partner_id:
                raise ValidationError(
                    self.env._(
                        "A goal of another client's treatment plan cannot be charted in "
                        "%(client)s's note: progress on a goal goes into its own client's note "
                        "only.",
                        client=progress.note_id.partner_id.display_name,
                    )
                )

    def write(self, vals):
        self._check_not_signed()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_signed(self):
        self._check_not_signed()

    def _check_not_signed(self):
        """Progress in a signed note is part of what was signed: it never changes."""
        signed = self.filtered(lambda progress: progress.note_id.state != "draft")
        if signed:
            raise UserError(
                self.env._(
                    "The goal progress in %(client)s's signed chart note of %(date)s is part "
                    "of what was signed and can no longer change. Add an addendum to the note "
                    "instead.",
                    client=signed[0].partner_id.display_name,
                    date=format_date(self.env, signed[0].session_date),
                )
            )

    def _therapy_summary(self):
        """How the charting screen recalls this progress: rating and date of service."""
        self.ensure_one()
        ratings = dict(self._fields["rating"]._description_selection(self.env))
        return self.env._(
            "%(rating)s on %(date)s",
            rating=ratings.get(self.rating, ""),
            date=format_date(self.env, self.session_date),
        )

    def _therapy_entries(self):
        """These rows as charting entries, (goal, rating, comment), in the plan's order."""
        return [
            (progress.goal_id, progress.rating, progress.comment or False)
            for progress in self.sorted(
                lambda progress: (progress.goal_id.sequence, progress.goal_id.id)
            )
        ]

    @api.model
    def _therapy_check_entries(self, goal_progress):
        """The progress charted per client, {partner: [(goal, rating, comment)]}, checked and
        in the plan's order: each goal is the client's own and readable by the user; a goal
        without rating nor comment is left out; a comment needs a rating."""
        goals = self.env["therapy.treatment.goal"].union(
            *(goal for entries in goal_progress.values() for goal, _rating, _comment in entries)
        )
        # The user charts goals they may read (the plan's record rules), whatever was sent.
        goals.check_access("read")
        ratings = dict(self._fields["rating"]._description_selection(self.env))
        checked = {}
        # A refusal names a goal by its place on the client's line, never by its text: the
        # text is clinical, and a message is not on the access log.
        for partner, entries in goal_progress.items():
            kept = []
            for position, (goal, rating, comment) in enumerate(entries, start=1):
                comment = (comment or "").strip()
                if goal.partner_id != partner:
                    raise UserError(
                        self.env._(
                            "Goal %(position)s of %(count)s on %(client)s's line is not in "
                            "%(client)s's treatment plan: progress on a goal goes into its own "
                            "client's note only.",
                            position=position,
                            count=len(entries),
                            client=partner.display_name,
                        )
                    )
                if not rating and not comment:
                    continue
                if rating not in ratings:
                    raise UserError(
                        self.env._(
                            "Rate %(client)s's progress on goal %(position)s of %(count)s "
                            "(%(ratings)s), or clear its comment.",
                            client=partner.display_name,
                            position=position,
                            count=len(entries),
                            ratings=", ".join(ratings.values()),
                        )
                    )
                if len(comment) > COMMENT_SIZE_LIMIT:
                    raise UserError(
                        self.env._(
                            "The comment on goal %(position)s of %(count)s of %(client)s is "
                            "%(size)s characters long, for at most %(limit)s: keep it short, the "
                            "client's note takes the rest.",
                            client=partner.display_name,
                            position=position,
                            count=len(entries),
                            size=len(comment),
                            limit=COMMENT_SIZE_LIMIT,
                        )
                    )
                kept.append((goal, rating, comment or False))
            checked[partner] = sorted(kept, key=lambda entry: (entry[0].sequence, entry[0].id))
        return checked

    @api.model
    def _therapy_sync(self, notes, goal_progress):
        """Make the draft ``notes``' progress rows what was charted, in a constant number of
        queries: rows left as they are when nothing changed, otherwise replaced in one batch."""
        wanted = {
            (note.id, goal.id): (rating, comment or False)
            for note in notes
            for goal, rating, comment in goal_progress.get(note.partner_id, ())
        }
        existing = notes.goal_progress_ids
        current = {
            (progress.note_id.id, progress.goal_id.id): (progress.rating, progress.comment or False)
            for progress in existing
        }
        if current == wanted:
            return
        existing.unlink()
        self._therapy_server_create(
            [
                {"note_id": note_id, "goal_id": goal_id, "rating": rating, "comment": comment}
                for (note_id, goal_id), (rating, comment) in wanted.items()
            ]
        )

    @api.model
    def _therapy_render(self, entries):
        """The "Treatment plan progress" section of a client's note."""
        ratings = dict(self._fields["rating"]._description_selection(self.env))
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (
                goal.problem,
                goal.name,
                format_date(self.env, goal.date_target) if goal.date_target else "",
                ratings.get(rating, ""),
                comment or "",
            )
            for goal, rating, comment in entries
        )
        header = Markup("").join(
            Markup("<th>%s</th>") % label
            for label in (
                self.env._("Problem"),
                self.env._("Goal"),
                self.env._("Target date"),
                self.env._("Progress"),
                self.env._("Comment"),
            )
        )
        return Markup(
            '<h3>%s</h3><table class="table table-sm o_therapy_goal_progress">'
            "<thead><tr>%s</tr></thead><tbody>%s</tbody></table>"
        ) % (self.env._("Treatment plan progress"), header, rows)
