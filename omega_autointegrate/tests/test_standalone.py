"""The addon stands alone: a shop copies its folder into an addons path and
installs it from Apps, with nothing of the project's checkout beside it."""

import ast
import importlib.util
import sys
from pathlib import Path

from odoo.modules.module import get_manifest
from odoo.tests import TransactionCase, tagged

ADDON = Path(__file__).resolve().parents[1]
# what Odoo 18 itself requires (its requirements.txt), as the addon imports it
ODOO_REQUIREMENTS = {"odoo", "requests", "urllib3", "lxml", "werkzeug", "markupsafe", "psycopg2", "dateutil", "pytz"}
# the test tools make test adds beside Odoo's (the addon's tests only)
TEST_TOOLS = {"hypothesis"}


def imported_roots(path):
    """:return: the top-level modules a Python file imports (relative imports left out)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


@tagged("post_install", "-at_install")
class TestStandalone(TransactionCase):
    def test_the_projects_packages_are_not_importable_here(self):
        # make test runs Odoo from / with only the addon's folder in its addons path
        for name in ("autointegrate", "autointegrate_sim"):
            self.assertIsNone(importlib.util.find_spec(name), f"{name} is importable in Odoo's Python: "
                              "the addon would pass its tests here and fail in a shop's Odoo")

    def test_the_addon_imports_only_what_odoo_requires(self):
        for path in sorted(ADDON.rglob("*.py")):
            allowed = set(sys.stdlib_module_names) | ODOO_REQUIREMENTS
            if "tests" in path.relative_to(ADDON).parts:
                allowed |= TEST_TOOLS
            with self.subTest(path=str(path.relative_to(ADDON))):
                self.assertLessEqual(imported_roots(path), allowed)

    def test_the_manifest_asks_for_nothing_beyond_odoo(self):
        manifest = get_manifest("omega_autointegrate")
        external = manifest.get("external_dependencies", {})
        self.assertLessEqual(set(external.get("python", [])), ODOO_REQUIREMENTS)
        self.assertFalse(external.get("bin"))
        self.assertTrue(manifest["installable"])
        self.assertEqual(manifest["version"].split(".")[:2], ["18", "0"])
