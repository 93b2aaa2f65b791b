"""One error hierarchy; every error renders as a single located line."""

from __future__ import annotations


def shown(text: str) -> str:
    """A name as one line of output: quoted (Python's escapes) when it holds a line break, another
    unprintable character or a byte that is not UTF-8 (kept by the file system decoding as a
    surrogate), so that it never breaks the one-line format nor the terminal's encoding."""
    return text if text.isprintable() else repr(text)


class DetcError(Exception):
    """An error located at a file, rule, target and fixture case where known."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        rule_id: str | None = None,
        target: str | None = None,
        case: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.rule_id = rule_id
        self.target = target
        self.case = case

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the location across process boundaries (parallel builds pickle errors).
        return (_rebuild, (type(self), self.message, self.path, self.rule_id, self.target, self.case))

    def located(self, **where: str | None) -> "DetcError":
        """Fill in location fields that are not set yet, keeping this error's class."""
        for key, value in where.items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, value)
        return self

    def __str__(self) -> str:
        parts = [shown(p) for p in (self.path, self.rule_id, self.target) if p]
        if self.case:
            parts.append(f"case {self.case!r}")
        text = " ".join(self.message.split("\n")) if "\n" in self.message else self.message
        if not text.isprintable():  # a name quoted into a message: no line break, no undecodable byte
            text = "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)
        return ": ".join([*parts, text])


def _rebuild(
    cls: type[DetcError], message: str, path: str | None, rule_id: str | None, target: str | None, case: str | None
) -> DetcError:
    return cls(message, path=path, rule_id=rule_id, target=target, case=case)


def reason_of(err: BaseException) -> str:
    """A foreign error's message alone, on one line. pySigma's ``str()`` appends " in <rule
    location>", which detc's error line names already, so its first argument is taken instead."""
    text = str(err.args[0]) if err.args else str(err)
    return " ".join(text.split()) or type(err).__name__


class RuleLoadError(DetcError):
    """A rule or fixture file cannot be read, parsed or validated."""


class CompileError(DetcError):
    """A rule cannot be compiled for a target for a reason other than an unsupported construct."""


class UnsupportedFeature(CompileError):
    """The target cannot express a construct of the rule; the message names the construct."""


class ShapeError(DetcError):
    """A raw record cannot be shaped into the target platform's document."""


class EvaluationError(DetcError):
    """A compiled query cannot be parsed or evaluated by the target's evaluator."""


class EmitError(DetcError):
    """An artifact cannot be written for a target."""


class UsageError(DetcError):
    """The command line asks for something that does not exist."""
