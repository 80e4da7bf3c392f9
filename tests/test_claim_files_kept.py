from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_era_835 import Era835Common


@tagged("post_install", "-at_install")
class TestClaimFilesKept(Era835Common):
    """The 837P sent to an insurer and the 835 it answered with are the record of what was
    billed and paid: deleted by nobody, as they are changed and copied by nobody."""

    def setUp(self):
        super().setUp()
        self.admin = self.env.ref("base.user_admin")
        self.claim_file = self.ann_claim.export_attachment_id
        self._import(self._blue_shield_file())
        self.era = self.env["therapy.era"].search([("trace_number", "=", "EFT-1001")])
        self.era_file = self.era.attachment_id
        self.assertTrue(self.claim_file and self.era_file)

    def test_the_files_are_deleted_by_nobody(self):
        """The front desk (who writes claims) deleted the 837P file over RPC (unlink of its
        id), and so could the accountant and an administrator, and the 835 file with its
        remittance's write access."""
        users = (self.front_desk, self.accountant, self.manager, self.admin)
        for user in users:
            for file in (self.claim_file, self.era_file):
                with self.subTest(user=user.login, file=file.name):
                    with self.assertRefused(UserError, "cannot be deleted"):
                        self.env["ir.attachment"].with_user(user).browse(file.ids).unlink()
        # nor by the server
        for file in (self.claim_file, self.era_file):
            with self.assertRefused(UserError, "cannot be deleted"):
                file.sudo().unlink()
        self.assertTrue(self.claim_file.exists() and self.era_file.exists())
        self.assertEqual(self.ann_claim.export_attachment_id, self.claim_file)

    def test_a_sent_claim_and_a_remittance_are_not_deleted_with_their_files(self):
        """Odoo deletes a record's attachments with it, as superuser: a sent claim and a
        remittance are refused first, with what to do instead."""
        for user in (self.manager, self.admin):
            with self.subTest(user=user.login):
                with self.assertRefused(UserError, "Void it instead"):
                    self.ann_claim.with_user(user).unlink()
                with self.assertRefused(UserError, "cannot be deleted"):
                    self.era.with_user(user).unlink()
        with self.assertRefused(UserError, "Void it instead"):
            self.ann_claim.sudo().unlink()
        self.assertTrue(self.ann_claim.exists() and self.era.exists())
        self.assertTrue(self.claim_file.exists() and self.era_file.exists())

    def test_earlier_submissions_stored_before_lose_their_text_index(self):
        """An 837P sent before a claim was sent again is no claim's file any more, but still
        kept on the claim: stored as text/plain before, it loses its index at the update too;
        a file someone attached in the claim's chatter keeps its type."""
        Attachment = self.env["ir.attachment"].sudo()
        earlier, chatter_file = Attachment.create(
            [
                {
                    "name": "837P_BSC_000000001.x12",
                    "raw": b"ISA*00*CLM*GTC0000001~",
                    "res_model": "therapy.claim",
                    "res_id": self.ann_claim.id,
                },
                {
                    "name": "insurer_letter.txt",
                    "raw": b"Claim GTC0000001 received.",
                    "res_model": "therapy.claim",
                    "res_id": self.ann_claim.id,
                },
            ]
        )
        (earlier | chatter_file).write({"mimetype": "text/plain", "index_content": "CLM*"})
        self.env["ir.attachment"]._therapy_unindex_x12_files()
        self.assertEqual(earlier.mimetype, "application/edi-x12")
        self.assertFalse(earlier.index_content)
        self.assertIn(b"CLM*", earlier.raw)
        self.assertEqual(chatter_file.mimetype, "text/plain")
        self.assertEqual(chatter_file.index_content, "CLM*")

    def test_uninstalling_the_addon_still_deletes(self):
        """The guards are not run when the addon is uninstalled (tools/check_uninstall.py)."""
        files = (self.claim_file | self.era_file).sudo()
        files.with_context(**{MODULE_UNINSTALL_FLAG: True}).unlink()
        self.assertFalse(files.exists())

    def test_the_835_file_is_not_indexed(self):
        """The 835 is stored as X12, as the 837P: Odoo kept a text/plain file's text (what the
        insurer paid for whom) in index_content, read and searched by whoever reads it; one
        stored before loses its index at the update."""
        file_sudo = self.era_file.sudo()
        self.assertEqual(file_sudo.mimetype, "application/edi-x12")
        self.assertFalse(file_sudo.index_content)
        self.assertFalse(
            self.env["ir.attachment"]
            .with_user(self.accountant)
            .search([("index_content", "ilike", "CLP*")])
        )
        file_sudo.write({"mimetype": "text/plain", "index_content": "CLP*GTC0000001"})
        self.env["ir.attachment"]._therapy_unindex_x12_files()
        self.assertEqual(file_sudo.mimetype, "application/edi-x12")
        self.assertFalse(file_sudo.index_content)
        self.assertIn(b"CLP*", file_sudo.raw)
