"""What every registry of the project shares (a list of records with a ``name``: the method
registry ``percontrast.methods``, the task-type and source registries
``percontrast.data.registry``): adding and removing a record, and live, read-only views.

A view reads the list each time it is used, so a record added with ``register`` appears in every
view at once (the schema's enum tests, the ``{method}`` wildcard and the tests' toy entries rely
on this). Free of heavy imports: the Snakefile reads the registries while planning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any


class NameView(Sequence):
    """A tuple-like view of the names of the records ``keep`` selects."""

    def __init__(self, records: list, keep: Callable[[Any], bool] = lambda r: True):
        self._records, self._keep = records, keep

    def _names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self._records if self._keep(r))

    def __getitem__(self, index):
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(self._names())

    def __repr__(self) -> str:
        return repr(self._names())


class FieldView(Mapping):
    """A mapping view: record name -> one field of that record (a label, a description)."""

    def __init__(self, records: list, field: str):
        self._records, self._field = records, field

    def __getitem__(self, name: str):
        for r in self._records:
            if r.name == name:
                return getattr(r, self._field)
        raise KeyError(name)

    def __iter__(self):
        return iter([r.name for r in self._records])

    def __len__(self) -> int:
        return len(self._records)


def add_record(records: list, new: Any, kind: str) -> None:
    """Append ``new``; a name already taken is an error naming the ``kind`` of record."""
    if any(r.name == new.name for r in records):
        raise ValueError(f"{kind} {new.name!r} is already registered")
    records.append(new)


def remove_added(records: list, name: str, built_in: list) -> None:
    """Remove the record ``name`` if it was added later (the ``built_in`` records stay)."""
    records[:] = [r for r in records if r.name != name or r in built_in]
