"""AutoIntegrate fleet simulator: the server side of the project's API contract.

Start it in-process (``Simulator(...).start()``) or from the command line
(``autointegrate-sim`` / ``python -m autointegrate_sim``); ``/_admin`` serves
the control API of section 8 and a web page for people.

Extension to the contract's faults: ``truncate_next`` (a counter, like the
others, applied after ``drop_after_processing_next``) processes the request,
then sends the headers with the full ``Content-Length`` but only half of the
body, and closes the connection. ``delay_next`` (a counter), when above zero,
limits ``delay_s`` to that many requests instead of every request until
cleared: a single slow answer, as a client's read timeout meets it.
"""

from .simulator import Simulator

__all__ = ["Simulator"]
