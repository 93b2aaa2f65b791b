"""The processing pipeline for Windows events as the Splunk add-ons extract them from XML-rendered events.

With ``renderXml = 1`` the Splunk Add-on for Microsoft Windows and the Splunk Add-on for Sysmon
extract one field per ``<Data Name='…'>`` element, named as the element names it: Sigma's Windows
field names (``Image``, ``CommandLine``, ``TargetObject``, ``NewProcessName``, ``ScriptBlockText``)
are the Splunk field names. Splunk's own definitions say so: splunk/security_content @
b13b314aed0e1778335a55620474e7d27289a20a, ``data_sources/sysmon_eventid_*.yml``,
``windows_event_log_security_*.yml`` and ``powershell_script_block_logging_4104.yml`` (``fields:``,
from events ingested with the add-ons). What the pipeline does:

- ANDs the rule's condition with its logsource's selection (``storage.selection``): index,
  sourcetype, ``source`` per channel, ``EventCode`` per EventID, Sysmon's ``EventType`` where the
  logsource implies it — upstream's ``splunk_windows`` adds none of these to category rules.
- ``EventID`` → ``EventCode``, ``Provider_Name`` → ``Name``, ``Security_UserID`` → ``UserID``,
  Defender's spaced names cleaned as Splunk cleans keys (``names.py``).
- A logsource that covers two kinds of event with different names for one field (process_creation:
  Sysmon 1 ``Image``, Security 4688 ``NewProcessName``) tests either name: an event carries only
  its own, so ``Image=v OR NewProcessName=v`` is the test on each, and "no value" is ``NOT Image=*
  NOT NewProcessName=*`` (:class:`VariantFields`).
- An empty value: Splunk makes no field of an empty extraction, so ``F: ''`` is "F has no value"
  (``NOT F=*``), with a caveat (an event whose schema lacks F also matches).
- A keyword is a test on ``_raw``, the event's XML: the keyword inside an element's text or an
  attribute's value, as Windows writes it there (:func:`keyword_pattern`).
- A field reference compares each kind of event's own two names (``Image`` with ``ParentImage`` on
  Sysmon 1, ``NewProcessName`` with ``ParentProcessName`` on 4688), ORed.
- Refused: ``Data`` (SigmaHQ's name for the unnamed ``<Data>`` elements of classic PowerShell
  events; the add-ons' documented field lists hold named ``<Data Name=…>`` values only).
- A classic deployment (``windows_rendering: classic``) searches process_creation's 4688 events
  and other non-Sysmon channels under the classic names (``classic.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigma.conditions import ConditionAND, ConditionOR, SigmaCondition
from sigma.exceptions import SigmaTransformationError
from sigma.processing.conditions import IncludeFieldCondition, LogsourceCondition, RuleProcessingCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation
from sigma.processing.transformations.base import (
    ConditionTransformation,
    DetectionItemTransformation,
    PreprocessingTransformation,
    StringValueTransformation,
)
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import (
    SigmaCasedString,
    SigmaExists,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaType,
)

from backends.splunk.cloudtrail.pipeline import LiteralAsteriskAsWildcard
from backends.splunk.spl_backend import add_caveat
from backends.splunk.spl_where_backend import pcre_literal
from backends.splunk.windows import classic, storage
from backends.splunk.windows.names import CLASSIC, DEFENDER_NAMES, EVENT_FIELDS, clean_key
from compiler.logsources.windows import CATEGORIES, SERVICES
from compiler.patterns import UnresolvedPlaceholder, detection_items, sigma_string_pattern

UNNAMED_DATA = "Data"
RAW = "_raw"
CALCULATED_FIELDS: frozenset[str] = frozenset()
"""Fields the add-ons calculate rather than extract (none that rules of this cell test)."""
SYSMON_SERVICE = "sysmon"

CAVEAT_EMPTY = (
    "an empty value is searched as 'no value' (Splunk makes no field of an empty extraction): an event "
    "whose kind lacks the field entirely also matches"
)
CAVEAT_ENTITIES = (
    "a value with &, < or >: Windows writes these as XML entities (&amp; &lt; &gt;) in the event's XML; "
    "detc's Splunk documents hold them decoded, as an XML parser reads them"
)


def _negative(value: Any) -> bool:
    return isinstance(value, SigmaNull) or isinstance(value, SigmaExists) and not value.exists


@dataclass
class VariantFields(DetectionItemTransformation):
    """A Sigma field as every name the logsource's kinds of event give it: any name for a value
    (OR), all names for "no value" (AND)."""

    alternatives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def _copy(self, item: SigmaDetectionItem, name: str, values: list[Any]) -> SigmaDetectionItem:
        clone = copy.copy(item)
        clone.field = name
        clone.value = list(values)
        clone.auto_modifiers = False
        return clone

    def apply(self, rule: Any) -> None:
        super().apply(rule)
        if isinstance(rule, SigmaRule) and rule.fields:  # the table shows every name's column
            rule.fields = list(dict.fromkeys(n for f in rule.fields for n in self.alternatives.get(f, (f,))))

    def _field_reference(self, item: SigmaDetectionItem) -> SigmaDetection | None:
        """``f|fieldref: g`` per kind of event (each compares its own two names), ORed."""
        if len(item.value) != 1:
            raise SigmaTransformationError(f"{item.field}: a field reference among other values")
        ref = item.value[0]
        if not isinstance(ref, SigmaFieldReference):
            raise SigmaTransformationError(f"{item.field}: a field reference among other values")
        left, right = self.alternatives.get(item.field or ""), self.alternatives.get(ref.field)
        if not left and not right:
            return None
        width = len(left or right or ())
        left, right = left or (item.field or "",) * width, right or (ref.field,) * width
        if len(left) != len(right):
            raise SigmaTransformationError(f"{item.field}|fieldref: {ref.field}: the kinds of event do not pair up")
        copies = [
            self._copy(item, name, [SigmaFieldReference(other, ref.starts_with, ref.ends_with)])
            for name, other in zip(left, right, strict=True)
        ]
        return SigmaDetection(list[SigmaDetectionItem | SigmaDetection](copies), item_linking=ConditionOR)

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> SigmaDetection | SigmaDetectionItem | None:
        if any(isinstance(v, SigmaFieldReference) for v in detection_item.value):
            return self._field_reference(detection_item)
        names = self.alternatives.get(detection_item.field or "")
        if not names:
            return None
        absent = [v for v in detection_item.value if _negative(v)]
        present = [v for v in detection_item.value if not _negative(v)]
        parts: list[SigmaDetection | SigmaDetectionItem] = []
        if absent:
            if present and detection_item.value_linking is ConditionAND:
                raise SigmaTransformationError(f"{detection_item.field}: 'no value' and values under |all")
            parts.append(SigmaDetection([self._copy(detection_item, n, absent) for n in names], item_linking=ConditionAND))
        if present:
            parts.append(SigmaDetection([self._copy(detection_item, n, present) for n in names], item_linking=ConditionOR))
        return parts[0] if len(parts) == 1 else SigmaDetection(parts, item_linking=ConditionOR)


@dataclass
class EmptyValueAsMissing(DetectionItemTransformation):
    """``F: ''`` → ``F: null``: Splunk keeps no field for an empty value."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> SigmaDetectionItem | None:
        if detection_item.modifiers or detection_item.field is None:
            return None
        values = detection_item.value
        empty = [i for i, v in enumerate(values) if type(v) is SigmaString and not v.s]
        if not empty:
            return None
        add_caveat(self, CAVEAT_EMPTY)
        detection_item.value = [SigmaNull() if i in empty else v for i, v in enumerate(values)]
        return detection_item


@dataclass
class EntityCaveat(StringValueTransformation):
    """Record the caveat for values whose characters Windows escapes in its XML."""

    def apply_string_value(self, field: str | None, val: SigmaString) -> SigmaString | None:
        if field is not None and any(isinstance(p, str) and any(c in p for c in "&<>") for p in val.s):
            add_caveat(self, CAVEAT_ENTITIES)
        return None


@dataclass
class SharedLabelCaveat(DetectionItemTransformation):
    """Record the caveat for 4688 fields whose classic label the message repeats."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> None:
        add_caveat(self, classic.CAVEAT_SHARED)


def _xml_text(text: str, *, attribute: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("'", "&apos;") if attribute else text


def keyword_pattern(value: SigmaString) -> str:
    """A PCRE over the event's XML (``_raw``) that holds where the keyword stands inside a value:
    inside an element's text (``>…<``) or inside an attribute's value (``='…'``), but not in the
    ``Name`` of a ``<Data>``/``<EventData>`` element nor in an ``xmlns`` (names, not values). The
    keyword's characters are written as Windows writes them in the XML (``&amp;``, ``&lt;``,
    ``&gt;``, ``&apos;`` in attributes); ``*`` and ``?`` stay inside the value."""
    def body(attribute: bool) -> str:
        stop = "'" if attribute else "<"
        return sigma_string_pattern(
            value, lambda part: pcre_literal(_xml_text(part, attribute=attribute)),
            multi=f"[^{stop}]*", single=f"[^{stop}]",
        )

    case = "" if isinstance(value, SigmaCasedString) else "i"
    return (
        f"(?{case}s)(?:>[^<]*{body(False)}[^<]*<|(?<!Data Name)(?<!xmlns)='[^']*{body(True)}[^']*')"
    )


@dataclass
class KeywordsInEventXml(DetectionItemTransformation):
    """A keyword as a test on ``_raw``, the event's XML: Sigma's "anywhere inside any value"."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> SigmaDetectionItem | None:
        if detection_item.field is not None:
            return None
        patterns: list[SigmaType] = []
        for value in detection_item.value:
            if isinstance(value, SigmaNumber):
                value = SigmaString(str(value.number))
            if not isinstance(value, SigmaString):
                raise SigmaTransformationError(f"keyword {value!r}: only strings and numbers are searched in _raw")
            try:
                patterns.append(SigmaRegularExpression(keyword_pattern(value)))
            except UnresolvedPlaceholder as err:
                raise SigmaTransformationError(str(err)) from err
        return SigmaDetectionItem(RAW, [], patterns, value_linking=detection_item.value_linking)


@dataclass
class UnnamedDataFailure(DetectionItemTransformation):
    """Refuse ``Data``: the add-ons extract named ``<Data Name=…>`` values only."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> None:
        raise SigmaTransformationError(
            "field Data (the event's unnamed <Data> elements): the Splunk add-ons extract only named "
            "<Data Name='…'> values, so no Splunk field holds it",
            source=detection_item.source,
        )


@dataclass
class AddLogsourceCondition(ConditionTransformation):
    """AND the rule's condition with its events' selection: index, sourcetype and its kinds of
    event (``storage.selection``), as pySigma's AddConditionTransformation adds a flat one."""

    settings: Mapping[str, Any] = field(default_factory=dict)
    name: str = "detc_spl_windows_logsource"
    """A fixed name keeps the rewritten condition text the same for every rule with the same
    condition, so pySigma's parse cache serves it."""

    def apply(self, rule: Any) -> None:
        if isinstance(rule, SigmaRule):
            rule.detection.detections[self.name] = storage.selection(rule.logsource, self.settings)
            self.processing_item_applied(rule.detection.detections[self.name])
            super().apply(rule)

    def apply_condition(self, cond: SigmaCondition) -> None:
        cond.condition = f"{self.name} and ({cond.condition})" if cond.condition else self.name


@dataclass
class ClassicRefusal(PreprocessingTransformation):
    """Refuse a rule a classic deployment cannot search (``classic.refusal``), before anything is renamed."""

    def apply(self, rule: Any) -> None:
        super().apply(rule)
        if isinstance(rule, SigmaRule):
            kinds = storage.kinds_of_event(rule.logsource)
            reason = classic.refusal(kinds, [item.field for item in detection_items(rule)])
            if reason:
                raise SigmaTransformationError(reason)


@dataclass
@dataclass
class TableRiskObject(PreprocessingTransformation):
    """A rule's ``fields:`` become the search's ``| table``: the risk object (the deployment's
    ``windows_risk_object_field``, a Splunk field name, added after the cell's renames) joins them,
    so that the correlation search's risk action finds it."""

    risk_field: str = "Computer"

    def apply(self, rule: Any) -> None:
        super().apply(rule)
        if isinstance(rule, SigmaRule) and rule.fields and self.risk_field not in rule.fields:
            rule.fields = [*rule.fields, self.risk_field]


def _variant_alternatives(category: str) -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    for variant in CATEGORIES[category]:
        for sigma_name, own in variant.renames.items():
            names.setdefault(sigma_name, [sigma_name]).append(own)
    return {k: tuple(dict.fromkeys(v)) for k, v in names.items()}


def processing_pipeline(settings: Mapping[str, Any], *, where: bool = False) -> ProcessingPipeline:
    """Windows rules as searches over the add-ons' events, ANDed with the logsource's selection
    (index, sourcetype, source, EventCode). With ``where``, for the where-expression backend: a
    literal ``*`` stays literal, and the selection is left to the base search the target writes
    (``storage.search_head``)."""
    rendering = storage.rendering_of(settings)
    items: list[ProcessingItem] = [
        ProcessingItem(
            identifier="spl_windows_unnamed_data",
            transformation=UnnamedDataFailure(),
            field_name_conditions=[IncludeFieldCondition(fields=[UNNAMED_DATA])],
        ),
        ProcessingItem(identifier="spl_windows_empty_values", transformation=EmptyValueAsMissing()),
        ProcessingItem(identifier="spl_windows_entities", transformation=EntityCaveat()),
        ProcessingItem(identifier="spl_windows_keywords", transformation=KeywordsInEventXml()),
    ]
    if rendering == CLASSIC:
        items.insert(0, ProcessingItem(identifier="spl_windows_classic_refusal", transformation=ClassicRefusal()))
    if not where:
        items.append(ProcessingItem(identifier="spl_literal_asterisk", transformation=LiteralAsteriskAsWildcard()))
    for category in sorted(CATEGORIES):
        alternatives = _variant_alternatives(category)
        if rendering == CLASSIC and category == "process_creation":
            alternatives = classic.process_creation_alternatives()
        if alternatives:
            items.append(
                ProcessingItem(
                    identifier=f"spl_windows_{category}_variants",
                    transformation=VariantFields(alternatives=alternatives),
                    rule_conditions=[LogsourceCondition(product="windows", category=category)],
                )
            )
    if rendering == CLASSIC:
        items.append(
            ProcessingItem(
                identifier="spl_windows_classic_shared_labels",
                transformation=SharedLabelCaveat(),
                field_name_conditions=[IncludeFieldCondition(fields=sorted(classic.SHARED_LABELS))],
                rule_conditions=[LogsourceCondition(product="windows", category="process_creation")],
            )
        )
        header_only = [LogsourceCondition(product="windows", category=c) for c in classic.header_only_categories()]
        header_only += [
            LogsourceCondition(product="windows", service=s) for s in sorted(SERVICES) if s != SYSMON_SERVICE
        ]
        items.append(
            ProcessingItem(
                identifier="spl_windows_classic_header",
                transformation=FieldMappingTransformation(_mapping(classic.HEADER)),
                rule_conditions=_conditions(header_only),
                rule_condition_linking=any,
            )
        )
    items.extend(
        [
            ProcessingItem(
                identifier="spl_windows_defender_names",
                transformation=FieldMappingTransformation(
                    _mapping({n.replace(" ", ""): clean_key(n) for n in DEFENDER_NAMES})
                ),
                rule_conditions=_conditions([LogsourceCondition(product="windows", service="windefend")]),
            ),
            ProcessingItem(
                identifier="spl_windows_event_fields",
                transformation=FieldMappingTransformation(_mapping(EVENT_FIELDS)),
            ),
            ProcessingItem(
                identifier="spl_windows_table_risk_object",
                transformation=TableRiskObject(risk_field=str(settings[storage.RISK_OBJECT_FIELD])),
            ),
        ]
    )
    if not where:
        items.append(
            ProcessingItem(identifier="spl_windows_logsource", transformation=AddLogsourceCondition(settings=settings))
        )
    return ProcessingPipeline(name=f"detc spl: Windows via the Splunk Add-ons ({rendering} rendering)", priority=20,
                              items=items)


def _mapping(names: Mapping[str, str]) -> dict[str | None, str | list[str]]:
    """A field mapping typed as pySigma's FieldMappingTransformation declares it."""
    return {k: v for k, v in names.items()}


def _conditions(conditions: list[LogsourceCondition]) -> list[RuleProcessingCondition]:
    """Rule conditions typed as pySigma's ProcessingItem declares them."""
    return list[RuleProcessingCondition](conditions)
