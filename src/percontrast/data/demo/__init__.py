"""A bundled, seeded demo dataset shaped like LongLaMP / LaMP / the paper's synthetic sets.

Why this exists: the real datasets live on a hub that offline runs cannot reach, yet the pipeline
(retrieval -> PerContrast PIR -> CE/PerCE fine-tuning -> evaluation) must run end to end and show
a real effect. So the generator writes users whose texts carry *learnable personal signal*:

* every user has personal facts and signature phrases (:mod:`.users`);
* each of a user's texts (profile entries and references alike) contains a random subset of
  these markers, so a model that reads the user's past writings can predict them and a model
  that does not cannot. That is exactly the contrast PerContrast measures;
* everything else is drawn from template pools shared by all users, so texts of different users
  overlap moderately (same genre) while texts of one user overlap noticeably more.

Determinism: only ``random.Random`` seeded with strings (:func:`.text.seeded_rng`), no set
iteration, no numpy. Each user's texts come from their own generator, so adding users never
changes existing users' data.

One module per artefact: :mod:`.users`, :mod:`.writing` (records of the six writing tasks, texts
from :mod:`.long_tasks` and :mod:`.short_tasks`), :mod:`.persona_qa`, :mod:`.aloe`,
:mod:`.general_qa`, :mod:`.markers`; the word and template pools are JSON files in ``pools/``
(:mod:`.pools`). Entry points: :func:`make_users`, :func:`generate_task`,
:func:`generate_persona_qa`, :func:`generate_aloe_like`, :func:`generate_general_qa`
(:mod:`.source` serves them as the config's ``source: demo``);
:func:`find_markers` finds a user's markers in a text (whole words, case-insensitive), as the
records' ``meta["markers"]`` does.
"""

from percontrast.data.demo.aloe import (
    ALOE_DISLIKES,
    ALOE_GOALS,
    ALOE_LIKES,
    ALOE_PERSONALITIES,
    generate_aloe_like,
)
from percontrast.data.demo.general_qa import (
    COMPANY_KINDS,
    COMPANY_WORDS,
    FILM_WORDS,
    FIRST_NAMES,
    GENRES,
    INSTRUMENTS,
    LAST_NAMES,
    QA_CITIES,
    TEAMS,
    UNIVERSITIES,
    generate_general_qa,
)
from percontrast.data.demo.long_tasks import (
    ABSTRACT_CONCLUSION,
    ABSTRACT_CONTEXT,
    ABSTRACT_DETAIL,
    ABSTRACT_GAP,
    ABSTRACT_KIND_PROBS,
    ABSTRACT_MAIN_RESULT,
    ABSTRACT_METHOD,
    ABSTRACT_PERSONAL,
    ABSTRACT_RESULTS,
    CASUAL_KIND_PROBS,
    CASUAL_PERSONAL,
    COMPONENTS,
    MECHANISMS,
    METHODS,
    PROBLEMS,
    PRODUCTS,
    RATING_WEIGHTS,
    REDDIT_CLOSERS,
    REVIEW_BODY,
    REVIEW_INTROS,
    REVIEW_SUMMARIES,
    REVIEW_VERDICTS,
    SENTIMENT,
    SHORT_TITLE_TEMPLATES,
    STYLE_SENTENCES,
    TITLE_TEMPLATES,
    TOPICS,
)
from percontrast.data.demo.markers import find_markers, marker_spans
from percontrast.data.demo.persona_qa import (
    PERSONA_DISTRACTORS,
    PERSONA_FACTS,
    PERSONA_SLOTS,
    VERBATIM_SHARE,
    generate_persona_qa,
)
from percontrast.data.demo.short_tasks import (
    NEWS_GENERIC,
    NEWS_KIND_PROBS,
    SCHOLAR_KIND_PROBS,
    STORIES,
    TWEETS,
)
from percontrast.data.demo.text import FILLERS, LONG_WORDS, SHORT_WORDS
from percontrast.data.demo.users import (
    ACADEMIC_ADJECTIVES,
    ACADEMIC_OPENERS,
    ACADEMIC_SIGNOFFS,
    ADJECTIVES,
    ASIDES,
    COLUMN_TAGS,
    DOMAINS,
    HASHTAGS,
    HEADLINE_TAILS,
    HOBBIES,
    HOMETOWNS,
    INTENSIFIERS,
    JOBS,
    MAX_DISTINCT_USERS,
    NAMES,
    OPENERS,
    PET_KINDS,
    PET_NAMES,
    PROJECTS,
    SHE_NAMES,
    SIGNOFFS,
    TICS,
    TITLE_PREFIXES,
    DemoUser,
    make_users,
)
from percontrast.data.demo.writing import (
    DEMO_TASKS,
    LONG_TASKS,
    SHORT_TASKS,
    WRITINGS,
    generate_task,
    render_entry,
    task_query,
    user_markers,
)

__all__ = [
    "ABSTRACT_CONCLUSION", "ABSTRACT_CONTEXT", "ABSTRACT_DETAIL", "ABSTRACT_GAP",
    "ABSTRACT_KIND_PROBS", "ABSTRACT_MAIN_RESULT", "ABSTRACT_METHOD", "ABSTRACT_PERSONAL",
    "ABSTRACT_RESULTS", "ACADEMIC_ADJECTIVES", "ACADEMIC_OPENERS", "ACADEMIC_SIGNOFFS",
    "ADJECTIVES", "ALOE_DISLIKES", "ALOE_GOALS", "ALOE_LIKES", "ALOE_PERSONALITIES", "ASIDES",
    "CASUAL_KIND_PROBS", "CASUAL_PERSONAL", "COLUMN_TAGS", "COMPANY_KINDS", "COMPANY_WORDS",
    "COMPONENTS", "DEMO_TASKS", "DOMAINS", "FILLERS", "FILM_WORDS", "FIRST_NAMES", "GENRES",
    "HASHTAGS", "HEADLINE_TAILS", "HOBBIES", "HOMETOWNS", "INSTRUMENTS", "INTENSIFIERS", "JOBS",
    "LAST_NAMES", "LONG_TASKS", "LONG_WORDS", "MAX_DISTINCT_USERS", "MECHANISMS", "METHODS",
    "NAMES", "NEWS_GENERIC", "NEWS_KIND_PROBS", "OPENERS", "PERSONA_DISTRACTORS",
    "PERSONA_FACTS", "PERSONA_SLOTS", "PET_KINDS", "PET_NAMES", "PROBLEMS", "PRODUCTS",
    "PROJECTS", "QA_CITIES", "RATING_WEIGHTS", "REDDIT_CLOSERS", "REVIEW_BODY", "REVIEW_INTROS",
    "REVIEW_SUMMARIES", "REVIEW_VERDICTS", "SCHOLAR_KIND_PROBS", "SENTIMENT", "SHE_NAMES",
    "SHORT_TASKS", "SHORT_TITLE_TEMPLATES", "SHORT_WORDS", "SIGNOFFS", "STORIES",
    "STYLE_SENTENCES", "TEAMS", "TICS", "TITLE_PREFIXES", "TITLE_TEMPLATES", "TOPICS", "TWEETS",
    "UNIVERSITIES", "VERBATIM_SHARE", "WRITINGS", "DemoUser", "find_markers", "generate_aloe_like",
    "generate_general_qa", "generate_persona_qa", "generate_task", "make_users", "marker_spans",
    "render_entry", "task_query", "user_markers",
]
