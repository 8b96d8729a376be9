"""Offline NLTK resources, set up once for word matching (PIR benchmark) and METEOR (evaluation).

NLTK's data (WordNet, punkt, the POS tagger, stop words) normally comes from ``nltk.download``,
which needs the internet. Offline, WordNet 3.0 — exactly the version METEOR and the paper use —
is in Debian's ``wordnet-base`` + ``wordnet-sense-index`` packages (``/usr/share/wordnet``). NLTK's
reader also wants a ``lexnames`` file that Debian does not ship; its content is the fixed table of
the lexnames(5WN) man page, so it is written here into a cache folder beside copies of the
Debian files (~35 MB, once). Where NLTK's own data is installed, it is used instead.

``word_tokenize`` needs punkt for sentence splitting; offline, an untrained
``PunktSentenceTokenizer`` (same algorithm, no learned abbreviations) splits sentences, then NLTK's
Treebank word tokenizer runs per sentence exactly as ``nltk.word_tokenize`` does.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path

#: The lexicographer files of WordNet 3.0 (lexnames(5WN)): number, name, syntactic category.
LEXNAMES = """\
00 adj.all 3
01 adj.pert 3
02 adv.all 4
03 noun.Tops 1
04 noun.act 1
05 noun.animal 1
06 noun.artifact 1
07 noun.attribute 1
08 noun.body 1
09 noun.cognition 1
10 noun.communication 1
11 noun.event 1
12 noun.feeling 1
13 noun.food 1
14 noun.group 1
15 noun.location 1
16 noun.motive 1
17 noun.object 1
18 noun.person 1
19 noun.phenomenon 1
20 noun.plant 1
21 noun.possession 1
22 noun.process 1
23 noun.quantity 1
24 noun.relation 1
25 noun.shape 1
26 noun.state 1
27 noun.substance 1
28 noun.time 1
29 verb.body 2
30 verb.change 2
31 verb.cognition 2
32 verb.communication 2
33 verb.competition 2
34 verb.consumption 2
35 verb.contact 2
36 verb.creation 2
37 verb.emotion 2
38 verb.motion 2
39 verb.perception 2
40 verb.possession 2
41 verb.social 2
42 verb.stative 2
43 verb.weather 2
44 adj.ppl 3
"""

DEBIAN_WORDNET = Path("/usr/share/wordnet")
_WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv", "index.noun", "index.verb",
                  "index.adj", "index.adv", "index.sense", "noun.exc", "verb.exc", "adj.exc",
                  "adv.exc")

#: English function words (used when NLTK's stopwords corpus is not installed).
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves i'm i've i'd i'll it's don't can't
won't isn't aren't wasn't weren't doesn't didn't haven't hasn't hadn't shouldn't wouldn't
couldn't let's that's there's what's who's also really usually always often every one ones
get got gets go goes going went make makes made lot lots much many thing things way ways
""".split())


class ResourceMissingError(RuntimeError):
    """An NLTK resource is not installed; the message says how to install it."""


def _cache_dir() -> Path:
    root = os.environ.get("PERCONTRAST_CACHE") or os.environ.get("XDG_CACHE_HOME")
    return Path(root or Path.home() / ".cache") / "percontrast"


def _debian_nltk_data() -> Path:
    """An NLTK data folder whose ``corpora/wordnet`` is Debian's files plus the lexnames table."""
    source = Path(os.environ.get("PERCONTRAST_WORDNET_DIR", DEBIAN_WORDNET))
    missing = [f for f in _WORDNET_FILES if not (source / f).is_file()]
    if missing:
        raise ResourceMissingError(
            f"WordNet 3.0 not found in {source} (missing {', '.join(missing[:3])}...). Install "
            "it with `apt-get install wordnet-base wordnet-sense-index` (Debian/Ubuntu), or "
            "`python -c \"import nltk; nltk.download('wordnet')\"` where there is internet, or "
            "point PERCONTRAST_WORDNET_DIR at a WordNet 3.0 dict folder.")
    data = _cache_dir() / "nltk_data"
    root = data / "corpora" / "wordnet"
    root.mkdir(parents=True, exist_ok=True)
    for name in _WORDNET_FILES:  # copies: NLTK >= 3.9 refuses symlinks and hard links
        target = root / name
        if not target.exists():
            tmp = root / f".{name}.{os.getpid()}.tmp"
            shutil.copyfile(source / name, tmp)
            os.replace(tmp, target)
    lexnames = root / "lexnames"
    if not lexnames.exists():
        from percontrast.io import write_text

        write_text(lexnames, "".join(f"{n}\t{name}\t{cat}\n" for n, name, cat in
                                     (line.split() for line in LEXNAMES.splitlines())))
    return data


@functools.cache
def wordnet():
    """NLTK's WordNet: NLTK's own data if installed, else the Debian WordNet 3.0 files."""
    import nltk

    try:
        nltk.data.find("corpora/wordnet")
    except LookupError:
        nltk.data.path.append(str(_debian_nltk_data()))
    from nltk.corpus import wordnet as wn
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    # At load NLTK maps every sense key to WordNet 3.0's for the multilingual (OMW) data: two
    # passes over index.sense, most of a score job's start-up (seconds). English lookups (METEOR,
    # word matching) never read that map, so it is skipped (map30 = None, as NLTK sets it when
    # the loaded WordNet is 3.0 itself).
    mapping = WordNetCorpusReader.map_wn
    WordNetCorpusReader.map_wn = lambda self, version="wordnet": None
    try:
        wn.ensure_loaded()
    finally:
        WordNetCorpusReader.map_wn = mapping
    return wn


@functools.cache
def _sentence_splitter():
    import nltk

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
        return None  # nltk.word_tokenize works as is
    except LookupError:
        from nltk.tokenize.punkt import PunktSentenceTokenizer

        return PunktSentenceTokenizer()


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize``; offline, with an untrained punkt splitter (see module doc)."""
    import nltk
    from nltk.tokenize import NLTKWordTokenizer

    splitter = _sentence_splitter()
    if splitter is None:
        return nltk.word_tokenize(text)
    tokenizer = NLTKWordTokenizer()
    return [tok for sent in splitter.tokenize(text) for tok in tokenizer.tokenize(sent)]


@functools.cache
def stopwords() -> frozenset[str]:
    import nltk

    try:
        nltk.data.find("corpora/stopwords")
        from nltk.corpus import stopwords as sw

        return frozenset(sw.words("english")) | STOPWORDS
    except LookupError:
        return STOPWORDS


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def words_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Alphabetic words of ``text`` with their character spans."""
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]


@functools.lru_cache(maxsize=65536)
def lemmas(word: str) -> frozenset[str]:
    """The word, lower-cased, and its WordNet base forms for every part of speech."""
    wn = wordnet()
    w = word.lower().strip("'-")
    forms = {w}
    for pos in ("n", "v", "a", "r"):
        base = wn.morphy(w, pos)
        if base:
            forms.add(base)
    return frozenset(forms)


@functools.lru_cache(maxsize=65536)
def is_content_word(word: str) -> bool:
    """Noun, verb, adjective or adverb: not a stop word and known to WordNet in some POS.

    Without a POS-tagger model (offline), WordNet's own noun/verb/adj/adv entries decide.
    """
    w = word.lower().strip("'-")
    if len(w) < 2 or w in stopwords():
        return False
    return bool(wordnet().synsets(w))
