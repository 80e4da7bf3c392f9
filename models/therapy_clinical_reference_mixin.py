from collections import defaultdict

from odoo import api, models
from odoo.exceptions import AccessError
from odoo.models import parse_read_group_spec


def label_is_clinical(model):
    """Whether the records of ``model`` are named (``display_name``) by their clinical text."""
    return bool(model._rec_name) and model._rec_name in getattr(
        model, "_therapy_clinical_fields", ()
    )


def reference_target(model, path):
    """For a path of fields from ``model`` (``goal_id``, ``name``) ending on another model's
    clinical field or clinical name: (the path to those records, the field); else None."""
    start = model
    for index, fname in enumerate(path):
        field = model._fields.get(fname)
        if field is None:
            return None
        if index and (
            fname in getattr(model, "_therapy_clinical_fields", ())
            or (fname == "display_name" and label_is_clinical(model))
        ):
            return ".".join(path[:index]), fname
        if not field.relational:
            return None
        model = start.env[field.comodel_name]
        if index == len(path) - 1 and label_is_clinical(model):
            return ".".join(path), "display_name"
    return None


def log_references(records, references, access_type):
    """Log, for ``records``, the records whose text ``references`` (field, path, detail) handed
    out: one _log per detail."""
    by_detail = defaultdict(list)
    for _fname, path, detail in references:
        by_detail[detail].append(records.mapped(path))
    for detail, targets in by_detail.items():
        records.env["therapy.access.log"]._log(
            targets[0].union(*targets[1:]), access_type, detail=detail
        )


class TherapyClinicalReferenceMixin(models.AbstractModel):
    """Records that show the clinical text of other records: whoever is handed that text is on
    the access log, under the records the text belongs to.

    A treatment-plan goal is named by its own text, so a many2one to a goal hands out that text
    as its label: ``read`` (and ``search_read``) formats many2one values with it, a ``web_read``
    specification (an onchange's answer included) may ask for its ``display_name``, grouping
    names each group by it, and an export writes it in the column. A related field
    (``goal_id.name``) hands out the text as its value. Odoo computes those labels as superuser,
    outside the goal's own ``read``, so they are logged here, where records leave for the user,
    and not in ``_compute_display_name``, which the server also runs for itself (its messages,
    the notes it renders). A field may also hold text loaded from other records (the charting
    page opens with the session's draft notes): ``_therapy_loaded_text`` names the records it
    came from. All the lines of one call go into one INSERT.
    """

    _name = "therapy.clinical.reference.mixin"
    _inherit = ["therapy.access.log.request.mixin"]
    _description = "Shows Clinical Text of Other Records (access logged)"

    # {field: (path to the records its text was loaded from, their field it was loaded from)}
    _therapy_loaded_text = {}

    @api.model
    def _therapy_references(self, fnames, labels=True):
        """The clinical text that reading ``fnames`` hands out, as (field name, path to the
        records the text belongs to, the field of theirs it shows): a many2one whose label is
        clinical text (``labels``: only where the label is sent), a related field to a
        clinical field, or a field holding text loaded from other records."""
        references = []
        for fname in fnames:
            field = self._fields.get(fname)
            if field is None:
                continue
            if fname in self._therapy_loaded_text:
                references.append((fname, *self._therapy_loaded_text[fname]))
            elif field.type == "many2one" and self._therapy_label_is_clinical(field):
                if labels:
                    references.append((fname, fname, "display_name"))
            elif field.related:
                target = self._therapy_reference_target(field.related.split("."))
                if target:
                    references.append((fname, *target))
        return references

    @api.model
    def _therapy_reference_target(self, path):
        return reference_target(self, path)

    @api.model
    def _therapy_label_is_clinical(self, field):
        return label_is_clinical(self.env[field.comodel_name])

    def _therapy_log_references(self, references, access_type, label_ids=None, shown=None):
        """Log the records whose text ``references`` handed out for these records;
        ``label_ids`` gives, per many2one, the ids whose label was actually sent, ``shown``
        per field the records whose value was not empty (all of them if not given)."""
        Log = self.env["therapy.access.log"]
        label_ids = label_ids or {}
        shown = shown or {}
        by_detail = defaultdict(list)
        for fname, path, detail in references:
            if fname in label_ids:
                targets = self.env[self._fields[fname].comodel_name].browse(label_ids[fname])
            else:
                targets = shown.get(fname, self).mapped(path)
            by_detail[detail].append(targets)
        for detail, targets in by_detail.items():
            records = targets[0].union(*targets[1:])
            Log._log(records, access_type, detail=detail)

    def _read_format(self, fnames, load="_classic_read"):
        values_list = super()._read_format(fnames, load=load)
        # web_read reads with load=None (ids only) and sends the labels itself.
        references = self._therapy_references(fnames, labels=load == "_classic_read")
        if references and values_list:
            returned = self.browse([values["id"] for values in values_list])
            label_ids = {
                fname: [values[fname][0] for values in values_list if values.get(fname)]
                for fname, _path, detail in references
                if detail == "display_name" and self._fields[fname].type == "many2one"
            }
            shown = {
                fname: self.browse([values["id"] for values in values_list if values.get(fname)])
                for fname, _path, _detail in references
                if fname not in label_ids
            }
            with self.env["therapy.access.log"]._batch():
                returned._therapy_log_references(references, "read", label_ids, shown)
        return values_list

    @api.readonly
    def web_read(self, specification):
        with self.env["therapy.access.log"]._batch():
            values_list = super().web_read(specification)
            label_ids = {
                fname: [values[fname]["id"] for values in values_list if values.get(fname)]
                for fname, spec in specification.items()
                if fname in self._fields
                and self._fields[fname].type == "many2one"
                and "display_name" in ((spec or {}).get("fields") or {})
                and self._therapy_label_is_clinical(self._fields[fname])
            }
            label_ids = {fname: [id_ for id_ in ids if id_] for fname, ids in label_ids.items()}
            if any(label_ids.values()):
                self._therapy_log_references(
                    [(fname, fname, "display_name") for fname in label_ids], "read", label_ids
                )
        return values_list

    @api.model
    @api.readonly
    def formatted_read_group(self, domain, groupby=(), aggregates=(), *args, **kwargs):
        with self.env["therapy.access.log"]._batch():
            groups = super().formatted_read_group(domain, groupby, aggregates, *args, **kwargs)
            self._therapy_log_group_labels(groups, groupby)
        return groups

    @api.model
    @api.readonly
    def formatted_read_grouping_sets(self, domain, grouping_sets, *args, **kwargs):
        with self.env["therapy.access.log"]._batch():
            results = super().formatted_read_grouping_sets(domain, grouping_sets, *args, **kwargs)
            for groups, groupby in zip(results, grouping_sets, strict=False):
                self._therapy_log_group_labels(groups, groupby)
        return results

    @api.model
    def read_group(self, domain, fields, groupby, *args, **kwargs):
        with self.env["therapy.access.log"]._batch():
            groups = super().read_group(domain, fields, groupby, *args, **kwargs)
            groupby = [groupby] if isinstance(groupby, str) else groupby
            self._therapy_log_group_labels(groups, groupby)
        return groups

    def _read_group_groupby(self, alias, groupby_spec, query):
        # A group is named by its value: text loaded from clinical records (a comment opened
        # from a draft) would be handed out as group names, unlogged.
        fname = parse_read_group_spec(groupby_spec)[0]
        if fname in self._therapy_loaded_text:
            raise AccessError(
                self.env._(
                    "“%(field)s” may hold clinical text: open the records to read it (every "
                    "reading is on the access log); it cannot be grouped.",
                    field=self._fields[fname].string,
                )
            )
        return super()._read_group_groupby(alias, groupby_spec, query)

    @api.model
    def _therapy_log_group_labels(self, groups, groupby):
        """Groups by a many2one are named by its label: log the records whose clinical label
        names a group."""
        for spec in groupby or ():
            fname = spec.split(":")[0]
            field = self._fields.get(fname)
            if not (field and field.type == "many2one" and self._therapy_label_is_clinical(field)):
                continue
            ids = [group[spec][0] for group in groups if isinstance(group.get(spec), tuple)]
            if ids:
                self.env["therapy.access.log"]._log(
                    self.env[field.comodel_name].browse(ids), "read", detail="display_name"
                )

    def export_data(self, fields_to_export):
        with self.env["therapy.access.log"]._batch():
            result = super().export_data(fields_to_export)
            references = []
            for path in fields_to_export:
                if path in self._therapy_loaded_text:
                    references.append((path, *self._therapy_loaded_text[path]))
                    continue
                target = self._therapy_reference_target(path.split("/"))
                if target:
                    references.append((path, *target))
            if references and self:
                self._therapy_log_references(references, "export")
        return result
