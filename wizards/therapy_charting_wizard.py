import re

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_datetime, html2plaintext, is_html_empty

from ..models.therapy_treatment_goal_progress import PROGRESS_RATINGS


class TherapyChartingWizard(models.TransientModel):
    _name = "therapy.charting.wizard"
    # Its page shows clinical text (goals, notes written before): every reading of it logged
    # in one INSERT.
    _inherit = [
        "therapy.input.mixin",
        "therapy.signing.mixin",
        "therapy.server.owned.mixin",
        "therapy.clinical.reference.mixin",
        "therapy.readable.target.mixin",
    ]
    _description = "Group Charting"
    _therapy_server_owned_fields = ("loaded_note_ids",)
    _therapy_server_owns_computed = False
    # The page opens with the text of the session's notes: reading it is reading those notes.
    _therapy_loaded_text = {"group_note": ("loaded_note_ids", "group_note")}
    _therapy_readable_target_fields = ("event_id",)

    event_id = fields.Many2one("calendar.event", string="Session", required=True, readonly=True)
    group_id = fields.Many2one(related="event_id.therapy_group_id")
    company_id = fields.Many2one(related="group_id.company_id")
    head_count = fields.Integer(related="event_id.therapy_attended_count")
    template_id = fields.Many2one(
        "therapy.chart.template",
        string="Chart Entry Style",
        domain="[('template_type', '=', 'custom'), ('company_id', 'in', [company_id, False])]",
        help="Only custom templates chart group sessions. The template's text is edited in "
        "Configuration; add session details to the group notes.",
    )
    template_body = fields.Html(
        related="template_id.body",
        string="Guidance",
        help="What the template asks the provider to cover; never copied into the notes.",
    )
    group_note = fields.Html(
        string="Group Notes",
        help="Written once: part of the chart note of every client who attended. Do not name "
        "other members here.",
    )
    section_line_ids = fields.One2many(
        "therapy.charting.wizard.section", "wizard_id", string="Sections"
    )
    line_ids = fields.One2many("therapy.charting.wizard.line", "wizard_id", string="Clients")
    note_ids = fields.Many2many("therapy.chart.note", string="Chart Notes", readonly=True)
    loaded_note_ids = fields.Many2many(
        "therapy.chart.note",
        "therapy_charting_wizard_loaded_note_rel",
        "wizard_id",
        "note_id",
        string="Notes Opened",
        readonly=True,
        help="The session's notes whose group notes and sections the page was opened with.",
    )
    privacy_warning = fields.Char(
        compute="_compute_privacy_warning",
        help="The group notes go into every attending client's record: they must not name "
        "other members.",
    )
    presign_report = fields.Text(
        string="Before Signing",
        compute="_compute_presign_report",
        help="What stops the notes from being signed, client by client.",
    )
    step = fields.Selection(
        selection=[("write", "Write"), ("review", "Review")], default="write", required=True
    )
    late_entry = fields.Boolean(
        readonly=True,
        help="The session's notes are signed: the clients listed here attended but were "
        "recorded later, and each gets a late-entry note, signed separately.",
    )

    @api.depends("group_note", "line_ids.note", "template_id", "event_id")
    def _compute_presign_report(self):
        """Everything that blocks signing, listed per client, so nothing fails halfway."""
        for wizard in self:
            wizard.presign_report = "\n".join(wizard._presign_problems()) or False

    @api.depends("group_note", "event_id")
    def _compute_privacy_warning(self):
        """Members of the session whose name appears in the shared group notes."""
        for wizard in self:
            text = html2plaintext(wizard.group_note or "")
            named = wizard.event_id.therapy_attendance_ids.partner_id.filtered(
                lambda partner, text=text: partner.name
                and (
                    # The full name in any case, or the first name written as a name.
                    partner.name.casefold() in text.casefold()
                    or re.search(rf"\b{re.escape(partner.name.split()[0].capitalize())}\b", text)
                )
            )
            wizard.privacy_warning = (
                self.env._(
                    "The group notes name %(clients)s. They go into every attending client's "
                    "record: describe the group without naming its members.",
                    clients=", ".join(named.mapped("name")),
                )
                if named
                else False
            )

    @api.constrains("template_id")
    def _check_template_custom(self):
        """Built-in single-client templates are not available for groups."""
        for wizard in self:
            if wizard.template_id and wizard.template_id.template_type != "custom":
                raise ValidationError(
                    self.env._(
                        "“%(template)s” is a single-client template: group sessions are charted "
                        "with custom templates only. Choose another Chart Entry Style.",
                        template=wizard.template_id.name,
                    )
                )

    @api.model
    def _prepare_for_event(self, event):
        """Values that open the wizard on a session: its drafts if any, else a blank page.

        On a signed session, only the clients without a note (a late entry each); the group
        notes start from the signed ones, for the provider to review before signing again.
        """
        notes = event.therapy_chart_note_ids
        # Signed: locked, or waiting for a co-signature.
        signed = notes.filtered(lambda note: note.state != "draft")
        drafts = notes - signed
        notes_by_partner = {note.partner_id: note for note in drafts}
        signed_partners = signed.partner_id
        attended = event._therapy_attended_lines().filtered(
            lambda line: line.partner_id not in signed_partners
        )
        goal_lines = self._goal_line_commands(attended.partner_id, drafts)
        written = drafts[:1] or signed[:1]
        # the shared text is the same in every note of the session that carries it
        shared = (drafts or signed) if written.group_note or written.section_contents else notes[:0]
        template = written.template_id or self.env["therapy.chart.template"].search(
            [
                ("template_type", "=", "custom"),
                ("company_id", "in", [event.therapy_group_id.company_id.id, False]),
            ],
            limit=1,
        )
        return {
            "event_id": event.id,
            "late_entry": bool(signed),
            "loaded_note_ids": [Command.set(shared.ids)],
            "template_id": template.id,
            "group_note": written.group_note or False,
            "section_line_ids": self._section_line_commands(
                template, written.section_contents or {}
            ),
            "line_ids": [
                Command.create(
                    {
                        "attendance_id": line.id,
                        "partner_id": line.partner_id.id,
                        "note": notes_by_partner[line.partner_id].client_note
                        if line.partner_id in notes_by_partner
                        else False,
                        "loaded_note_id": notes_by_partner[line.partner_id].id
                        if line.partner_id in notes_by_partner
                        and notes_by_partner[line.partner_id].client_note
                        else False,
                        "goal_line_ids": goal_lines.get(line.partner_id, []),
                    }
                )
                for line in attended
            ],
        }

    @api.model
    def _goal_line_commands(self, partners, drafts):
        """Per client, one line per active goal of their treatment plan (and per goal their
        draft note already charts), with the progress the draft records: {partner: commands}.
        Read for all the clients at once."""
        goals = self.env["therapy.treatment.goal"].search(
            [("partner_id", "in", partners.ids), ("state", "=", "active")]
        )
        charted = {
            progress.goal_id: progress
            for progress in drafts.goal_progress_ids
            if progress.partner_id in partners
        }
        # A goal charted in the draft stays on the page even if it was closed meanwhile.
        goals = goals.union(*charted)
        # The latest progress each goal has in a signed note (of the user's groups), to recall
        # where the client stands: two queries for all the goals.
        Progress = self.env["therapy.treatment.goal.progress"]
        last_ids = [
            last_id
            for _goal, last_id in Progress._read_group(
                [("goal_id", "in", goals.ids), ("note_id.state", "!=", "draft")],
                ["goal_id"],
                ["id:max"],
            )
        ]
        last = {progress.goal_id: progress for progress in Progress.browse(last_ids)}
        commands = {}
        for goal in goals.sorted(lambda goal: (goal.sequence, goal.id)):
            progress = charted.get(goal)
            commands.setdefault(goal.partner_id, []).append(
                Command.create(
                    {
                        "goal_id": goal.id,
                        "rating": progress.rating if progress else False,
                        "comment": progress.comment if progress else False,
                        "loaded_progress_id": progress.id
                        if progress and progress.comment
                        else False,
                        "last_progress": last[goal]._therapy_summary() if goal in last else False,
                    }
                )
            )
        return commands

    @api.model
    def _section_line_commands(self, template, contents):
        """One line per section of the template, with what was already written in it."""
        return [Command.clear()] + [
            Command.create({"section_id": section.id, "content": contents.get(str(section.id))})
            for section in template.section_ids
        ]

    @api.onchange("template_id")
    def _onchange_template_id(self):
        """Another template, other sections: keep what was written in sections they share."""
        written = {line.section_id.id: line.content for line in self.section_line_ids}
        self.section_line_ids = self._section_line_commands(
            self.template_id, {str(key): value for key, value in written.items()}
        )

    def action_review(self):
        """Write every attending client's draft note and show them for review."""
        self.ensure_one()
        self._write_drafts()
        self.step = "review"
        return self._action_reopen()

    def action_keep_drafts(self):
        """Closing the dialog keeps what was typed: it becomes the session's drafts, which
        reopening Chart brings back. Nothing is written for a page left blank."""
        self._keep_drafts()
        return {"type": "ir.actions.act_window_close"}

    def action_autosave_drafts(self):
        """What is typed is kept as the session's drafts a few seconds after typing stops, so
        that a browser crash or a lost connection loses nothing. Never signs; after Review the
        drafts are already written. Returns whether drafts were written."""
        return any(wizard._keep_drafts() for wizard in self if wizard.step == "write")

    def _keep_drafts(self):
        """Write the session's drafts from what is typed, unless the page is blank; returns
        whether any were written."""
        kept = False
        for wizard in self:
            drafts = wizard.event_id.therapy_chart_note_ids.filtered(
                lambda note: note.state == "draft"
            )
            if wizard.template_id and (drafts or wizard._has_writing()):
                wizard._write_drafts()
                kept = True
        return kept

    def action_back(self):
        """Back to the notes, to change them before signing."""
        self.ensure_one()
        self.step = "write"
        return self._action_reopen()

    def _therapy_signed_message(self, notes):
        waiting = notes.filtered(lambda note: note.state == "to_cosign")
        if waiting:
            return self.env._(
                "%(count)s chart notes signed: %(title)s. They wait for %(supervisor)s's "
                "co-signature.",
                count=len(notes),
                title=self._session_title(),
                supervisor=self.env.user.therapy_supervisor_id.name,
            )
        return self.env._(
            "%(count)s chart notes signed and locked: %(title)s.",
            count=len(notes),
            title=self._session_title(),
        )

    def _sign(self):
        """Sign and lock every attending client's note at once, or none; returns the notes."""
        self.ensure_one()
        self.event_id._therapy_check_started("sign")
        problems = self._presign_problems()
        if problems:
            raise UserError(
                self.env._(
                    "These notes cannot be signed yet:\n%(problems)s",
                    problems="\n".join(f"- {problem}" for problem in problems),
                )
            )
        # the notes' text is written by the signature itself, under the notes' lock
        return self._write_drafts(render_body=False)._sign()

    def _presign_problems(self):
        """The session's pre-sign check on what is written in the wizard."""
        self.ensure_one()
        return self.event_id._therapy_presign_problems(
            self.template_id,
            self.group_note,
            {line.partner_id: line.note for line in self.line_ids},
            {str(line.section_id.id): line.content for line in self.section_line_ids},
            # A late entry is signed on its own: the signed notes are not checked again.
            partners=self.line_ids.partner_id if self.late_entry else None,
        )

    def _has_writing(self):
        """Whether anything was typed: group notes, a section or a client's note."""
        self.ensure_one()
        return any(
            not is_html_empty(html)
            for html in [
                self.group_note,
                *self.section_line_ids.mapped("content"),
                *self.line_ids.mapped("note"),
            ]
        ) or any(goal_line.rating or goal_line.comment for goal_line in self.line_ids.goal_line_ids)

    def _write_drafts(self, render_body=True):
        """The session's draft notes, written from the wizard."""
        self.ensure_one()
        notes = self.env["therapy.chart.note"]._write_session_drafts(
            self.event_id,
            self.template_id,
            self.group_note,
            {line.partner_id: line.note for line in self.line_ids},
            {str(line.section_id.id): line.content for line in self.section_line_ids},
            goal_progress={
                line.partner_id: [
                    (goal_line.goal_id, goal_line.rating, goal_line.comment)
                    for goal_line in line.goal_line_ids
                ]
                for line in self.line_ids
            },
            render_body=render_body,
        )
        self.note_ids = notes
        return notes

    def _session_title(self):
        """The group and the session's date and time, as the provider reads them."""
        return self.env._(
            "%(group)s, %(date)s",
            group=self.group_id.display_name,
            date=format_datetime(self.env, self.event_id.start, dt_format="short"),
        )

    def _action_reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Chart %(title)s", title=self._session_title()),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }


class TherapyChartingWizardLine(models.TransientModel):
    _name = "therapy.charting.wizard.line"
    _inherit = [
        "therapy.input.mixin",
        "therapy.signing.mixin",
        "therapy.server.owned.mixin",
        "therapy.clinical.reference.mixin",
        "therapy.readable.target.mixin",
    ]
    _description = "Group Charting: one attending client"
    _therapy_server_owned_fields = ("loaded_note_id",)
    _therapy_server_owns_computed = False
    _therapy_loaded_text = {"note": ("loaded_note_id", "client_note")}
    # Only the session's own clients and lines, which the wizard lists, are taken.
    _therapy_readable_target_fields = ("partner_id", "attendance_id")

    wizard_id = fields.Many2one("therapy.charting.wizard", required=True, ondelete="cascade")
    attendance_id = fields.Many2one("therapy.attendance", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Client", required=True, readonly=True)
    # Read as the user, not as superuser (Odoo's default for related fields): a line can be
    # sent over RPC, or given to an onchange, with any attendance line of the practice.
    product_id = fields.Many2one(
        related="attendance_id.product_id", string="Code", compute_sudo=False
    )
    place_of_service = fields.Selection(
        related="attendance_id.place_of_service", compute_sudo=False
    )
    note = fields.Html(string="Client Note", help="Goes only into this client's chart note.")
    loaded_note_id = fields.Many2one(
        "therapy.chart.note",
        string="Note Opened",
        readonly=True,
        help="The client's draft note whose text the line was opened with.",
    )
    therapy_measure_summary = fields.Char(
        related="attendance_id.therapy_measure_summary", compute_sudo=False
    )
    goal_line_ids = fields.One2many(
        "therapy.charting.wizard.goal",
        "line_id",
        string="Treatment Plan Goals",
        help="The client's active goals: the progress recorded goes only into this client's note.",
    )


class TherapyChartingWizardGoal(models.TransientModel):
    _name = "therapy.charting.wizard.goal"
    # The goal's text (its problem, the goal itself, its label) is shown on the page: logged.
    _inherit = [
        "therapy.input.mixin",
        "therapy.server.owned.mixin",
        "therapy.clinical.reference.mixin",
        "therapy.readable.target.mixin",
    ]
    _description = "Group Charting: progress on one goal of a client"
    _order = "id"
    _therapy_server_owned_fields = ("loaded_progress_id",)
    _therapy_server_owns_computed = False
    # Opened on a draft, the comment is the one its progress row records: reading it is reading
    # that row.
    _therapy_loaded_text = {"comment": ("loaded_progress_id", "comment")}
    # Only goals the treatment plan's record rules give the user: their text is shown.
    _therapy_readable_target_fields = ("goal_id",)

    line_id = fields.Many2one("therapy.charting.wizard.line", required=True, ondelete="cascade")
    goal_id = fields.Many2one(
        "therapy.treatment.goal", string="Treatment-plan Goal", required=True, readonly=True
    )
    # Read as the user (see the client line): an onchange computes them for any goal id sent,
    # without the create/write check below.
    problem = fields.Char(related="goal_id.problem", compute_sudo=False)
    goal_name = fields.Text(related="goal_id.name", string="Goal", compute_sudo=False)
    date_target = fields.Date(related="goal_id.date_target", compute_sudo=False)
    rating = fields.Selection(
        selection=PROGRESS_RATINGS,
        string="Progress",
        help="Progress on this goal in this session; goes into this client's note only.",
    )
    comment = fields.Char(help="A short comment on the progress, in this client's note.")
    last_progress = fields.Char(
        readonly=True, help="The progress recorded on this goal in the client's last signed note."
    )
    loaded_progress_id = fields.Many2one(
        "therapy.treatment.goal.progress",
        string="Progress Opened",
        readonly=True,
        help="The draft's progress row whose comment the line was opened with.",
    )

    @api.constrains("goal_id", "line_id")
    def _check_goal_of_client(self):
        """A line offers a goal of its own client."""
        for goal_line in self:
            if goal_line.goal_id.partner_id != goal_line.line_id.partner_id:
                raise ValidationError(
                    self.env._(
                        "A goal on %(client)s's line is not in %(client)s's treatment plan: "
                        "chart each goal on its own client's line.",
                        client=goal_line.line_id.partner_id.display_name,
                    )
                )


class TherapyChartingWizardSection(models.TransientModel):
    _name = "therapy.charting.wizard.section"
    _inherit = [
        "therapy.input.mixin",
        "therapy.signing.mixin",
        "therapy.clinical.reference.mixin",
    ]
    _description = "Group Charting: one template section"
    _therapy_loaded_text = {"content": ("wizard_id.loaded_note_ids", "section_contents")}

    wizard_id = fields.Many2one("therapy.charting.wizard", required=True, ondelete="cascade")
    section_id = fields.Many2one(
        "therapy.chart.template.section", string="Template Section", required=True, readonly=True
    )
    name = fields.Char(related="section_id.name")
    hint = fields.Char(related="section_id.hint")
    required = fields.Boolean(related="section_id.required")
    content = fields.Html(help="Written for the group: part of every attending client's note.")
