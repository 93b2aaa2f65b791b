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
"""

from __future__ import annotations

from backends.elastic.index_mapping import KEYWORD_IGNORE_ABOVE, FieldSpec

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
        for name in (
            "message", "powershell.file.script_block_text", "powershell.command.value",
            "powershell.command.invocation_details.value",
        )
    },
}


def typed(name: str) -> FieldSpec | None:
    """The type a Windows data stream gives a field explicitly (None: a plain keyword, or not its field)."""
    return TYPED.get(name)


def field_spec(name: str) -> FieldSpec:
    """The type of a field of a Windows data stream; other strings are keywords (ECS, winlog objects)."""
    return typed(name) or FieldSpec("keyword", KEYWORD_IGNORE_ABOVE)
