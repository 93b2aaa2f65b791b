"""AWS: the ``eventbridge`` target (event patterns on the CloudTrail stream) and its deployable artifacts."""

from backends.aws.emit import EventBridgeEmitter
from backends.aws.target import EventBridgeTarget

TARGETS = [EventBridgeTarget()]
EMITTERS = [EventBridgeEmitter()]
