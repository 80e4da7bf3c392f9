from odoo import api, models
from odoo.exceptions import UserError

# What lets the owning methods write server-owned fields. An RPC client can send any JSON value
# in a context, never this object: only code running on the server can hold it.
_SERVER_WRITE = object()


class TherapyServerOwnedMixin(models.AbstractModel):
    """Fields only the server sets (workflow, signature, computed and related values).

    ``readonly`` is a web client setting: over RPC a client may send any field to ``create`` or
    ``write``. Models inheriting this refuse server-owned fields from outside; the methods that
    own them write through :meth:`_therapy_server_write`.
    """

    _name = "therapy.server.owned.mixin"
    _description = "Server-owned Fields"

    # Workflow and signature fields set by the model's own methods (besides computed and
    # related fields, which are always server-owned).
    _therapy_server_owned_fields = ()
    # Whether every computed or related field of the model is server-owned. Inherited core
    # models (calendar.event) list their fields explicitly instead.
    _therapy_server_owns_computed = True

    @api.model
    def _therapy_server_owned(self):
        """The names of the fields a client may not send."""
        names = set(self._therapy_server_owned_fields)
        if self._therapy_server_owns_computed:
            names.update(
                name
                for name, field in self._fields.items()
                if (field.compute or field.related)
                and field.readonly
                and not field.inverse
                and name not in models.MAGIC_COLUMNS
                and name != "display_name"
            )
        return names

    @api.model
    def _therapy_is_server_write(self):
        return self.env.context.get("therapy_server_write") is _SERVER_WRITE or self.env.su

    def _therapy_server_write(self, vals):
        """Write server-owned fields: only for the methods that own them."""
        return self.with_context(therapy_server_write=_SERVER_WRITE).write(vals)

    @api.model
    def _therapy_server_create(self, vals_list):
        """Create records with server-owned values: only for the methods that own them."""
        return self.with_context(therapy_server_write=_SERVER_WRITE).create(vals_list)

    @api.model
    def _therapy_check_client_values(self, fnames):
        """Refuse server-owned fields sent by a client, naming the first one."""
        if self._therapy_is_server_write():
            return
        forbidden = sorted(self._therapy_server_owned() & set(fnames))
        if forbidden:
            field = self._fields[forbidden[0]]
            raise UserError(
                self.env._(
                    "“%(field)s” (%(model)s) is set by the application itself and cannot be "
                    "written directly. Use the buttons that own it instead (e.g. Sign, Cancel "
                    "session, Invoice, Add Credit Note).",
                    field=field._description_string(self.env),
                    model=self._description,
                )
            )

    def _therapy_changed_fields(self, vals, fnames):
        """The fields of ``fnames`` that ``vals`` would really change on some of these records
        (the web client may send unchanged values along with changed ones)."""
        changed = set()
        for fname in set(fnames) & vals.keys():
            field = self._fields[fname]
            for record in self:
                new = field.convert_to_record(field.convert_to_cache(vals[fname], record), record)
                old = record[fname]
                if field.type == "float":
                    differs = round(new or 0.0, 6) != round(old or 0.0, 6)
                else:
                    differs = new != old
                if differs:
                    changed.add(fname)
                    break
        return changed

    @api.model_create_multi
    def create(self, vals_list):
        self._therapy_check_client_values({name for vals in vals_list for name in vals})
        if not self._therapy_is_server_write():
            # Defaults sent in the context are client values too.
            owned = self._therapy_server_owned()
            context = {
                key: value
                for key, value in self.env.context.items()
                if not (key.startswith("default_") and key[8:] in owned)
            }
            if len(context) != len(self.env.context):
                # Keys are removed, which keyword arguments cannot do.
                without_defaults = self.with_context(context)  # pylint: disable=context-overridden
                return super(TherapyServerOwnedMixin, without_defaults).create(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._therapy_check_client_values(vals)
        return super().write(vals)
