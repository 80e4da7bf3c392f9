from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# The stored content of an attachment, by whichever name it is read.
CONTENT_FIELDS = {"datas", "raw", "db_datas"}
# The MIME type of an X12 file (RFC 1767). Odoo indexes the text of a text/* attachment in
# index_content, which whoever reads the attachment reads and searches: a claim file's would be
# the file itself, diagnoses and birth dates included, read without the download's check; a
# remittance's, what the insurer paid for whom.
X12_MIMETYPE = "application/edi-x12"


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _read_format(self, fnames, load="_classic_read"):
        values_list = super()._read_format(fnames, load=load)
        if CONTENT_FIELDS & set(fnames) and values_list:
            self.browse([values["id"] for values in values_list])._therapy_log_claim_files()
        return values_list

    def _export_rows(self, fields, *, _is_toplevel_call=True):
        # Odoo's Export of the file's content (datas, raw), of attachments or of the claims'
        # Submitted File (export_attachment_id/datas): a download like /web/content
        if self and CONTENT_FIELDS & {path[0] for path in fields if path}:
            self._therapy_log_claim_files()
        return super()._export_rows(fields, _is_toplevel_call=_is_toplevel_call)

    def copy_data(self, default=None):
        # copy() and, over RPC, copy_data() itself, which answers with the file's content
        self._therapy_check_claim_files_kept()
        return super().copy_data(default=default)

    def write(self, vals):
        self._therapy_check_claim_files_kept()
        return super().write(vals)

    def _to_http_stream(self):
        # /web/content and the download button of a file field end here
        self._therapy_log_claim_files()
        return super()._to_http_stream()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_therapy_x12_files(self):
        """The 837P sent to an insurer and the 835 it answered with are the practice's record
        of what was billed and paid: deleted by nobody, administrators and the server included
        (Odoo deletes a claim's or a remittance's files with it, as superuser), so that a claim
        or remittance deleted by mistake is refused too. Uninstalling the addon still goes."""
        files_sudo = self._therapy_claim_files_sudo() | self._therapy_era_files_sudo()
        if files_sudo:
            raise UserError(
                self.env._(
                    "%(files)s is a claim file sent to an insurer or a remittance (835) received "
                    "from one, kept as the record of what was billed and paid: it cannot be "
                    "deleted. Download it from its claim or remittance if you need a copy.",
                    files=", ".join(files_sudo.mapped("name")),
                )
            )

    def _therapy_claim_files_sudo(self):
        """The 837P files among these (kept on a claim when claims were exported)."""
        return self.sudo().filtered(
            lambda attachment: attachment.res_model == "therapy.claim"
            and attachment.res_id
            and not attachment.res_field
        )

    def _therapy_era_files_sudo(self):
        """The 835 files among these (kept on their remittance by the 835 import)."""
        return self.sudo().filtered(
            lambda attachment: attachment.res_model == "therapy.era"
            and attachment.res_id
            and not attachment.res_field
        )

    def _therapy_check_claim_files_kept(self):
        """A claim file is what was sent to the insurer, kept by the server as sent: changed or
        copied by nobody (a copy, or the file moved off its claim, would be downloaded without
        the check and the log of a download)."""
        if self.env.su:
            return
        files_sudo = self._therapy_claim_files_sudo()
        if files_sudo:
            raise UserError(
                self.env._(
                    "%(files)s is the claim file sent to the insurer, kept as it was sent: it "
                    "cannot be changed or copied. Download it from the claim.",
                    files=", ".join(files_sudo.mapped("name")),
                )
            )

    @api.model
    def _therapy_unindex_x12_files(self):
        """Claim (837P) and remittance (835) files stored before they were typed as X12 lose
        their text index (run at every install and update; nothing to do once done)."""
        Claim, Era = self.env["therapy.claim"], self.env["therapy.era"]
        self.flush_model(["mimetype", "index_content"])
        Claim.flush_model(["export_attachment_id"])
        Era.flush_model(["attachment_id"])
        # An earlier submission of a claim sent again is no claim's file any more, but is
        # still kept on the claim under the name every export gives its file.
        self.env.cr.execute(
            SQL(
                "UPDATE %(table)s SET mimetype = %(mimetype)s, index_content = NULL"
                " WHERE (id IN (SELECT %(claim_file)s FROM %(claims)s)"
                " OR id IN (SELECT %(era_file)s FROM %(eras)s)"
                " OR (res_model = 'therapy.claim' AND res_field IS NULL"
                " AND name LIKE %(claim_file_name)s)) AND mimetype = 'text/plain'",
                table=SQL.identifier(self._table),
                mimetype=X12_MIMETYPE,
                claim_file=SQL.identifier("export_attachment_id"),
                claims=SQL.identifier(Claim._table),
                era_file=SQL.identifier("attachment_id"),
                eras=SQL.identifier(Era._table),
                claim_file_name="837P\\_%.x12",
            )
        )
        self.invalidate_model(["mimetype", "index_content"])

    def _therapy_log_claim_files(self):
        """A claim file kept when claims were exported (837P) carries the clients' diagnoses,
        birth dates and coverage: downloading it again is an export like the first one. It is
        refused to whoever may not export those clients' claims, and logged per claim."""
        files_sudo = self._therapy_claim_files_sudo()
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
