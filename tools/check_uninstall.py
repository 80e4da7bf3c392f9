# Fed to `odoo-bin shell` by tools/test.sh: uninstall the addon and check nothing of it is left.
# ruff: noqa: F821  (`env` is provided by odoo-bin shell)
module = env["ir.module.module"].search(
    [("name", "=", "group_therapy"), ("state", "=", "installed")]
)
assert module, "group_therapy is not installed"
module.button_immediate_uninstall()
env.invalidate_all()
left = env["ir.model"].search([("model", "=like", "therapy.%")]).mapped("model")
assert not left, f"models left after uninstall: {left}"
fields_left = env["ir.model.fields"].search(
    [
        ("name", "=like", "therapy%"),
        ("model", "in", ["product.template", "calendar.event", "res.partner"]),
    ]
)
assert not fields_left, f"fields left after uninstall: {fields_left.mapped('name')}"
env.cr.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'therapy%%'")
assert env.cr.fetchone()[0] == 0, "tables left after uninstall"
print("UNINSTALL OK")
