"""The contract every target implements, and the registry that finds targets by name.

A target bundles a pySigma backend (``compile``), a shaper that turns a raw record into the
document the platform stores (``shape``) and an evaluator that parses the compiled query text and
runs it on such a document (``evaluator``). Emitters write a platform's artifacts from the compiled
results of one or more targets.

What depends on the logsource is not the target's: the platform package lists one *cell* per
logsource family it supports (``CELLS``: family name → ``backends/<platform>/<family>/`` with
``pipeline.py``, ``shaper.py``, ``storage.py``), and a target looks its cell up with
``compiler.logsources.cell_for`` (a rule without a cell: one ``unsupported`` reason, from there).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from compiler.errors import UsageError

if TYPE_CHECKING:
    from compiler.errors import DetcError
    from compiler.logsources import Logsource
    from compiler.profile import Profile
    from compiler.rules import DetcRule


B = TypeVar("B")

@dataclass(frozen=True, kw_only=True)
class Compiled:
    """One rule compiled for one target: the exact query text the platform runs."""

    target: str
    query: str
    caveats: tuple[str, ...] = ()
    """Known, documented differences from Sigma semantics that this query carries."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Target-specific facts an emitter needs (index, source, delivery requirements ...), recorded
    in the manifest."""
    deployment: Mapping[str, Any] = field(default_factory=dict)
    """The target's settings this compilation was made with (its defaults under the profile's),
    for the emitters that need them (names, alert topics): read here, never derived again from the
    profile; not recorded in the manifest."""


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """A file an emitter writes, relative to the output directory."""

    path: str
    data: bytes
    rules: tuple[str, ...] = ()
    """Ids of the rules this artifact carries."""
    targets: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Fragment:
    """One rule's share of one emitter's artifacts, made from that rule alone.

    Build workers make fragments beside the compilations, the cache keeps them as JSON, and the
    emitter's ``assemble`` joins every rule's fragment into the artifacts, so that a one-rule change
    remakes one fragment. ``files`` are artifacts that carry this rule alone (path to text);
    ``parts`` are its shares of artifacts that carry many rules (path to JSON data that only the
    emitter's ``assemble`` reads); ``targets`` names, per path, the targets whose queries it carries.
    """

    rule_id: str
    rule_path: str
    files: Mapping[str, str] = field(default_factory=dict)
    parts: Mapping[str, Any] = field(default_factory=dict)
    targets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id, "rule_path": self.rule_path, "files": dict(self.files),
            "parts": dict(self.parts), "targets": {k: list(v) for k, v in self.targets.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Fragment":
        return cls(
            rule_id=data["rule_id"], rule_path=data["rule_path"], files=data["files"], parts=data["parts"],
            targets={k: tuple(v) for k, v in data["targets"].items()},
        )


@dataclass(frozen=True, kw_only=True)
class RuleResult:
    """A rule with, per target, its compiled query or the reason it is unsupported."""

    rule: "DetcRule"
    compiled: Mapping[str, Compiled]
    unsupported: Mapping[str, str]


@dataclass(frozen=True)
class Outcome:
    """A build held in memory: its files, and how they came about."""

    files: dict[str, bytes]
    digests: dict[str, str] = field(default_factory=dict)
    """sha256 of each file (empty when the build failed)."""
    rules: int = 0
    """Rules built (after a client profile's selection)."""
    unsupported: int = 0
    """Rule x target pairs a target cannot express."""
    unsupported_pairs: tuple[tuple[str, str, str, str], ...] = ()
    """Those pairs: (rule path, rule id, target, reason), in rule path order."""
    problems: tuple["DetcError", ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    """Rules served from the cache (``hits``) and made anew (``misses``)."""


Matcher = Callable[[Any], bool]


@runtime_checkable
class Target(Protocol):
    name: str
    description: str
    settings: Mapping[str, Any]
    """Per-deployment settings a client profile may override (``targets.<name>.<key>``), with their
    defaults; the default's type is the type a profile must give. A target also declares
    ``setting_kinds`` (setting to a ``compiler.settings`` kind: what the value may be, checked when a
    profile loads; every text setting needs one) and ``field_kind`` (what a field name of its
    documents may be, for client ``field_mappings``)."""

    def compile(self, rule: "DetcRule", profile: "Profile") -> Compiled:
        """Compile a rule with the cell of its logsource; raise UnsupportedFeature naming the
        construct (or the logsource) the target lacks."""
        ...

    def shape(self, record: Mapping[str, Any], profile: "Profile", logsource: "Logsource | None" = None) -> Any:
        """Turn a raw record of ``logsource`` (the rule's; None: the family that recognises the
        record) into the document this platform stores, with the cell of that family and the
        profile's settings. A client's field renames are not the shaper's: the test runner applies
        ``Profile.rename_fields`` to the shaped document, once."""
        ...

    def evaluator(self, query: str) -> Matcher:
        """Parse query text once and return a predicate over shaped documents.

        A target may also define ``check_syntax(query) -> None``: the same grammar's parse, raising
        as ``evaluator`` does, without building the predicate. ``build`` calls it (or, lacking it,
        ``evaluator``) on every query it compiles before any artifact carries the query."""
        ...


@runtime_checkable
class LiveTarget(Protocol):
    """A target whose platform can judge a query itself (``detc test --live``): optional, beside
    ``Target``; the test runner checks it with ``isinstance``."""

    def live_client(self) -> Any:
        """A client of the live platform; raises UsageError when it cannot be had (no library, no credentials)."""
        ...

    def live_evaluator(self, query: str, client: Any) -> Matcher:
        """A predicate over shaped documents that asks the platform for each verdict."""
        ...


class LiveCapableTarget(Target, LiveTarget, Protocol):
    """A ``Target`` that is also a ``LiveTarget`` (what ``isinstance(target, LiveTarget)`` narrows a
    target to): the type ``compiler.testing.LiveTwin`` wraps."""


@runtime_checkable
class Emitter(Protocol):
    name: str
    targets: tuple[str, ...]

    def fragment(self, result: RuleResult, profile: "Profile") -> Fragment | None:
        """This rule's share of the platform's artifacts (None: it has none, e.g. no target compiled)."""
        ...

    def assemble(self, fragments: Sequence[Fragment], profile: "Profile") -> list[Artifact]:
        """The platform's shared artifacts (those many rules write) from every rule's fragment, in
        rule path order; deterministic. Each fragment's own ``files`` are written as they are."""
        ...


def rule_artifacts(fragment: Fragment) -> list[Artifact]:
    """The artifacts that carry one rule alone, as its fragment holds them."""
    return [
        Artifact(path=path, data=text.encode("utf-8"), rules=(fragment.rule_id,), targets=fragment.targets.get(path, ()))
        for path, text in fragment.files.items()
    ]


def emit(emitter: Emitter, results: Sequence[RuleResult], profile: "Profile") -> list[Artifact]:
    """An emitter's artifacts for compiled results: each rule's fragment, its own files, then the
    shared ones assembled."""
    fragments = [f for f in (emitter.fragment(r, profile) for r in results) if f is not None]
    return [a for f in fragments for a in rule_artifacts(f)] + emitter.assemble(fragments, profile)


@dataclass(frozen=True)
class Registry:
    targets: Mapping[str, Target]
    emitters: tuple[Emitter, ...]

    def get(self, name: str) -> Target:
        try:
            return self.targets[name]
        except KeyError:
            known = ", ".join(self.targets)
            raise UsageError(f"unknown target {name!r} (known: {known})") from None

    def settings(self) -> dict[str, Mapping[str, Any]]:
        """Each target's settings and their defaults, for validating client profiles."""
        return {name: dict(getattr(target, "settings", {})) for name, target in self.targets.items()}

    def setting_kinds(self) -> dict[str, Mapping[str, Any]]:
        """Each target's ``setting_kinds``: what each text or number setting may be
        (``compiler.settings``), checked when a profile loads."""
        return {name: dict(getattr(target, "setting_kinds", {})) for name, target in self.targets.items()}

    def field_kinds(self) -> dict[str, Any]:
        """Each target's ``field_kind``: what a field name of its documents may be (client
        ``field_mappings``); a raw Sigma field name where the target declares none."""
        from compiler.settings import SIGMA_FIELD

        return {name: getattr(target, "field_kind", SIGMA_FIELD) for name, target in self.targets.items()}

    def select(self, names: Sequence[str] | None) -> list[Target]:
        if not names:
            return list(self.targets.values())
        return [self.get(n) for n in dict.fromkeys(names)]


def load_registry() -> Registry:
    """Collect targets and emitters from the platform packages listed in ``backends.PLATFORMS``."""
    backends = importlib.import_module("backends")
    targets: dict[str, Target] = {}
    emitters: list[Emitter] = []
    for module_name in backends.PLATFORMS:
        module = importlib.import_module(f"backends.{module_name}")
        for target in module.TARGETS:
            if target.name in targets:
                raise RuntimeError(f"target {target.name!r} registered twice")
            targets[target.name] = target
        emitters.extend(module.EMITTERS)
    return Registry(targets=targets, emitters=tuple(emitters))


class BackendCache(Generic[B]):
    """One pySigma backend per key (profile, cell, form), made on first use and reused for every
    rule: pySigma resets a pipeline's state for each rule it applies to, as sigma-cli relies on when
    it converts a whole collection with one backend. A target holds one per instance."""

    def __init__(self) -> None:
        self._made: dict[Hashable, B] = {}

    def get(self, key: Hashable, make: Callable[[], B]) -> B:
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = make()
        return made
