from odoo import fields, models
from odoo.tools import SQL

# Former res.partner columns moved here, by profile field: copied once from a database that
# still has them (see init()).
FORMER_PARTNER_COLUMNS = {
    "fee_exempt": "therapy_fee_exempt",
    "payer_id": "therapy_payer_id",
    "birthdate": "therapy_birthdate",
    "sex": "therapy_sex",
    "billing_partner_id": "therapy_billing_partner_id",
}


class TherapyClientProfile(models.Model):
    """A client's clinical and billing facts, one record per client.

    Contacts are shared by the whole company, so a record rule on res.partner cannot protect
    them; this model carries them under record rules that follow the client's group
    membership (front desk, the providers of the client's groups, administrators). The
    client's fields on res.partner (``therapy_birthdate``, ``therapy_payer_id``, ...) read and
    write this record as the user, so every route (read, search, export) meets those rules.
    """

    _name = "therapy.client.profile"
    _inherit = ["therapy.input.mixin", "therapy.readable.target.mixin"]
    _description = "Client Clinical Profile"
    _therapy_readable_target_fields = ("partner_id", "billing_partner_id", "payer_id")
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, index=True, ondelete="cascade"
    )
    # billing
    fee_exempt = fields.Boolean(string="Exempt From No-show Fees")
    payer_id = fields.Many2one("res.partner", ondelete="set null")
    billing_partner_id = fields.Many2one(
        "res.partner", string="Bill Group Sessions To", ondelete="set null"
    )
    # insurance (claims)
    birthdate = fields.Date(string="Date of Birth")
    sex = fields.Selection(
        selection=[("female", "Female"), ("male", "Male"), ("unknown", "Unknown")],
        string="Administrative Sex",
    )

    _partner_uniq = models.Constraint("UNIQUE(partner_id)", "A client has one clinical profile.")

    def init(self):
        """Databases from before this model keep the values in res.partner's columns: copy
        them once into profiles (the columns are then left unused)."""
        self.env.cr.execute(
            SQL(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'res_partner' AND column_name IN %s",
                tuple(FORMER_PARTNER_COLUMNS.values()),
            )
        )
        present = {row[0] for row in self.env.cr.fetchall()}
        moved = {
            profile_field: column
            for profile_field, column in FORMER_PARTNER_COLUMNS.items()
            if column in present
        }
        if not moved:
            return
        has_value = SQL(" OR ").join(
            SQL(
                "p.%s IS NOT NULL AND p.%s::text NOT IN ('', 'false')",
                SQL.identifier(c),
                SQL.identifier(c),
            )
            for c in moved.values()
        )
        self.env.cr.execute(
            SQL(
                "INSERT INTO therapy_client_profile (partner_id, %(targets)s, create_date, "
                "write_date) SELECT p.id, %(sources)s, now() at time zone 'UTC', "
                "now() at time zone 'UTC' FROM res_partner p WHERE (%(has_value)s) AND NOT EXISTS "
                "(SELECT 1 FROM therapy_client_profile t WHERE t.partner_id = p.id)",
                targets=SQL(", ").join(SQL.identifier(field) for field in moved),
                sources=SQL(", ").join(SQL("p.%s", SQL.identifier(c)) for c in moved.values()),
                has_value=has_value,
            )
        )
