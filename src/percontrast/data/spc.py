"""Synthetic-Persona-Chat: user-1 personas (for the persona-QA generator) and the dialogue task.

The original CSVs have the columns ``user 1 personas`` / ``user 2 personas`` (one sentence a
line) and ``Best Generated Conversation`` (an LLM-written dialogue, ideally one ``User 1: ...`` /
``User 2: ...`` turn a line). The generated conversations are messy, so the parser is lenient:

* speaker tags wrapped in markdown (``*User 1:* hi``, ``* User 1: hi *``, ``* * User 1: * * hi``)
  are recognised;
* untagged lines continue the previous turn (recipes, lists, multi-paragraph turns);
* stage directions (``[Later]``, ``(They walk.)``, ``*At the bar*``) and separators (``* * *``)
  are dropped, and a trailing ``User 1 Profiles: {...`` dump ends the conversation;
* untagged lines before the first tag are the other speaker's opening turn;
* a conversation without any speaker tag has no usable turns (it yields no dialogue records);
* consecutive turns by the same speaker are merged, so "user 1's next turn" is well defined.

Dialogue records: profile = user 1's persona lines, query = the conversation so far rendered as
``User 1: ...`` / ``User 2: ...`` lines, reference = user 1's next turn. Which user-1 turns are
used is a seeded choice per conversation, independent of ``limit``.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from percontrast.data import registry
from percontrast.data.hub import load_hub_dataset
from percontrast.data.records import Record
from percontrast.io import DataError, read_utf8

log = logging.getLogger(__name__)

SPC_HUB_ID = "google/Synthetic-Persona-Chat"
USER1_COLUMN = "user 1 personas"
USER2_COLUMN = "user 2 personas"
CONVERSATION_COLUMN = "Best Generated Conversation"
COLUMNS = (USER1_COLUMN, USER2_COLUMN, CONVERSATION_COLUMN)

#: Our split names -> the hub's (its CSV "valid" file is the "validation" split there).
_HUB_SPLITS = {"train": "train", "valid": "validation", "validation": "validation",
               "test": "test"}

_SPEAKER = re.compile(r"^[\s*_]*user\s*([12])\s*[:：](.*)$", re.IGNORECASE)
_PROFILE_DUMP = re.compile(r"^[\s*_]*user\s*[12]\s+(profiles?|personas?)\b", re.IGNORECASE)
_SEPARATOR = re.compile(r"^[\s*\-_=#~.]+$")
_BRACKETED = re.compile(r"^\s*[\[(]")
_STARRED = re.compile(r"^\s*\*[^*].*\*\s*$")


@dataclass(frozen=True)
class Turn:
    speaker: int  # 1 or 2
    text: str


def parse_persona(text: str) -> list[str]:
    """Persona cell -> its sentences (one a line), stripped, blank lines dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _clean_tagged(rest: str, raw: str) -> str:
    text = rest.lstrip(" \t*_")
    if raw.lstrip().startswith("*"):  # "* User 1: hi *": drop the closing markdown star too
        text = re.sub(r"[\s*]*\*\s*$", "", text)
    return text.strip()


def parse_conversation(text: str) -> list[Turn]:
    """The conversation cell -> speaker turns (see the module docstring for the rules)."""
    turns: list[list[Any]] = []  # [speaker, [lines]]
    preamble: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _SEPARATOR.match(line):
            continue
        if _PROFILE_DUMP.match(line):
            break
        m = _SPEAKER.match(line)
        if m:
            turns.append([int(m.group(1)), [_clean_tagged(m.group(2), raw)]])
            continue
        if _BRACKETED.match(line) or _STARRED.match(line):
            continue
        if turns:
            turns[-1][1].append(line)
        else:
            preamble.append(line)
    if not turns:
        return []
    if preamble:
        turns.insert(0, [3 - turns[0][0], preamble])
    merged: list[Turn] = []
    for speaker, lines in turns:
        body = "\n".join(part for part in lines if part)
        if not body:
            continue
        if merged and merged[-1].speaker == speaker:
            merged[-1] = Turn(speaker, merged[-1].text + "\n" + body)
        else:
            merged.append(Turn(speaker, body))
    return merged


def render_turns(turns: list[Turn]) -> str:
    """Turns as ``User N: text`` lines (the dialogue query format)."""
    return "\n".join(f"User {t.speaker}: {t.text}" for t in turns)


def _split_name(csv_path: Path) -> str:
    m = re.search(r"_(train|valid|validation|test)$", csv_path.stem, re.IGNORECASE)
    return m.group(1).lower() if m else csv_path.stem


def _iter_rows(csv_path: str | os.PathLike | None, split: str, hub_id: str,
               revision: str | None) -> Iterator[tuple[str, str, int, int | None, dict]]:
    """Yield ``(source, split, index, line, row)`` from a CSV file or the hub."""
    if csv_path is None:
        hub_split = _HUB_SPLITS.get(split, split)
        dataset = load_hub_dataset(
            hub_id, None, split=hub_split, revision=revision,
            local_hint=("pass `csv_path=` (the task's `path:` in the config) to a local copy "
                        f"of Synthetic-Persona-Chat_{split}.csv"))
        missing = [c for c in COLUMNS if c not in dataset.column_names]
        source = f"hf://datasets/{hub_id}/{hub_split}"
        if missing:
            raise DataError(source, f"missing column(s) {missing}", field=missing[0])
        for index, row in enumerate(dataset):
            yield source, split, index, None, row
        return
    csv_path = Path(csv_path)
    if csv_path.is_dir():
        raise DataError(csv_path, "is a folder; expected a Synthetic-Persona-Chat CSV file")
    reader = csv.DictReader(io.StringIO(read_utf8(csv_path, bom=True), newline=""))
    start = 1
    try:
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise DataError(csv_path, f"missing column(s) {missing}; found {header}", line=1,
                            field=missing[0])
        start = reader.line_num + 1
        for index, row in enumerate(reader):
            yield str(csv_path), _split_name(csv_path), index, start, row
            start = reader.line_num + 1
    except csv.Error as err:
        hint = (f" (a cell over {csv.field_size_limit():,} characters: most often a quote that "
                "is never closed, which runs the cell on to the end of the file)"
                if "field limit" in str(err) else "")
        raise DataError(csv_path, f"the CSV row starting here does not parse: {err}{hint}",
                        line=start) from None


def _cell(row: dict, column: str, source: str, index: int, line: int | None) -> str:
    value = row.get(column)
    if not isinstance(value, str):
        raise DataError(source, f"conversation {index}: missing or not text "
                        f"({type(value).__name__})", line=line, field=column)
    return value


def _persona(row: dict, source: str, index: int, line: int | None, column: str) -> list[str]:
    persona = parse_persona(_cell(row, column, source, index, line))
    if not persona:
        raise DataError(source, f"conversation {index}: empty persona", line=line, field=column)
    return persona


def load_spc_personas(csv_path: str | os.PathLike | None = None, *, limit: int | None = None,
                      split: str = "valid", hub_id: str = SPC_HUB_ID,
                      revision: str | None = None) -> list[dict]:
    """``[{"id", "persona": [user 1's persona sentences]}]``, one per conversation.

    ``csv_path=None`` loads ``split`` from the hub (``valid`` maps to its ``validation``).
    """
    result = []
    for source, split_name, index, line, row in _iter_rows(csv_path, split, hub_id, revision):
        if limit is not None and len(result) >= limit:
            break
        result.append({"id": f"spc-{split_name}-{index:04d}",
                       "persona": _persona(row, source, index, line, USER1_COLUMN)})
    return result


_OTHER_LABEL = re.compile(r"\b(User|user|USER)(\s*)([12])\b")


def _as_user1(text: str, speaker: int) -> str:
    """``text`` with the labels swapped when ``speaker`` is user 2, so that the responder is
    always "User 1" (the dialogue prompt's role) and its partner "User 2"."""
    if speaker == 1:
        return text
    return _OTHER_LABEL.sub(lambda m: f"{m.group(1)}{m.group(2)}{3 - int(m.group(3))}", text)


def _check_dialogue_options(min_history_turns: int, turns_per_conversation: int | None,
                            speakers: tuple[int, ...], first_turns: int | None) -> None:
    if min_history_turns < 0:
        raise ValueError(f"min_history_turns must be >= 0, got {min_history_turns}")
    if turns_per_conversation is not None and turns_per_conversation < 1:
        raise ValueError(f"turns_per_conversation must be >= 1 or None, "
                         f"got {turns_per_conversation}")
    if not speakers or any(s not in (1, 2) for s in speakers):
        raise ValueError(f"speakers must be 1 and/or 2, got {speakers}")
    if first_turns is not None and first_turns < 1:
        raise ValueError(f"first_turns must be >= 1 or None, got {first_turns}")


@dataclass(frozen=True)
class _TurnChoice:
    """Which of a speaker's turns become records (see :func:`load_spc_dialogue`)."""

    min_history_turns: int
    turns_per_conversation: int | None
    seed: int
    first_turns: int | None
    grounded_only: bool

    def candidates(self, turns: list[Turn], shown: list[Turn], speaker: int,
                   persona: list[str]) -> list[int]:
        """The indices of ``speaker``'s turns that may be chosen."""
        own = [i for i, t in enumerate(turns) if t.speaker == speaker]
        if self.first_turns is not None:
            own = own[:self.first_turns]
        candidates = [i for i in own if i >= self.min_history_turns]
        if self.grounded_only:
            from percontrast.persona_use import has_grounded_reference

            candidates = [i for i in candidates if has_grounded_reference(
                persona, render_turns(shown[:i]), shown[i].text)]
        return candidates

    def choose(self, candidates: list[int], index: int, speaker: int) -> list[int]:
        """The seeded draw among ``candidates``: per conversation and speaker, independent of
        ``limit`` and of other rows."""
        k = len(candidates) if self.turns_per_conversation is None else min(
            self.turns_per_conversation, len(candidates))
        draw = f"{self.seed}:{index}" if speaker == 1 else f"{self.seed}:{index}:2"
        return sorted(random.Random(draw).sample(candidates, k))


def _conversation_records(choice: _TurnChoice, row: dict, where: tuple[str, str, int, int | None],
                          speakers: tuple[int, ...]) -> list[Record]:
    """The dialogue records of one conversation (none when no speaker has a usable turn)."""
    source, split_name, index, line = where
    personas = {1: _persona(row, source, index, line, USER1_COLUMN),
                2: parse_persona(_cell(row, USER2_COLUMN, source, index, line))}
    turns = parse_conversation(_cell(row, CONVERSATION_COLUMN, source, index, line))
    records = []
    for speaker in speakers:
        persona, partner = personas[speaker], personas[3 - speaker]
        if not persona:
            continue
        shown = [Turn(1 if t.speaker == speaker else 2, _as_user1(t.text, speaker))
                 for t in turns]
        candidates = choice.candidates(turns, shown, speaker, persona)
        if not candidates:
            continue
        user_id = f"spc-{split_name}-{index:04d}" + ("" if speaker == 1 else "-u2")
        for i in choice.choose(candidates, index, speaker):
            records.append(Record(
                id=f"{user_id}-t{i:02d}", task="dialogue", user_id=user_id,
                query=render_turns(shown[:i]), reference=shown[i].text,
                profile=list(persona),
                meta={"dataset": "Synthetic-Persona-Chat", "source": Path(source).name,
                      "conversation": index, "turn": i, "n_turns": len(turns),
                      "speaker": speaker, "persona": list(persona),
                      "partner_persona": partner}))
    return records


def load_spc_dialogue(csv_path: str | os.PathLike | None = None, *, limit: int | None = None,
                      min_history_turns: int = 1, turns_per_conversation: int | None = 1,
                      seed: int = 0, split: str = "valid", hub_id: str = SPC_HUB_ID,
                      revision: str | None = None, speakers: tuple[int, ...] = (1,),
                      first_turns: int | None = None, grounded_only: bool = False
                      ) -> list[Record]:
    """Dialogue records from the first ``limit`` conversations (all if None).

    For each conversation and each of ``speakers`` (1, 2 or both), the candidate turns are that
    speaker's turns with at least ``min_history_turns`` turns before them; with ``first_turns``
    only the speaker's first N turns (early in a conversation, before it has revealed the
    persona, is where the persona can matter); with ``grounded_only`` only turns whose reply
    uses a persona word the conversation so far lacks (:mod:`percontrast.persona_use`, on the
    ground truth alone). ``turns_per_conversation`` of them (all if None) are chosen with
    ``random.Random(f"{seed}:{i}")`` (``i`` = conversation index; user 2's draw is seeded
    ``f"{seed}:{i}:2"``), so the choice does not depend on ``limit`` or on other rows.

    The responder is always rendered as "User 1" (labels swapped for user 2, in the turns and
    in their text); ``profile`` and ``meta.persona`` hold the responder's persona,
    ``meta.partner_persona`` the other's. User 1's records keep the ids ``spc-{split}-{i:04d}``
    as before; user 2's user ids end in ``-u2``. Conversations with no usable turn are skipped
    (and counted in a log warning).
    """
    _check_dialogue_options(min_history_turns, turns_per_conversation, speakers, first_turns)
    choice = _TurnChoice(min_history_turns, turns_per_conversation, seed, first_turns,
                         grounded_only)
    records: list[Record] = []
    skipped = 0
    source = str(csv_path)
    for n, (source, split_name, index, line, row) in enumerate(
            _iter_rows(csv_path, split, hub_id, revision)):
        if limit is not None and n >= limit:
            break
        found = _conversation_records(choice, row, (source, split_name, index, line), speakers)
        records += found
        if not found:
            skipped += 1
    if skipped:
        log.warning("%s: %d conversation(s) had no usable turn (speakers %s, %d turn(s) of "
                    "history%s%s, or no speaker tags) and were skipped", source, skipped,
                    list(speakers), min_history_turns,
                    f", first {first_turns} turns" if first_turns else "",
                    ", a persona word in the reply" if grounded_only else "")
    return records


def load_split(name: str, spec: dict[str, Any], split: str, *, seed: int) -> list[Record]:
    """Source ``spc`` of a task_registry entry (its defaults filled in; registry): the bundled
    copy, a local CSV (or a folder of them) or the hub."""
    spc_split = registry.source_split(spec, split)
    if spec["bundled"]:
        from percontrast.datasets import spc_csv

        path: str | os.PathLike | None = spc_csv(spc_split)
    else:
        path = registry.local_split_file(spec, split)
    return load_spc_dialogue(path, split=spc_split, seed=seed,
                             speakers=tuple(spec["speakers"]),
                             first_turns=spec["first_turns"],
                             grounded_only=spec["grounded_only"],
                             turns_per_conversation=spec["turns_per_conversation"],
                             hub_id=SPC_HUB_ID if spec["hub_id"] is None else spec["hub_id"])
