from odoo import api, models
from odoo.exceptions import AccessError

from .therapy_server_owned_mixin import _SERVER_WRITE


class TherapyReadableTargetMixin(models.AbstractModel):
    """Records named by id are records the user reads.

    Odoo shows the record a many2one names as superuser (its name in ``read``, ``web_read`` and
    ``onchange``, its related fields), and checks the record rules of the record written, not
    of the records it names. A user who may create or change a record, or open a wizard, could
    otherwise name a client, a session or a note they may not see by its id and get its name
    back. Models inheriting this refuse such an id before anything is computed or shown: in
    ``create``, ``write``, ``onchange`` (the form's defaults and lines included) and in the
    ``default_`` keys of the context.
    """

    _name = "therapy.readable.target.mixin"
    _description = "Records Named Are Readable"
    # The many2one and many2many fields whose records the user must read to name them.
    _therapy_readable_target_fields = ()
    # Those of them whose usual value is the user's own contact or login (a message's author,
    # an activity's assignee), which they read: it is not checked, at no query.
    _therapy_own_record_fields = ()

    @api.model
    def _therapy_named_ids(self, field, value):
        """The ids of existing records ``value`` names in ``field`` (as create/write take it)."""
        if isinstance(value, models.BaseModel):
            return set(value._origin.ids)
        if type(value) is int:
            return {value}
        if field.type == "many2one":
            if isinstance(value, (list, tuple)) and value and type(value[0]) is int:
                return {value[0]}
            return set()
        ids = set()
        for item in value if isinstance(value, (list, tuple)) else ():
            if type(item) is int:
                ids.add(item)
            elif isinstance(item, (list, tuple)) and len(item) > 1:
                if item[0] in (1, 4) and type(item[1]) is int:
                    ids.add(item[1])
                elif item[0] == 6 and len(item) > 2:
                    ids |= self._therapy_named_ids(field, item[2])
        return ids

    def _therapy_unreadable_targets(self, vals_list, defaults=False, fnames=None):
        """The first field of ``_therapy_readable_target_fields`` whose values in ``vals_list``
        (with ``defaults``, the context's default where a value is missing) name a record the
        user may not read, with those records; ``(None, None)`` when there is none. What these
        records already hold is not new to the user, who reads them."""
        if self.env.su or self.env.context.get("therapy_server_write") is _SERVER_WRITE:
            # the server's own methods name what they chose, not what a client sent
            return None, None
        for fname in self._therapy_readable_target_fields if fnames is None else fnames:
            field = self._fields[fname]
            default = defaults and self.env.context.get(f"default_{fname}")
            ids = set()
            for vals in vals_list:
                value = vals[fname] if fname in vals else default
                if value:
                    ids |= self._therapy_named_ids(field, value)
            ids -= set(self.mapped(fname)._origin.ids) if ids and self else set()
            if ids and fname in self._therapy_own_record_fields:
                ids.discard(
                    self.env.uid
                    if field.comodel_name == "res.users"
                    else self.env.user.partner_id.id
                )
            if ids:
                records = self.env[field.comodel_name].browse(ids)
                hidden = records - records._filtered_access("read")
                if hidden:
                    return fname, hidden
        return None, None

    def _therapy_check_readable_targets(self, vals_list, defaults=False, fnames=None):
        """Refuse values naming a record the user may not read, with the model's message
        (``fnames``: those fields only, instead of ``_therapy_readable_target_fields``)."""
        fname, _hidden = self._therapy_unreadable_targets(vals_list, defaults, fnames)
        if fname:
            raise AccessError(self._therapy_unreadable_target_message(fname))

    @api.model
    def _therapy_unreadable_target_message(self, fname):
        """What the user is told: the field, never the record named."""
        return self.env._(
            "“%(field)s” (%(model)s) names a record you cannot see. Pick one from those the "
            "list offers you.",
            field=self._fields[fname]._description_string(self.env),
            model=self._description,
        )

    def _therapy_check_onchange_targets(self, values, defaults=False):
        """The form's values (with ``defaults``, the context's defaults too) and those of its
        new or changed lines, which the onchange shows without creating them."""
        self._therapy_check_readable_targets([values], defaults)
        for fname, value in values.items():
            field = self._fields.get(fname)
            if not field or field.type not in ("one2many", "many2many"):
                continue
            Lines = self.env[field.comodel_name]
            if not isinstance(Lines, TherapyReadableTargetMixin) or not isinstance(
                value, (list, tuple)
            ):
                continue
            for command in value:
                if (
                    isinstance(command, (list, tuple))
                    and len(command) > 2
                    and command[0] in (0, 1)
                    and isinstance(command[2], dict)
                ):
                    # an existing line (a real id) already holds what it names
                    saved = command[0] == 1 and type(command[1]) is int
                    line = Lines.browse(command[1]) if saved else Lines
                    line._therapy_check_onchange_targets(command[2])

    @api.model_create_multi
    def create(self, vals_list):
        self._therapy_check_readable_targets(vals_list, defaults=True)
        return super().create(vals_list)

    def write(self, vals):
        self._therapy_check_readable_targets([vals])
        return super().write(vals)

    def onchange(self, values, field_names, fields_spec):
        self._therapy_check_onchange_targets(values, defaults=not field_names)
        return super().onchange(values, field_names, fields_spec)
