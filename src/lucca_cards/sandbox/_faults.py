"""Fault injection: which of an API's requests fail and how, and the body that sets it.

:class:`Faults` holds the fraction of an API's requests answered with each fault kind;
:meth:`Faults.spread` splits one rate evenly over chosen kinds (what ``lucca-cards sandbox
serve --faults`` does); :func:`faults_from_body` reads the body of ``POST /_sandbox/faults``
and :func:`faults_as_json` writes a configuration back.

>>> Faults.spread(0.2, ["500", "reset"], seed=3).as_json()["server_error"]
0.1
>>> faults_from_body({"rate": 0.1, "kinds": ["timeout"], "delay": 0.5}, ("lucca", "legacy"))[0]
('lucca', 'legacy')
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

#: The fault kinds, in the order their fractions are laid end to end on [0, 1).
FAULT_KINDS = ("rate_limited", "server_error", "unavailable", "timeout", "reset")
#: Other names accepted for a kind (the status it answers).
KIND_ALIASES = {"429": "rate_limited", "500": "server_error", "503": "unavailable"}
#: What each kind is, for messages and help texts.
KINDS_HELP = "rate_limited (or 429), server_error (500), unavailable (503), timeout, reset"
#: The keys ``POST /_sandbox/faults`` accepts, besides the per-kind fractions.
_BODY_KEYS = frozenset({"rate", "kinds", "seed", "delay", "retry_after", "apis"})


@dataclass(frozen=True)
class Faults:
    """Fractions of one API's requests answered with a fault, deterministic with ``seed``.

    Attributes:
        rate_limited: fraction answered ``429`` (with ``Retry-After: retry_after``).
        server_error: fraction answered ``500``.
        unavailable: fraction answered ``503``.
        timeout: fraction processed, then answered only after ``delay`` seconds (longer
            than the client's read timeout: the client gives up, the change is made).
        reset: fraction cut before being processed (the connection is reset).
        seed: the draw of request *n* depends only on ``seed`` and *n*.

    >>> Faults(server_error=0.1, seed=7).total
    0.1
    """

    rate_limited: float = 0.0
    server_error: float = 0.0
    unavailable: float = 0.0
    timeout: float = 0.0
    reset: float = 0.0
    seed: int = 0
    delay: float = 35.0
    retry_after: int = 1

    def __post_init__(self) -> None:
        for kind in FAULT_KINDS:
            if not 0.0 <= getattr(self, kind) <= 1.0:
                raise ValueError(f"Faults.{kind} must be a fraction between 0 and 1")
        if self.total > 1.0 + 1e-9:
            raise ValueError("the fault fractions add up to more than 1")
        if not (math.isfinite(self.delay) and self.delay >= 0):
            raise ValueError("Faults.delay must be a number of seconds >= 0")
        if self.retry_after < 0:
            raise ValueError("Faults.retry_after must be a number of seconds >= 0")

    @classmethod
    def spread(
        cls,
        rate: float,
        kinds: Iterable[str] = FAULT_KINDS,
        *,
        seed: int = 0,
        delay: float | None = None,
        retry_after: int | None = None,
    ) -> Faults:
        """``rate`` of the requests faulted, split evenly over ``kinds`` (names or aliases).

        >>> Faults.spread(0.2).timeout
        0.04
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the fault rate must be between 0 and 1, not {rate}")
        chosen = fault_kinds(kinds)
        if not chosen:
            raise ValueError(f"name at least one fault kind: {KINDS_HELP}")
        options: dict[str, Any] = {"seed": seed}
        if delay is not None:
            options["delay"] = delay
        if retry_after is not None:
            options["retry_after"] = retry_after
        fractions: dict[str, Any] = dict.fromkeys(chosen, rate / len(chosen))
        return cls(**fractions, **options)

    @property
    def total(self) -> float:
        """The fraction of requests that get any fault."""
        return float(sum(getattr(self, kind) for kind in FAULT_KINDS))

    def draw(self, number: int) -> str | None:
        """Return the fault of request ``number`` (``None`` for a normal answer)."""
        if not self.total:
            return None
        point = random.Random(f"{self.seed}:{number}").random()  # noqa: S311 - not crypto
        for kind in FAULT_KINDS:
            point -= getattr(self, kind)
            if point < 0:
                return kind
        return None

    def as_json(self) -> dict[str, Any]:
        """Return the fractions, their ``total``, ``seed``, ``delay`` and ``retry_after``."""
        fractions = {kind: round(getattr(self, kind), 12) for kind in FAULT_KINDS}
        return {**fractions, "total": round(self.total, 12), "seed": self.seed,
                "delay": self.delay, "retry_after": self.retry_after}


NO_FAULTS = Faults()


def fault_kinds(names: Iterable[str]) -> tuple[str, ...]:
    """Resolve kind names and aliases (``"429"``…), without repeats; ``ValueError`` if unknown.

    >>> fault_kinds(["503", "reset", "unavailable"])
    ('unavailable', 'reset')
    """
    chosen: list[str] = []
    for name in names:
        kind = KIND_ALIASES.get(name.strip().lower(), name.strip().lower())
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {name!r}; use {KINDS_HELP}")
        if kind not in chosen:
            chosen.append(kind)
    return tuple(chosen)


def faults_as_json(faults: Faults | None) -> dict[str, Any] | None:
    """Return one API's configuration as ``GET /_sandbox/faults`` shows it (``None``: calm)."""
    return faults.as_json() if faults is not None and faults.total else None


def faults_from_body(body: Any, served: Sequence[str]) -> tuple[tuple[str, ...], Faults | None]:
    """Read a ``POST /_sandbox/faults`` body: the APIs it sets and their faults.

    The body is an object: ``apis`` (names or one name; default every API in ``served``),
    then either ``rate`` spread over ``kinds`` (default all five) or per-kind fractions
    (``{"server_error": 0.1, "reset": 0.05}``), and optionally ``seed``, ``delay`` and
    ``retry_after``. No fault at all (``{"rate": 0}``, ``{}``) gives ``None``: calm.

    Raises:
        ValueError: the body is not such an object; the message says what is wrong.
    """
    if not isinstance(body, Mapping):
        raise ValueError("the body must be a JSON object, e.g. "
                         '{"rate": 0.2, "kinds": ["server_error", "reset"], "seed": 3}')
    unknown = sorted(set(body) - _BODY_KEYS - set(FAULT_KINDS))
    if unknown:
        raise ValueError(f"unknown keys {unknown}; use rate, kinds, seed, delay, retry_after, "
                         f"apis, or the fractions {', '.join(FAULT_KINDS)}")
    apis = _apis(body.get("apis"), served)
    fractions: dict[str, Any] = {
        kind: _fraction(kind, body[kind]) for kind in FAULT_KINDS if kind in body
    }
    options: dict[str, Any] = {"seed": _whole("seed", body.get("seed", 0), minimum=None)}
    if "delay" in body:
        options["delay"] = _seconds(body["delay"])
    if "retry_after" in body:
        options["retry_after"] = _whole("retry_after", body["retry_after"], minimum=0)
    if "rate" in body:
        if fractions:
            raise ValueError("give either rate (with kinds) or per-kind fractions, not both")
        rate = _fraction("rate", body["rate"])
        kinds = body.get("kinds", list(FAULT_KINDS))
        if not isinstance(kinds, list) or not all(isinstance(k, str | int) for k in kinds):
            raise ValueError("kinds must be a list of fault kinds")
        faults = Faults.spread(rate, [str(k) for k in kinds])
    elif "kinds" in body:
        raise ValueError("kinds needs a rate to spread over them")
    else:
        faults = replace(NO_FAULTS, **fractions)
    faults = replace(faults, **options)
    return apis, faults if faults.total else None


def _apis(value: Any, served: Sequence[str]) -> tuple[str, ...]:
    if value is None:
        return tuple(served)
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError("apis must be a non-empty list of API names")
    unknown = sorted(set(names) - set(served))
    if unknown:
        raise ValueError(f"this fake serves {', '.join(served)}, not {', '.join(unknown)} "
                         "(send those to the other fake's /_sandbox/faults)")
    return tuple(dict.fromkeys(names))


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number between 0 and 1, not {value!r}")
    return float(value)


def _seconds(value: Any) -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"delay must be a number of seconds >= 0, not {value!r}")
    return float(value)


def _whole(name: str, value: Any, *, minimum: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (
            minimum is not None and value < minimum):
        at_least = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{name} must be a whole number{at_least}, not {value!r}")
    return value
