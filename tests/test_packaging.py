"""One version and one copy of the wire protocol, inside the addon."""

import ast
from pathlib import Path

import autointegrate

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "omega_autointegrate"


def manifest():
    return ast.literal_eval((ADDON / "__manifest__.py").read_text(encoding="utf-8"))


def test_one_version_for_the_addon_and_its_packages():
    assert autointegrate.__version__ == manifest()["version"]
    assert autointegrate.__version__.startswith("18.0.")


def test_the_wire_protocol_is_the_addons_own_copy():
    assert Path(autointegrate.__file__).resolve().parent == ADDON / "lib" / "autointegrate"
    assert not (ROOT / "autointegrate").exists()


def test_the_wire_protocol_never_imports_odoo():
    for path in (ADDON / "lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(name.split(".")[0] == "odoo" for name in names), path


def test_the_manifest_needs_no_package_of_ours():
    assert "external_dependencies" not in manifest() or not {
        "omega-autointegrate", "autointegrate", "autointegrate_sim"} & set(manifest()["external_dependencies"].get(
            "python", []))
