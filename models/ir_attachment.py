from odoo import models
from odoo.exceptions import UserError

# The stored content of an attachment, by whichever name it is read.
CONTENT_FIELDS = {"datas", "raw", "db_datas"}


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _read_format(self, fnames, load="_classic_read"):
        values_list = super()._read_format(fnames, load=load)
        if CONTENT_FIELDS & set(fnames) and values_list:
            self.browse([values["id"] for values in values_list])._therapy_log_claim_files()
        return values_list

    def _to_http_stream(self):
        # /web/content and the download button of a file field end here
        self._therapy_log_claim_files()
        return super()._to_http_stream()

    def _therapy_log_claim_files(self):
        """A claim file kept when claims were exported (837P) carries the clients' diagnoses,
        birth dates and coverage: downloading it again is an export like the first one. It is
        refused to whoever may not export those clients' claims, and logged per claim."""
        files_sudo = self.sudo().filtered(
            lambda attachment: attachment.res_model == "therapy.claim"
            and attachment.res_id
            and not attachment.res_field
        )
        if not files_sudo:
            return
        Claim = self.env["therapy.claim"]
        # the claims filed with it, and the claim it hangs on (an earlier submission of a claim
        # sent again since)
        claims_sudo = Claim.sudo().search([("export_attachment_id", "in", files_sudo.ids)])
        claims_sudo |= Claim.sudo().browse(files_sudo.mapped("res_id")).exists()
        claims = claims_sudo.with_env(self.env)
        claims.partner_id._therapy_check_clinical_access()
        file_names = ", ".join(files_sudo.mapped("name"))
        # The file of a 42 CFR Part 2 program's claims was sent under the clients' consents to
        # the insurers: downloading it again is a new disclosure, which needs those consents
        # still valid today (not revoked, not expired since).
        consents, missing = self.env["therapy.part2.consent"]._check_disclosure(
            claims,
            "payment",
            lambda claim: claim.payer_id,
            group_of=lambda claim: claim.event_id.therapy_group_id,
        )
        if missing:
            raise UserError(
                self.env._(
                    "%(files)s cannot be downloaded again: that would disclose its claims to "
                    "the insurer again, and\n%(reasons)s",
                    files=file_names,
                    reasons="\n".join(f"- {reason}" for reason in dict.fromkeys(missing.values())),
                )
            )
        self.env["therapy.access.log"]._log(
            claims,
            "export",
            detail=self.env._("%(files)s (downloaded again)", files=file_names),
            consents=consents,
        )
