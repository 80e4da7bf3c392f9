from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .res_company import TAXONOMY_CODE, is_valid_npi


class ResUsers(models.Model):
    _inherit = "res.users"

    therapy_credentials = fields.Char(
        string="Credentials",
        help="The provider's licence or degree as it follows the name on a signed chart note, "
        "e.g. LCSW, PsyD, LMFT.",
    )
    therapy_npi = fields.Char(
        string="NPI",
        help="The provider's National Provider Identifier (10 digits), printed as rendering "
        "provider on claims and superbills.",
    )
    therapy_taxonomy_code = fields.Char(
        string="Taxonomy Code",
        help="The provider's own Health Care Provider Taxonomy code (NUCC), sent with the "
        "rendering provider on claims, e.g. 101YM0800X (mental health counselor) or 1041C0700X "
        "(clinical social worker). Empty: claims name no taxonomy for the provider; the billing "
        "provider's is the practice's.",
    )

    # supervision of pre-licensed providers (interns, associates)
    therapy_supervisor_id = fields.Many2one(
        "res.users",
        string="Clinical Supervisor",
        index="btree_not_null",
        ondelete="restrict",
        domain="[('id', '!=', id), ('share', '=', False)]",
        help="A pre-licensed provider's licensed supervisor: the chart notes this provider "
        "signs wait for the supervisor's co-signature before they are final (locked), billed "
        "and claimed. Set by an administrator.",
    )
    therapy_supervisee_ids = fields.One2many(
        "res.users",
        "therapy_supervisor_id",
        string="Supervisees",
        help="The pre-licensed providers whose chart notes this user co-signs.",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        # A provider sees their supervisor (read only) in their preferences.
        return [*super().SELF_READABLE_FIELDS, "therapy_supervisor_id", "therapy_credentials"]

    @api.constrains("therapy_npi")
    def _check_therapy_npi(self):
        """An NPI: 10 digits whose last is the Luhn check digit over prefix 80840 (CMS)."""
        for user in self.filtered("therapy_npi"):
            if not is_valid_npi(user.therapy_npi):
                raise ValidationError(
                    self.env._(
                        "%(user)s's NPI “%(npi)s” is not valid: an NPI has 10 digits and its "
                        "last digit checks the others. Copy it again from the NPI registry "
                        "(NPPES).",
                        user=user.name,
                        npi=user.therapy_npi,
                    )
                )

    @api.constrains("therapy_taxonomy_code")
    def _check_therapy_taxonomy_code(self):
        """A provider's taxonomy code as the NUCC list writes it."""
        for user in self.filtered("therapy_taxonomy_code"):
            if not TAXONOMY_CODE.match(user.therapy_taxonomy_code):
                raise ValidationError(
                    self.env._(
                        "“%(code)s”, %(user)s's taxonomy code, is not a taxonomy code: it has 10 "
                        "characters (3 digits, 6 letters or digits) and ends in X, like "
                        "101YM0800X. Copy it from the provider's NPI registry entry (NPPES).",
                        code=user.therapy_taxonomy_code,
                        user=user.name,
                    )
                )

    @api.constrains("therapy_supervisor_id")
    def _check_therapy_supervisor(self):
        """A supervisor is another user, a Group Therapy provider, and supervision has no loop."""
        for user in self.filtered("therapy_supervisor_id"):
            supervisor = user.therapy_supervisor_id
            if supervisor == user:
                raise ValidationError(
                    self.env._(
                        "%(user)s cannot be their own clinical supervisor: choose the licensed "
                        "provider who co-signs their chart notes, or leave it empty.",
                        user=user.name,
                    )
                )
            if not supervisor._has_group("group_therapy.group_therapy_provider"):
                raise ValidationError(
                    self.env._(
                        "%(supervisor)s cannot supervise %(user)s: a clinical supervisor must "
                        "have the Group Therapy Provider role. Give them the role first, or "
                        "choose another supervisor.",
                        supervisor=supervisor.name,
                        user=user.name,
                    )
                )
        if self._has_cycle("therapy_supervisor_id"):
            raise ValidationError(
                self.env._(
                    "Supervision cannot go round in a circle (%(users)s): a supervisor's own "
                    "supervisor cannot be one of their supervisees. Choose another supervisor.",
                    users=", ".join(self.mapped("name")),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        if any("therapy_supervisor_id" in vals for vals in vals_list):
            self._therapy_check_supervisor_admin()
        return super().create(vals_list)

    def write(self, vals):
        if "therapy_supervisor_id" not in vals:
            return super().write(vals)
        self._therapy_check_supervisor_admin()
        result = super().write(vals)
        # Notes waiting for a co-signature go to the new supervisor (with the activity).
        waiting_sudo = (
            self.env["therapy.chart.note"]
            .sudo()
            .search([("state", "=", "to_cosign"), ("signed_by_id", "in", self.ids)])
        )
        waiting_sudo._therapy_sync_cosign_activities()
        return result

    @api.model
    def _therapy_check_supervisor_admin(self):
        """Who co-signs a provider's notes is set by administrators, never by the provider."""
        if self.env.su or self.env.user.has_group("base.group_erp_manager"):
            return
        raise UserError(
            self.env._(
                "Only an administrator who manages users (Settings → Users) can set or clear a "
                "provider's clinical supervisor. Ask them to change it on your user."
            )
        )
