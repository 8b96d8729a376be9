"""percontrast.llm: the response cache, retries, errors and secrecy against local HTTP servers.

Every server here listens on 127.0.0.1 only: a stdlib stub implementing
``/v1/chat/completions`` (scripted failures, request counting), a closed port (a dead server), and
in the slow tests a real OpenAI-compatible server, Hugging Face's ``transformers serve``, serving
the bundled SmolLM2-135M-Instruct as the project prepares it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("openai", reason="the openai backend needs the 'openai' package")

from percontrast.llm import (  # noqa: E402
    LLMRequestError,
    LLMUnavailableError,
    ResponseCache,
    RetryPolicy,
    Sampling,
    make_llm,
    redact_url,
    request_key,
)

FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05, total_s=10,
                   request_timeout_s=10, connect_timeout_s=2)
SECRET = "sk-test-SECRET123"
# every logger that could see a request: ours, the SDK's, and its HTTP stack (httpx in openai < 3,
# httpx2 after)
LOGGERS = ("", "percontrast", "openai", "httpx", "httpcore", "httpx2", "httpcore2")


def conv(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


def echo(body: dict) -> str:
    return (f"echo[{body['messages'][-1]['content']}] t={body.get('temperature')} "
            f"seed={body.get('seed')} max={body.get('max_tokens')}")


def completion(body: dict, text: str) -> dict:
    return {"id": "chatcmpl-stub", "object": "chat.completion", "created": 0,
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


class Stub:
    """A scripted OpenAI-compatible server. ``plan(n, body)`` -> (status, payload, headers) for
    the n-th request (0-based); the default answers every request with :func:`echo`."""

    def __init__(self, plan=None, delay: float = 0.0):
        self.plan = plan or (lambda n, body: (200, completion(body, echo(body)), {}))
        self.delay = delay
        self.requests: list[tuple[dict, dict]] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub._lock:
                    n = len(stub.requests)
                    stub.requests.append((dict(self.headers), body))
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    time.sleep(stub.delay)
                    if self.path.rstrip("/") != "/v1/chat/completions":
                        status, payload, headers = 404, {"error": {"message": "no route"}}, {}
                    else:
                        status, payload, headers = stub.plan(n, body)
                    data = json.dumps(payload).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    with stub._lock:
                        stub.in_flight -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    @property
    def count(self) -> int:
        return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_factory():
    stubs = []

    def make(plan=None, delay=0.0):
        stubs.append(Stub(plan, delay))
        return stubs[-1]

    yield make
    for s in stubs:
        s.close()


def dead_url() -> str:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def openai_spec(url: str, **extra) -> dict:
    return {"backend": "openai", "model": "stub-model", "base_url": url, **extra}


def cache_files(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*.json"))


# ----------------------------------------------------------------------------------- cache

def test_answers_are_cached_and_replayed_without_server(stub_factory, tmp_path):
    stub = stub_factory()
    spec = openai_spec(stub.url, concurrency=2)
    llm = make_llm(spec, cache_dir=tmp_path / "cache", name="judge", retry=FAST)
    prompts = [conv(f"question {i}") for i in range(5)]
    first = llm.chat_many(prompts, temperature=0, max_new_tokens=20)
    assert first == [f"echo[question {i}] t=0.0 seed=0 max=20" for i in range(5)]
    assert stub.count == 5
    files = cache_files(tmp_path / "cache")
    assert len(files) == 5
    assert all(f.parent.name == f.stem[:2] and len(f.stem) == 64 for f in files)

    # same process, same calls: nothing is sent
    assert llm.chat_many(prompts, temperature=0, max_new_tokens=20) == first
    assert stub.count == 5

    # the server goes away (its port is now dead): a fresh client replays everything from disk
    stub.close()
    replay = make_llm(spec, cache_dir=tmp_path / "cache", name="judge", retry=FAST)
    t0 = time.monotonic()
    assert replay.chat_many(prompts, temperature=0, max_new_tokens=20) == first
    assert replay.chat(prompts[2], temperature=0, max_new_tokens=20) == first[2]
    assert time.monotonic() - t0 < 1.0
    assert replay.stats == {"requests": 6, "cache_hits": 6, "sent": 0}

    # a changed prompt misses the cache and fails against the dead server, saying so
    with pytest.raises(LLMUnavailableError) as err:
        replay.chat_many(prompts + [conv("a new question")], temperature=0, max_new_tokens=20)
    msg = str(err.value)
    assert "'judge'" in msg and stub.url in msg
    assert "5 of 6 requests were served from the cache" in msg and "1 missing" in msg


def test_sampling_parameters_are_part_of_the_key(stub_factory, tmp_path):
    stub = stub_factory()
    llm = make_llm(openai_spec(stub.url), cache_dir=tmp_path, retry=FAST)
    q = conv("same prompt")
    llm.chat(q, temperature=0, seed=1)
    llm.chat(q, temperature=0, seed=2)  # greedy: the seed does not matter, cached
    assert stub.count == 1
    a = llm.chat(q, temperature=0.7, seed=1)
    b = llm.chat(q, temperature=0.7, seed=2)
    assert stub.count == 3 and a != b
    assert llm.chat(q, temperature=0.7, seed=1) == a  # sampled answers replay too
    llm.chat(q, temperature=0.7, seed=1, max_new_tokens=7)
    llm.chat(q, temperature=0.7, seed=1, top_p=0.9)
    assert stub.count == 5
    # sampling defaults come from the config entry
    entry = make_llm(openai_spec(stub.url, temperature=0.3, max_new_tokens=11), cache_dir=tmp_path)
    assert entry.chat(q, seed=4).endswith("t=0.3 seed=4 max=11")


def test_identical_requests_in_one_call_are_sent_once(stub_factory, tmp_path):
    stub = stub_factory()
    llm = make_llm(openai_spec(stub.url), cache_dir=tmp_path, retry=FAST)
    out = llm.chat_many([conv("a"), conv("b"), conv("a"), conv("a")])
    assert stub.count == 2
    assert out[0] == out[2] == out[3] != out[1]


def test_key_depends_on_endpoint_and_model_not_on_secret(tmp_path, monkeypatch):
    req = {"backend": "openai", "model": "m", "base_url": "http://h/v1", "messages": conv("x"),
           "sampling": Sampling(0.0, 10).key()}
    assert request_key(req) == request_key(dict(reversed(list(req.items()))))  # canonical
    assert request_key(req) != request_key({**req, "model": "m2"})
    assert request_key(req) != request_key({**req, "base_url": "http://other/v1"})
    monkeypatch.setenv("PERCONTRAST_TEST_KEY", SECRET)
    llm = make_llm(openai_spec("http://u:pw@h/v1", api_key_env="PERCONTRAST_TEST_KEY",
                               allow_http=True), cache_dir=tmp_path)
    request = llm.request(conv("x"), llm.sampling())
    assert SECRET not in json.dumps(request) and "pw" not in json.dumps(request)
    assert redact_url("http://u:pw@h:8/v1") == "http://h:8/v1"


def test_corrupt_cache_entry_is_a_miss(stub_factory, tmp_path):
    stub = stub_factory()
    llm = make_llm(openai_spec(stub.url), cache_dir=tmp_path, retry=FAST)
    answer = llm.chat(conv("q"))
    (path,) = cache_files(tmp_path)
    path.write_text("{ truncated")
    assert llm.chat(conv("q")) == answer
    assert stub.count == 2
    assert ResponseCache(tmp_path).get(path.stem) == answer  # rewritten, readable again


# --------------------------------------------------------------------------------- retries

def test_retries_500_then_succeeds(stub_factory, tmp_path, caplog):
    def plan(n, body):
        if n < 2:
            return 500, {"error": {"message": "overloaded", "type": "server_error"}}, {}
        return 200, completion(body, "finally"), {}

    stub = stub_factory(plan)
    llm = make_llm(openai_spec(stub.url), cache_dir=tmp_path, retry=FAST)
    with caplog.at_level(logging.WARNING, logger="percontrast.llm"):
        assert llm.chat(conv("q")) == "finally"
    assert stub.count == 3
    assert caplog.text.count("HTTP 500") == 2
    entry = json.loads(cache_files(tmp_path)[0].read_text())
    assert entry["meta"]["attempts"] == 3 and entry["response"] == "finally"


def test_429_with_retry_after_is_retried(stub_factory, tmp_path):
    def plan(n, body):
        if n == 0:
            return 429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}
        return 200, completion(body, "ok"), {}

    stub = stub_factory(plan)
    llm = make_llm(openai_spec(stub.url), cache_dir=tmp_path, retry=FAST)
    assert llm.chat(conv("q")) == "ok"
    assert stub.count == 2


def test_500_forever_fails_after_max_retries(stub_factory, tmp_path):
    stub = stub_factory(lambda n, body: (503, {"error": {"message": "down"}}, {}))
    llm = make_llm(openai_spec(stub.url), cache_dir=tmp_path, name="sim", retry=FAST)
    t0 = time.monotonic()
    with pytest.raises(LLMRequestError) as err:
        llm.chat(conv("q"))
    assert time.monotonic() - t0 < 5
    assert stub.count == FAST.max_retries + 1
    msg = str(err.value)
    assert "HTTP 503" in msg and stub.url in msg and "'sim'" in msg and "4 attempts" in msg
    assert "0 of 1 requests were served from the cache" in msg
    assert cache_files(tmp_path) == []


def test_client_errors_are_not_retried(stub_factory, tmp_path):
    stub = stub_factory(lambda n, body: (400, {"error": {"message": "bad model"}}, {}))
    llm = make_llm(openai_spec(stub.url), cache_dir=tmp_path, retry=FAST)
    with pytest.raises(LLMRequestError, match="HTTP 400"):
        llm.chat(conv("q"))
    assert stub.count == 1


def test_dead_server_fails_fast_with_default_policy(tmp_path):
    url = dead_url()
    llm = make_llm(openai_spec(url), cache_dir=tmp_path, name="vllm")
    t0 = time.monotonic()
    with pytest.raises(LLMUnavailableError) as err:
        llm.chat_many([conv("a"), conv("b"), conv("c")])
    elapsed = time.monotonic() - t0
    # default policy: 4 retries, 0.5 s doubling, jitter in [0.5, 1]: at most 7.5 s of waiting
    assert elapsed < 12
    msg = str(err.value)
    assert url in msg and "cannot reach" in msg and "'vllm'" in msg and "5 attempts" in msg
    assert "0 of 3 requests were served from the cache" in msg


def test_one_failure_keeps_the_answers_already_received(stub_factory, tmp_path):
    def plan(n, body):
        if "poison" in body["messages"][-1]["content"]:
            return 400, {"error": {"message": "rejected"}}, {}
        return 200, completion(body, echo(body)), {}

    stub = stub_factory(plan)
    llm = make_llm(openai_spec(stub.url, concurrency=1), cache_dir=tmp_path, retry=FAST)
    prompts = [conv("a"), conv("b"), conv("poison"), conv("c")]
    with pytest.raises(LLMRequestError) as err:
        llm.chat_many(prompts)
    assert "2 answered now" in str(err.value)
    assert len(cache_files(tmp_path)) == 2  # a and b were saved before the failure
    assert stub.count == 3  # c was cancelled, not sent


def test_concurrency_is_bounded_and_order_preserved(stub_factory, tmp_path):
    stub = stub_factory(delay=0.05)
    llm = make_llm(openai_spec(stub.url, concurrency=3), cache_dir=tmp_path, retry=FAST)
    prompts = [conv(f"q{i}") for i in range(12)]
    out = llm.chat_many(prompts)
    assert [o.split("]")[0] for o in out] == [f"echo[q{i}" for i in range(12)]
    assert 2 <= stub.max_in_flight <= 3


# --------------------------------------------------------------------- configuration errors

def test_missing_key_names_the_variable_and_counts(stub_factory, tmp_path, monkeypatch):
    stub = stub_factory()
    monkeypatch.delenv("PERCONTRAST_TEST_KEY", raising=False)
    open_spec = openai_spec(stub.url)
    make_llm(open_spec, cache_dir=tmp_path).chat(conv("cached"))
    keyed = make_llm(openai_spec(stub.url, api_key_env="PERCONTRAST_TEST_KEY"), cache_dir=tmp_path,
                     name="judge")
    # (a key does not change the cache key: the cached answer is served without one)
    assert keyed.chat(conv("cached")).startswith("echo[cached]")
    with pytest.raises(LLMUnavailableError) as err:
        keyed.chat_many([conv("cached"), conv("new")])
    msg = str(err.value)
    assert "set PERCONTRAST_TEST_KEY" in msg and "'judge'" in msg
    assert "1 of 2 requests were served from the cache" in msg and "1 missing" in msg
    assert stub.count == 1


def test_openai_without_base_url_needs_a_key_env(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # never picked up implicitly
    llm = make_llm({"backend": "openai", "model": "gpt-4o-mini"}, cache_dir=tmp_path,
                   name="judge")
    with pytest.raises(LLMUnavailableError) as err:
        llm.chat(conv("q"))
    msg = str(err.value)
    assert "api_key_env" in msg and "base_url" in msg and "'judge'" in msg
    assert SECRET not in msg


def test_bad_specs():
    with pytest.raises(ValueError, match="backend"):
        make_llm({"backend": "anthropic", "model": "x"}, cache_dir="unused")
    with pytest.raises(ValueError, match="model"):
        make_llm({"backend": "openai"}, cache_dir="unused")
    llm = make_llm(openai_spec("http://127.0.0.1:9/v1"), cache_dir="unused")
    with pytest.raises(ValueError, match="role"):
        llm.chat([{"content": "no role"}])
    with pytest.raises(ValueError, match="temperature"):
        llm.chat(conv("q"), temperature=-1)


# ------------------------------------------------------------------------------ secrecy

def _assert_secret_absent(secret: str, *texts: str, cache_dir: Path) -> None:
    for text in texts:
        assert secret not in text
    for path in Path(cache_dir).rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_key_never_reaches_logs_cache_or_errors(stub_factory, tmp_path, monkeypatch, caplog,
                                                capsys):
    def plan(n, body):
        if n == 0:
            return 500, {"error": {"message": "transient"}}, {}
        if "fail" in body["messages"][-1]["content"]:
            return 401, {"error": {"message": "invalid key"}}, {}
        return 200, completion(body, echo(body)), {}

    stub = stub_factory(plan)
    monkeypatch.setenv("PERCONTRAST_TEST_KEY", SECRET)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    llm = make_llm(openai_spec(stub.url, api_key_env="PERCONTRAST_TEST_KEY"),
                   cache_dir=tmp_path, retry=FAST)
    assert llm.chat_many([conv("one"), conv("two")], progress=True)[0].startswith("echo[one]")
    with pytest.raises(LLMUnavailableError, match="HTTP 401") as err:  # a refused key
        llm.chat(conv("fail"))
    # the key was really used: the server got it
    auth = [{k.lower(): v for k, v in h.items()}.get("authorization") for h, _ in stub.requests]
    assert auth and all(a == f"Bearer {SECRET}" for a in auth)
    out = capsys.readouterr()
    assert caplog.records  # the logs were really captured (retry warning, debug lines)
    _assert_secret_absent(SECRET, caplog.text, out.out, out.err, str(err.value), repr(llm),
                          cache_dir=tmp_path)


# ------------------------------------------------------------------------ transformers

TINY = {"source": "tiny", "architecture": "llama", "hidden_size": 64, "intermediate_size": 128,
        "num_layers": 2, "num_heads": 4, "num_kv_heads": 2, "dtype": "float32"}


@pytest.fixture(scope="module")
def tiny_models_dir(tmp_path_factory):
    from percontrast.models import prepare_model

    root = tmp_path_factory.mktemp("models")
    prepare_model("tiny", TINY, root / "tiny")
    return root


def test_transformers_backend_generates_and_caches(tiny_models_dir, tmp_path, monkeypatch):
    spec = {"backend": "transformers", "model": "tiny", "max_new_tokens": 6}
    llm = make_llm(spec, cache_dir=tmp_path, models_dir=tiny_models_dir, device="cpu",
                   batch_size=2)
    prompts = [conv("hello"), conv("a longer question about tea and kettles"), conv("x")]
    out = llm.chat_many(prompts, temperature=0.8, seed=3)
    assert len(out) == 3 and all(isinstance(o, str) and o for o in out)
    assert len(cache_files(tmp_path)) == 3
    greedy = llm.chat(prompts[1], temperature=0)
    assert isinstance(greedy, str)

    # a fresh client replays from disk without generating (generation would raise here)
    replay = make_llm(spec, cache_dir=tmp_path, models_dir=tiny_models_dir, device="cpu")
    monkeypatch.setattr(replay.backend, "complete_many",
                        lambda *a, **k: pytest.fail("should have come from the cache"))
    assert replay.chat_many(prompts, temperature=0.8, seed=3) == out
    assert replay.chat(prompts[1], temperature=0) == greedy

    # a sampled answer is a function of its cache key: alone, in a new cache, it is the same
    alone = make_llm(spec, cache_dir=tmp_path / "other", models_dir=tiny_models_dir,
                     device="cpu")
    assert alone.chat(prompts[2], temperature=0.8, seed=3) == out[2]


def test_transformers_backend_unprepared_model(tmp_path):
    llm = make_llm({"backend": "transformers", "model": "nope"}, cache_dir=tmp_path / "c",
                   models_dir=tmp_path / "models", name="local")
    with pytest.raises(LLMUnavailableError, match="prepare_model") as err:
        llm.chat(conv("q"))
    assert "'local'" in str(err.value) and str(tmp_path / "models" / "nope") in str(err.value)


# --------------------------------------------------------------------------- transformers serve

SERVING_MODULES = ("fastapi", "uvicorn", "openai")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def model_server(smollm2_dir):
    """``transformers serve`` on loopback with the prepared SmolLM2 preloaded: a real
    OpenAI-compatible server from a wheel (nothing to compile), offline."""
    for mod in SERVING_MODULES:
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"transformers' serving extra is missing ({mod}): "
                        "pip install 'transformers[serving]'")
    cli = Path(sys.executable).with_name("transformers")
    port = _free_port()
    log_path = smollm2_dir.parent / "server.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "2"}
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [str(cli), "serve", str(smollm2_dir), "--host", "127.0.0.1", "--port", str(port),
             "--device", "cpu", "--dtype", "float32"],
            stdout=log_file, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited with {proc.returncode}:\n"
                            f"{log_path.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                    if resp.status == 200 and str(smollm2_dir) in resp.read().decode():
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("transformers serve did not list the model within 300 s:\n"
                            f"{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield url, str(smollm2_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_real_server_answers_and_is_cached(model_server, tmp_path, monkeypatch, caplog):
    url, model = model_server
    monkeypatch.setenv("PERCONTRAST_TEST_KEY", SECRET)  # the server ignores it; we must not leak it
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    spec = {"backend": "openai", "model": model, "base_url": url,
            "api_key_env": "PERCONTRAST_TEST_KEY", "max_new_tokens": 32}
    llm = make_llm(spec, cache_dir=tmp_path, name="served")
    # With no system message SmolLM2's template inserts its default one, under which the 135M
    # model (greedy) rambles "L'Étoile, la Cité, ..."; asking for one word gets the fact out.
    question = [{"role": "system", "content": "You are a helpful assistant. Answer in one word."},
                {"role": "user", "content": "What is the capital of France?"}]
    t0 = time.monotonic()
    answer = llm.chat(question, temperature=0)
    first_s = time.monotonic() - t0
    assert "Paris" in answer, answer
    (entry_path,) = cache_files(tmp_path)
    entry = json.loads(entry_path.read_text())
    assert entry["response"] == answer and entry["request"]["base_url"] == url
    assert entry_path.stem == request_key(llm.request(question, llm.sampling(temperature=0)))

    replay = make_llm(spec, cache_dir=tmp_path, name="served")
    monkeypatch.setattr(replay.backend, "complete_many",
                        lambda *a, **k: pytest.fail("should have come from the cache"))
    t0 = time.monotonic()
    assert replay.chat(question, temperature=0) == answer
    assert time.monotonic() - t0 < max(0.5, first_s)
    _assert_secret_absent(SECRET, caplog.text, cache_dir=tmp_path)


@pytest.mark.slow
def test_real_server_many_concurrent(model_server, tmp_path):
    url, model = model_server
    spec = {"backend": "openai", "model": model, "base_url": url, "concurrency": 2,
            "max_new_tokens": 8}
    llm = make_llm(spec, cache_dir=tmp_path)
    prompts = [[{"role": "user", "content": f"Say the number {i}."}] for i in range(4)]
    out = llm.chat_many(prompts, temperature=0.7, seed=1)
    assert len(out) == 4 and all(isinstance(o, str) and o.strip() for o in out)
    entries = [json.loads(p.read_text()) for p in cache_files(tmp_path)]
    # one cache entry per prompt, each holding that prompt's own answer (none crossed over)
    by_prompt = {e["request"]["messages"][-1]["content"]: e["response"] for e in entries}
    assert by_prompt == {p[-1]["content"]: o for p, o in zip(prompts, out, strict=True)}
