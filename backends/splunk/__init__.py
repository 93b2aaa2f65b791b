"""The Splunk platform: target ``spl`` and the savedsearches.conf / .spl emitter."""

from backends.splunk.emit import SplunkEmitter
from backends.splunk.target import SplTarget

TARGETS = [SplTarget()]
EMITTERS = [SplunkEmitter()]
