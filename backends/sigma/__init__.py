"""The Sigma reference target: evaluates rules with Sigma's own semantics; writes no artifacts."""

from backends.sigma.target import SigmaTarget
from compiler.target import Emitter

TARGETS = [SigmaTarget()]
EMITTERS: list[Emitter] = []
