from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import SQL, OrderedSet

THERAPY_GROUPS = "group_therapy.group_therapy_user"
# A client's chart notes are counted up to this many ("1000+" beyond), as the notes' list counts
# them (its count_limit): counting every note of years of history checks each against the
# record rules (238 ms for a client with 20,000 notes), for a figure nobody reads exactly.
CHART_NOTE_COUNT_LIMIT = 1000
# Who sees every contact, therapy clients included: the front desk (and administrators, who
# imply it), accountants, who invoice and collect from every client, and Odoo's Settings
# administrators, who manage every login (and the record rules themselves).
CONTACT_GROUPS_SEEING_ALL = (
    "group_therapy.group_therapy_front_desk",
    "account.group_account_invoice",
    "account.group_account_readonly",
    "base.group_system",
)
# The client's fields kept on therapy.client.profile, by field of that model.
PROFILE_FIELDS = {
    "therapy_billing_partner_id": "billing_partner_id",
    "therapy_fee_exempt": "fee_exempt",
    "therapy_payer_id": "payer_id",
    "therapy_birthdate": "birthdate",
    "therapy_sex": "sex",
}


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "therapy.input.mixin", "therapy.readable.target.mixin"]
    # A contact's company (parent_id) names a contact too: its name shows in the new contact's
    # own name and label, read as superuser.
    # Its salesperson (user_id) names a user, and a client's portal login is named as the client.
    _therapy_readable_target_fields = (
        "therapy_billing_partner_id",
        "therapy_payer_id",
        "parent_id",
        "user_id",
    )
    _therapy_own_record_fields = ("user_id",)
    # Odoo's own partner fields keep Odoo's rules; the therapy fields are checked.
    _therapy_input_prefix = "therapy_"

    therapy_client = fields.Boolean(
        string="Group Therapy Client",
        groups=THERAPY_GROUPS,
        help="A client of the practice's groups; set when the contact joins a group.",
    )
    therapy_member_ids = fields.One2many(
        "therapy.group.member",
        "partner_id",
        string="Group Membership",
        groups=THERAPY_GROUPS,
    )
    therapy_waitlist_ids = fields.One2many(
        "therapy.group.waitlist",
        "partner_id",
        string="Group Waitlists",
        groups=THERAPY_GROUPS,
    )
    # Clinical and billing facts of a client: stored on therapy.client.profile under record
    # rules that follow the client's groups; these fields read and write it as the user.
    therapy_profile_ids = fields.One2many(
        "therapy.client.profile", "partner_id", string="Clinical Profile", groups=THERAPY_GROUPS
    )
    therapy_contact_access = fields.Boolean(
        string="Sees This Contact",
        compute="_compute_therapy_contact_access",
        search="_search_therapy_contact_access",
        groups="base.group_system",
        help="The user may see this contact: anyone for a contact who is not a therapy client; "
        "for a client, those who serve the client (record rule res_partner_rule_therapy_client).",
    )
    therapy_clinical_served = fields.Boolean(
        string="Reads This Client's Clinical Records",
        compute="_compute_therapy_clinical_served",
        search="_search_therapy_clinical_served",
        groups="base.group_system",
        help="The user may read this client's clinical records (diagnoses, profile, coverage, "
        "consents, measures, treatment plan): front desk and administrators every client, anyone "
        "else the current and past members of the groups they run or share (record rules "
        "*_rule_serving on those models).",
    )
    therapy_clinical_access = fields.Boolean(
        string="Serves This Client",
        compute="_compute_therapy_clinical_access",
        groups=THERAPY_GROUPS,
        help="The user sees and changes this client's clinical fields: front desk, "
        "administrators, and the providers of the client's groups.",
    )
    therapy_billing_partner_id = fields.Many2one(
        "res.partner",
        string="Bill Group Sessions To",
        compute="_compute_therapy_profile_values",
        inverse="_inverse_therapy_billing_partner_id",
        search="_search_therapy_billing_partner_id",
        groups=THERAPY_GROUPS,
        help="The contact who receives this client's invoices (e.g. a parent or guardian). "
        "Empty: the client.",
    )
    therapy_fee_exempt = fields.Boolean(
        string="Exempt From No-show Fees",
        compute="_compute_therapy_profile_values",
        inverse="_inverse_therapy_fee_exempt",
        search="_search_therapy_fee_exempt",
        groups=THERAPY_GROUPS,
        help="No-show and late-cancel fees are recorded but never charged to this client "
        "(e.g. the client's payer forbids them).",
    )
    therapy_diagnosis_line_ids = fields.One2many(
        "therapy.client.diagnosis",
        "partner_id",
        string="Diagnoses",
        groups=THERAPY_GROUPS,
        help="The client's ICD-10-CM diagnoses in claim order: the first is the primary; at most "
        "12. Claim lines point at them by letter (A = primary).",
    )
    therapy_diagnosis_ids = fields.Many2many(
        "therapy.diagnosis",
        string="Diagnoses (ICD-10)",
        compute="_compute_therapy_diagnosis_ids",
        inverse="_inverse_therapy_diagnosis_ids",
        groups=THERAPY_GROUPS,
        help="The client's diagnosis codes in claim order (the first is primary).",
    )
    therapy_payer_id = fields.Many2one(
        "res.partner",
        string="Payer",
        compute="_compute_therapy_profile_values",
        inverse="_inverse_therapy_payer_id",
        search="_search_therapy_payer_id",
        groups=THERAPY_GROUPS,
        help="The client's insurance or other payer, for the payer rules (e.g. Medicare).",
    )
    therapy_payer_type = fields.Selection(
        selection=[
            ("medicare", "Medicare"),
            ("medicaid", "Medicaid"),
            ("commercial", "Commercial"),
            ("other", "Other"),
        ],
        string="Payer Type",
        groups=THERAPY_GROUPS,
        help="On a payer: which payer rules apply to its clients. Medicare: telehealth without "
        "modifier 95 and one no-show fee policy for all; Medicaid: no no-show or late-cancel fees.",
    )
    therapy_forbids_fees = fields.Boolean(
        string="Forbids No-show Fees",
        groups=THERAPY_GROUPS,
        help="On a payer: its clients may not be charged no-show or late-cancel fees. A payer "
        "rule stops such fees before invoicing.",
    )
    # insurance (claims)
    therapy_birthdate = fields.Date(
        string="Date of Birth",
        compute="_compute_therapy_profile_values",
        inverse="_inverse_therapy_birthdate",
        search="_search_therapy_birthdate",
        groups=THERAPY_GROUPS,
        help="Required on insurance claims.",
    )
    therapy_sex = fields.Selection(
        selection=[("female", "Female"), ("male", "Male"), ("unknown", "Unknown")],
        string="Administrative Sex",
        compute="_compute_therapy_profile_values",
        inverse="_inverse_therapy_sex",
        search="_search_therapy_sex",
        groups=THERAPY_GROUPS,
        help="As the insurer has it on file; required on insurance claims.",
    )
    therapy_coverage_ids = fields.One2many(
        "therapy.coverage",
        "partner_id",
        string="Insurance Coverage",
        groups=THERAPY_GROUPS,
        help="No coverage: the client pays for the sessions (self-pay).",
    )
    # treatment plan (clinical: the goals' record rules follow the client's groups)
    therapy_goal_ids = fields.One2many(
        "therapy.treatment.goal",
        "partner_id",
        string="Treatment Plan",
        groups=THERAPY_GROUPS,
        help="The client's problems and measurable goals. Active goals are offered when charting "
        "a session; the progress recorded goes into this client's note only.",
    )
    therapy_part2_consent_ids = fields.One2many(
        "therapy.part2.consent",
        "partner_id",
        string="42 CFR Part 2 Consents",
        groups=THERAPY_GROUPS,
        help="The client's written consents to disclose the records of a 42 CFR Part 2 "
        "program: to whom, for what, until when.",
    )
    therapy_payer_code = fields.Char(
        string="Payer ID",
        help="On an insurance company: its payer ID at the clearinghouse, printed on claims.",
    )
    therapy_claim_filing_code = fields.Selection(
        selection=[
            ("CI", "Commercial insurance"),
            ("BL", "Blue Cross / Blue Shield"),
            ("HM", "HMO"),
            ("MB", "Medicare Part B"),
            ("MC", "Medicaid"),
            ("CH", "TRICARE"),
            ("VA", "Veterans Affairs"),
            ("WC", "Workers' compensation"),
        ],
        string="Claim Filing Indicator",
        help="On an insurance company: the kind of plan, sent on claims (SBR09). Empty: "
        "commercial insurance.",
    )
    therapy_line_rendering = fields.Boolean(
        string="Rendering Provider on Each Line",
        help="On an insurance company that asks for it: its claims name the rendering provider "
        "on every service line (837P loop 2420A) as well as on the claim. Otherwise a line "
        "names one only when it differs from the claim's.",
    )
    therapy_group_count = fields.Integer(
        string="Therapy Groups", compute="_compute_therapy_group_count", groups=THERAPY_GROUPS
    )

    therapy_chart_note_ids = fields.One2many(
        "therapy.chart.note",
        "partner_id",
        string="Chart Notes",
        groups="group_therapy.group_therapy_provider",
    )
    therapy_chart_note_count = fields.Integer(
        string="Chart Note Count",
        compute="_compute_therapy_chart_note_count",
        groups="group_therapy.group_therapy_provider",
        help="The client's chart notes the user may read, counted up to 1001.",
    )
    therapy_chart_note_count_label = fields.Char(
        string="Chart Notes Counted",
        compute="_compute_therapy_chart_note_count",
        groups="group_therapy.group_therapy_provider",
    )

    @api.depends("therapy_member_ids")
    @api.depends_context("uid")
    def _compute_therapy_clinical_access(self):
        """Whether the user serves the client (see ``_therapy_served``)."""
        served = self._therapy_served()
        for partner in self:
            partner.therapy_clinical_access = partner in served

    @api.depends_context("uid")
    def _compute_therapy_contact_access(self):
        """Whether the user may see each contact, decided in SQL: Odoo checks a record rule on
        given records in Python, which would read every client's memberships as superuser into
        the cache that the user's own reads then use."""
        records = self.filtered("id")
        visible = set(
            records.sudo()
            .with_context(active_test=False)
            ._search(Domain("id", "in", records.ids) & self._therapy_contact_domain())
            .get_result_ids()
        )
        for partner in self:
            partner.therapy_contact_access = not partner.id or partner.id in visible

    def _search_therapy_contact_access(self, operator, value):
        if operator not in ("in", "=") or set(value if operator == "in" else [value]) != {True}:
            return NotImplemented
        return self._therapy_contact_domain()

    @api.depends(
        "therapy_member_ids.group_id.provider_id", "therapy_member_ids.group_id.shared_provider_ids"
    )
    @api.depends_context("uid")
    def _compute_therapy_clinical_served(self):
        """Whether the user may read each client's clinical records, decided in SQL like
        ``therapy_contact_access``: the record rules that use it are checked on given records in
        Python, as superuser, and the memberships they would walk through are in the cache every
        user shares, as some user or superuser happened to read them."""
        records = self.filtered("id")
        served = set(
            records.sudo()
            .with_context(active_test=False)
            ._search(Domain("id", "in", records.ids) & self._therapy_clinical_domain())
            .get_result_ids()
        )
        for partner in self:
            partner.therapy_clinical_served = partner.id in served

    def _search_therapy_clinical_served(self, operator, value):
        if operator not in ("in", "=") or set(value if operator == "in" else [value]) != {True}:
            return NotImplemented
        return self._therapy_clinical_domain()

    @api.depends(*(f"therapy_profile_ids.{name}" for name in PROFILE_FIELDS.values()))
    @api.depends_context("uid")
    def _compute_therapy_profile_values(self):
        """The client's profile as the user may read it: empty for a client they do not serve
        (the profile's record rules decide, in one query for all the records)."""
        profiles = self.env["therapy.client.profile"].search(
            [("partner_id", "in", self._origin.ids)]
        )
        by_partner = {profile.partner_id.id: profile for profile in profiles}
        for partner in self:
            profile = by_partner.get(partner._origin.id, profiles.browse())
            for name, profile_name in PROFILE_FIELDS.items():
                partner[name] = profile[profile_name]

    def _inverse_therapy_billing_partner_id(self):
        self._therapy_write_profile("therapy_billing_partner_id")

    def _inverse_therapy_fee_exempt(self):
        self._therapy_write_profile("therapy_fee_exempt")

    def _inverse_therapy_payer_id(self):
        self._therapy_write_profile("therapy_payer_id")

    def _inverse_therapy_birthdate(self):
        self._therapy_write_profile("therapy_birthdate")

    def _inverse_therapy_sex(self):
        self._therapy_write_profile("therapy_sex")

    def _search_therapy_billing_partner_id(self, operator, value):
        return self._therapy_search_profile("therapy_billing_partner_id", operator, value)

    def _search_therapy_fee_exempt(self, operator, value):
        return self._therapy_search_profile("therapy_fee_exempt", operator, value)

    def _search_therapy_payer_id(self, operator, value):
        return self._therapy_search_profile("therapy_payer_id", operator, value)

    def _search_therapy_birthdate(self, operator, value):
        return self._therapy_search_profile("therapy_birthdate", operator, value)

    def _search_therapy_sex(self, operator, value):
        return self._therapy_search_profile("therapy_sex", operator, value)

    @api.depends("therapy_diagnosis_line_ids.sequence", "therapy_diagnosis_line_ids.diagnosis_id")
    @api.depends_context("uid")
    def _compute_therapy_diagnosis_ids(self):
        """The diagnoses in claim order, primary first, as the user may read them."""
        readable = self._therapy_readable(self.therapy_diagnosis_line_ids)
        for partner in self:
            lines = partner.therapy_diagnosis_line_ids.sorted(
                lambda line: (line.sequence, line._origin.id or 0)
            )
            # a list, not filtered(): that would read each client's lines in a query of its own
            partner.therapy_diagnosis_ids = self.env["therapy.diagnosis"].browse(
                [line.diagnosis_id.id for line in lines if line in readable]
            )

    def _inverse_therapy_diagnosis_ids(self):
        """Setting the codes keeps the order given: the first becomes the primary."""
        # The lines the user cannot read would be left as they are: refuse instead.
        self._therapy_check_clinical_access()
        # Read every wanted list first: changing one client's lines recomputes the others.
        wanted_by_partner = {partner: partner.therapy_diagnosis_ids for partner in self}
        for partner, wanted in wanted_by_partner.items():
            lines = partner.therapy_diagnosis_line_ids
            lines.filtered(lambda line, wanted=wanted: line.diagnosis_id not in wanted).unlink()
            kept = {line.diagnosis_id: line for line in partner.therapy_diagnosis_line_ids}
            for position, diagnosis in enumerate(wanted, start=1):
                if diagnosis in kept:
                    kept[diagnosis].sequence = position
                else:
                    self.env["therapy.client.diagnosis"].create(
                        {
                            "partner_id": partner.id,
                            "diagnosis_id": diagnosis.id,
                            "sequence": position,
                        }
                    )

    @api.depends("therapy_member_ids.date_start", "therapy_member_ids.date_end")
    def _compute_therapy_group_count(self):
        """Groups the client is a member of today."""
        counts = dict(
            self.env["therapy.group.member"]._read_group(
                [("partner_id", "in", self.ids), ("is_current", "=", True)],
                groupby=["partner_id"],
                aggregates=["group_id:count_distinct"],
            )
        )
        for partner in self:
            partner.therapy_group_count = counts.get(partner, 0)

    @api.depends("therapy_chart_note_ids")
    @api.depends_context("uid")
    def _compute_therapy_chart_note_count(self):
        """The client's chart notes the user may read (the notes' record rules apply), counted
        up to CHART_NOTE_COUNT_LIMIT + 1 per client in one query."""
        counts = {}
        partner_ids = [partner_id for partner_id in self._origin.ids if partner_id]
        if partner_ids:
            query = self.env["therapy.chart.note"]._search([("partner_id", "in", partner_ids)])
            query.add_where(SQL("%s = partner.id", SQL.identifier(query.table, "partner_id")))
            query.limit = CHART_NOTE_COUNT_LIMIT + 1
            counts = dict(
                self.env.execute_query(
                    SQL(
                        "SELECT partner.id, (SELECT COUNT(*) FROM (%s) AS note) "
                        "FROM unnest(%s::int[]) AS partner(id)",
                        query.select(SQL("1")),
                        partner_ids,
                    )
                )
            )
        for partner in self:
            count = counts.get(partner._origin.id, 0)
            partner.therapy_chart_note_count = count
            partner.therapy_chart_note_count_label = (
                f"{CHART_NOTE_COUNT_LIMIT}+" if count > CHART_NOTE_COUNT_LIMIT else str(count)
            )

    def _read_format(self, fnames, load="_classic_read"):
        """The client's Group Therapy lists (memberships, diagnoses, coverage, consents, plan,
        notes) name only the records the user may read, whoever read them first in this
        transaction (see ``_therapy_readable``)."""
        values_list = super()._read_format(fnames, load=load)
        if self.env.su or not values_list:
            return values_list
        for name in fnames:
            field = self._fields.get(name)
            if not (name.startswith("therapy_") and field and field.type == "one2many"):
                continue
            ids = OrderedSet(id_ for values in values_list for id_ in values.get(name) or ())
            if not ids:
                continue
            readable = set(self._therapy_readable(self.env[field.comodel_name].browse(ids))._ids)
            for values in values_list:
                if values.get(name):
                    values[name] = [id_ for id_ in values[name] if id_ in readable]
        return values_list

    def _export_rows(self, fields, *, _is_toplevel_call=True):
        """Export reads the client's Group Therapy lists from the cache: those are read again
        as the user first, so that the record rules decide what is exported."""
        if _is_toplevel_call and not self.env.su:
            names = {
                path[0]
                for path in fields
                if path
                and path[0].startswith("therapy_")
                and self._fields.get(path[0])
                and self._fields[path[0]].type == "one2many"
            }
            if names:
                self.filtered("id").invalidate_recordset(list(names))
        return super()._export_rows(fields, _is_toplevel_call=_is_toplevel_call)

    def _get_busy_calendar_events(self, start_datetime, end_datetime):
        """Odoo's free/busy check, counting group sessions for everyone who runs them.

        Each person a group session keeps busy has a busy block (a private event on their
        calendar). A colleague who may not see the session sees the block: Odoo reads a private
        event's attendees as empty for non-attendees (even into the cache), so the block is
        attributed here, from its organizer. Those who see the session (front desk, the group's
        providers) do not see its blocks: the session itself is what makes its shared providers
        busy for them, even those who are not among its attendees. Blocks are found as
        superuser (they carry no group and no client), then only what the user may read is
        returned.
        """
        busy = super()._get_busy_calendar_events(start_datetime, end_datetime)
        blocks_sudo = (
            self.env["calendar.event"]
            .sudo()
            .search(
                [
                    ("therapy_busy_for_id", "!=", False),
                    ("stop", ">=", start_datetime.replace(tzinfo=None)),
                    ("start", "<=", end_datetime.replace(tzinfo=None)),
                    ("partner_ids", "in", self.ids),
                ]
            )
        )
        if not blocks_sudo:
            return busy
        Event = self.env["calendar.event"]
        readable = (
            (blocks_sudo | blocks_sudo.therapy_busy_for_id)
            .with_env(self.env)
            ._filtered_access("read")
        )
        for block_sudo in blocks_sudo:
            partner_id = block_sudo.user_id.partner_id.id
            if partner_id not in self.ids:
                continue
            event = block_sudo.with_env(self.env)
            if event not in readable:
                event = block_sudo.therapy_busy_for_id.with_env(self.env)
                if event not in readable:
                    continue
            busy[partner_id] = busy.get(partner_id, Event) | event
        return busy

    def _therapy_is_client(self):
        """A contact outside the practice's staff (no internal user): told about group
        sessions alone, never a follower of one."""
        self.ensure_one()
        users = self.sudo().with_context(active_test=False).user_ids
        return not users.filtered(lambda user: not user.share)

    def action_open_therapy_chart_notes(self):
        """The client's chart notes, newest session first."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.therapy_chart_note_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_print_therapy_superbill(self):
        """The client's superbill: their services of the last twelve months."""
        self.ensure_one()
        return self.env.ref("group_therapy.therapy_superbill_report_client").report_action(self)

    def action_open_therapy_measures(self):
        """The client's PHQ-9 and GAD-7 scores over time, as a graph."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "group_therapy.therapy_measure_result_action"
        )
        action.update(
            name=self.env._("Clinical Measures of %(client)s", client=self.display_name),
            domain=[("partner_id", "=", self.id)],
            context={"graph_groupbys": ["date:day", "instrument"]},
            view_mode="graph,list,form",
            views=[(False, "graph"), (False, "list"), (False, "form")],
        )
        return action

    def action_open_therapy_groups(self):
        """The groups the client belongs to (current and past)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Groups of %(client)s", client=self.display_name),
            "res_model": "therapy.group",
            "view_mode": "list,kanban,form",
            "domain": [("member_ids.partner_id", "=", self.id)],
            "context": {"active_test": False},
        }

    @api.model
    def _therapy_contact_domain(self):
        """The contacts the user may see. Being a client of the practice is protected health
        information: a therapy client (flagged, or ever in or waiting for a group) is seen by
        the front desk, administrators and accountants (who invoice every client) and by the
        providers of the client's groups, current and past members and waitlist; a client the
        user registered stays theirs while in no group. Any other contact is shared as in Odoo,
        and so is the contact of every internal user (a colleague who is also a client)."""
        # not self.env.su: the record rule evaluates this as superuser, for the user
        user = self.env.user
        if any(user.has_group(group) for group in CONTACT_GROUPS_SEEING_ALL):
            return Domain.TRUE
        serving = Domain("group_id.provider_id", "=", user.id) | Domain(
            "group_id.shared_provider_ids", "in", user.id
        )
        in_no_group = Domain("therapy_member_ids", "=", False) & Domain(
            "therapy_waitlist_ids", "=", False
        )
        # A clinical supervisor reads the client of a note they co-sign (waiting for them, or
        # co-signed by them), as the note's record rule lets them read the note.
        notes_sudo = self.env["therapy.chart.note"].sudo()
        cosigned_sudo = notes_sudo._search(
            Domain("cosigned_by_id", "=", user.id)
            | (
                Domain("state", "=", "to_cosign")
                & Domain("signed_by_id.therapy_supervisor_id", "=", user.id)
            )
        )
        return Domain.OR(
            [
                Domain("therapy_client", "=", False) & in_no_group,
                Domain("partner_share", "=", False),
                Domain("id", "=", user.partner_id.id),
                Domain("therapy_member_ids", "any", serving),
                Domain("therapy_waitlist_ids", "any", serving),
                Domain("create_uid", "=", user.id) & in_no_group,
                Domain(
                    "id",
                    "in",
                    cosigned_sudo.subselect(
                        notes_sudo._field_to_sql(cosigned_sudo.table, "partner_id", cosigned_sudo)
                    ),
                ),
            ]
        )

    @api.model
    def _therapy_clinical_domain(self):
        """The clients whose clinical records the user reads: every contact for the front desk
        (and administrators, who imply it); for anyone else, the current and past members of
        the groups they serve (``therapy.group._user_serves_domain``: the groups they run, and
        those shared with them while they have the Provider role), archived groups included.
        One subquery on the memberships, whatever the cache holds."""
        # not self.env.su: the record rules evaluate this as superuser, for the user
        user = self.env.user
        if user.has_group("group_therapy.group_therapy_front_desk"):
            return Domain.TRUE
        Member, Group = self.env["therapy.group.member"], self.env["therapy.group"]
        # A shared provider counts while they have the Provider role, as in the rules of the
        # group's sessions and notes: a provider whose role was taken away stays listed on the
        # groups shared with them (the group's constraint is checked when the group changes,
        # not the user), and another role (a survey officer's, say) may give the ACLs.
        served_groups = (
            Group.sudo().with_context(active_test=False)._search(Group._user_serves_domain())
        )
        served = SQL(
            "(SELECT member.partner_id FROM %(members)s AS member"
            " WHERE member.group_id IN %(groups)s)",
            members=SQL.identifier(Member._table),
            groups=served_groups.subselect(),
            to_flush=[Member._fields["partner_id"], Member._fields["group_id"]],
        )
        return Domain("id", "in", served)

    @api.model
    def _therapy_readable(self, records):
        """The records among these the user may read, and those not saved yet (a form's new
        lines). A client's x2many values sit in a cache shared by every user of the
        transaction, as whoever read them first got them (the client's provider, or the server
        as superuser for billing): the record rules are checked again here, in SQL for the
        clinical models (``therapy_clinical_served``)."""
        if self.env.su:
            return records
        saved = records.browse(OrderedSet(record._origin.id for record in records) - {False})
        readable_ids = set(saved._filtered_access("read")._ids)
        return records.filtered(
            lambda record: not record._origin.id or record._origin.id in readable_ids
        )

    def _therapy_served(self):
        """The clients among these whose clinical fields the user reads and changes: every
        contact for front desk and administrators; for a provider, the current and past
        members of the groups they run or share (the membership's record rules decide)."""
        user = self.env.user
        if self.env.su or user.has_group("group_therapy.group_therapy_front_desk"):
            return self
        if not user.has_group("group_therapy.group_therapy_provider"):
            return self.browse()
        members = self.env["therapy.group.member"].search([("partner_id", "in", self._origin.ids)])
        served_ids = set(members.partner_id.ids)
        return self.filtered(
            lambda partner: partner._origin.id in served_ids
            # a client in a form being added to one of the user's groups (pickable groups are
            # the user's own): served once saved
            or partner.therapy_member_ids.filtered(lambda member: not member._origin).group_id
        )

    def _therapy_check_clinical_access(self):
        """Refuse, naming the clients, unless the user serves every one of them. Billing code
        calls it before reading these clients' clinical fields as superuser."""
        unserved = self - self._therapy_served()
        if unserved:
            raise AccessError(
                self.env._(
                    "A client's diagnoses, payer, insurance coverage, birth date and fee "
                    "exemption are for the front desk, the providers of the client's groups and "
                    "administrators of Group Therapy only. You do not serve: %(clients)s. Ask "
                    "the front desk, or an administrator for a Group Therapy role.",
                    clients=", ".join(sorted(unserved.mapped("display_name"))),
                )
            )

    def _therapy_write_profile(self, field_name):
        """Store the field's new value on each client's profile, as the user (the profile's
        record rules apply), creating the profile on first use."""
        self._therapy_check_clinical_access()
        profile_field = PROFILE_FIELDS[field_name]
        field = self._fields[field_name]
        profiles = self.env["therapy.client.profile"].search([("partner_id", "in", self.ids)])
        by_partner = {profile.partner_id: profile for profile in profiles}
        to_create = []
        for partner in self:
            value = field.convert_to_write(partner[field_name], partner)
            if partner in by_partner:
                by_partner[partner][profile_field] = value
            elif value:
                to_create.append({"partner_id": partner.id, profile_field: value})
        self.env["therapy.client.profile"].create(to_create)
        # Odoo keeps the field being written from invalidation while it writes: a copy read
        # earlier in this transaction by another user or as superuser (billing reads after its
        # access check) would keep the old value. The profile holds the new one: drop them all.
        self.invalidate_recordset([field_name])

    def _therapy_search_profile(self, field_name, operator, value):
        """Clients whose profile, as the user may read it, matches the condition. A client the
        user does not serve reads as an empty profile, so it matches only what that would."""
        condition = Domain(PROFILE_FIELDS[field_name], operator, value)
        domain = Domain("therapy_profile_ids", "any", condition)
        if self.env["therapy.client.profile"].new({}).filtered_domain(condition):
            domain |= Domain("therapy_profile_ids", "not any", Domain.TRUE)
        return domain
