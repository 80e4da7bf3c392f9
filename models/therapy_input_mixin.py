import math

from odoo import api, fields, models
from odoo.api import NewId
from odoo.exceptions import ValidationError

# What a PostgreSQL int4 column (an integer, or a record id) holds.
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
# The x2many commands (Command.CREATE .. Command.SET) and the ones that name a record.
X2MANY_COMMANDS = range(7)
X2MANY_COMMANDS_WITH_ID = (1, 2, 3, 4)


def _is_record_id(value):
    """A record id as the ORM takes it: a whole number that fits the column, or a new record."""
    if isinstance(value, NewId):
        return True
    return type(value) is int and INT4_MIN <= value <= INT4_MAX


class TherapyInputMixin(models.AbstractModel):
    """Values of the wrong type are refused with a clear message, never a database error.

    Odoo converts what an RPC client sends loosely: a string sent for a record id reaches
    PostgreSQL ("invalid input syntax for type integer"), or silently empties the field; a number
    too large for its column fails in the database; a word for a number fails in Python. Models
    inheriting this check every value against its field's type before anything else reads it.
    """

    _name = "therapy.input.mixin"
    _description = "Checked Input Types"
    # The fields checked: those whose name starts with this (all of them by default; a core
    # model extended here checks its therapy fields only).
    _therapy_input_prefix = ""

    @api.model
    def _therapy_check_input_types(self, vals_list):
        """Refuse, naming the field and what it expects, the first value of the wrong type."""
        prefix = self._therapy_input_prefix
        for vals in vals_list:
            for fname, value in vals.items():
                field = self._fields.get(fname)
                if field is None or value is False or value is None:
                    continue
                if not fname.startswith(prefix):
                    continue
                expected = self._therapy_expected_input(field, value)
                if expected:
                    shown = repr(value)
                    raise ValidationError(
                        self.env._(
                            "“%(field)s” (%(model)s) cannot be %(value)s: it takes %(expected)s.",
                            field=field._description_string(self.env),
                            model=self._description,
                            value=shown if len(shown) <= 40 else f"{shown[:37]}...",
                            expected=expected,
                        )
                    )

    @api.model
    def _therapy_expected_input(self, field, value):
        """What ``field`` takes, when ``value`` is not of that kind; else None."""
        ftype = field.type
        if ftype == "many2one":
            ok = (
                _is_record_id(value)
                or isinstance(value, (models.BaseModel, dict))
                or (isinstance(value, tuple) and bool(value) and _is_record_id(value[0]))
            )
            return None if ok else self.env._("the id of a record (a whole number)")
        if ftype in ("one2many", "many2many"):
            return (
                None if self._therapy_is_x2many_value(value) else self.env._("a list of commands")
            )
        if ftype == "integer":
            return None if self._therapy_is_number(value, int) else self.env._("a whole number")
        if ftype in ("float", "monetary"):
            return None if self._therapy_is_number(value, float) else self.env._("a number")
        if ftype == "selection":
            values = field.get_values(self.env)
            if value in values:
                return None
            return self.env._("one of %(values)s", values=", ".join(map(str, values)))
        if ftype in ("date", "datetime"):
            converter = fields.Date.to_date if ftype == "date" else fields.Datetime.to_datetime
            try:
                converter(value)
            except (TypeError, ValueError):
                if ftype == "date":
                    return self.env._("a date (YYYY-MM-DD)")
                return self.env._("a date and time (YYYY-MM-DD HH:MM:SS)")
            return None
        if ftype in ("char", "text", "html"):
            if isinstance(value, (str, int, float)) or (
                field.translate and isinstance(value, dict)
            ):
                return None
            return self.env._("text")
        return None

    @api.model
    def _therapy_is_number(self, value, kind):
        """Whether Odoo turns ``value`` into a number of ``kind`` that fits its column."""
        if isinstance(value, (list, tuple, dict, set)):
            return False
        try:
            number = kind(value)
        except (TypeError, ValueError, OverflowError):
            return False
        if kind is int:
            return INT4_MIN <= number <= INT4_MAX
        return math.isfinite(number)

    @api.model
    def _therapy_is_x2many_value(self, value):
        """A recordset, or a list of record ids and x2many commands naming records by id."""
        if isinstance(value, models.BaseModel):
            return True
        if not isinstance(value, (list, tuple)):
            return False
        for item in value:
            if _is_record_id(item):
                continue
            if not isinstance(item, (list, tuple)) or not item or item[0] not in X2MANY_COMMANDS:
                return False
            command = item[0]
            if command in X2MANY_COMMANDS_WITH_ID and (len(item) < 2 or not _is_record_id(item[1])):
                return False
            if command == 6 and not (
                len(item) == 3
                and (
                    isinstance(item[2], models.BaseModel)
                    or (
                        isinstance(item[2], (list, tuple))
                        and all(_is_record_id(record_id) for record_id in item[2])
                    )
                )
            ):
                return False
            if command in (0, 1) and (len(item) < 3 or not isinstance(item[2], dict)):
                return False
        return True

    @api.model_create_multi
    def create(self, vals_list):
        self._therapy_check_input_types(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._therapy_check_input_types([vals])
        return super().write(vals)
