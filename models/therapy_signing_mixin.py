from odoo import models
from odoo.addons.base.models.res_users import check_identity
from odoo.http import request


class TherapySigningMixin(models.AbstractModel):
    """The Sign button of chart notes and of the charting screen.

    A signature is a person's act (45 CFR 164.312(d)): the button asks for the signer's password
    again with Odoo's identity check, every time, never within the ten minutes the check
    otherwise grants. The signing itself is ``_sign()`` (for code and tests), which returns the
    notes it signed.
    """

    _name = "therapy.signing.mixin"
    _description = "Chart Note Signing"

    def action_sign(self):
        """The Sign button: asks for the signer's password again, every time, then signs."""
        if request:
            request.session.pop("identity-check-last", None)
        return self._action_sign_identified()

    @check_identity
    def _action_sign_identified(self):
        """Called again by Odoo's identity check once the password is confirmed."""
        if request:
            request.session.pop("identity-check-last", None)
        notes = self._sign()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self._therapy_signed_message(notes),
                # Who co-signs them, when they wait: the signing screen says so.
                "therapy_cosign_supervisor": self.env.user.therapy_supervisor_id.name
                if any(note.state == "to_cosign" for note in notes)
                else False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _therapy_signed_message(self, notes):
        if any(note.state == "to_cosign" for note in notes):
            return self.env._(
                "%(count)s chart notes signed: they wait for %(supervisor)s's co-signature.",
                count=len(notes),
                supervisor=self.env.user.therapy_supervisor_id.name,
            )
        return self.env._("%(count)s chart notes signed and locked.", count=len(notes))
