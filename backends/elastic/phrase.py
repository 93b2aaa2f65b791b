"""A Sigma value the Elastic queries match as a phrase on an analysed ``text`` field."""

from __future__ import annotations

from sigma.types import SigmaString


class SigmaPhrase(SigmaString):
    """The literal text of a Sigma ``contains`` on a field Elastic keeps only as analysed text: KQL
    writes it quoted (Kibana sends ``match_phrase``), Lucene as a ``"…"`` phrase (query_string's
    phrase query); both analyse it with the field's analyzer. It holds no wildcard."""

    @classmethod
    def of(cls, text: str) -> SigmaPhrase:
        phrase = cls()
        phrase.s = [text]
        phrase.original = text
        return phrase

    @property
    def text(self) -> str:
        return "".join(p for p in self.s if isinstance(p, str))
