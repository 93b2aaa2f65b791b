"""AWS: the ``eventbridge`` target (event patterns on the event stream) and its deployable artifacts.
``CELLS``: the logsource families whose events reach EventBridge (one folder each)."""

from backends.aws.cells import CELLS
from backends.aws.emit import EventBridgeEmitter
from backends.aws.target import EventBridgeTarget

TARGETS = [EventBridgeTarget()]
EMITTERS = [EventBridgeEmitter()]
__all__ = ["CELLS", "EMITTERS", "TARGETS"]
