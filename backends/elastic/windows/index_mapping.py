"""Field types of Elastic's Windows data streams, as Elasticsearch maps them.

Platform state read by the evaluators (never by the backends): which fields are ``ip``, ``long``,
``boolean``, ``date`` or analysed ``text`` rather than ``keyword``. Sources (elastic/integrations):
``packages/windows/data_stream/sysmon_operational/fields/ecs.yml`` @ 4670aa0aab043fdc7f8b8ee05272ba428e4a36fc
and ``fields.yml`` @ 27f901939084aeac8de4b92a26083fae6451c090, ``…/fields/winlog.yml`` @
285c18099af2cd7845ce5d042921c315488a83c2 (``winlog.event_data``/``user_data``: objects of keywords;
``winlog.process.pid``, ``winlog.version`` long), ``powershell_operational/fields/fields.yml`` @
07af1c554f35c72952ed43264074430f61956229. Keywords carry ``ignore_above: 1024`` (the ECS definitions
say so; elastic-package gives package keywords the same default): longer values stay in ``_source``
and no query matches them.

``powershell.file.script_block_text`` is ``text`` with ``analyzer: powershell_script_analyzer``
(``powershell_operational/fields/fields.yml`` above, and @ 930efbc6da9d49b9f7121c2a1781549fabf6607e;
no ``multi_fields``, so no keyword sub-field), an analyzer the data stream's index template defines
(``powershell_operational/manifest.yml`` @ 097f4f1e911914f71b611370431e42ccbd9dfa74,
``elasticsearch.index_template.settings.analysis``: ``type: pattern``, ``pattern: '[\\W&&[^-]]+'``;
the classic ``powershell`` data stream's manifest @ 046e10a45813e1f453c039254541cc206608b789 defines
the same). Its separators are the non-word characters other than ``-``, so its tokens are the runs of
ASCII letters, digits, ``_`` and ``-``, lower-cased. ``message``, ``powershell.command.value`` and
``powershell.command.invocation_details.value`` are ``text`` with the default (``standard``) analyzer.
"""

from __future__ import annotations

from backends.elastic.index_mapping import KEYWORD_IGNORE_ABOVE, FieldSpec, PatternAnalyzer

POWERSHELL_SCRIPT_ANALYZER = PatternAnalyzer(
    name="powershell_script_analyzer", pattern=r"[\W&&[^-]]+", token="[A-Za-z0-9_-]"
)
"""The integration's analyzer of script block text (manifest.yml above)."""

TYPED: dict[str, FieldSpec] = {
    **{name: FieldSpec("date") for name in ("@timestamp", "event.created", "event.ingested")},
    **{name: FieldSpec("ip") for name in ("source.ip", "destination.ip", "dns.resolved_ip", "related.ip", "host.ip")},
    **{
        name: FieldSpec("long")
        for name in (
            "process.pid", "process.parent.pid", "process.thread.id", "process.args_count",
            "process.parent.args_count", "source.port", "destination.port", "dns.answers.ttl",
            "winlog.process.pid", "winlog.process.thread.id", "winlog.version", "event.sequence",
            "powershell.sequence", "powershell.total", "powershell.file.script_block_length",
        )
    },
    **{
        name: FieldSpec("boolean")
        for name in (
            "sysmon.file.archived", "sysmon.file.is_executable", "file.code_signature.valid",
            "file.code_signature.signed",
        )
    },
    **{
        name: FieldSpec("text")
        for name in ("message", "powershell.command.value", "powershell.command.invocation_details.value")
    },
    "powershell.file.script_block_text": FieldSpec("text", analyzer=POWERSHELL_SCRIPT_ANALYZER),
}


def typed(name: str) -> FieldSpec | None:
    """The type a Windows data stream gives a field explicitly (None: a plain keyword, or not its field)."""
    return TYPED.get(name)


def field_spec(name: str) -> FieldSpec:
    """The type of a field of a Windows data stream; other strings are keywords (ECS, winlog objects)."""
    return typed(name) or FieldSpec("keyword", KEYWORD_IGNORE_ABOVE)
