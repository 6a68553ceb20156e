"""Odoo's requirements.txt made installable without build headers.

Prints the requirement lines to give pip for this Python: Odoo's own pins,
with the few that have no wheel (or do not build) on Python 3.10-3.12
replaced, so that a fresh machine needs neither libpq nor libldap headers.

Usage: python3 odoo_requirements.py <odoo checkout>/requirements.txt
"""

import re
import sys

# name -> what to do with Odoo's pin (None drops the requirement)
REPLACEMENTS = {
    # the same driver, built as a wheel with its own libpq
    "psycopg2": lambda line: re.sub(r"^psycopg2\b", "psycopg2-binary", line),
    # only auth_ldap imports it, and it needs libldap headers to build
    "python-ldap": None,
    # 5.4.2's sdist fails to build with current setuptools; 5.4.6 has wheels
    "cbor2": lambda line: line.replace("cbor2==5.4.2", "cbor2==5.4.6"),
}


def installable(lines):
    """:return: the requirement lines with the replacements applied."""
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name = re.split(r"[=<>!~; \[]", line, maxsplit=1)[0].lower()
        if name in REPLACEMENTS:
            replace = REPLACEMENTS[name]
            if replace is None:
                continue
            line = replace(line)
        yield line


def main(argv):
    with open(argv[1], encoding="utf-8") as requirements:
        for line in installable(requirements):
            print(line)


if __name__ == "__main__":
    main(sys.argv)
