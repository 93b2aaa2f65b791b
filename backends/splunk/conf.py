"""Writing Splunk .conf files: stanzas of ``key = value`` lines, long values continued with ``\\``.

Splunk's configuration file syntax (Admin Manual, "Configuration file structure" and
"How to edit a configuration file"): ``[stanza]`` headers, one ``key = value`` per line, lines
starting with ``#`` are comments, and a value spans lines when each line but the last ends
with a backslash; reading it back, each such backslash becomes the line break it stood for
(Splunk AppInspect's parser, ``configuration_parser.join_lines``, models this: it joins continued
lines before it looks for comments, and it trims the whole value's ends).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from compiler.errors import EmitError

Setting = tuple[str, str]


def conf_value(key: str, value: str) -> str:
    """One ``key = value`` line, continued with backslashes where the value has line breaks."""
    text = value.replace("\r\n", "\n")
    if "\r" in text:
        raise EmitError(f"{key}: a carriage return cannot be written in a .conf value")
    text = text.strip()
    lines = text.split("\n")
    if any(line.endswith("\\") for line in lines):
        raise EmitError(
            f"{key}: a line ending in a backslash would read as a line continuation in a .conf file"
        )
    return f"{key} = " + "\\\n".join(lines)


def prose(text: str) -> str:
    """Prose (a title, a description) as a .conf value can hold it: each line without the
    backslashes it ends in, which Splunk would read as a line continuation (SigmaHQ's colorcpl rule
    ends its description in a folder path). Queries never pass through here: a search with such a
    line stays an error (:func:`conf_value`)."""
    return "\n".join(line.rstrip("\\") for line in text.strip().split("\n")).strip()


def _stanza_name(name: str) -> str:
    if not name or name != name.strip() or any(c in name for c in "[]\n\r"):
        raise EmitError(f"cannot use {name!r} as a .conf stanza name")
    return name


def stanza_text(name: str, settings: Sequence[Setting]) -> str:
    """One stanza: its ``[name]`` header and its settings, in order, each on its line(s)."""
    stanza = _stanza_name(name)
    keys = [k for k, _ in settings]
    if len(set(keys)) != len(keys):
        raise EmitError(f"[{stanza}]: a key is written twice")
    return "\n".join([f"[{stanza}]", *(conf_value(key, value) for key, value in settings)])


def join_conf(header: Sequence[str], stanzas: Iterable[tuple[str, str]]) -> bytes:
    """A whole .conf file: comment header lines, then each (name, rendered stanza), a blank line apart."""
    out: list[str] = []
    for line in header:
        if "\n" in line or "\r" in line:
            raise EmitError("a .conf comment is one line")
        out.append(f"# {line}".rstrip())
    seen: set[str] = set()
    for name, text in stanzas:
        if name in seen:
            raise EmitError(f"two rules would write the same stanza [{name}]")
        seen.add(name)
        out.append("")
        out.append(text)
    return ("\n".join(out) + "\n").encode("utf-8")

