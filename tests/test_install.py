from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    """The plumbing: the addon is installed under its own name, with its app and roles."""

    def test_module_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "group_therapy")])
        self.assertEqual(module.state, "installed")
        self.assertTrue(module.application)
        self.assertEqual(module.latest_version, "19.0.1.2.0")

    def test_app_menu_and_roles(self):
        menu = self.env.ref("group_therapy.group_therapy_menu_root")
        self.assertEqual(menu.name, "Group Therapy")
        manager = self.env.ref("group_therapy.group_therapy_manager")
        self.assertEqual(
            manager.all_implied_ids & self.env.ref("group_therapy.group_therapy_front_desk"),
            self.env.ref("group_therapy.group_therapy_front_desk"),
        )
        self.assertIn(self.env.ref("base.user_admin"), manager.all_user_ids)

    def test_apps_page_describes_the_module_with_its_screenshots(self):
        """Odoo's Apps page shows static/description/index.html, not the README rendered as
        reStructuredText (which it is not)."""
        module = self.env["ir.module.module"].search([("name", "=", "group_therapy")])
        page = module.description_html
        self.assertIn("Group charting, signed and locked", page)
        self.assertIn('src="/group_therapy/static/description/screenshot_charting.png"', page)
        self.assertNotIn("Unexpected indentation", page)
