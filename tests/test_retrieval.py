"""Profile retrieval (BM25, dense encoders) and seeded record sampling."""

from __future__ import annotations

import copy
import time

import pytest

from percontrast.data.records import Record
from percontrast.data.retrieval import (
    BM25Retriever,
    DenseRetriever,
    make_retriever,
    retrieval_query,
    retrieve_top_k,
)
from percontrast.data.sampling import sample_records

DOCS = [
    "the weather today is sunny and warm",
    "quantum entanglement of photons in optical fibres",
    "the cat and the dog play in the garden",
    "a recipe for bread with flour water and salt",
    "the stock market fell today",
]


def _rec(i: int, profile: list[str], *, task: str = "topic_writing", query: str = "q",
         meta: dict | None = None) -> Record:
    return Record(id=f"r{i}", task=task, user_id=f"u{i}", query=query, reference="ref",
                  profile=list(profile), meta=dict(meta or {}))


# --- queries -----------------------------------------------------------------------------------

def test_retrieval_query_abstract_keeps_only_items():
    q = ('Generate an abstract for the title "Deep nets" using the following items: '
         "1. convolution 2. pooling")
    assert retrieval_query("abstract_generation", q) == "1. convolution 2. pooling"
    # without the marker the whole query is the search text
    assert retrieval_query("abstract_generation", "no marker here") == "no marker here"


def test_retrieval_query_other_tasks_unchanged():
    q = "Write a review for items: this is not stripped"
    assert retrieval_query("product_review", q) == q
    assert retrieval_query("dialogue", "User 1: hi\nUser 2: hello") == "User 1: hi\nUser 2: hello"
    with pytest.raises(ValueError, match="unknown task type"):
        retrieval_query("not_a_task", q)


# --- BM25 --------------------------------------------------------------------------------------

def test_bm25_ranks_rare_words_first_and_is_deterministic():
    bm25 = BM25Retriever()
    ranking = bm25.rank("photons entanglement", DOCS)
    assert ranking[0] == 1
    assert sorted(ranking) == list(range(len(DOCS)))
    assert bm25.rank("photons entanglement", DOCS) == ranking
    # "garden" occurs only in document 2
    assert bm25.rank("garden", DOCS)[0] == 2
    # documents 0 and 4 both contain "today" once; length normalisation puts the shorter first
    assert bm25.rank("today", DOCS)[:2] == [4, 0]


def test_bm25_ties_keep_original_order():
    bm25 = BM25Retriever()
    # no query word occurs anywhere: all scores 0, ranking is the identity
    assert bm25.rank("zzz", DOCS) == [0, 1, 2, 3, 4]
    # identical documents tie: original order, ahead of the non-matching ones
    docs = ["alpha beta", "gamma delta", "alpha beta", "epsilon zeta", "eta theta"]
    assert bm25.rank("alpha", docs) == [0, 2, 1, 3, 4]
    assert bm25.rank("anything", []) == []
    assert bm25.rank("alpha", ["", ""]) == [0, 1]


def test_bm25_is_case_sensitive_like_longlamp_unless_asked():
    docs = ["Photons here", "nothing relevant", "other words", "more text"]
    assert BM25Retriever().scores("photons", docs).tolist() == [0.0, 0.0, 0.0, 0.0]
    lower = BM25Retriever(lowercase=True)
    assert lower.rank("photons", docs)[0] == 0
    assert lower.name == "bm25-lower"


# --- retrieve_top_k ----------------------------------------------------------------------------

def test_retrieve_top_k_keeps_k_in_rank_order_and_records_meta():
    recs = [_rec(0, DOCS, query="photons entanglement today", meta={"src": {"x": 1}}),
            _rec(1, DOCS[:2], query="garden"),
            _rec(2, [], task="dialogue", query="User 1: hi")]
    before = copy.deepcopy(recs)
    bm25 = BM25Retriever()
    out = retrieve_top_k(recs, 3, bm25)

    assert recs == before  # inputs untouched
    assert [r.id for r in out] == ["r0", "r1", "r2"]
    full = bm25.rank("photons entanglement today", DOCS)
    assert out[0].profile == [DOCS[i] for i in full[:3]]
    assert out[0].profile[0] == DOCS[1]
    assert out[0].meta == {"src": {"x": 1},
                           "retrieval": {"retriever": "bm25", "k": 3, "n_profile": 5,
                                         "indices": full[:3]}}
    assert out[0].meta["src"] is not recs[0].meta["src"]  # deep copy, not shared
    # k larger than the profile: everything, ranked
    assert sorted(out[1].meta["retrieval"]["indices"]) == [0, 1]
    assert len(out[1].profile) == 2 and out[1].meta["retrieval"]["n_profile"] == 2
    # empty profile stays empty
    assert out[2].profile == []
    assert out[2].meta["retrieval"] == {"retriever": "bm25", "k": 3, "n_profile": 0,
                                        "indices": []}


def test_retrieve_top_k_uses_task_specific_query():
    profile = ["generate abstract title items", "graph neural networks for molecules",
               "cooking pasta at home", "travel notes"]
    q = "Generate an abstract for the title using the following items: graph molecules"
    out = retrieve_top_k([_rec(0, profile, task="abstract_generation", query=q)], 1, "bm25")
    assert out[0].profile == ["graph neural networks for molecules"]


@pytest.mark.parametrize("k", [0, -1])
def test_retrieve_top_k_rejects_nonpositive_k(k):
    with pytest.raises(ValueError):
        retrieve_top_k([_rec(0, DOCS)], k, BM25Retriever())


# --- dense -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def minilm() -> DenseRetriever:
    return make_retriever("bundled-minilm", device="cpu")


def test_minilm_ranks_paraphrase_above_unrelated(minilm):
    assert minilm.normalize is True and minilm.name == "bundled-minilm"
    docs = ["Stock markets fell sharply on Monday.", "A kitten is resting on a rug.",
            "The train to Paris leaves at noon."]
    assert minilm.rank("The cat sat on the mat.", docs)[0] == 1
    emb = minilm.encode(docs)
    assert tuple(emb.shape) == (3, 384)
    assert emb.norm(dim=1).tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)


def test_mean_pooling_ignores_padding(minilm):
    short = "Short text."
    long = " ".join(["a much longer sentence that forces padding of the short one"] * 8)
    alone = minilm.encode([short])[0]
    batched = minilm.encode([long, short])[1]
    assert minilm.encode([long, short]).shape[0] == 2
    assert (alone - batched).abs().max().item() < 1e-5
    assert (alone - minilm.encode([long])[0]).abs().max().item() > 1e-2  # not trivially equal


def test_unnormalised_dense_is_plain_dot_product():
    raw = DenseRetriever("bundled-minilm", device="cpu", normalize=False)
    norms = raw.encode(["The cat sat on the mat.", "hello"]).norm(dim=1)
    assert all(abs(n - 1.0) > 1e-3 for n in norms.tolist())


def test_dense_retrieve_top_k_with_cache(minilm):
    profile = ["A kitten is resting on a rug.", "Stock markets fell sharply on Monday.",
               "A kitten is resting on a rug.", "Bread needs flour and water."]
    recs = [_rec(0, profile, query="The cat sat on the mat."),
            _rec(1, profile, query="What happened to shares and the economy?")]
    out = retrieve_top_k(recs, 2, minilm)
    # duplicate documents tie exactly: original order
    assert out[0].meta["retrieval"]["indices"] == [0, 2]
    assert out[1].meta["retrieval"]["indices"][0] == 1
    assert out[0].meta["retrieval"]["retriever"] == "bundled-minilm"
    assert minilm._cache is None  # cache released after the call


def test_unreachable_or_missing_model_fails_fast(tmp_path):
    name = "percontrast-test-nonexistent/definitely-not-a-model"
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="definitely-not-a-model") as info:
        make_retriever(name)
    assert time.monotonic() - start < 30
    assert "local model folder" in str(info.value)

    with pytest.raises(RuntimeError, match="no such folder"):
        DenseRetriever(str(tmp_path / "missing" / "model"))


def test_offline_env_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="facebook/contriever"):
        make_retriever("contriever")
    assert time.monotonic() - start < 30


# --- sampling ----------------------------------------------------------------------------------

def test_sample_records_deterministic_and_order_preserving():
    items = list(range(100))
    a = sample_records(items, 10, seed=3)
    assert a == sample_records(items, 10, seed=3)
    assert len(a) == 10 and len(set(a)) == 10
    assert a == sorted(a)  # input order kept
    assert a != sample_records(items, 10, seed=4)
    assert sample_records(items, None, seed=0) == items
    assert sample_records(items, 1000, seed=0) == items
    assert sample_records(items, 0, seed=0) == []
    recs = [_rec(i, []) for i in range(5)]
    assert [r.id for r in sample_records(recs, 3, seed=1)] == \
        [r.id for r in recs if r in sample_records(recs, 3, seed=1)]
    with pytest.raises(ValueError):
        sample_records(items, -1, seed=0)
