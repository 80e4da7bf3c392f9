from collections import defaultdict
from datetime import datetime

import pytz

from odoo import api, fields, models

from .survey_survey import THERAPY_INSTRUMENTS

# Published severity bands: (lowest total of the band, band), highest band last.
SEVERITY_BANDS = {
    "phq9": [
        (0, "minimal"),
        (5, "mild"),
        (10, "moderate"),
        (15, "moderately_severe"),
        (20, "severe"),
    ],
    "gad7": [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")],
}
SEVERITIES = [
    ("minimal", "Minimal"),
    ("mild", "Mild"),
    ("moderate", "Moderate"),
    ("moderately_severe", "Moderately severe"),
    ("severe", "Severe"),
]
# PHQ-9 item 9 asks about thoughts of self-harm: any answer above 0 calls the provider today.
SELF_HARM_ITEM = 9


def therapy_severity(instrument, score):
    """The published severity band of a PHQ-9 or GAD-7 total."""
    band = False
    for lowest, name in SEVERITY_BANDS.get(instrument, []):
        if score >= lowest:
            band = name
    return band


class TherapyMeasureResult(models.Model):
    """One scored PHQ-9 or GAD-7 of one client: created by the addon when the client completes
    the questionnaire, never typed in. Clinical data: it follows the client's groups, like the
    client's diagnoses."""

    _name = "therapy.measure.result"
    _inherit = ["therapy.staff.followers.mixin", "mail.thread", "mail.activity.mixin"]
    _description = "Clinical Measure Result"
    _order = "date desc, id desc"
    _rec_names_search = ["partner_id"]
    # Those who may read a result discuss it and close its activities (no one edits it).
    _mail_post_access = "read"

    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, readonly=True, index=True, ondelete="cascade"
    )
    instrument = fields.Selection(selection=THERAPY_INSTRUMENTS, required=True, readonly=True)
    event_id = fields.Many2one(
        "calendar.event",
        string="Session",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    group_id = fields.Many2one(related="event_id.therapy_group_id", string="Group", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    date = fields.Date(required=True, readonly=True, help="The day the client answered.")
    score = fields.Integer(string="Total Score", readonly=True, aggregator="avg")
    severity = fields.Selection(selection=SEVERITIES, compute="_compute_severity", store=True)
    item9_score = fields.Integer(
        string="Item 9 (Self-harm)",
        readonly=True,
        aggregator="max",
        help="PHQ-9 item 9, 0-3: thoughts of being better off dead or of self-harm.",
    )
    user_input_id = fields.Many2one(
        "survey.user_input",
        string="Answers",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    answer_line_ids = fields.One2many(
        related="user_input_id.user_input_line_ids", string="Answer Lines"
    )
    score_change = fields.Integer(
        string="Change",
        compute="_compute_previous",
        help="Change of the total since the client's previous result on the same instrument.",
    )
    previous_date = fields.Date(string="Previous On", compute="_compute_previous")
    summary = fields.Char(compute="_compute_previous")

    @api.depends("instrument", "score")
    def _compute_severity(self):
        """The published band of the total."""
        for result in self:
            result.severity = therapy_severity(result.instrument, result.score)

    @api.depends("partner_id", "instrument", "date", "score")
    def _compute_previous(self):
        """The change since the client's previous result on the same instrument, and the line
        that says it ("PHQ-9: 14 (moderate), -3 since 2026-11-02")."""
        previous = self._therapy_previous()
        for result in self:
            before = previous.get(result)
            result.score_change = result.score - before.score if before else 0
            result.previous_date = before.date if before else False
            result.summary = result._therapy_summary(before)

    @api.depends("partner_id", "instrument", "date")
    def _compute_display_name(self):
        """Client, instrument and day."""
        instruments = dict(THERAPY_INSTRUMENTS)
        for result in self:
            result.display_name = (
                f"{result.partner_id.name or ''}, {instruments.get(result.instrument, '')} "
                f"{fields.Date.to_string(result.date) or ''}"
            )

    def _therapy_previous(self):
        """{result: the client's result just before it on the same instrument}, one query."""
        results = self.filtered("id")
        if not results:
            return {}
        history = self.search(
            [
                ("partner_id", "in", results.partner_id.ids),
                ("instrument", "in", list(set(results.mapped("instrument")))),
                ("date", "<=", max(results.mapped("date"))),
            ]
        )
        by_client = defaultdict(list)
        for result in history:  # newest first
            by_client[result.partner_id, result.instrument].append(result)
        previous = {}
        for result in results:
            older = [
                other
                for other in by_client[result.partner_id, result.instrument]
                if (other.date, other.id) < (result.date, result.id)
            ]
            previous[result] = older[0] if older else None
        return previous

    def _therapy_summary(self, previous=None):
        """One line for the roster and the client's own note."""
        self.ensure_one()
        instrument = dict(THERAPY_INSTRUMENTS).get(self.instrument, "")
        severity = dict(self._fields["severity"]._description_selection(self.env)).get(
            self.severity, ""
        )
        text = self.env._(
            "%(instrument)s: %(score)s (%(severity)s)",
            instrument=instrument,
            score=self.score,
            severity=severity.lower(),
        )
        if previous:
            change = self.score - previous.score
            sign = "+" if change > 0 else "\N{MINUS SIGN}" if change < 0 else "\N{PLUS-MINUS SIGN}"
            text = self.env._(
                "%(result)s, %(change)s since %(date)s",
                result=text,
                change=f"{sign}{abs(change)}",
                date=fields.Date.to_string(previous.date),
            )
        return text

    @api.model
    def _therapy_latest_summaries(self, attendances):
        """{attendance: "PHQ-9: 14 (moderate), -3 since 2026-11-02 · GAD-7: 8 (mild)"}: each
        client's latest result per instrument on or before the session's day, with its change.
        One query for all the lines; results the user may not read are left out."""
        dated = attendances.filtered(
            lambda line: line.partner_id and line.event_id.therapy_session_date
        )
        if not dated:
            return {}
        history = self.search(
            [
                ("partner_id", "in", dated.partner_id.ids),
                ("date", "<=", max(dated.event_id.mapped("therapy_session_date"))),
            ]
        )
        by_client = defaultdict(list)
        for result in history:  # newest first
            by_client[result.partner_id].append(result)
        summaries = {}
        for line in dated:
            day = line.event_id.therapy_session_date
            texts = []
            for instrument, _label in THERAPY_INSTRUMENTS:
                results = [
                    result
                    for result in by_client[line.partner_id]
                    if result.instrument == instrument and result.date <= day
                ]
                if results:
                    previous = results[1] if len(results) > 1 else None
                    texts.append(results[0]._therapy_summary(previous))
            if texts:
                summaries[line] = " · ".join(texts)
        return summaries

    @api.model
    def _therapy_create_from_user_inputs(self, user_inputs):
        """Score completed PHQ-9/GAD-7 answers (sudo: the client answers through a token) and
        call the providers today on a self-harm answer. Returns the new results."""
        vals_list = []
        for user_input in user_inputs:
            instrument = user_input.survey_id.therapy_instrument
            if not instrument or not user_input.partner_id:
                continue
            scores = {
                line.question_id.therapy_item: int(line.suggested_answer_id.answer_score)
                for line in user_input.user_input_line_ids
                if line.question_id.therapy_item > 0 and line.suggested_answer_id
            }
            session = user_input.therapy_event_id
            answered = user_input.end_datetime or fields.Datetime.now()
            tz = pytz.timezone(session._therapy_practice_tz() if session else "UTC")
            vals_list.append(
                {
                    "partner_id": user_input.partner_id.id,
                    "instrument": instrument,
                    "event_id": session.id,
                    "company_id": (session.therapy_group_id.company_id or self.env.company).id,
                    "date": pytz.utc.localize(answered).astimezone(tz).date()
                    if isinstance(answered, datetime)
                    else answered,
                    "score": sum(scores.values()),
                    "item9_score": scores.get(SELF_HARM_ITEM, 0) if instrument == "phq9" else 0,
                    "user_input_id": user_input.id,
                }
            )
        results = self.with_context(
            mail_create_nosubscribe=True, mail_create_nolog=True, tracking_disable=True
        ).create(vals_list)
        results.filtered(lambda result: result.item9_score > 0)._therapy_call_providers()
        return results

    def _therapy_call_providers(self):
        """An urgent activity (due today) for each provider of the session's group, else of the
        client's current groups. It names no answer: the provider opens the result."""
        for result in self:
            group = result.group_id
            providers = (
                group.provider_id | group.shared_provider_ids
                if group
                else result.partner_id.therapy_member_ids.filtered("is_current").group_id.mapped(
                    lambda g: g.provider_id | g.shared_provider_ids
                )
            )
            for provider in providers:
                result.activity_schedule(
                    "group_therapy.mail_activity_type_measure_safety",
                    date_deadline=fields.Date.context_today(result.with_context(tz=provider.tz)),
                    summary=self.env._("Urgent: safety check with the client today"),
                    note=self.env._(
                        "A PHQ-9 answer calls for a safety check today. Open the result for "
                        "the answers."
                    ),
                    user_id=provider.id,
                )
