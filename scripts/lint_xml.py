"""XML and data-file checks of the addon, the ones OCA's pre-commit hooks make,
with lxml only (no network, no Odoo): ``python3 scripts/lint_xml.py [ADDON...]``.

- every XML file is well-formed (xml-syntax-error);
- no record id is defined twice in the addon (xml-duplicate-record-id), no
  access rule id twice in ir.model.access.csv (duplicate-id-csv);
- Odoo 18 view syntax: ``<list>`` not ``<tree>``, no ``attrs``/``states``
  attributes (xml-deprecated-tree-attribute, attrs removed in 17);
- ``<odoo>`` roots, no ``<openerp>`` (deprecated-openerp-xml-node);
- every data file the manifest lists exists, and every XML/CSV data file is
  listed (file-not-used);
- a view that replaces nodes has a priority (dangerous-view-replace-wo-priority).

Prints ``path:line: [check] message`` and exits 1 when something is wrong.
"""

import ast
import csv
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
DATA_KEYS = ("data", "demo")
DATA_DIRS = ("data", "demo", "security", "views", "wizards", "report")


def check_addon(addon):
    problems = []

    def report(path, line, check, message):
        problems.append(f"{path.relative_to(ROOT)}:{line}: [{check}] {message}")

    manifest = ast.literal_eval((addon / "__manifest__.py").read_text())
    listed = [name for key in DATA_KEYS for name in manifest.get(key, [])]
    for name in listed:
        if not (addon / name).is_file():
            report(addon / "__manifest__.py", 1, "resource-not-exist", f"{name} is listed but does not exist")
    for path in sorted(p for d in DATA_DIRS for p in (addon / d).rglob("*") if p.suffix in (".xml", ".csv")):
        if str(path.relative_to(addon)) not in listed:
            report(path, 1, "file-not-used", "not listed in the manifest's data or demo")

    record_ids = {}
    for path in sorted(addon.rglob("*.xml")):
        try:
            tree = etree.parse(str(path))
        except etree.XMLSyntaxError as error:
            report(path, error.lineno or 1, "xml-syntax-error", str(error))
            continue
        root = tree.getroot()
        if "static" in path.relative_to(addon).parts:
            continue  # QWeb templates of the web client: well-formedness only
        if root.tag == "openerp":
            report(path, root.sourceline, "deprecated-openerp-xml-node", "use <odoo>")
        if root.tag != "odoo":
            continue
        for node in root.iter("record", "template", "menuitem"):
            xmlid = node.get("id")
            if not xmlid:
                continue
            if xmlid in record_ids:
                first = record_ids[xmlid]
                report(path, node.sourceline, "xml-duplicate-record-id", f"{xmlid} already defined at {first}")
            else:
                record_ids[xmlid] = f"{path.relative_to(ROOT)}:{node.sourceline}"
        for arch in root.xpath("//field[@name='arch']"):
            for node in arch.iter():
                if not isinstance(node.tag, str):
                    continue
                if node.tag == "tree":
                    report(path, node.sourceline, "xml-deprecated-tree-attribute", "use <list> in Odoo 18")
                for attribute in ("attrs", "states"):
                    if attribute in node.attrib and node.tag != "attribute":
                        report(path, node.sourceline, "xml-deprecated-attrs",
                               f"'{attribute}' is not read since Odoo 17: use invisible/readonly/required")
                if node.get("position") == "replace" and not arch.xpath("../field[@name='priority']"):
                    report(path, node.sourceline, "dangerous-view-replace-wo-priority",
                           "a view that replaces nodes needs a priority")

    for path in sorted(addon.rglob("ir.model.access.csv")):
        seen = set()
        with path.open(newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                if row["id"] in seen:
                    report(path, number, "duplicate-id-csv", f"{row['id']} is defined twice")
                seen.add(row["id"])
    return problems


def main(argv):
    addons = [ROOT / name for name in argv] or sorted(p.parent for p in ROOT.glob("*/__manifest__.py"))
    problems = [problem for addon in addons for problem in check_addon(addon)]
    for problem in problems:
        print(problem)
    print(f"xml: {len(addons)} addon(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
