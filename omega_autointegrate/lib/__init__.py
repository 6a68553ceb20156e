"""Pure-Python libraries the addon carries with it (no Odoo import).

``autointegrate`` is the AutoIntegrate wire protocol: the project's fleet
simulator, its pytest suites and the benchmarks import the same files as a
top-level package, with this folder on their ``PYTHONPATH``.
"""
