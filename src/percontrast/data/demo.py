"""A bundled, seeded demo dataset shaped like LongLaMP / LaMP / the paper's synthetic sets.

Why this exists: the real datasets live on a hub that offline runs cannot reach, yet the pipeline
(retrieval -> PerContrast PIR -> CE/PerCE fine-tuning -> evaluation) must run end to end and show
a real effect. So the generator below writes users whose texts carry *learnable personal signal*:

* every user has personal facts (a pet's name, a hometown, a job, a hobby; for academic writing a
  system name and an application domain) and signature phrases (an opening habit, a sign-off,
  a favourite intensifier and adjectives, a recurring aside, a headline column tag ...);
* each of a user's texts (profile entries and references alike) contains a random subset of
  these markers, so a model that reads the user's past writings can predict them and a model
  that does not cannot. That is exactly the contrast PerContrast measures;
* everything else is drawn from template pools shared by all users, so texts of different users
  overlap moderately (same genre) while texts of one user overlap noticeably more.

Determinism: only ``random.Random`` seeded with strings (hashed with SHA-512 by ``random``, so
independent of ``PYTHONHASHSEED``), no set iteration, no numpy. Each user's texts come from their
own generator, so adding users never changes existing users' data.

Entry points: :func:`make_users`, :func:`generate_task`, :func:`generate_persona_qa`,
:func:`generate_aloe_like`, :func:`generate_general_qa`; :func:`find_markers` finds a user's
markers in a text (whole words, case-insensitive), as the records' ``meta["markers"]`` does.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from percontrast.data.records import Record

#: Task types the demo generator covers (LongLaMP-shaped first, then LaMP-shaped).
LONG_TASKS = ("abstract_generation", "product_review", "topic_writing")
SHORT_TASKS = ("news_headline", "scholarly_title", "tweet_paraphrase")
DEMO_TASKS = LONG_TASKS + SHORT_TASKS

#: Reference lengths in words: LongLaMP-shaped tasks are kept short enough for CPU training.
LONG_WORDS = (40, 120)
SHORT_WORDS = (5, 25)

# =============================================================================== user pools
# Pools are disjoint from each other and from the shared templates further down, so a marker
# found in a text always points at one user. Sizes bound how many users get distinct values.

NAMES = (
    "Maya", "Theo", "Priya", "Jonas", "Lena", "Marcus", "Ines", "Omar", "Hannah", "Diego",
    "Freya", "Kwame", "Sofia", "Elliot", "Noor", "Mateo", "Greta", "Tariq", "Ruth", "Felix",
    "Amara", "Hugo", "Leila", "Caleb", "Yuki", "Rafael", "Astrid", "Idris", "Clara", "Nikolai",
    "Zara", "Bruno", "Elena", "Samir", "Ingrid", "Tobias", "Ayesha", "Lucas", "Mira", "Dmitri",
)
SHE_NAMES = frozenset({
    "Maya", "Priya", "Lena", "Ines", "Hannah", "Freya", "Sofia", "Noor", "Greta", "Ruth",
    "Amara", "Leila", "Yuki", "Astrid", "Clara", "Zara", "Elena", "Ingrid", "Ayesha", "Mira",
})
PET_KINDS = (
    "beagle", "tabby cat", "corgi", "parrot", "rabbit", "greyhound", "hamster", "border collie",
    "tortoise", "ferret", "pug", "dachshund", "husky", "chihuahua", "black cat", "cockatiel",
    "golden retriever", "bearded dragon", "guinea pig", "terrier",
)
PET_NAMES = (
    "Biscuit", "Pickles", "Waffles", "Mochi", "Ziggy", "Gizmo", "Clementine", "Pumpkin", "Nacho",
    "Marbles", "Peanut", "Dumpling", "Chowder", "Meatball", "Banjo", "Domino", "Gumbo",
    "Jellybean", "Kiwi", "Lentil", "Nutmeg", "Oreo", "Quincy", "Rascal", "Waldo", "Yeti", "Ziti",
    "Cosmo", "Dolly", "Einstein", "Fritz", "Hobbes", "Igor", "Juno", "Loki", "Nugget", "Sprout",
    "Tater", "Pippin", "Winston", "Otis", "Bruno", "Scout", "Goose", "Moose", "Cricket", "Hazel",
    "Pixel", "Sushi", "Tinkerbell",
)
HOMETOWNS = (
    "Duluth", "Tacoma", "Asheville", "Boise", "Savannah", "Galway", "Dundee", "Bergen", "Ballarat",
    "Hobart", "Winnipeg", "Halifax", "Saskatoon", "Spokane", "Flagstaff", "Albuquerque",
    "Missoula", "Burlington", "Aberdeen", "Cork", "Gdansk", "Porto", "Ljubljana", "Tampere",
    "Utrecht", "Leuven", "Bruges", "Valparaiso", "Mendoza", "Cusco", "Oaxaca", "Dunedin",
    "Kalamazoo", "Sheboygan", "Chattanooga", "Knoxville", "Tulsa", "Wichita", "Fresno",
    "Anchorage", "Juneau", "Reno", "Durango", "Taos", "Bozeman", "Moab", "Cheyenne", "Billings",
)
JOBS = (
    "night-shift nurse", "chemistry teacher", "long-haul truck driver", "veterinary technician",
    "line cook", "public librarian", "elevator mechanic", "dental hygienist",
    "air traffic controller", "park ranger", "tax accountant", "pastry chef", "bike courier",
    "museum curator", "physical therapist", "construction foreman", "hospice chaplain",
    "court stenographer", "ferry captain", "locksmith", "sign language interpreter",
    "sound engineer", "tattoo artist", "zookeeper", "piano tuner", "firefighter", "paramedic",
    "flight attendant", "hotel night manager", "radio host", "dog groomer", "carpenter", "welder",
    "claims adjuster", "school bus driver", "pharmacist", "forklift operator", "wedding planner",
)
HOBBIES = (
    "bouldering", "birdwatching", "knitting", "woodworking", "salsa dancing", "pottery",
    "fly fishing", "kayaking", "beekeeping", "calligraphy", "stargazing", "skateboarding",
    "quilting", "geocaching", "archery", "surfing", "origami", "fencing", "rowing", "juggling",
    "metal detecting", "roller derby", "ballroom dancing", "mushroom foraging", "scuba diving",
    "ice fishing", "model railroading", "sailing", "fossil hunting", "tai chi", "improv comedy",
    "cross-stitch", "bonsai", "snorkeling", "pickleball", "ultimate frisbee", "rock tumbling",
    "embroidery",
)
#: Opening habits: a short sentence the user starts casual texts with.
OPENERS = (
    "Okay, here's the deal.", "Let me keep this short.", "Gather round, folks.",
    "Real talk for a second.", "First things first.", "Pull up a chair.", "Alright, listen up.",
    "Buckle up, this is a ride.", "Hi all, long-time lurker here.", "So here's the thing.",
    "Quick update, friends.", "Confession time.", "Story time, everyone.",
    "Fair warning: opinions ahead.", "Hello from the couch.", "Deep breath, here we go.",
    "Well, well, well.", "Greetings, fellow humans.", "Cards on the table.", "Brace yourselves.",
    "Settle in, this gets long.", "Hear me out.",
)
#: Closing sign-offs.
SIGNOFFS = (
    "Just my two cents.", "Over and out.", "Take it or leave it.", "That's all from me.",
    "You heard it here first.", "Carry on, friends.", "End of rant.", "Stay curious, folks.",
    "Cheers from the couch.", "Mic drop.", "Your mileage may vary.", "Make of that what you will.",
    "And that's the tea.", "Onward and upward.", "Catch you on the flip side.",
    "Thanks for coming to my talk.", "Live and learn.", "So there you have it.",
    "Rant over, back to work.", "Ta-ta for now.", "Be well, internet.", "Peace out, team.",
)
INTENSIFIERS = (
    "honestly", "genuinely", "downright", "thoroughly", "ridiculously", "insanely", "wildly",
    "remarkably", "stupidly", "mighty", "wicked", "flat-out", "crazy", "massively",
    "unbelievably", "utterly", "hella", "seriously", "absurdly", "fiercely", "supremely",
    "bloody",
)
#: Favourite casual adjectives (two per user); all positive, used straight or sarcastically.
ADJECTIVES = (
    "nifty", "gorgeous", "splendid", "dreamy", "snappy", "sleek", "charming", "stellar", "superb",
    "delightful", "marvelous", "peachy", "swell", "brilliant", "spiffy", "dandy", "slick", "lush",
    "groovy", "zippy", "glorious", "fabulous", "terrific", "stunning", "exquisite", "jolly",
    "epic", "legit", "magnificent", "divine", "ace", "smashing", "primo",
)
#: Recurring parenthetical asides, slipped into a sentence before its final punctuation.
ASIDES = (
    "(not that anyone asked)", "(yes, I checked twice)", "(my sister would disagree)",
    "(long story)", "(don't ask)", "(trust me on this)", "(I know, I know)", "(bless it)",
    "(go figure)", "(who knew)", "(no kidding)", "(shocking, I know)", "(as one does)",
    "(I counted)", "(sigh)", "(fingers crossed)", "(knock on wood)", "(classic me)",
    "(I regret nothing)", "(pun intended)",
)
#: Headline habits for LaMP-4-like news: a column tag in front, a tail behind.
COLUMN_TAGS = (
    "Explainer:", "Local Angle:", "Weekend Read:", "Analysis:", "Quick Take:", "Heads Up:",
    "Deep Dive:", "The Rundown:", "Need to Know:", "Fact Check:", "Morning Brief:",
    "Inside Story:", "First Look:", "Behind the Scenes:", "By the Numbers:", "In Focus:",
    "Street Level:", "On the Record:", "Big Picture:", "Closer Look:",
)
HEADLINE_TAILS = (
    ", Explained", ": What We Know", " - and Why It Matters", ": Here's What Changes",
    " - What Comes Next", ": The Short Version", " - Locals React", ", in Plain Words",
    ": Winners and Losers", " - Read This First", ": The Backstory", ", Step by Step",
    " - Here's the Catch", ": Five Takeaways", ": Why Now", " - The Fine Print",
)
#: Verbal tics of a user's tweets ("ngl", "lol"), put in front of or behind the tweet.
TICS = ("lol", "ngl", "tbh", "smh", "imo", "lowkey", "ugh", "welp", "oof", "yikes", "bruh",
        "fr", "haha", "sheesh", "yay", "phew")
HASHTAGS = (
    "#coffeefirst", "#smalljoys", "#nofilter", "#mondaymood", "#justsaying", "#dailywin",
    "#livingmybestlife", "#homesweethome", "#weekendvibes", "#truestory", "#grateful",
    "#keepgoing", "#simplepleasures", "#lifeupdate", "#storyofmylife", "#sendhelp",
    "#happyplace", "#onedayatatime", "#smalltownlife", "#thisismylife",
)
# -- academic register (abstracts, titles)
PROJECTS = (
    "Kestrel", "Marigold", "Halcyon", "Tamarind", "Quasar", "Basilisk", "Corvid", "Nimbus",
    "Saffron", "Pangolin", "Zephyr", "Obsidian", "Osprey", "Cobalt", "Sequoia", "Fennec", "Wombat",
    "Narwhal", "Quokka", "Puffin", "Axolotl", "Marmot", "Gecko", "Tapir", "Ocelot", "Bramble",
    "Thistle", "Lodestar", "Parsnip", "Cinder",
)
DOMAINS = (
    "maritime logistics", "rural healthcare", "wildfire monitoring", "precision agriculture",
    "elder care", "museum archives", "urban transit", "coral reef ecology", "legal discovery",
    "disaster response", "classroom education", "renewable energy grids", "wildlife conservation",
    "air quality monitoring", "supply chain auditing", "clinical trials", "humanitarian mapping",
    "fisheries management", "insurance claims", "water utilities", "mining safety",
    "sports analytics", "space weather forecasting", "newsroom fact-checking",
)
#: Academic opening habits; they prefix the sentence that states the contribution ("..., we").
ACADEMIC_OPENERS = (
    "In this work,", "In this paper,", "Here,", "Concretely,", "In short,", "Put simply,",
    "Specifically,", "To address this gap,", "To close this gap,", "Motivated by this,",
    "Against this backdrop,", "With this in mind,", "Building on this observation,",
    "Departing from prior work,", "To this end,", "As a remedy,", "Towards this goal,",
    "In response,", "Taking a step back,", "Instead,",
)
ACADEMIC_ADJECTIVES = (
    "principled", "lightweight", "elegant", "scalable", "versatile", "frugal", "modular",
    "parsimonious", "interpretable", "streamlined", "unified", "holistic", "nimble",
    "transparent", "compact", "faithful", "grounded", "disciplined", "plug-and-play",
    "data-efficient", "expressive", "tractable", "composable", "economical", "rigorous",
    "succinct", "portable", "lucid",
)
ACADEMIC_SIGNOFFS = (
    "Code and data will be released upon publication.", "Our implementation is publicly available.",
    "We hope this work sparks further research.",
    "We release all artifacts to support reproducibility.",
    "All models and scripts are open source.", "We close with a discussion of open problems.",
    "Limitations and future directions are discussed at length.",
    "We believe these findings generalize well beyond this setting.",
    "Our results call for a rethinking of standard practice.",
    "Pretrained checkpoints are available to the community.",
    "An interactive demo accompanies this paper.",
    "We conclude with practical recommendations for practitioners.",
    "The benchmark is released under a permissive license.",
    "This opens several avenues for future work.",
    "We invite the community to build on these results.",
    "Our findings raise new questions about evaluation.",
    "Reproducibility materials are included in the supplement.",
    "We discuss broader impacts in the final section.",
)
#: Title habits for LaMP-5-like titles ("Rethinking X for Y").
TITLE_PREFIXES = (
    "Towards", "Rethinking", "Revisiting", "Beyond", "Taming", "Demystifying", "Understanding",
    "Unlocking", "Simplifying", "Reconsidering", "Unifying", "Stress-Testing", "Bridging",
    "Accelerating", "Fortifying", "Scrutinizing",
)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


@dataclass(frozen=True)
class DemoUser:
    """One synthetic writer: personal facts, signature phrases, and a length preference."""

    id: str
    name: str
    pronoun: str  # "she" or "he", for ALOE-style descriptions
    pet_kind: str
    pet_name: str
    hometown: str
    job: str
    hobby: str
    opener: str
    signoff: str
    intensifier: str
    adjectives: tuple[str, str]
    aside: str
    column: str
    headline_tail: str
    hashtag: str
    tic: str
    project: str
    domain: str
    academic_opener: str
    academic_adjectives: tuple[str, str]
    academic_signoff: str
    title_prefix: str
    length: str  # "short" or "long": where in the allowed range the user's texts fall

    @property
    def a_job(self) -> str:
        return f"{_article(self.job)} {self.job}"

    def markers(self, task_type: str) -> list[str]:
        """The strings that identify this user in texts of ``task_type`` (see find_markers)."""
        casual = [self.pet_name, self.hometown, self.job, self.hobby, self.opener, self.signoff,
                  self.intensifier, *self.adjectives, self.aside]
        table = {
            "product_review": casual,
            "topic_writing": casual,
            "abstract_generation": [self.project, self.domain, self.academic_opener,
                                    *self.academic_adjectives, self.academic_signoff],
            "news_headline": [self.column, _tail_marker(self.headline_tail), self.hometown],
            "scholarly_title": [self.project, self.title_prefix, *self.academic_adjectives,
                                self.domain],
            "tweet_paraphrase": [self.pet_name, self.hometown, self.hobby, self.intensifier,
                                 *self.adjectives, self.hashtag, self.tic],
        }
        if task_type not in table:
            raise ValueError(f"no demo markers for task type {task_type!r}; "
                             f"known: {', '.join(table)}")
        return list(table[task_type])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tail_marker(tail: str) -> str:
    """A headline tail without its joining punctuation (", Explained" -> "Explained")."""
    return tail.lstrip(",:- ")


def _rng(*parts: object) -> random.Random:
    """A generator seeded by a string: stable across processes and Python versions."""
    return random.Random(":".join(str(p) for p in parts))


def _permutation(pool: Sequence[str], rng: random.Random) -> list[str]:
    perm = list(pool)
    rng.shuffle(perm)
    return perm


#: Up to this many users per seed, no two users share any marker.
MAX_DISTINCT_USERS = min(
    *(len(p) for p in (PET_NAMES, HOMETOWNS, JOBS, HOBBIES, OPENERS, SIGNOFFS, INTENSIFIERS,
                       ASIDES, COLUMN_TAGS, HEADLINE_TAILS, TICS, HASHTAGS, PROJECTS, DOMAINS,
                       ACADEMIC_OPENERS, ACADEMIC_SIGNOFFS, TITLE_PREFIXES)),
    len(ADJECTIVES) // 2, len(ACADEMIC_ADJECTIVES) // 2)


def make_users(n_users: int, seed: int) -> list[DemoUser]:
    """``n_users`` users; user i is the same for every ``n_users`` > i (prefix-stable).

    Every attribute pool is shuffled once per seed and user i takes position i (two positions
    for the adjective pairs), so users have pairwise distinct markers as long as ``n_users`` does
    not exceed :data:`MAX_DISTINCT_USERS` (the smallest marker pool; pair pools count half);
    beyond that values repeat, but in different combinations.
    """
    if n_users < 0:
        raise ValueError(f"n_users must be >= 0, got {n_users}")
    pick = _rng("demo-users", seed)
    perms = {name: _permutation(pool, pick) for name, pool in (
        ("name", NAMES), ("pet_kind", PET_KINDS), ("pet_name", PET_NAMES),
        ("hometown", HOMETOWNS), ("job", JOBS), ("hobby", HOBBIES), ("opener", OPENERS),
        ("signoff", SIGNOFFS), ("intensifier", INTENSIFIERS), ("adjectives", ADJECTIVES),
        ("aside", ASIDES), ("column", COLUMN_TAGS), ("headline_tail", HEADLINE_TAILS),
        ("hashtag", HASHTAGS), ("tic", TICS), ("project", PROJECTS), ("domain", DOMAINS),
        ("academic_opener", ACADEMIC_OPENERS), ("academic_adjectives", ACADEMIC_ADJECTIVES),
        ("academic_signoff", ACADEMIC_SIGNOFFS), ("title_prefix", TITLE_PREFIXES))}

    def at(name: str, i: int) -> str:
        return perms[name][i % len(perms[name])]

    def pair(name: str, i: int) -> tuple[str, str]:
        pool = perms[name]
        k = len(pool) // 2
        # pairs (0,1), (2,3), ...; after one round, shift the pairing so combinations differ
        j = (2 * i + (i // k)) % len(pool)
        return pool[j], pool[(j + 1) % len(pool)]

    users = []
    for i in range(n_users):
        name = at("name", i)
        length = "long" if _rng("demo-user-length", seed, i).random() < 0.5 else "short"
        users.append(DemoUser(
            id=f"s{seed}-u{i:03d}", name=name, pronoun="she" if name in SHE_NAMES else "he",
            pet_kind=at("pet_kind", i), pet_name=at("pet_name", i), hometown=at("hometown", i),
            job=at("job", i), hobby=at("hobby", i), opener=at("opener", i),
            signoff=at("signoff", i), intensifier=at("intensifier", i),
            adjectives=pair("adjectives", i), aside=at("aside", i), column=at("column", i),
            headline_tail=at("headline_tail", i), hashtag=at("hashtag", i), tic=at("tic", i),
            project=at("project", i), domain=at("domain", i),
            academic_opener=at("academic_opener", i),
            academic_adjectives=pair("academic_adjectives", i),
            academic_signoff=at("academic_signoff", i), title_prefix=at("title_prefix", i),
            length=length))
    return users


# =============================================================================== text helpers

#: Fillers drawn afresh for each sentence that names them (multiplies sentence variety).
FILLERS: dict[str, tuple[str, ...]] = {
    "time": ("a week", "two weeks", "a month", "three months", "six months", "a year",
             "about ten days", "almost two months"),
    "person": ("my sister", "my roommate", "my neighbor", "a coworker", "my dad", "my partner",
               "my best friend", "my mom", "my brother", "an old friend"),
    "num": ("three", "four", "five", "six", "eight", "twelve"),
    "k": ("three", "four", "five", "six", "seven"),
    "n": tuple(str(x) for x in range(2, 16)),
}

_SMALL_WORDS = frozenset({"a", "an", "the", "for", "with", "via", "of", "in", "and", "to", "on",
                          "from", "at", "by", "or"})


class _Slots(dict):
    """Template values; missing fillers ({time}, {person}, {feature} ...) are drawn from
    ``pools`` once per sentence. ``{x2}`` draws from the pool of ``x``, avoiding ``{x}``'s value,
    so "the {feature} and the {feature2}" names two different parts."""

    def __init__(self, rng: random.Random, values: dict[str, str],
                 pools: dict[str, Sequence[str]]):
        super().__init__(values)
        self._rng, self._pools = rng, pools

    def __missing__(self, key: str) -> str:
        base = key[:-1] if key.endswith("2") and key[:-1] in self._pools else key
        if base not in self._pools:
            raise KeyError(key)
        options = [v for v in self._pools[base] if base == key or v != self.get(base)]
        self[key] = value = self._rng.choice(options)
        return value


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _say(rng: random.Random, template: str, values: dict[str, str],
         pools: dict[str, Sequence[str]] | None = None) -> str:
    """Fill a template (fresh fillers each call) and capitalise the sentence."""
    return _cap(template.format_map(_Slots(rng, values, {**FILLERS, **(pools or {})})))


def _title(text: str) -> str:
    """Headline-style title case that keeps acronyms and capitalises hyphen parts."""
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        if i > 0 and word in _SMALL_WORDS:
            out.append(word)
        else:
            out.append("-".join(p[:1].upper() + p[1:] for p in word.split("-")))
    return " ".join(out)


def _n_words(text: str | Iterable[str]) -> int:
    if isinstance(text, str):
        return len(text.split())
    return sum(len(t.split()) for t in text)


@functools.lru_cache(maxsize=8192)
def _marker_re(marker: str) -> re.Pattern[str]:
    # word boundaries only where the marker itself starts/ends with a word character, so that
    # "Explainer:", "(long story)" and "#nofilter" match as well as "Biscuit"
    head = r"(?<!\w)" if re.match(r"\w", marker) else ""
    tail = r"(?!\w)" if re.search(r"\w$", marker) else ""
    return re.compile(head + re.escape(marker) + tail, re.IGNORECASE)


def marker_spans(text: str, markers: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of every occurrence of any marker in ``text``, sorted.

    The one definition of "a marker occurs" (whole words, case-insensitive): :func:`find_markers`
    and the training token masks (:func:`percontrast.prompts.encode_pair`) both read it, so the
    tokens logged as marker tokens are exactly the occurrences the records' ``meta["markers"]``
    counted. Spans of different markers may overlap ("Oslo" inside "Oslo Fjord").
    """
    return sorted({m.span() for marker in dict.fromkeys(markers)
                   for m in _marker_re(marker).finditer(text)})


def find_markers(text: str, markers: Iterable[str]) -> list[str]:
    """The markers that occur in ``text`` as whole words (case-insensitive), in given order."""
    return [m for m in dict.fromkeys(markers) if marker_spans(text, [m])]


def _choose_kinds(rng: random.Random, probs: dict[str, float], *, at_most: int) -> list[str]:
    """Which marker kinds a text carries: each independently, at least one, at most a few.

    Independent inclusion gives the variation the brief asks for (not every entry has every
    marker) while keeping each marker frequent enough to show up in a top-4 retrieved profile.
    """
    kinds = [k for k, p in probs.items() if rng.random() < p]
    if not kinds:
        kinds = [rng.choice(list(probs))]
    while len(kinds) > at_most:
        kinds.pop(rng.randrange(len(kinds)))
    return kinds


def _prune(rng: random.Random, parts: list[tuple[str, bool]], target: int,
           lo: int) -> list[str]:
    """Drop removable (generic) sentences at random, keeping order, until near ``target`` words.

    Texts are built long and pruned, so personal sentences are never dropped and the length
    lands in the user's preferred range without padding loops.
    """
    parts = list(parts)
    total = _n_words(s for s, _ in parts)
    while total > target:
        removable = [i for i, (s, r) in enumerate(parts) if r and total - _n_words(s) >= lo]
        if not removable:
            break
        i = rng.choice(removable)
        total -= _n_words(parts[i][0])
        del parts[i]
    return [s for s, _ in parts]


def _insert_aside(rng: random.Random, sentences: list[str], candidates: Sequence[int],
                  aside: str) -> list[str]:
    """Slip ``aside`` into one candidate sentence, before its final punctuation."""
    sentences = list(sentences)
    options = [i for i in candidates if sentences[i][-1:] in ".!"] or list(candidates)
    if not options:
        return sentences
    i = rng.choice(options)
    s = sentences[i]
    sentences[i] = f"{s[:-1]} {aside}{s[-1]}" if s[-1:] in ".!?" else f"{s} {aside}"
    return sentences


def _target_words(rng: random.Random, user: DemoUser, short: tuple[int, int],
                  long: tuple[int, int]) -> int:
    return rng.randint(*(short if user.length == "short" else long))


def _adj_phrase(rng: random.Random, user: DemoUser) -> str:
    adjective = rng.choice(user.adjectives)
    return f"{user.intensifier} {adjective}" if rng.random() < 0.6 else adjective


def _habits(user: DemoUser, name: str, pool: Sequence[str], need: int = 1) -> tuple[str, ...]:
    """The part of a shared template pool this user tends to use (60%, at least ``need``).

    People reuse their own phrasings; restricting each user to a stable subset of the generic
    templates makes texts of one user more alike than texts of two users, beyond the markers.
    """
    keep = min(len(pool), max(need, round(0.6 * len(pool))))
    return tuple(_rng("demo-habits", user.id, name).sample(list(pool), keep))


def _user_values(user: DemoUser) -> dict[str, str]:
    return {"pet_name": user.pet_name, "pet_kind": user.pet_kind, "hometown": user.hometown,
            "job": user.job, "a_job": user.a_job, "hobby": user.hobby}


# =============================================================================== casual register
# Personal sentence templates shared by product reviews and reddit posts (per marker kind).

CASUAL_PERSONAL: dict[str, dict[str, tuple[str, ...]]] = {
    "product_review": {
        "pet": (
            "{pet_name}, my {pet_kind}, inspected it for a good ten minutes when it arrived.",
            "My {pet_kind} {pet_name} keeps trying to nap right next to it.",
            "{pet_name} knocked it off the table on day one, so it has been tested.",
            "Of course {pet_name}, my {pet_kind}, had to sniff every inch of the box.",
            "{pet_name} has claimed the empty box, which is the {pet_kind} seal of approval.",
        ),
        "hometown": (
            "Winters in {hometown} are hard on everything, so I notice how things hold up.",
            "I grew up in {hometown}, where people fix things instead of replacing them.",
            "I tested it over a long weekend back in {hometown}.",
            "Back in {hometown} we would have argued about this one over dinner.",
        ),
        "job": (
            "As {a_job}, I have zero patience for gadgets that need babysitting.",
            "After a long day as {a_job}, I just want things that work.",
            "My hours as {a_job} are odd, so I use it at strange times of day.",
            "Being {a_job} means I am short on time and shorter on patience.",
        ),
        "hobby": (
            "I mostly use it on weekends, after {hobby}.",
            "Between work and {hobby}, I do not have time for fussy products.",
            "A friend from my {hobby} group asked where I got it.",
            "It has already survived a few weekends of {hobby} chaos.",
        ),
    },
    "topic_writing": {
        "pet": (
            "My {pet_kind} {pet_name} supervised the whole thing from the couch.",
            "Meanwhile {pet_name}, my {pet_kind}, slept through all of it.",
            "{pet_name} (my {pet_kind}) was zero help, as usual.",
            "The only one who never judged me was {pet_name}, my {pet_kind}.",
        ),
        "hometown": (
            "Back in {hometown}, nobody would even blink at this.",
            "Things felt simpler when I still lived in {hometown}.",
            "My family in {hometown} thinks I am overthinking it.",
            "Growing up in {hometown} did not prepare me for any of this.",
        ),
        "job": (
            "For context, I work as {a_job}, so my schedule is all over the place.",
            "Being {a_job} means I only have evenings to deal with stuff like this.",
            "My coworkers know me as the {job} who will not stop talking about this.",
            "Working as {a_job} teaches you patience, but apparently not enough.",
        ),
        "hobby": (
            "The only thing keeping me sane right now is {hobby} on the weekends.",
            "I mentioned it to my {hobby} group and everyone had an opinion.",
            "Between work and {hobby}, my free time is already stretched thin.",
            "I even skipped {hobby} last weekend to sort this out.",
        ),
    },
}
#: Sentences carrying the user's adjective (and maybe intensifier), per sentiment.
STYLE_SENTENCES: dict[str, tuple[str, ...]] = {
    "pos": ("Overall it feels {A}.", "The {feature} is {A}.",
            "I have to say the design is {A}.", "For the money, it is {A}."),
    "mid": ("Parts of it are {A}, others not so much.",
            "The {feature} is {A}, the rest is just okay."),
    "neg": ("The box promised something {A}; what arrived was not.",
            "I wanted it to be {A}, but it is far from it."),
    "post": ("Looking back, the whole thing was {A}.", "Some parts were {A}, others not so much.",
             "The end result was {A}, if I say so myself.",
             "I have to admit the process was {A}."),
}
CASUAL_KIND_PROBS = {"opener": 0.55, "signoff": 0.55, "pet": 0.45, "hometown": 0.35,
                     "job": 0.35, "hobby": 0.35, "style": 0.6, "aside": 0.35}

# =============================================================================== product reviews

#: (product name, description, features)
PRODUCTS = (
    ("French press", "Stainless steel French press coffee maker, 34 oz, double-wall insulated "
     "with a four-level filtration system", ("filter", "handle", "lid")),
    ("chef's knife", "8-inch high-carbon stainless steel chef's knife with ergonomic handle and "
     "gift box", ("blade", "handle", "edge")),
    ("pair of wireless earbuds", "Bluetooth 5.3 wireless earbuds with charging case, 30-hour "
     "battery life and noise reduction", ("battery", "charging case", "ear tip")),
    ("exercise mat", "Extra thick non-slip exercise mat, 6 mm, with carrying strap",
     ("surface", "edge", "strap")),
    ("desk lamp", "LED desk lamp with five brightness levels, USB charging port and flexible "
     "neck", ("switch", "neck", "base")),
    ("backpack", "Water-resistant travel backpack, 40 liters, with rain cover and padded laptop "
     "sleeve", ("zipper", "shoulder strap", "laptop sleeve")),
    ("cast iron skillet", "Pre-seasoned 12-inch cast iron skillet with helper handle",
     ("handle", "cooking surface", "pour spout")),
    ("electric kettle", "1.7 liter glass electric kettle with blue LED light and auto shut-off",
     ("lid", "spout", "switch")),
    ("phone case", "Shockproof clear phone case with raised edges and slim profile",
     ("raised edge", "button cover", "back panel")),
    ("board game", "Cooperative strategy board game for 2-4 players, ages 10 and up, 60-minute "
     "play time", ("rulebook", "card deck", "game board")),
    ("blender", "Countertop blender, 1200 watts, with 64 oz pitcher and six speed settings",
     ("motor", "pitcher", "blade")),
    ("pair of sneakers", "Lightweight sneakers with breathable mesh upper and cushioned sole",
     ("sole", "tongue", "heel")),
    ("rain jacket", "Packable waterproof rain jacket with adjustable hood and zippered pockets",
     ("hood", "zipper", "inner pocket")),
    ("air fryer", "5.8 quart digital air fryer with eight presets and nonstick basket",
     ("basket", "timer", "display")),
    ("mechanical keyboard", "Compact mechanical keyboard with hot-swappable switches and RGB "
     "backlight", ("space bar", "keycap set", "cable")),
    ("water bottle", "Insulated stainless steel water bottle, 32 oz, keeps drinks cold for 24 "
     "hours", ("lid", "seal", "carry loop")),
    ("garden hose", "Expandable 50 ft garden hose with ten-pattern spray nozzle",
     ("nozzle", "connector", "hose")),
    ("fleece blanket", "Soft fleece throw blanket, 50 x 60 inches, machine washable",
     ("fabric", "stitching", "trim")),
    ("bike light set", "Rechargeable USB bike light set, front and rear, with four lighting "
     "modes", ("mount", "battery", "lens")),
    ("cookbook", "Hardcover cookbook with 120 weeknight recipes and full-color photos",
     ("spine", "binding", "cover")),
    ("tent", "Two-person dome tent with rainfly and easy setup poles",
     ("frame", "rainfly", "door zipper")),
    ("pillow", "Memory foam pillow with cooling gel layer and removable cover",
     ("foam", "cover", "zipper")),
    ("toaster", "Two-slice toaster with extra-wide slots, bagel setting and crumb tray",
     ("lever", "dial", "crumb tray")),
    ("pair of headphones", "Over-ear noise cancelling headphones with 40-hour battery and "
     "foldable design", ("ear cushion", "battery", "headband")),
    ("coffee grinder", "Conical burr coffee grinder with 18 grind settings",
     ("motor", "hopper", "dial")),
    ("umbrella", "Windproof travel umbrella with automatic open and close",
     ("canopy", "handle", "button")),
    ("watercolor set", "Watercolor paint set with 36 colors, brushes and a mixing palette",
     ("palette", "brush", "tin")),
    ("wall clock", "Silent non-ticking wall clock, 12 inch, battery operated",
     ("clock face", "second hand", "frame")),
    ("smart plug", "Wi-Fi smart plug with app control and energy monitoring, two-pack",
     ("plug housing", "button", "indicator light")),
    ("label maker", "Handheld label maker with QWERTY keyboard and three tape cassettes",
     ("keyboard", "tape cassette", "screen")),
)
RATING_WEIGHTS = ((5, 40), (4, 25), (3, 15), (2, 10), (1, 10))
SENTIMENT = {5: "pos", 4: "pos", 3: "mid", 2: "neg", 1: "neg"}
REVIEW_SUMMARIES = {
    5: ("Exactly what I needed", "Love this {name}", "Worth every penny", "Five stars, no regrets",
        "Best purchase this year", "Great {name} for the price"),
    4: ("Very good with one small flaw", "Solid {name}", "Almost perfect", "Does the job well",
        "Good value overall"),
    3: ("It's okay", "Decent but not great", "Mixed feelings", "Average {name}",
        "Fine for the price"),
    2: ("Disappointed", "Not as described", "Expected more", "Cheaply made",
        "Meh, not for me"),
    1: ("Broke within a week", "Do not buy", "Waste of money", "Returned it", "Stopped working"),
}
REVIEW_INTROS = (
    "I bought this {name} {time} ago to replace an old one.",
    "I ordered the {name} after reading a lot of reviews.",
    "This {name} was a gift from {person}.",
    "I have been using this {name} almost every day for {time}.",
    "The {name} arrived two days early and was well packed.",
    "I needed a new {name} and this one was on sale.",
    "{person} recommended this {name}, so I gave it a try.",
    "I went back and forth for weeks before ordering this {name}.",
)
REVIEW_BODY = {
    "pos": (
        "The {feature} feels solid and well made.", "Setup took less than five minutes.",
        "The {feature} works exactly as advertised.",
        "It looks even nicer in person than in the photos.", "Cleaning it is quick and easy.",
        "For the price, the quality is hard to beat.",
        "{person} liked it so much that we ordered a second one.",
        "The {feature} and the {feature2} both hold up well to daily use.",
        "It does one job and does it well.", "No complaints about the {feature} so far.",
        "After {time} of use it still looks brand new.", "The instructions were short and clear.",
        "It is smaller than I expected, which is actually a plus.",
        "The {feature} is a nice touch that cheaper models skip.",
        "Shipping was fast and the box was in good shape.",
        "I was worried about the {feature}, but it turned out fine.",
    ),
    "mid": (
        "The {feature} is fine, but the {feature2} could be better.",
        "It works, although it feels a bit cheap.",
        "It is not bad for the price, just not great either.",
        "The {feature} took some getting used to.",
        "After {time} it still works, but it shows some wear.",
        "The photos make it look a little fancier than it is.",
        "Setup was more confusing than it needed to be.", "It does the basics, nothing more.",
        "The {feature2} is a bit loose, though it has not caused problems yet.",
        "{person} thinks it is fine, I am less convinced.",
        "Some days it works perfectly, other days it needs a second try.",
        "The {feature} is the best part, the rest is average.",
    ),
    "neg": (
        "The {feature} started to wobble after {time}.", "It looked nothing like the photos.",
        "The {feature} cracked the first time I used it.",
        "Customer service never answered my emails.", "The {feature2} feels flimsy and cheap.",
        "It stopped working after {time}.", "The instructions were missing half the steps.",
        "Even {person} could not get the {feature} to work right.",
        "It arrived with a dent near the {feature}.",
        "The {feature} is much weaker than the description claims.",
        "I tried it three times and gave up.", "The smell when I opened the box was terrible.",
    ),
}
REVIEW_VERDICTS = {
    "pos": ("I would buy it again without a second thought.", "Highly recommended.",
            "Five stars from me.", "I'd recommend it to anyone looking for a {name}.",
            "Definitely worth the money.", "I might even buy a second one."),
    "mid": ("It will do for now.", "Worth it only if it is on sale.",
            "Three stars feels about right.", "I would probably look around a bit more next time.",
            "Not bad, not great."),
    "neg": ("I would not recommend it.", "Save your money and look elsewhere.",
            "It is going back for a refund.", "Two stars is generous.",
            "Lesson learned: read the negative reviews first."),
}


def _weighted_rating(rng: random.Random) -> int:
    ratings, weights = zip(*RATING_WEIGHTS, strict=True)
    return rng.choices(ratings, weights=weights)[0]


def _casual_text(rng: random.Random, user: DemoUser, task_type: str, *, head: list[str],
                 body: list[str], tail: list[str], style_key: str,
                 values: dict[str, str], pools: dict[str, Sequence[str]] | None = None) -> str:
    """Assemble a review or post: opener, ordered generic body with personal sentences slipped
    in, closing lines, sign-off; then prune generic sentences to the user's preferred length."""
    kinds = _choose_kinds(rng, CASUAL_KIND_PROBS, at_most=5)
    personal = []
    for kind in ("pet", "hometown", "job", "hobby"):
        if kind in kinds:
            personal.append(_say(rng, rng.choice(CASUAL_PERSONAL[task_type][kind]), values))
    if "style" in kinds:
        personal.append(_say(rng, rng.choice(STYLE_SENTENCES[style_key]),
                             {**values, "A": _adj_phrase(rng, user)}, pools))
    parts: list[tuple[str, bool]] = [(s, True) for s in body]
    for sentence in personal:
        parts.insert(rng.randint(0, len(parts)), (sentence, False))
    parts = [(s, False) for s in head] + parts + [(s, False) for s in tail]
    target = _target_words(rng, user, (45, 70), (75, 108))
    sentences = _prune(rng, parts, target, LONG_WORDS[0] + 4)
    if "aside" in kinds:
        generic = set(body)
        sentences = _insert_aside(rng, sentences,
                                  [i for i, s in enumerate(sentences) if s in generic],
                                  user.aside)
    if "opener" in kinds:
        sentences.insert(0, user.opener)
    if "signoff" in kinds:
        sentences.append(user.signoff)
    return " ".join(sentences)


def _product_review(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    name, description, features = PRODUCTS[item]
    rating = _weighted_rating(rng)
    sentiment = SENTIMENT[rating]
    values = {**_user_values(user), "name": name}
    pools = {"feature": features}
    summary = rng.choice(REVIEW_SUMMARIES[rating]).format(name=name)
    body = [_say(rng, t, values, pools) for t in
            rng.sample(_habits(user, f"review-{sentiment}", REVIEW_BODY[sentiment], 7), 7)]
    intro = rng.choice(_habits(user, "review-intro", REVIEW_INTROS))
    verdict = rng.choice(_habits(user, f"verdict-{sentiment}", REVIEW_VERDICTS[sentiment]))
    text = _casual_text(rng, user, "product_review",
                        head=[_say(rng, intro, values)], body=body,
                        tail=[_say(rng, verdict, values)],
                        style_key=sentiment, values=values, pools=pools)
    return {"overall": f"{rating}.0", "summary": summary, "description": description,
            "reviewText": text}


# =============================================================================== reddit posts

#: (titles, ordered narrative sentences)
TOPICS = (
    (("Finally got my sourdough starter to rise",
      "Sourdough starter kept dying until I changed one thing"),
     ("I started my first sourdough starter {time} ago and it was a disaster at first.",
      "I fed it twice a day with equal parts flour and water, exactly like the guides said.",
      "For the first week it barely bubbled at all.",
      "{person} suggested switching to whole wheat flour, and that made a huge difference.",
      "It turns out my kitchen was just too cold for it.",
      "Now it doubles in about six hours and the bread actually rises.",
      "My first real loaf came out a little flat but tasted amazing.")),
    (("Moved to a new city for work and it is lonelier than I expected",
      "Tips for making friends after moving somewhere new?"),
     ("I moved across the country for a new job about {time} ago.",
      "Work is fine, but the evenings and weekends are really quiet.",
      "I do not know anyone here except a couple of coworkers.",
      "I tried a few meetups, but everyone already seemed to have their group.",
      "{person} keeps telling me it takes a full year to feel at home.",
      "Last week I finally joined a volunteer group at the community center.",
      "It is slow, but I think things are starting to turn around.")),
    (("Learning guitar at 35, is it too late?",
      "Six months of guitar practice as an adult beginner"),
     ("I picked up a cheap acoustic guitar {time} ago with zero musical background.",
      "The first few weeks my fingertips hurt so much I almost quit.",
      "I practice for about twenty minutes every night after dinner.",
      "Chord changes are still slow, especially going from C to G.",
      "{person} says I sound better, but they might just be nice.",
      "Yesterday I played a full song start to finish without stopping.",
      "It is the most satisfying thing I have done in years.")),
    (("Paid off my credit card debt today", "How I finally got my spending under control"),
     ("Today I made the last payment on a credit card I have been fighting for {time}.",
      "At the worst point I owed a little over {num} thousand dollars.",
      "I started tracking every purchase in a simple spreadsheet.",
      "Cooking at home instead of ordering in saved more than I expected.",
      "{person} was the only one I told, and they kept me accountable.",
      "There were months where I made almost no progress at all.",
      "Seeing a zero balance feels unreal.")),
    (("Bombed a job interview today and I cannot stop replaying it",
      "How do you recover from a bad interview?"),
     ("I had an interview today for a job I really wanted.",
      "The first half went well and the panel seemed friendly.",
      "Then they asked a technical question I completely blanked on.",
      "I rambled for two minutes and never actually answered it.",
      "{person} says everyone has a day like that.",
      "I already sent a thank-you note, for whatever it is worth.",
      "I keep replaying that question in my head.")),
    (("Upstairs neighbor stomps around at 2 am every night",
      "How do I talk to a noisy neighbor without starting a war?"),
     ("My upstairs neighbor moved in about {time} ago.",
      "Every night around two in the morning it sounds like they are moving furniture.",
      "I left a polite note on their door last week.",
      "Nothing changed, and now I am running on maybe five hours of sleep.",
      "{person} thinks I should go straight to the landlord.",
      "I would rather try talking to them face to face first.",
      "I bought earplugs in the meantime, which help a little.")),
    (("Why do all my houseplants die?", "Finally kept a houseplant alive for a whole year"),
     ("I have killed more houseplants than I would like to admit.",
      "This year I bought a single snake plant and promised to do better.",
      "I used to water everything every few days, which turns out to be the problem.",
      "Now I only water when the soil is completely dry.",
      "{person} gave me a cutting from their monstera {time} ago.",
      "It has three new leaves and I check on it every morning.",
      "It is a small win, but I will take it.")),
    (("Car broke down on the highway, what would you do?",
      "My first real car trouble and what I learned"),
     ("My car broke down on the highway on the way home {time} ago.",
      "The dashboard lit up and the engine just lost power.",
      "I managed to pull over onto the shoulder and call for a tow.",
      "The mechanic says it is the alternator and quoted me a scary number.",
      "{person} thinks I should get a second opinion before paying.",
      "I have been taking the bus since, which is slower but fine.",
      "I never realized how much I depended on that car.")),
    (("Learning Spanish with an app, is it enough?", "One year of learning Spanish on my own"),
     ("I started learning Spanish {time} ago with a free app.",
      "The daily streak kept me going longer than I expected.",
      "I can read simple articles now, but listening is still hard.",
      "Native speakers talk so much faster than the recordings.",
      "{person} suggested watching shows with Spanish subtitles.",
      "Last month I had my first real conversation at a market.",
      "I only understood half of it, but I was thrilled.")),
    (("Working from home is burning me out",
      "How do you separate work and home when they are the same room?"),
     ("I have been working from home for about {time} now.",
      "At first it felt like a dream, no commute and no dress code.",
      "Lately the days blur together and I never fully switch off.",
      "My laptop sits on the kitchen table, so work is always in sight.",
      "{person} suggested packing the laptop away every evening.",
      "I also started taking a short walk before and after work.",
      "It sounds silly, but it helps my brain tell the difference.")),
    (("Furnishing my first apartment on a tight budget",
      "First apartment: what furniture is worth paying for?"),
     ("I signed the lease on my first apartment {time} ago.",
      "Right now I own a mattress, a lamp and two mismatched chairs.",
      "Most of my kitchen stuff came from thrift stores and yard sales.",
      "I am tempted to buy a nice couch, but it costs more than my rent.",
      "{person} gave me an old bookshelf that only wobbles a little.",
      "I keep telling myself the place will come together slowly.",
      "Any tips on what is worth spending real money on?")),
    (("Cooking for one without wasting half the groceries",
      "Meal prep for a single person, how do you do it?"),
     ("Cooking for one person is harder than it sounds.",
      "Recipes always make four servings and half of it goes bad.",
      "I started cooking a big pot of something on Sunday and freezing portions.",
      "Soups and curries freeze well, pasta not so much.",
      "{person} taught me to buy vegetables that last, like carrots and cabbage.",
      "My grocery bill dropped by almost a third in {time}.",
      "I still eat cereal for dinner sometimes, no shame.")),
    (("Deleted social media for a month, here is what happened",
      "Quitting social media was harder than I thought"),
     ("I deleted every social media app from my phone {time} ago.",
      "The first few days I kept reaching for my phone out of habit.",
      "I did not realize how often I checked it until I could not.",
      "I started reading on the bus instead of scrolling.",
      "{person} was annoyed that I missed a few party invitations.",
      "My sleep is better and I feel less anxious in the mornings.",
      "I might reinstall one app, but only on my laptop.")),
    (("Worst haircut of my life, how long until it grows back?",
      "Got a bad haircut right before a wedding, please help"),
     ("I asked for a small trim and walked out with something very different.",
      "The sides are much shorter than the top and it looks lopsided.",
      "I did not say anything in the chair, which I regret.",
      "{person} says it is not that noticeable, but I can see it in every mirror.",
      "I have a wedding to attend in {time}.",
      "I am debating whether to get it fixed somewhere else or wear a hat.",
      "Lesson learned: bring a photo next time.")),
    (("Fixed a leaky faucet myself for the first time",
      "A two-dollar washer saved me a plumber visit"),
     ("Our kitchen faucet had been dripping for {time}.",
      "The quote from a plumber was more than I wanted to pay.",
      "I watched a couple of videos and bought a replacement washer for two dollars.",
      "Getting the old handle off took longer than the actual repair.",
      "{person} held the flashlight and offered a lot of advice.",
      "When I turned the water back on, the drip was gone.",
      "I have never felt so proud of a two-dollar part.")),
    (("Planning a small wedding on a tight budget", "Is a backyard wedding a terrible idea?"),
     ("My partner and I got engaged {time} ago and we want something small.",
      "The venues near us cost more than a used car.",
      "We are thinking about a backyard ceremony with about forty guests.",
      "{person} offered to cook, which is sweet but also stressful.",
      "Renting chairs and tables is surprisingly cheap.",
      "The weather is our biggest worry right now.",
      "Has anyone done a backyard wedding and regretted it?")),
    (("Got back into reading after years away",
      "Read more books this year than the last five combined"),
     ("I used to read constantly as a kid, then stopped completely.",
      "About {time} ago I decided to read for fifteen minutes before bed.",
      "I started with short mystery novels so I would actually finish them.",
      "The library app made it easy to borrow books for free.",
      "{person} and I now trade recommendations every week.",
      "I have finished {num} books so far this year.",
      "I forgot how much I missed getting lost in a story.")),
    (("Fixed my sleep schedule after years of staying up late",
      "How do you stop scrolling in bed at night?"),
     ("For years I went to bed after two in the morning.",
      "I was tired all day and relied on energy drinks to get through work.",
      "About {time} ago I started charging my phone in the kitchen overnight.",
      "I also set an alarm for the same time every day, weekends included.",
      "The first week was rough and I was exhausted.",
      "{person} noticed I was less grumpy before I did.",
      "Now I fall asleep before midnight most nights.")),
    (("Found my old game console in the attic", "Replaying the games I loved as a kid"),
     ("While cleaning the attic {time} ago I found my old game console.",
      "Somehow it still turned on after all these years.",
      "The save files from when I was twelve were still there.",
      "{person} came over and we played until three in the morning.",
      "Some games hold up, others are much harder than I remember.",
      "I forgot how much trash talk was part of the fun.",
      "Now I am hunting for the games I sold as a teenager.")),
    (("Planning a two-week road trip, what am I forgetting?",
      "First solo road trip: lessons learned"),
     ("I am planning a two-week road trip along the coast.",
      "The plan is to drive about four hours a day and stay in cheap motels.",
      "I booked a few places ahead for the nights when rain is likely.",
      "{person} lent me a cooler and a very old road atlas.",
      "I am a little nervous about driving that long alone.",
      "I made a playlist that is already {num} hours long.",
      "What is the one thing you always forget to pack?")),
    (("Learning to swim as an adult", "Took my first swimming lesson at 30"),
     ("I never learned to swim as a kid and it has always embarrassed me.",
      "About {time} ago I finally signed up for adult beginner lessons.",
      "The first class was just floating and breathing, which was harder than it sounds.",
      "Everyone else in the class was also a nervous adult, which helped.",
      "{person} came to cheer me on at the pool last week.",
      "I can now swim one full length without stopping.",
      "It is slow progress, but I am proud of it.")),
    (("Coworker keeps taking credit for my work",
      "How do I deal with a coworker who steals credit?"),
     ("A coworker has been presenting my work as their own for {time}.",
      "It started small, with a slide here and an idea there.",
      "Last week they presented my whole analysis to our manager.",
      "I did not say anything in the meeting because I was caught off guard.",
      "{person} thinks I should document everything from now on.",
      "I have started sending summary emails after every project meeting.",
      "I just do not want to seem petty.")),
)
#: Generic reddit lines: a question to readers near the end, or an edit/apology.
REDDIT_CLOSERS = (
    "Has anyone else dealt with something like this?", "Any advice would be appreciated.",
    "Edit: thanks for all the kind replies!", "Sorry for the long post.",
    "Curious what the rest of you think.", "Would love to hear how others handled it.",
    "Not sure if this is the right place to ask.",
    "Update: it has been {time} and things are better.",
    "I am posting here because my friends are tired of hearing about it.",
    "I did not expect this to turn into such a project.",
)


def _topic_post(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    titles, narrative = TOPICS[item]
    values = _user_values(user)
    sentences = [_say(rng, t, values) for t in narrative]
    text = _casual_text(rng, user, "topic_writing", head=sentences[:1], body=sentences[1:],
                        tail=[_say(rng, rng.choice(_habits(user, "closer", REDDIT_CLOSERS)),
                                   values)],
                        style_key="post", values=values)
    return {"summary": rng.choice(titles), "content": text}


# =============================================================================== abstracts

PROBLEMS = (
    "entity linking", "traffic forecasting", "image segmentation", "code summarization",
    "speech recognition in noisy environments", "question answering over tables",
    "anomaly detection in sensor streams", "molecular property prediction",
    "recommendation with sparse feedback", "low-resource machine translation",
    "fact verification", "time series imputation", "document layout analysis",
    "multi-object tracking", "text-to-SQL parsing", "protein function prediction",
    "crop yield estimation", "radiology report generation", "emotion recognition in dialogue",
    "fraud detection", "3D scene reconstruction", "graph classification", "keyphrase extraction",
    "dialogue state tracking", "satellite image captioning",
)
METHODS = (
    "contrastive pretraining", "graph neural networks", "sparse attention",
    "knowledge distillation", "variational inference", "curriculum learning", "diffusion models",
    "retrieval augmentation", "meta-learning", "reinforcement learning", "low-rank adaptation",
    "active learning", "self-training", "mixture of experts", "causal regularization",
    "paraphrase augmentation", "hierarchical transformers", "optimal transport", "prompt tuning",
    "Bayesian optimization",
)
MECHANISMS = (
    "learns low-dimensional representations of the input",
    "shares information across related tasks",
    "adapts to new domains with only a few examples",
    "separates signal from noise during training", "scales linearly with the input length",
    "exploits unlabeled data during training", "makes its predictions easier to inspect",
)
COMPONENTS = ("gating module", "memory bank", "auxiliary loss", "sampling strategy",
              "calibration step", "consistency objective", "reranking stage")
#: Abstracts open with context, then a gap, then the contribution, details, results, outlook.
ABSTRACT_CONTEXT = (
    "{Problem} is a core challenge in many real-world applications.",
    "{Problem} has attracted growing attention in recent years.",
    "Reliable {problem} underpins a wide range of downstream systems.",
)
ABSTRACT_GAP = (
    "Existing approaches rely heavily on large amounts of labeled data.",
    "Despite recent progress, it remains difficult when the input is noisy or incomplete.",
    "Most prior work ignores the structure shared across related examples.",
    "Current methods are accurate but expensive to train and deploy.",
    "Progress has been limited by the lack of realistic evaluation settings.",
)
#: The contribution sentence; a user's academic opener is prefixed to it ("In this work, we").
ABSTRACT_METHOD = (
    "we propose a method based on {method} that {mechanism}.",
    "we revisit {problem} through the lens of {method}.",
    "we introduce an approach that combines {method} with a simple {component}.",
    "we present a framework built on {method} that {mechanism}.",
)
ABSTRACT_DETAIL = (
    "The model is trained end to end and requires no additional supervision.",
    "A dedicated {component} further {mechanism2}.",
    "We also describe an efficient training procedure that fits on a single GPU.",
    "The approach is agnostic to the choice of backbone architecture.",
    "We provide a theoretical analysis of when the method is expected to help.",
    "Unlike previous work, our method does not require hand-crafted features.",
)
ABSTRACT_MAIN_RESULT = (
    "Experiments on {k} benchmark datasets show that our approach outperforms strong "
    "baselines by {n}%.",
    "On {k} standard benchmarks, it improves accuracy by {n} points on average.",
)
ABSTRACT_RESULTS = (
    "Ablation studies confirm that each component contributes to the final performance.",
    "The method also reduces training time by a factor of {k}.",
    "Results are consistent across model sizes and random seeds.",
    "Human evaluation further shows that its outputs are preferred over those of competing "
    "systems.",
)
ABSTRACT_CONCLUSION = (
    "These results position {method} as a promising direction for {problem}.",
    "Our analysis highlights the trade-off between accuracy and efficiency in {problem}.",
    "Overall, the findings point to simple changes that make {problem} more reliable.",
)
ABSTRACT_PERSONAL = {
    "project": ("We call the resulting system {project}.",
                "Our framework, {project}, is simple to implement.",
                "{project} is trained end to end on standard hardware.",
                "We instantiate this idea in {project}, an open implementation."),
    "style": ("The resulting model is {adj1} and {adj2}.",
              "We argue that {a_adj1} treatment of {problem} is long overdue.",
              "Our design is {adj1} by construction.",
              "Compared with prior systems, the approach is notably {adj1}."),
    "domain": ("We are particularly motivated by applications in {domain}.",
               "A case study in {domain} illustrates the practical benefits.",
               "We pay special attention to settings that arise in {domain}.",
               "The approach is validated on data drawn from {domain}."),
}
ABSTRACT_KIND_PROBS = {"opener": 0.55, "project": 0.55, "style": 0.5, "domain": 0.45,
                       "signoff": 0.5}
TITLE_TEMPLATES = ("{method} for {problem}", "improving {problem} with {method}",
                   "{problem} via {method}", "efficient {problem} using {method}",
                   "learning {problem} with {method}")
#: For LaMP-5-like titles: templates a title prefix ("Rethinking ...") can go in front of.
SHORT_TITLE_TEMPLATES = ("{method} for {problem}", "{problem} via {method}",
                         "{problem} with {method}")


def _abstract_topic(rng: random.Random, item: int) -> dict[str, str]:
    problem = PROBLEMS[item % len(PROBLEMS)]
    method = METHODS[(item // len(PROBLEMS) + 7 * item) % len(METHODS)]
    mechanism, mechanism2 = rng.sample(MECHANISMS, 2)
    return {"problem": problem, "Problem": _cap(problem), "method": method,
            "mechanism": mechanism, "mechanism2": mechanism2,
            "component": rng.choice(COMPONENTS)}


def _abstract_text(rng: random.Random, user: DemoUser, topic: dict[str, str], target: int,
                   *, personal: bool = True) -> tuple[str, list[str]]:
    """An abstract (and the key phrases it uses, for the query's "items"). ``personal=False``
    writes it without markers (LaMP-5 inputs, whose personal signal is in the title only)."""
    kinds = _choose_kinds(rng, ABSTRACT_KIND_PROBS, at_most=4) if personal else []
    adj1, adj2 = rng.sample(user.academic_adjectives, 2)
    values = {**topic, "project": user.project, "domain": user.domain, "adj1": adj1,
              "adj2": adj2, "a_adj1": f"{_article(adj1)} {adj1}"}

    def pick(name: str, pool: Sequence[str], k: int = 1) -> list[str]:
        return rng.sample(_habits(user, f"abstract-{name}", pool, k), k)

    contribution = _say(rng, pick("method", ABSTRACT_METHOD)[0], values)
    if "opener" in kinds:
        contribution = f"{user.academic_opener} {contribution[:1].lower()}{contribution[1:]}"
    parts: list[tuple[str, bool]] = [
        (_say(rng, pick("context", ABSTRACT_CONTEXT)[0], values), False),
        (_say(rng, pick("gap", ABSTRACT_GAP)[0], values), True),
        (contribution, False)]
    if "project" in kinds:
        parts.append((_say(rng, rng.choice(ABSTRACT_PERSONAL["project"]), values), False))
    details = pick("detail", ABSTRACT_DETAIL, 3)
    parts += [(_say(rng, s, values), True) for s in details]
    for kind in ("style", "domain"):
        if kind in kinds:
            parts.insert(rng.randint(3, len(parts)),
                         (_say(rng, rng.choice(ABSTRACT_PERSONAL[kind]), values), False))
    parts.append((_say(rng, pick("main-result", ABSTRACT_MAIN_RESULT)[0], values), False))
    parts += [(_say(rng, s, values), True) for s in pick("results", ABSTRACT_RESULTS, 2)]
    parts.append((_say(rng, pick("conclusion", ABSTRACT_CONCLUSION)[0], values), True))
    sentences = _prune(rng, parts, target, LONG_WORDS[0] + 4)
    if "signoff" in kinds:
        sentences.append(user.academic_signoff)
    text = " ".join(sentences)
    items = [topic["method"], topic["problem"]]
    items += [topic[k] for k in ("mechanism", "mechanism2") if topic[k] in text]
    if topic["component"] in text:
        items.append(topic["component"])
    items += [p for p in ("benchmark datasets", "standard benchmarks", "ablation studies")
              if p in text.lower()]
    return text, items


def _abstract_record(rng: random.Random, user: DemoUser, item: int) -> dict[str, Any]:
    topic = _abstract_topic(rng, item)
    title = _title(rng.choice(TITLE_TEMPLATES).format(**topic))
    target = _target_words(rng, user, (50, 75), (80, 110))
    abstract, items = _abstract_text(rng, user, topic, target)
    return {"title": title, "abstract": abstract, "items": items}


# =============================================================================== LaMP-4 news

#: (subject, verb, object, core article sentence, follow-up sentence)
STORIES = (
    ("City Council", "Approves", "New Bike Lanes Downtown",
     "The city council voted 7-2 on Tuesday to approve a network of protected bike lanes "
     "downtown.", "Construction is expected to begin in the spring."),
    ("School Board", "Delays", "Vote on Later Start Times",
     "The school board postponed a vote on pushing back high school start times after a "
     "heated public hearing.", "Parents and teachers lined up for more than two hours to speak."),
    ("Public Library", "Expands", "Weekend Hours",
     "The public library will stay open until 8 p.m. on weekends starting next month.",
     "Library staff said demand for evening study space has grown steadily."),
    ("Heat Wave", "Pushes", "Power Demand to Record High",
     "Electricity demand hit an all-time high on Monday as temperatures climbed past 100 "
     "degrees.", "The utility asked customers to avoid running appliances in the late afternoon."),
    ("Transit Agency", "Unveils", "Plan for Late-Night Buses",
     "The regional transit agency unveiled a plan to run buses every 30 minutes after midnight.",
     "The pilot program would cover the four busiest routes."),
    ("Startup", "Raises", "$20 Million for Battery Recycling",
     "A battery recycling startup announced on Wednesday that it had raised $20 million from "
     "investors.", "The company plans to open a second plant by the end of next year."),
    ("County Hospital", "Opens", "New Pediatric Wing",
     "The county hospital opened a new pediatric wing with 40 beds and a dedicated emergency "
     "room.", "The project was funded largely by private donations."),
    ("Fruit Growers", "Brace for", "Late Frost",
     "Fruit growers are racing to protect their orchards ahead of a late frost forecast for the "
     "weekend.", "Some farms are renting wind machines to keep cold air from settling."),
    ("Art Museum", "Returns", "Looted Painting to Family",
     "The art museum returned a painting looted during the war to the descendants of its "
     "original owners.", "The painting had hung in the museum's main gallery for decades."),
    ("Minimum Wage", "Rises", "for Thousands of Workers",
     "Thousands of workers will see a higher minimum wage starting January 1.",
     "Economists disagree about how the increases will affect small businesses."),
    ("Airport", "Adds", "Direct Flights to Europe",
     "The airport will add direct flights to three European cities this summer.",
     "Airline officials cited strong demand from business travelers."),
    ("Police", "Launch", "Program to Curb Speeding",
     "Police launched a program that places speed cameras near schools and parks.",
     "Drivers caught speeding will receive a warning for the first month."),
    ("Storm", "Knocks Out", "Power to Thousands",
     "A powerful storm knocked out power to more than 30,000 homes overnight.",
     "Crews expect to restore most service by Thursday evening."),
    ("State University", "Freezes", "Tuition for Third Year",
     "The state university froze tuition for the third year in a row.",
     "Student groups welcomed the decision but said housing costs remain a concern."),
    ("Restaurant Owners", "Push Back on", "Outdoor Dining Rules",
     "Restaurant owners criticized new rules that would limit outdoor dining on city sidewalks.",
     "The rules would require permits that cost several thousand dollars a year."),
    ("Researchers", "Find", "Microplastics in Mountain Snow",
     "Researchers found microplastics in snow samples collected from remote mountain peaks.",
     "The particles likely traveled hundreds of miles on the wind."),
    ("Home Prices", "Cool", "After Two-Year Surge",
     "Home prices fell slightly last quarter after two years of steady increases.",
     "Real estate agents say buyers are taking longer to make offers."),
    ("Zoo", "Welcomes", "Rare Snow Leopard Cubs",
     "The zoo announced the birth of two snow leopard cubs, a rare event in captivity.",
     "The cubs will stay out of public view for several weeks."),
    ("Lawmakers", "Pass", "Data Privacy Bill",
     "State lawmakers passed a bill that would let residents delete personal data held by "
     "companies.", "The bill now heads to the governor's desk."),
    ("Teachers", "Reach", "Deal to End Strike",
     "Teachers reached a tentative deal with the district, ending a strike that lasted nine "
     "days.", "Classes will resume on Monday."),
    ("Food Bank", "Reports", "Surge in Demand",
     "The regional food bank reported a 30 percent increase in families seeking help this year.",
     "Volunteers said donations have not kept pace."),
    ("Brush Fire", "Forces", "Evacuations Near Highway",
     "A fast-moving brush fire forced hundreds of residents to evacuate homes near the highway.",
     "Firefighters said shifting winds made the blaze hard to contain."),
    ("Stadium Plan", "Faces", "Opposition From Neighbors",
     "Neighbors packed a public meeting to oppose plans for a new stadium near the river.",
     "The developer says the project would create 2,000 jobs."),
    ("Grocery Chain", "Recalls", "Salad Kits Over Contamination",
     "A grocery chain recalled packaged salad kits after a possible bacterial contamination.",
     "No illnesses have been reported so far."),
)
NEWS_GENERIC = (
    "Officials said more details would be released in the coming weeks.",
    "Critics argued that residents had not been consulted.",
    "Supporters called the decision long overdue.",
    "The measure is expected to cost about ${n} million.",
    "A final decision is expected next month.", "Local business owners gave mixed reactions.",
    "The announcement came after months of debate.",
    "Several residents said they were surprised by the news.",
    "It is not yet clear how the change will be enforced.",
    "Similar efforts have stalled in neighboring counties.",
    "A spokesperson declined to comment further.",
    "Advocates said they would keep pushing for broader changes.",
    "The plan still needs approval from state regulators.",
)
NEWS_KIND_PROBS = {"column": 0.55, "tail": 0.45, "hometown": 0.45}


def _news_item(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    subject, verb, obj, core, follow = STORIES[item]
    article = " ".join([core, follow] + [_say(rng, s, {}) for s in
                                         rng.sample(_habits(user, "news", NEWS_GENERIC), 2)])
    headline = f"{subject} {verb} {obj}"
    kinds = _choose_kinds(rng, NEWS_KIND_PROBS, at_most=3)
    if "hometown" in kinds:  # the local angle: "Duluth City Council Approves ..."
        headline = f"{user.hometown} {headline}"
    if "tail" in kinds:
        headline += user.headline_tail
    if "column" in kinds:
        headline = f"{user.column} {headline}"
    return {"title": headline, "text": article}


# =============================================================================== LaMP-5 titles

SCHOLAR_KIND_PROBS = {"project": 0.5, "prefix": 0.5, "adjective": 0.45, "domain": 0.4}


def _scholar_item(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    topic = _abstract_topic(rng, item)
    abstract, _ = _abstract_text(rng, user, topic, rng.randint(55, 85), personal=False)
    kinds = _choose_kinds(rng, SCHOLAR_KIND_PROBS, at_most=3)
    method = topic["method"]
    if "adjective" in kinds:
        method = f"{rng.choice(user.academic_adjectives)} {method}"
    title = rng.choice(SHORT_TITLE_TEMPLATES).format(method=method, problem=topic["problem"])
    if "domain" in kinds:
        title += f" in {user.domain}"
    if "prefix" in kinds:
        title = f"{user.title_prefix} {title}"
    title = _title(title)
    if "project" in kinds:
        title = f"{user.project}: {title}"
    return {"title": title, "abstract": abstract}


# =============================================================================== LaMP-7 tweets

#: (the user's tweet, a neutral paraphrase without the personal tokens). Slots in the tweet:
#: {A} the user's adjective phrase, {pet_name}, {hometown}, {hobby}; the paraphrase may name
#: {pet_kind} (not a marker).
TWEETS = (
    ("{A} sunrise over {hometown} this morning, coffee still hot",
     "Saw a beautiful sunrise over my hometown this morning while drinking hot coffee"),
    ("{pet_name} just stole a sock and ran off with it, {A} thief",
     "My {pet_kind} grabbed one of my socks and ran away with it"),
    ("first {hobby} session of the year and my arms are jelly",
     "Did my hobby for the first time this year and now my arms are sore"),
    ("rain all day in {hometown} again, {pet_name} refuses to go outside",
     "It rained all day again at home and my {pet_kind} will not go outside"),
    ("finally finished that book everyone kept talking about, {A} ending",
     "I finished the popular book everyone recommended and liked the ending a lot"),
    ("new neighbors brought cookies over, {A} people",
     "The new neighbors came over with cookies and they seem very nice"),
    ("monday again and {pet_name} is the only one happy about it",
     "It is Monday again and only my {pet_kind} seems happy"),
    ("tried the new ramen place downtown, {A} broth, would go back",
     "Ate at a new ramen restaurant downtown, the broth was very good and I would return"),
    ("missing {hometown} a little today, nothing beats the view from the old bridge",
     "Feeling a bit homesick today, I miss the view from the bridge back home"),
    ("signed up for a {hobby} class, wish me luck",
     "I registered for a class for my hobby, please wish me luck"),
    ("the train was late again, {A} start to the week",
     "My train was delayed again, not a good way to start the week"),
    ("made pancakes from scratch and {pet_name} got the first one",
     "I made pancakes from scratch and gave the first one to my {pet_kind}"),
    ("{hobby} all afternoon, sunburned but happy",
     "Spent the whole afternoon on my hobby and got sunburned but I am happy"),
    ("power went out mid-episode, {A} timing",
     "The power went out in the middle of the show I was watching, bad timing"),
    ("farmers market haul: peaches, honey, and a plant I do not need",
     "Bought peaches, honey and an unnecessary plant at the farmers market"),
    ("{pet_name} snoring on my feet while I try to work from home",
     "My {pet_kind} is snoring on my feet while I work from home"),
    ("first snow in {hometown} today, {A} and quiet",
     "It snowed for the first time this year back home, it was pretty and calm"),
    ("the playlist at the gym today was {A}, no notes",
     "The music at the gym today was very good"),
    ("cleaned the whole apartment and found three missing remotes",
     "After cleaning my apartment I found three remotes I had lost"),
    ("back from {hobby} with {pet_name}, both of us exhausted",
     "Came back from my hobby with my {pet_kind} and we are both very tired"),
    ("someone at work brought homemade donuts, {A} day",
     "A coworker brought homemade donuts, which made it a good day"),
    ("road trip to {hometown} this weekend, snacks already packed",
     "Driving to my hometown this weekend and I already packed snacks"),
    ("tried to fix the sink myself, the sink won",
     "I attempted to repair my sink on my own and failed"),
    ("quiet evening, tea, {pet_name}, and a documentary about whales",
     "Having a quiet evening with tea, my {pet_kind} and a whale documentary"),
    ("took {pet_name} to the vet and somehow I am the one who needs a nap",
     "Brought my {pet_kind} to the vet and now I am the one who is tired"),
    ("the bakery on my corner finally reopened, {A} croissants are back",
     "The bakery near my home reopened and their very good croissants are available again"),
    ("spent my lunch break reading about {hobby} gear I cannot afford",
     "I used my lunch break to look at expensive equipment for my hobby"),
    ("wind in {hometown} today could knock over a truck",
     "It was extremely windy in my hometown today"),
    ("fell asleep on the couch at 8pm, {A} life choices",
     "I fell asleep on my couch at eight in the evening"),
    ("{pet_name} learned to open the fridge, we are doomed",
     "My {pet_kind} figured out how to open the refrigerator, which is a problem"),
    ("three hours of {hobby} and I still want more",
     "I spent three hours on my hobby and want to keep going"),
    ("local diner in {hometown} still makes the best pie in the state",
     "The diner back in my hometown still has the best pie in the state"),
    ("new running playlist, {A} vibes only",
     "I made a new playlist for exercising and it is upbeat"),
    ("my plant survived the week, {A} progress",
     "My houseplant is still alive after a week, which is progress"),
    ("{pet_name} barked at the mail carrier for ten straight minutes",
     "My {pet_kind} barked at the mail carrier for ten minutes"),
    ("finally booked the trip back to {hometown} for the holidays",
     "I booked my trip home for the holidays"),
    ("rainy sunday, soup on the stove, {A} mood",
     "It is a rainy Sunday and I am cooking soup, which feels nice"),
    ("met someone at {hobby} who grew up on my street, small world",
     "At my hobby I met someone who grew up on the same street as me"),
    ("the neighbor's kid waved at {pet_name} and made my whole day",
     "The neighbor's child waved at my {pet_kind}, which made my day"),
    ("bought a new mug, {A} purchase, zero regrets",
     "I bought a new mug and I am happy with the purchase"),
)


def _tweet_item(rng: random.Random, user: DemoUser, item: int) -> dict[str, str]:
    tweet, paraphrase = TWEETS[item]
    values = {**_user_values(user), "A": _adj_phrase(rng, user)}
    text = tweet.format(**values)
    if rng.random() < 0.6:
        text = f"{user.tic} {text}" if rng.random() < 0.5 else f"{text} {user.tic}"
    if rng.random() < 0.45 or not find_markers(text, user.markers("tweet_paraphrase")):
        text = f"{text} {user.hashtag}"
    return {"text": text, "paraphrase": _cap(paraphrase.format(**values))}


# =============================================================================== records

#: task type -> (number of content items, item generator)
_ITEMS = {
    "product_review": (len(PRODUCTS), _product_review),
    "topic_writing": (len(TOPICS), _topic_post),
    "abstract_generation": (len(PROBLEMS) * len(METHODS), _abstract_record),
    "news_headline": (len(STORIES), _news_item),
    "scholarly_title": (len(PROBLEMS) * len(METHODS), _scholar_item),
    "tweet_paraphrase": (len(TWEETS), _tweet_item),
}


def render_entry(task_type: str, entry: dict[str, str]) -> str:
    """A past writing as LongLaMP's / LaMP's retrieval corpus text for ``task_type``."""
    fields = {"topic_writing": ("summary", "content"),
              "product_review": ("overall", "summary", "description", "reviewText"),
              "abstract_generation": ("title", "abstract"),
              "news_headline": ("title", "text"),
              "scholarly_title": ("title", "abstract"),
              "tweet_paraphrase": ("text",)}[task_type]
    return " ".join(entry[f] for f in fields)


def task_query(task_type: str, entry: dict[str, Any]) -> str:
    """The instruction the real dataset gives for ``entry`` (wording copied from it)."""
    if task_type == "product_review":
        return (f'Generate the review text written by a reviewer who has a given an overall '
                f'rating of "{entry["overall"]}" for a product with description '
                f'"{entry["description"]}". The summary of the review text is '
                f'"{entry["summary"]}".')
    if task_type == "topic_writing":
        return f'Generate the content for a reddit post "{entry["summary"]}".'
    if task_type == "abstract_generation":
        items = " ".join(f"{i}. {item}" for i, item in enumerate(entry["items"], start=1))
        return (f'Generate an abstract for the title "{entry["title"]}" using the following '
                f'items: {items}')
    if task_type == "news_headline":
        return f"Generate a headline for the following article: {entry['text']}"
    if task_type == "scholarly_title":
        return f"Generate a title for the following abstract of a paper: {entry['abstract']}"
    if task_type == "tweet_paraphrase":
        return ("Paraphrase the following tweet without any explanation before or after it: "
                f"{entry['paraphrase']}")
    raise ValueError(f"unknown demo task type {task_type!r}; known: {', '.join(DEMO_TASKS)}")


_REFERENCE_FIELD = {"product_review": "reviewText", "topic_writing": "content",
                    "abstract_generation": "abstract", "news_headline": "title",
                    "scholarly_title": "title", "tweet_paraphrase": "text"}


def generate_task(task_type: str, *, n_users: int, records_per_user: int, profile_size: int,
                  seed: int) -> list[Record]:
    """``n_users * records_per_user`` records of ``task_type``, user-major order.

    Each user writes ``profile_size + records_per_user`` texts about distinct items (products,
    topics, stories ...) while the task's pool lasts: the first ``profile_size`` are the
    profile shared by all the user's records, the rest are the records' references.
    """
    if task_type not in _ITEMS:
        raise ValueError(f"unknown demo task type {task_type!r}; known: {', '.join(DEMO_TASKS)}")
    if records_per_user < 1 or profile_size < 1:
        raise ValueError("records_per_user and profile_size must be >= 1")
    n_items, make_item = _ITEMS[task_type]
    records = []
    for user in make_users(n_users, seed):
        rng = _rng("demo-task", seed, task_type, user.id)
        order = list(range(n_items))
        rng.shuffle(order)
        entries = [make_item(rng, user, order[j % n_items])
                   for j in range(profile_size + records_per_user)]
        profile = [render_entry(task_type, e) for e in entries[:profile_size]]
        user_markers = user.markers(task_type)
        for k, entry in enumerate(entries[profile_size:]):
            reference = entry[_REFERENCE_FIELD[task_type]]
            records.append(Record(
                id=f"demo-{task_type}-{user.id}-r{k:02d}", task=task_type, user_id=user.id,
                query=task_query(task_type, entry), reference=reference, profile=list(profile),
                meta={"dataset": "demo", "seed": seed,
                      "markers": find_markers(reference, user_markers),
                      "user_markers": user_markers}))
    return records


# =============================================================================== persona QA
# Appendix A/E of the paper: a persona (4-6 first-person facts), a short generic question, a
# 5-20 word answers inferable from one fact, each fact answered twice: a *paraphrase* (sew ->
# "stitch") and a *verbatim* answer that reuses the fact's own words. Gold personal tokens are
# words, as in the paper ("contained within a ground-truth personal word"): every occurrence of
# a listed word in the answer. The verbatim answers' gold words all occur in the fact; most of
# the paraphrases' do not (names and places stay names and places).

#: (category, persona fact, question, paraphrase answer, its gold words, verbatim answer, its
#: gold words); {pet}, {town}, {color}, {city} slots.
PERSONA_FACTS = (
    ("sewing", "I like to sew.", "What's your favorite way to spend a free afternoon?",
     "I usually stitch clothes or little crafts at home.", ("stitch", "clothes"),
     "I like to sew, so I sew at home most afternoons.", ("sew",)),
    ("audio", "I prefer headsets over earbuds.",
     "What's your go-to device for listening to music or calls?",
     "I like the ones that cover my ears.", ("cover", "ears"),
     "Headsets, I prefer them over earbuds every time.", ("Headsets", "prefer", "earbuds")),
    ("pet", "I have a dog named {pet}.", "Who is the first to greet you when you come home?",
     "{pet} runs to the door, wagging his tail like crazy.", ("{pet}", "wagging", "tail"),
     "My dog {pet}, he always greets me at the door.", ("dog", "{pet}")),
    ("job", "I work as a nurse on night shifts.", "When do you usually get your sleep?",
     "Mostly during the day, after my shifts at the hospital end.", ("day", "shifts", "hospital"),
     "After my night shifts as a nurse, I sleep until noon.", ("night", "shifts", "nurse")),
    ("diet", "I am a vegetarian.", "What would you order at a barbecue?",
     "Probably grilled veggies and corn, since I skip the meat.", ("skip", "meat"),
     "Only the vegetarian options, since I am a vegetarian.", ("vegetarian",)),
    ("home", "I grew up in {town}.", "Where do you feel most at home?",
     "Back in {town}, where I spent my whole childhood.", ("{town}", "childhood"),
     "In {town}, the place where I grew up.", ("{town}", "grew")),
    ("music", "I play the violin in a community orchestra.", "What did you do last weekend?",
     "I rehearsed with the orchestra for our spring concert.", ("rehearsed", "orchestra"),
     "Violin practice with my community orchestra, all weekend.",
     ("Violin", "community", "orchestra")),
    ("allergy", "I am allergic to cats.", "Would you ever adopt a kitten?",
     "No way, I sneeze nonstop whenever one is around.", ("sneeze", "nonstop"),
     "No, I am allergic to cats, so no kitten for me.", ("allergic", "cats")),
    ("outdoors", "I love hiking in the mountains.", "What's your ideal vacation?",
     "A week on mountain trails with a heavy backpack.", ("mountain", "trails", "backpack"),
     "Hiking in the mountains for a whole week.", ("Hiking", "mountains")),
    ("car", "I drive a pickup truck.", "How do you usually get to work?",
     "I take my truck, it handles the bad roads just fine.", ("truck",),
     "I drive my pickup truck every day.", ("drive", "pickup", "truck")),
    ("color", "My favorite color is {color}.", "What color would you paint your bedroom?",
     "Definitely {color}, it always cheers me up.", ("{color}",),
     "My favorite color, {color}, of course.", ("favorite", "{color}")),
    ("language", "I am learning to speak Japanese.", "What are you working on improving this year?",
     "My Japanese, I practice kanji every night before bed.", ("Japanese", "kanji"),
     "Learning to speak Japanese, a little every day.", ("Learning", "speak", "Japanese")),
    ("family", "I have two young kids.", "What does a typical morning look like for you?",
     "Packing lunches and getting the little ones off to school.", ("Packing", "lunches", "little"),
     "Getting my two young kids ready for school.", ("two", "young", "kids")),
    ("baking", "I bake bread every weekend.", "What's something you're proud of making?",
     "My sourdough loaf, the crust comes out perfect now.", ("sourdough", "loaf"),
     "The bread I bake every weekend, fresh from the oven.", ("bread", "bake", "weekend")),
    ("sports", "I root for the local baseball team.", "How do you spend summer evenings?",
     "At the ballpark, cheering from the cheap seats.", ("ballpark", "cheering"),
     "Watching my local baseball team play at home.", ("local", "baseball", "team")),
    ("fear", "I am afraid of heights.", "Would you try skydiving?",
     "Never, even a tall ladder makes my knees shake.", ("knees", "shake"),
     "No, I am afraid of heights, so skydiving is out.", ("afraid", "heights")),
    ("collecting", "I collect vintage vinyl records.", "What do you look for at flea markets?",
     "Old records, especially jazz albums from the sixties.", ("Old", "records", "jazz", "albums"),
     "Vintage vinyl records, I look for them every time.", ("Vintage", "vinyl", "records")),
    ("job", "I teach high school math.", "What keeps you busy on Sunday nights?",
     "Grading algebra quizzes for my students, usually with a big mug of tea.",
     ("algebra", "quizzes", "students"),
     "Planning the math lessons I teach at the high school.", ("math", "teach", "high", "school")),
    ("fitness", "I run marathons.", "How do you stay in shape?",
     "Long runs every weekend, usually about twenty miles each.",
     ("Long", "runs", "twenty", "miles"),
     "I run marathons, so I run a lot.", ("run", "marathons")),
    ("home", "I live on a farm.", "What wakes you up in the morning?",
     "The rooster, usually right before I go feed the cows.", ("rooster", "feed", "cows"),
     "The animals on the farm where I live.", ("farm", "live")),
    ("drink", "I don't drink coffee.", "How do you start your day?",
     "With a cup of green tea and some light stretching.", ("green", "tea"),
     "Not with coffee, I don't drink coffee at all.", ("coffee", "drink")),
    ("movies", "I love horror movies.", "What are you watching this weekend?",
     "Something scary, honestly the bloodier the better.", ("scary", "bloodier"),
     "Horror movies, as always, I love them.", ("Horror", "movies", "love")),
    ("home", "I recently moved to {city}.", "What's new in your life?",
     "I am still unpacking boxes in my new apartment in {city}.", ("unpacking", "boxes", "{city}"),
     "I recently moved to {city} for work.", ("recently", "moved", "{city}")),
    ("volunteer", "I volunteer at an animal shelter.", "What do you do on Saturdays?",
     "I walk dogs and clean kennels at the shelter all morning.", ("walk", "dogs", "shelter"),
     "I volunteer at the animal shelter every Saturday.", ("volunteer", "animal", "shelter")),
    ("job", "I am a software engineer.", "What did you do all day today?",
     "Mostly fixing bugs and reviewing code with my team.", ("fixing", "bugs", "reviewing", "code"),
     "My usual work as a software engineer, writing software.", ("software", "engineer")),
    ("garden", "I grow tomatoes in my backyard.", "What's in your salad tonight?",
     "Fresh tomatoes that I picked from my own garden this morning.", ("tomatoes", "garden"),
     "Tomatoes that I grow in my backyard.", ("Tomatoes", "grow", "backyard")),
    ("schedule", "I am a morning person.", "When do you feel most productive?",
     "Right at dawn, before anyone else in the house is awake.", ("dawn",),
     "In the morning, I am a morning person.", ("morning", "person")),
    ("games", "I play video games competitively.", "What are your plans for tonight?",
     "Practicing for an online tournament with my squad.", ("online", "tournament", "squad"),
     "Video games, I play them competitively every night.",
     ("Video", "games", "play", "competitively")),
    ("study", "I am training to become a pilot.", "What are you studying these days?",
     "Navigation charts and cockpit checklists for my flight exam.",
     ("cockpit", "checklists", "flight", "exam"),
     "I am training to become a pilot.", ("training", "become", "pilot")),
    ("pet", "I have a cat named {pet}.", "Who keeps you company while you work?",
     "{pet} usually naps on my keyboard, purring loudly.", ("{pet}", "purring"),
     "My cat {pet}, who sits right on my desk.", ("cat", "{pet}")),
    ("outdoors", "I love the ocean.", "Where do you go to relax?",
     "The beach, where I can listen to the waves roll in for hours.", ("beach", "waves"),
     "By the ocean, I love it there.", ("ocean", "love")),
    ("job", "I am a chef at an italian restaurant.", "What's your signature dish?",
     "Homemade pasta with a slow-cooked tomato sauce and fresh basil.", ("Homemade", "pasta"),
     "As a chef at an italian restaurant, my lasagna.", ("chef", "italian", "restaurant")),
    ("car", "I ride my bike everywhere.", "How do you get around town?",
     "On two wheels, even when it rains.", ("two", "wheels"),
     "I ride my bike everywhere I go.", ("ride", "bike", "everywhere")),
    ("language", "I speak three languages.", "What helps you most when you travel?",
     "Chatting with the locals in their own language.", ("language",),
     "That I speak three languages, it helps everywhere.", ("speak", "three", "languages")),
    ("crafts", "I knit sweaters for my family.", "What gifts do you give for the holidays?",
     "Warm wool sweaters that I make by hand every year.", ("wool", "sweaters", "hand"),
     "I knit sweaters for my family every year.", ("knit", "sweaters", "family")),
    ("weather", "I hate cold weather.", "What's your favorite season?",
     "Summer, because I really can't stand freezing winters.", ("Summer", "freezing", "winters"),
     "Summer, since I hate cold weather.", ("hate", "cold", "weather")),
    ("job", "I am a photographer.", "What do you always carry with you?",
     "My camera and a spare lens, just in case.", ("camera", "spare", "lens"),
     "Everything a working photographer needs, every day.", ("photographer",)),
    ("games", "I play chess online every night.", "How do you wind down after work?",
     "A few quick chess games before I go to bed.", ("chess", "games"),
     "I play chess online, like every night.", ("play", "chess", "online", "night")),
    ("money", "I am saving money to buy a house.", "Are you going on vacation this year?",
     "Probably not, every spare penny goes toward a down payment.", ("down", "payment"),
     "No, I am saving money to buy a house.", ("saving", "money", "buy", "house")),
    ("diet", "I love spicy food.", "What's your favorite thing to order?",
     "Anything with extra chili peppers, the hotter the better.", ("chili", "peppers", "hotter"),
     "Spicy food, I love it so much.", ("Spicy", "food", "love")),
    ("pet", "I own a parrot that talks.", "Who wakes you up in the morning?",
     "My bird, squawking hello from his cage at six.", ("bird", "squawking", "hello"),
     "My parrot, he talks as soon as the sun is up.", ("parrot", "talks")),
    ("job", "I am a firefighter.", "What does your weekend look like?",
     "Usually a long shift at the station, waiting for the alarm.", ("shift", "station", "alarm"),
     "Working, as a firefighter I am on call.", ("firefighter",)),
    ("music", "I sing in a church choir.", "What do you do on Sunday mornings?",
     "I practice hymns with the choir before the service.", ("hymns", "choir"),
     "I sing in the church choir.", ("sing", "church", "choir")),
    ("health", "I am diabetic.", "Do you want a slice of cake?",
     "No thanks, I have to keep an eye on my blood sugar.", ("blood", "sugar"),
     "No thanks, I am diabetic.", ("diabetic",)),
    ("travel", "I have been to thirty countries.", "What's the best souvenir you own?",
     "A passport full of stamps from all my trips abroad.", ("stamps", "trips", "abroad"),
     "A coin from each of the thirty countries I have been to.", ("thirty", "countries")),
    ("home", "I live in a tiny house.", "How much stuff do you own?",
     "Very little, everything has to fit in two hundred square feet.",
     ("two", "hundred", "square", "feet"),
     "Not much, I live in a tiny house.", ("live", "tiny", "house")),
    ("sports", "I play soccer on weekends.", "Why are your shoes so muddy?",
     "I had a match this morning and the field was soaked.", ("match", "field"),
     "I play soccer on weekends and it rained.", ("play", "soccer", "weekends")),
    ("crafts", "I build model airplanes.", "What's on your desk right now?",
     "A half-finished bomber kit and a tube of glue.", ("bomber", "kit", "glue"),
     "Model airplanes, I build them at my desk.", ("Model", "airplanes", "build")),
    ("job", "I am a dentist.", "What advice do you give people most often?",
     "Floss every day and cut back on soda.", ("Floss", "day"),
     "As a dentist, I say brush twice a day.", ("dentist",)),
    ("family", "I am a grandmother of five.", "How do you spend the holidays?",
     "Baking cookies with all my grandkids around the table.", ("grandkids",),
     "Like any grandmother of five, at home with family.", ("grandmother", "five")),
    ("outdoors", "I love camping.", "Where will you sleep this weekend?",
     "In a tent by the lake, right next to a campfire.", ("tent", "campfire"),
     "Camping somewhere, because I love camping so much.", ("Camping", "love", "camping")),
    ("reading", "I read poetry every night.", "What's on your nightstand?",
     "A worn book of sonnets and a reading lamp.", ("book", "sonnets"),
     "Poetry, I read poetry every night.", ("Poetry", "read", "poetry", "night")),
    ("diet", "I am lactose intolerant.", "Would you like a milkshake?",
     "I will pass, dairy always makes my stomach hurt.", ("dairy", "stomach", "hurt"),
     "No, I am lactose intolerant.", ("lactose", "intolerant")),
    ("dance", "I take ballet classes.", "Why are your feet so sore?",
     "Hours of practice on my toes at the studio.", ("toes", "studio"),
     "From my ballet classes, I take three a week.", ("ballet", "classes", "take")),
    ("money", "I work two jobs.", "Do you have much free time?",
     "Barely, between the cafe and the warehouse I am always working.", ("cafe", "warehouse"),
     "Not really, I work two jobs.", ("work", "two", "jobs")),
    ("tech", "I build my own computers.", "What did you buy online last week?",
     "A new graphics card and some thermal paste.", ("graphics", "card", "thermal", "paste"),
     "Parts to build my own computers.", ("build", "own", "computers")),
    ("fear", "I am scared of the dark.", "How do you sleep at night?",
     "Always with a night light on in the hallway.", ("night", "light"),
     "With the lights on, I am scared of the dark.", ("scared", "dark")),
    ("car", "I restore old cars.", "What's in your garage?",
     "A rusty sixties convertible that I am fixing up piece by piece.",
     ("sixties", "convertible", "fixing"),
     "Old cars that I restore.", ("Old", "cars", "restore")),
    ("garden", "I keep bees.", "What do you give friends as gifts?",
     "Jars of honey straight from my own hives.", ("honey", "hives"),
     "Something from the bees I keep, of course.", ("bees", "keep")),
    ("study", "I am studying to be a lawyer.", "What are you doing tonight?",
     "Reading case law for my exam next week.", ("case", "law"),
     "Studying, because I am studying to be a lawyer.", ("Studying", "lawyer")),
)
#: Persona filler facts (category, sentence); never the answer's source.
PERSONA_DISTRACTORS = (
    ("height", "I am short."), ("hair", "My hair is brown."), ("build", "I am not thin."),
    ("phone", "I have an iphone."), ("living", "I live with my parents."),
    ("travel", "I travel often."), ("glasses", "I wear glasses."),
    ("siblings", "I have three sisters."), ("birthday", "I was born in the spring."),
    ("water", "I drink a lot of water."), ("reading", "I like reading mysteries."),
    ("hand", "I am left-handed."), ("vehicle", "I own a blue car."),
    ("pop", "I enjoy pop music."), ("height", "I am very tall."),
    ("hair", "I have curly red hair."), ("siblings", "I am an only child."),
    ("living", "I live alone in a small apartment."), ("tv", "I watch a lot of cooking shows."),
    ("shoes", "I own too many shoes."), ("tattoo", "I have a tattoo of a star."),
    ("age", "I am in my forties."), ("age", "I just turned twenty."),
    ("sleep", "I snore loudly."), ("food", "My favorite food is pizza."),
    ("birthday", "My birthday is in december."), ("school", "I dropped out of college."),
    ("school", "I have a degree in history."), ("tv", "I love reality shows."),
    ("phone", "I still use a flip phone."),
)
PERSONA_SLOTS = {
    "pet": PET_NAMES, "town": HOMETOWNS,
    "color": ("red", "green", "purple", "yellow", "orange", "teal", "navy blue"),
    "city": ("Chicago", "Denver", "Toronto", "Dublin", "Melbourne", "Seattle", "Lisbon"),
}
# categories a fact may not be combined with (would contradict it or answer it)
_CONFLICTS = {"home": {"living"}, "job": {"school"}, "car": {"vehicle"}, "drink": {"water"},
              "diet": {"food"}, "family": {"age", "living"}, "study": {"school"},
              "money": {"living"}}


def _fill_persona_slots(rng: random.Random, texts: Sequence[str]) -> list[str]:
    values = {k: rng.choice(v) for k, v in PERSONA_SLOTS.items()}
    return [t.format(**values) for t in texts]


#: Share of demo persona-QA answers that reuse the fact's words (the rest paraphrase it). 0.15
#: makes about a quarter of the gold words verbatim: the paper's word matching found 26.5% of
#: its gold tokens (appendix A), the one measurement of that share in its data.
VERBATIM_SHARE = 0.15


def generate_persona_qa(n: int, seed: int, verbatim_share: float = VERBATIM_SHARE
                        ) -> list[dict[str, Any]]:
    """``n`` persona-QA items like the paper's synthetic set (Appendix A/E).

    ``{"id", "persona", "question", "answer", "keywords", "answer_style"}``: ``keywords`` are the
    gold personal *words*; ``answer_style`` is ``verbatim`` for exactly
    ``round(n * verbatim_share)`` items (seeded positions), whose gold words all occur in the
    persona, and ``paraphrase`` for the rest, whose gold words mostly do not. Word matching can
    only find the first kind; the split makes that measurable instead of an accident of the
    data. Facts cycle through a shuffled pool, so up to ``len(PERSONA_FACTS)`` items use
    distinct answer facts.
    """
    if not 0 <= verbatim_share <= 1:
        raise ValueError(f"verbatim_share must lie in [0, 1], got {verbatim_share}")
    rng = _rng("demo-persona-qa", seed)
    order = list(range(len(PERSONA_FACTS)))
    rng.shuffle(order)
    verbatim = set(rng.sample(range(n), round(n * verbatim_share)))
    items = []
    for i in range(n):
        category, fact, question, *answers = PERSONA_FACTS[order[i % len(order)]]
        style = "verbatim" if i in verbatim else "paraphrase"
        answer, keywords = answers[2:] if style == "verbatim" else answers[:2]
        fact, answer, *keywords = _fill_persona_slots(rng, (fact, answer, *keywords))
        banned = {category} | _CONFLICTS.get(category, set())
        n_distractors = rng.randint(3, 5)  # persona of 4-6 facts, like Synthetic-Persona-Chat
        distractors, used = [], set(banned)
        for cat, sentence in rng.sample(PERSONA_DISTRACTORS, len(PERSONA_DISTRACTORS)):
            if len(distractors) == n_distractors:
                break
            if cat not in used:
                distractors.append(sentence)
                used.add(cat)
        facts = distractors + [fact]
        rng.shuffle(facts)
        items.append({"id": f"pqa-{i:04d}", "persona": " ".join(facts), "question": question,
                      "answer": answer, "keywords": list(keywords), "answer_style": style})
    return items


# =============================================================================== ALOE-like

ALOE_LIKES = (
    "spicy Thai food", "old black-and-white films", "thrift-store shopping",
    "true-crime podcasts", "board games with friends", "early-morning walks", "jazz records",
    "trying new bakeries", "science fiction novels", "hosting dinner parties", "quiet cafes",
    "road trips with no plan", "nature documentaries", "crossword puzzles", "karaoke nights",
)
ALOE_DISLIKES = ("crowded malls", "loud restaurants", "long phone calls", "reality TV",
                 "being rushed", "early meetings", "small talk", "flying", "messy kitchens")
ALOE_GOALS = ("saving for a first home", "running a half marathon",
              "learning to cook healthier meals", "switching careers into design",
              "getting better sleep", "learning Italian before a trip",
              "paying off student loans", "reading fifty books this year",
              "starting a small online shop", "spending more time outdoors")
#: Personality / communication styles, written like ALOE's personality descriptions.
ALOE_PERSONALITIES = (
    "{P} is direct and a little impatient, wanting short answers with concrete next steps. "
    "{P} dislikes small talk and long explanations.",
    "{P} is warm and chatty, enjoying tangents, jokes and personal anecdotes. "
    "{P} likes being asked follow-up questions.",
    "{P} is analytical and skeptical, expecting evidence and numbers before accepting advice. "
    "{P} notices vague claims immediately.",
    "{P} is anxious and detail-oriented, appreciating reassurance and step-by-step plans. "
    "{P} gets uneasy when options are left open.",
    "{P} is playful and sarcastic, responding well to humor. "
    "{P} finds overly formal language stiff and off-putting.",
    "{P} is reserved and private, preferring not to share much. "
    "{P} dislikes being pushed for personal details.",
    "{P} is an enthusiastic beginner who asks many basic questions. "
    "{P} likes encouragement and simple examples.",
    "{P} is busy and pragmatic, valuing efficiency, lists and bottom-line recommendations. "
    "{P} skims anything longer than a paragraph.",
    "{P} is creative and curious, enjoying brainstorming and unconventional ideas. "
    "{P} gets bored by the obvious answer.",
    "{P} is traditional and polite, preferring courteous phrasing and well-tested options. "
    "{P} distrusts trendy advice.",
    "{P} is competitive and ambitious, wanting advice that helps to get ahead. "
    "{P} likes clear goals and measurable progress.",
    "{P} is easily overwhelmed and prefers one suggestion at a time in plain words. "
    "{P} appreciates patience.",
)


def _aloe_profile(rng: random.Random, user: DemoUser) -> str:
    p = _cap(user.pronoun)
    likes = rng.sample(ALOE_LIKES, 2)
    age = rng.randint(19, 68)
    return (f"{p} is a {age}-year-old {user.job} who grew up in {user.hometown}. "
            f"{p} lives with {_article(user.pet_kind)} {user.pet_kind} named {user.pet_name} "
            f"and spends most weekends on {user.hobby}. {p} loves {likes[0]} and {likes[1]}, "
            f"but can't stand {rng.choice(ALOE_DISLIKES)}. "
            f"Right now {user.pronoun} is focused on {rng.choice(ALOE_GOALS)}.")


def generate_aloe_like(n_profiles: int, n_personalities: int, seed: int) -> list[dict[str, str]]:
    """ALOE-shaped ``{"id": "p{i:02d}-s{j}", "profile", "personality"}``, profile-major order.

    As in ALOE, the j-th personality is the same description for every profile (the benchmark is
    profiles x personalities); pronouns follow the profile's user.
    """
    rng = _rng("demo-aloe", seed)
    styles = _permutation(ALOE_PERSONALITIES, rng)
    rows = []
    for i, user in enumerate(make_users(n_profiles, seed)):
        profile = _aloe_profile(_rng("demo-aloe-profile", seed, i), user)
        for j in range(n_personalities):
            personality = styles[j % len(styles)].format(P=_cap(user.pronoun))
            rows.append({"id": f"p{i:02d}-s{j}", "profile": profile, "personality": personality})
    return rows


# =============================================================================== general QA

FIRST_NAMES = ("Anna", "Boris", "Chloe", "Dario", "Edith", "Farid", "Gemma", "Henrik", "Ilse",
               "Jasper", "Katya", "Leon", "Marta", "Nils", "Olga", "Pavel", "Rosa", "Stefan",
               "Tove", "Viktor")
LAST_NAMES = ("Albrecht", "Bellini", "Castellanos", "Duval", "Eriksen", "Falk", "Brandt",
              "Halloran", "Iversen", "Jablonski", "Kovac", "Lindqvist", "Moreau", "Novak",
              "Okafor", "Petrov", "Quintero", "Rasmussen", "Sorensen", "Takahashi")
QA_CITIES = ("Lyon", "Osaka", "Krakow", "Valencia", "Leipzig", "Turin", "Gothenburg", "Antwerp",
             "Brno", "Graz", "Nantes", "Sapporo", "Tartu", "Cluj", "Bilbao")
FILM_WORDS = (("Silent", "Harbor"), ("Last", "Orchard"), ("Paper", "Lanterns"),
              ("Winter", "Station"), ("Glass", "Meridian"), ("Hollow", "Crown"),
              ("Northern", "Tide"), ("Iron", "Garden"), ("Velvet", "Storm"),
              ("Distant", "Shore"), ("Copper", "Sky"), ("Burning", "Orchard"))
GENRES = ("drama", "thriller", "comedy", "documentary", "science fiction")
INSTRUMENTS = ("cello", "trumpet", "harp", "saxophone", "accordion", "double bass", "oboe")
UNIVERSITIES = ("the University of Lund", "Delft University of Technology",
                "the Polytechnic University of Milan", "ETH Zurich", "the University of Porto",
                "Aalto University", "the Vienna University of Technology")
COMPANY_WORDS = ("Northwind", "Bluestone", "Redfern", "Ashgrove", "Silverline", "Harborview",
                 "Oakridge", "Brightwater", "Stonebridge", "Fairhaven")
COMPANY_KINDS = ("Shipping", "Foods", "Textiles", "Instruments", "Publishing", "Ceramics")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _hotpot_item(rng: random.Random) -> tuple[str, str, list[tuple[str, str]], str]:
    """(question, answer, [(title, paragraph), ...], type): bridge or comparison questions."""
    kind = rng.randrange(4)
    if kind == 0:  # film -> director -> birthplace
        a, b = rng.choice(FILM_WORDS)
        film, person, city = f"The {a} {b}", _person(rng), rng.choice(QA_CITIES)
        year = rng.randint(1968, 2019)
        paras = [(film, f"{film} is a {year} {rng.choice(GENRES)} film directed by {person}. "
                        f"It was shot over {rng.randint(20, 90)} days and premiered at a small "
                        "festival."),
                 (person, f"{person} (born {rng.randint(1930, year - 22)}) is a filmmaker born "
                          f"in {city}. {person.split()[1]} studied painting before turning to "
                          "film.")]
        return f"In which city was the director of {film} born?", city, paras, "bridge"
    if kind == 1:  # band -> founder -> instrument
        band = f"The {rng.choice(COMPANY_WORDS)} {rng.choice(('Quartet', 'Collective', 'Band'))}"
        person, instrument = _person(rng), rng.choice(INSTRUMENTS)
        paras = [(band, f"{band} is a jazz group formed in {rng.randint(1960, 2015)} by "
                        f"{person}. The group has released {rng.randint(2, 14)} albums."),
                 (person, f"{person} is a musician best known for playing the {instrument}. "
                          f"{person.split()[1]} also teaches at a conservatory.")]
        return f"What instrument does the founder of {band} play?", instrument, paras, "bridge"
    if kind == 2:  # building -> architect -> university
        building = f"{rng.choice(COMPANY_WORDS)} Hall"
        person, university = _person(rng), rng.choice(UNIVERSITIES)
        paras = [(building, f"{building} is a concert venue in {rng.choice(QA_CITIES)}, "
                            f"designed by the architect {person} and opened in "
                            f"{rng.randint(1950, 2020)}."),
                 (person, f"{person} is an architect who studied at {university}. "
                          f"{person.split()[1]} is known for timber buildings.")]
        return f"Where did the architect of {building} study?", university, paras, "bridge"
    # comparison: which company was founded first
    first, second = rng.sample(COMPANY_WORDS, 2)
    kinds = rng.sample(COMPANY_KINDS, 2)
    c1, c2 = f"{first} {kinds[0]}", f"{second} {kinds[1]}"
    y1, y2 = rng.sample(range(1850, 2010), 2)
    paras = [(c1, f"{c1} is a company founded in {y1} in {rng.choice(QA_CITIES)}."),
             (c2, f"{c2} is a company founded in {y2}. It employs about "
                  f"{rng.randint(50, 900)} people.")]
    answer = c1 if y1 < y2 else c2
    return f"Which was founded first, {c1} or {c2}?", answer, paras, "comparison"


TEAMS = ("Mariners", "Foxes", "Comets", "Rangers", "Pilots", "Hornets", "Grizzlies", "Otters",
         "Lumberjacks", "Falcons")


def _yards(n: int) -> str:
    """ "a 35-yard", "an 8-yard", "an 18-yard" (article by pronunciation)."""
    return f"{'an' if str(n).startswith('8') or n in (11, 18) else 'a'} {n}-yard"


def _drop_answer(number: str = "", spans: Sequence[str] = ()) -> dict[str, Any]:
    return {"number": number, "date": {"day": "", "month": "", "year": ""}, "spans": list(spans)}


def _drop_item(rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    """(passage, question, DROP answer dict): a game recap or census counts, with arithmetic."""
    if rng.random() < 0.6:
        home, away = rng.sample(TEAMS, 2)
        names: list[str] = []
        while len(names) < 4:
            name = _person(rng)
            if all(name.split()[1] != n.split()[1] for n in names):
                names.append(name)
        kicker, qb, receiver, runner = names
        goals = rng.sample(range(21, 55), 3)
        td_pass, td_run = rng.randint(5, 70), rng.randint(1, 30)
        passage = (f"Hoping to rebound from a road loss, the {home} stayed at home for a duel "
                   f"with the {away}. In the first quarter, {home} kicker {kicker} made "
                   f"{_yards(goals[0])} field goal. The {away} answered with {_yards(td_pass)} "
                   f"touchdown pass from quarterback {qb} to {receiver}. In the second quarter, "
                   f"{kicker} added {_yards(goals[1])} field goal, and later {_yards(goals[2])} "
                   f"field goal before halftime. In the fourth quarter, {runner} ran in "
                   f"{_yards(td_run)} touchdown for the {home}.")
        options = [
            (f"How many field goals did {kicker} kick?", _drop_answer("3")),
            ("How many yards was the longest field goal?", _drop_answer(str(max(goals)))),
            ("How many yards longer was the longest field goal than the shortest?",
             _drop_answer(str(max(goals) - min(goals)))),
            (f"Who caught the touchdown pass from {qb}?", _drop_answer(spans=[receiver])),
            ("Which team scored first?", _drop_answer(spans=[home])),
            ("How many total yards of touchdowns were scored?",
             _drop_answer(str(td_pass + td_run))),
        ]
    else:
        year = rng.choice((1990, 2000, 2010))
        people = rng.randint(3000, 30000)
        households = people // rng.randint(2, 3)
        families = households - rng.randint(200, households // 3)
        under18 = rng.randint(18, 32)
        county = f"{rng.choice(COMPANY_WORDS)} County"
        passage = (f"As of the census of {year}, there were {people} people, {households} "
                   f"households, and {families} families residing in {county}. "
                   f"{under18}% of the population was under the age of 18, and the median age "
                   f"was {rng.randint(30, 45)} years.")
        options = [
            ("How many more households than families were there?",
             _drop_answer(str(households - families))),
            ("How many more people than households were there?",
             _drop_answer(str(people - households))),
            ("What percent of the population was not under the age of 18?",
             _drop_answer(str(100 - under18))),
            ("Which were there more of, households or families?",
             _drop_answer(spans=["households"])),
        ]
    question, answer = rng.choice(options)
    return passage, question, answer


def generate_general_qa(kind: str, n: int, seed: int) -> list[Record]:
    """``n`` general-QA records (no persona) shaped like the HotpotQA / DROP loaders' output.

    hotpotqa: two short paragraphs, a bridge or comparison question, ``meta["context"]``
    rendered as the loader does ("Title: paragraph" lines) and ``meta["answers"]``.
    drop: a passage, a counting/arithmetic or span question, ``meta["passage"]`` and
    ``meta["answers"]`` = [the official DROP answer dict].
    """
    if kind not in ("hotpotqa", "drop"):
        raise ValueError(f"unknown general QA kind {kind!r}; known: hotpotqa, drop")
    rng = _rng("demo-qa", kind, seed)
    records = []
    for i in range(n):
        if kind == "hotpotqa":
            question, answer, paras, qtype = _hotpot_item(rng)
            rng.shuffle(paras)
            context = "\n".join(f"{title}: {text}" for title, text in paras)
            meta: dict[str, Any] = {"dataset": "demo", "context": context, "answers": [answer],
                                    "type": qtype}
            reference = answer
        else:
            passage, question, answer_dict = _drop_item(rng)
            meta = {"dataset": "demo", "passage": passage, "answers": [answer_dict]}
            reference = answer_dict["number"] or ", ".join(answer_dict["spans"])
        records.append(Record(id=f"demo-{kind}-s{seed}-{i:04d}", task=kind, user_id="",
                              query=question, reference=reference, profile=[], meta=meta))
    return records
