"""The Splunk platform: target ``spl`` and the savedsearches.conf / .spl emitter. ``CELLS``: the
logsource families it stores (one folder each)."""

from backends.splunk.cells import CELLS
from backends.splunk.emit import SplunkEmitter
from backends.splunk.target import SplTarget

TARGETS = [SplTarget()]
EMITTERS = [SplunkEmitter()]
__all__ = ["CELLS", "EMITTERS", "TARGETS"]
