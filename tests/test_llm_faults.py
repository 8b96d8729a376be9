"""Faulty OpenAI-compatible endpoints: what the client and the judge jobs do with each.

Every server is a stdlib loopback server in a thread that answers ``/v1/chat/completions`` badly
in one way: 401 / 404 on every request, an HTML page with status 200, a 200 without ``choices``
or with ``content: null``, a 400 for some prompts, or one byte per second (in the body, or in the
headers). Each test reproduces one fault of the issue (it failed, or hung, before the fix).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("openai", reason="the openai backend needs the 'openai' package")

from percontrast.llm import (  # noqa: E402
    LLMRefusedError,
    LLMUnavailableError,
    RetryPolicy,
    make_llm,
)
from percontrast.llm_judge import JudgeRefusedError, judge_generations  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FAST = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05, total_s=10,
                   request_timeout_s=10, connect_timeout_s=2)
LOGGERS = ("", "percontrast", "openai", "openai._base_client", "httpx", "httpcore", "httpx2",
           "httpcore2")


def completion(body: dict, text) -> dict:
    return {"id": "chatcmpl-fault", "object": "chat.completion", "created": 0,
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}]}


def judge_reply(body: dict) -> str:
    """A well-behaved judge: a personalization score or the four quality scores."""
    text = body["messages"][-1]["content"]
    return "Score: 4" if "Ground Truth" in text else "4 / 4 / 5 / 3"


class FaultServer:
    """``answer(n, body)`` for the n-th request (0-based) returns one of
    ``("json", status, payload)``, ``("raw", status, content_type, bytes)``,
    ``("trickle_body", payload)`` or ``("trickle_headers", payload)``; trickles send one byte
    per ``trickle_s`` until the payload is out or the server closes."""

    def __init__(self, answer, trickle_s: float = 1.0):
        self.answer, self.trickle_s = answer, trickle_s
        self.requests: list[dict] = []
        self.closed = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    n = len(server.requests)
                    server.requests.append(body)
                kind, *rest = server.answer(n, body)
                if kind == "json":
                    status, payload = rest
                    self._send(status, "application/json", json.dumps(payload).encode())
                elif kind == "raw":
                    self._send(*rest)
                elif kind == "trickle_body":
                    data = json.dumps(rest[0]).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self._trickle(data)
                else:  # trickle_headers
                    data = json.dumps(rest[0]).encode()
                    head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            f"X-Padding: {'x' * 200}\r\nContent-Length: {len(data)}\r\n\r\n")
                    self._trickle(head.encode() + data)

            def _send(self, status, ctype, data):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _trickle(self, data):
                for i in range(len(data)):
                    if server.closed.wait(server.trickle_s):
                        return
                    try:
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up and closed the connection
                        return

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def count(self) -> int:
        return len(self.requests)

    def close(self) -> None:
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve():
    servers = []

    def make(answer, trickle_s: float = 1.0) -> FaultServer:
        servers.append(FaultServer(answer, trickle_s))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def spec(url: str, **extra) -> dict:
    return {"backend": "openai", "model": "judge-model", "base_url": url, **extra}


def conv(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def cache_files(root: Path) -> list[Path]:
    return sorted(Path(root).rglob("*.json"))


def finishes_within(seconds: float, fn):
    """Run ``fn`` in a thread; its exception, or a failure if it is still running after
    ``seconds`` (a hang must fail the test, not freeze the suite)."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as err:  # noqa: BLE001 (handed back to the test)
            box["error"] = err

    t0 = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still waiting after {seconds} s: the request has no total deadline")
    return box.get("error"), time.monotonic() - t0


# ------------------------------------------------------------------------- item 4: the client

@pytest.mark.parametrize("where", ["trickle_body", "trickle_headers"])
def test_trickling_server_is_cut_at_the_request_deadline(serve, tmp_path, where):
    server = serve(lambda n, body: (where, completion(body, "Score: 4")), trickle_s=1.0)
    llm = make_llm(spec(server.url, timeout_s=2), cache_dir=tmp_path, name="judge", retry=FAST)
    err, elapsed = finishes_within(15, lambda: llm.chat(conv("q")))
    assert isinstance(err, LLMUnavailableError), err
    assert 1.9 <= elapsed < 5  # the 2 s deadline, not 10 s per read (and not ~300 bytes)
    msg = str(err)
    assert "deadline of 2 s" in msg and "timeout_s" in msg
    assert server.url in msg and "'judge'" in msg
    assert server.count == 1  # the deadline is spent: no retry
    assert cache_files(tmp_path) == []


def test_chat_works_from_inside_a_running_event_loop(serve, tmp_path):
    """The client runs its own event loop; called from a running one (a notebook) it uses a
    helper thread instead of failing with 'asyncio.run() cannot be called from a running
    event loop'."""
    import asyncio

    server = serve(lambda n, body: ("json", 200, completion(body, "fine")))
    llm = make_llm(spec(server.url), cache_dir=tmp_path, retry=FAST)

    async def notebook_cell():
        return llm.chat(conv("q"))

    assert asyncio.run(notebook_cell()) == "fine" and server.count == 1


def test_default_deadline_is_well_under_361_s(tmp_path):
    assert RetryPolicy().total_s <= 180
    llm = make_llm(spec("http://127.0.0.1:9/v1"), cache_dir=tmp_path)
    assert llm.backend.retry.total_s == RetryPolicy().total_s
    llm = make_llm(spec("http://127.0.0.1:9/v1", timeout_s=30), cache_dir=tmp_path)
    assert llm.backend.retry.total_s == 30
    with pytest.raises(ValueError, match="timeout_s"):
        make_llm(spec("http://127.0.0.1:9/v1", timeout_s=0), cache_dir=tmp_path)


def test_config_schema_takes_the_llm_entry_settings():
    import jsonschema

    from percontrast.config import load_schema

    entry = {"$defs": load_schema()["$defs"], "$ref": "#/$defs/llm"}
    ok = {"backend": "openai", "model": "m", "concurrency": 2, "timeout_s": 30,
          "max_refused_fraction": 0.1}
    jsonschema.validate(ok, entry)
    for bad in ({"timeout_s": 0}, {"timeout_s": "30"}, {"max_refused_fraction": 1.5}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**ok, **bad}, entry)


def test_html_page_with_status_200_is_a_clear_error(serve, tmp_path):
    page = b"<!doctype html><html><head><title>Open WebUI</title></head><body>app</body></html>"
    server = serve(lambda n, body: ("raw", 200, "text/html; charset=utf-8", page))
    llm = make_llm(spec(server.url), cache_dir=tmp_path, name="judge", retry=FAST)
    with pytest.raises(LLMUnavailableError) as err:  # was: AttributeError: 'str' has no 'choices'
        llm.chat_many([conv("a"), conv("b")])
    msg = str(err.value)
    assert "HTTP 200 with a text/html" in msg and "Open WebUI" in msg and "/v1" in msg
    assert server.url in msg and "'judge'" in msg and err.value.status == 200
    assert server.count <= 2 and cache_files(tmp_path) == []


@pytest.mark.parametrize("payload, says", [
    ({"id": "x", "object": "chat.completion", "model": "m", "choices": []}, "without choices"),
    ({"id": "x", "object": "chat.completion", "model": "m"}, "without choices"),
    ({"id": "x", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": None},
         "finish_reason": "length"}]}, "content null (finish_reason 'length')"),
])
def test_200_without_an_answer_is_an_error_and_never_cached(serve, tmp_path, payload, says):
    server = serve(lambda n, body: ("json", 200, payload))
    llm = make_llm(spec(server.url), cache_dir=tmp_path, name="judge", retry=FAST)
    for attempt in (1, 2):  # before the fix the empty answer was cached and replayed
        with pytest.raises(LLMRefusedError) as err:
            llm.chat(conv("q"))
        assert server.count == attempt
        assert cache_files(tmp_path) == []
    msg = str(err.value)
    assert says in msg and server.url in msg and "'judge'" in msg and err.value.status == 200


def test_credentials_in_base_url_never_reach_the_logs(serve, tmp_path, caplog):
    server = serve(lambda n, body: ("json", 200, completion(body, "fine")))
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    url = f"http://alice:pw-SECRET-42@127.0.0.1:{server.port}/v1"
    llm = make_llm(spec(url), cache_dir=tmp_path, name="judge", retry=FAST)
    assert llm.chat(conv("q")) == "fine"
    assert server.count == 1
    assert "HTTP Request: POST" in caplog.text  # httpx's own request line was captured ...
    assert f"http://127.0.0.1:{server.port}/v1/chat/completions" in caplog.text
    assert "pw-SECRET-42" not in caplog.text and "alice" not in caplog.text  # ... redacted
    for path in cache_files(tmp_path):
        assert b"pw-SECRET-42" not in path.read_bytes()


# ------------------------------------------------------------- item 3: the judge endpoints

ITEMS = [{"id": f"r{i}", "question": f"Write about topic {i}", "reference": "ref",
          "output": f"text {i}"} for i in range(10)]


def refuse_if(pred):
    def answer(n, body):
        if pred(body["messages"][-1]["content"]):
            return "json", 400, {"error": {"message": "content filter", "type": "invalid"}}
        return "json", 200, completion(body, judge_reply(body))
    return answer


def test_a_few_refusals_are_counted_apart_from_unparsed(serve, tmp_path):
    server = serve(refuse_if(lambda text: "text 3\n" in text))
    llm = make_llm(spec(server.url), cache_dir=tmp_path, name="judge", retry=FAST)
    summary, rows = judge_generations(llm, ITEMS, seed=0, retries=1)
    assert summary["refused_judgments"] == {"personalization": 1, "quality": 1}
    assert summary["unparsed_judgments"] == {"personalization": 0, "quality": 0}
    assert summary["missing"] == {"personalization": 1, "quality": 1}
    assert summary["personalization"] == pytest.approx(80.0)  # the 9 others, all Score: 4
    assert rows[3]["personalization"] is None and rows[3]["n_personalization"] == 0
    assert "HTTP 400" in summary["refusals"][0] and server.url in summary["refusals"][0]
    # refused prompts were re-asked (judge_retries) and nothing refused was cached
    assert len(cache_files(tmp_path)) == 18


def test_all_requests_refused_fails_the_job(serve, tmp_path):
    server = serve(refuse_if(lambda text: True))
    llm = make_llm(spec(server.url), cache_dir=tmp_path, name="judge", retry=FAST)
    with pytest.raises(JudgeRefusedError) as err:
        judge_generations(llm, ITEMS, seed=0, retries=2)
    msg = str(err.value)
    assert "refused 10 of 10" in msg and "HTTP 400" in msg
    assert server.url in msg and "'judge'" in msg and err.value.status == 400
    assert server.count == 10  # it stopped at the first attempt: no re-asks of a dead endpoint


def test_refused_fraction_above_the_entry_threshold_fails(serve, tmp_path):
    refused = ("text 1\n", "text 2\n", "text 3\n")
    answer = refuse_if(lambda text: any(r in text for r in refused))
    server = serve(answer)
    strict = make_llm(spec(server.url, max_refused_fraction=0.2), cache_dir=tmp_path / "a",
                      name="judge", retry=FAST)
    with pytest.raises(JudgeRefusedError, match=r"refused 3 of 10 personalization .* 0\.2"):
        judge_generations(strict, ITEMS, seed=0, retries=0)
    lenient = make_llm(spec(server.url, max_refused_fraction=0.5), cache_dir=tmp_path / "b",
                       name="judge", retry=FAST)
    summary, _ = judge_generations(lenient, ITEMS, seed=0, retries=0)
    assert summary["refused_judgments"] == {"personalization": 3, "quality": 3}


def _run_command(command: str, *args: str) -> subprocess.CompletedProcess:
    """``percontrast <command>`` as a rule runs it (a fresh process)."""
    env = {**os.environ, "PERCONTRAST_LOG_LEVEL": "INFO"}
    return subprocess.run([sys.executable, "-m", "percontrast", command, *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("status, says", [(401, "key was rejected"), (404, "no such model")])
def test_judge_script_fails_on_an_endpoint_that_refuses_everything(serve, tmp_path, status,
                                                                   says):
    server = serve(lambda n, body: ("json", status, {"error": {"message": "nope"}}))
    data = tmp_path / "test.jsonl"
    data.write_text("".join(json.dumps({
        "id": it["id"], "task": "topic_writing", "user_id": "u", "query": it["question"],
        "reference": "ref", "profile": []}) + "\n" for it in ITEMS))
    gens = tmp_path / "generations.jsonl"
    gens.write_text("".join(json.dumps({"id": it["id"], "output": it["output"],
                                        "reference": "ref"}) + "\n" for it in ITEMS))
    out, items = tmp_path / "judge.json", tmp_path / "judge_items.jsonl"
    url = f"http://u:pw-SECRET@127.0.0.1:{server.port}/v1"
    proc = _run_command("llm_judge", "--generations", str(gens), "--data", str(data),
                       "--judge", json.dumps({"judge": "gpt_judge", "n": 10}),
                       "--llm", json.dumps({"gpt_judge": spec(url)}),
                       "--cache-dir", str(tmp_path / "cache"),
                       "--out", str(out), "--items", str(items))
    assert proc.returncode != 0, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "Traceback" not in proc.stderr
    assert f"HTTP {status}" in last and says in last
    assert "'gpt_judge'" in last and server.url in last and "pw-SECRET" not in proc.stderr
    assert not out.exists() and not items.exists()
    assert list(tmp_path.glob("judge*")) == []  # no temporary file left either
    assert server.count <= 4  # failed at once, not after asking 20 prompts one by one


@pytest.mark.slow  # a script that loads torch and a tiny model in a subprocess (~30 s)
def test_aloe_script_fails_when_the_judge_refuses_everything(serve, tmp_path):
    from percontrast.models import prepare_model

    def answer(n, body):
        if body["model"] == "judge-model":
            return "json", 404, {"error": {"message": "The model `judge-model` does not exist"}}
        return "json", 200, completion(body, "Hi, I keep bees. Any tips?")

    server = serve(answer)
    model_dir = prepare_model("tiny", {
        "source": "tiny", "architecture": "llama", "hidden_size": 64, "intermediate_size": 128,
        "num_layers": 2, "num_heads": 4, "num_kv_heads": 2, "dtype": "float32"},
        tmp_path / "tiny")
    convs = tmp_path / "conversations.jsonl"
    convs.write_text("".join(json.dumps({"id": f"c{i}", "profile": "I keep bees in Lyon.",
                                         "personality": "Terse."}) + "\n" for i in range(3)))
    out, transcripts = tmp_path / "scores.json", tmp_path / "transcripts.jsonl"
    proc = _run_command(
        "aloe", "--checkpoint", str(model_dir), "--conversations", str(convs),
        "--aloe", json.dumps({"user_simulator": "sim", "judge": "aloe_judge", "rounds": 2,
                              "max_new_tokens": 4}),
        "--llm", json.dumps({"sim": {**spec(server.url), "model": "sim-model"},
                             "aloe_judge": spec(server.url)}),
        "--generation", json.dumps({"temperature": 0.0, "max_new_tokens": 4, "batch_size": 4}),
        "--threads", "1", "--device", "cpu", "--cache-dir", str(tmp_path / "cache"),
        "--out", str(out), "--transcripts", str(transcripts))
    assert proc.returncode != 0, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "Traceback" not in proc.stderr
    assert "HTTP 404" in last and "'aloe_judge'" in last and server.url in last
    assert not out.exists() and not transcripts.exists()


# ------------------------------------- issue 20 items 1, 2, 8: credentials in a config, big replies

LEAK = "sk-LEAKTEST-123456"


def _tiny_config_with(entry: dict) -> dict:
    import yaml

    cfg = yaml.safe_load((REPO / "configs" / "tiny.yaml").read_text())
    cfg["llm"]["judge2"] = entry
    cfg["evaluation"]["llm_judge"]["judge"] = "judge2"
    return cfg


def _config_error(cfg: dict) -> str:
    from percontrast.config import ConfigError, check_config, validate_schema

    with pytest.raises(ConfigError) as err:
        validate_schema(cfg)
        check_config(cfg)
    return str(err.value)


@pytest.mark.parametrize("value", [LEAK, "gsk_" + "aB3dE5fG7h" * 5, "OPENAI_API_KEY\n",
                                   "1ABC", "", "A" * 65])
def test_a_key_written_as_api_key_env_is_refused_without_echoing_it(value):
    entry = {"backend": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1",
             "api_key_env": value}
    msg = _config_error(_tiny_config_with(entry))
    assert msg.startswith("llm.judge2.api_key_env:") and "environment variable" in msg
    assert (value.strip() or "''") not in msg.replace("llm.judge2.api_key_env", "")
    with pytest.raises(ValueError) as err:  # the client refuses it too, the same way
        make_llm(entry, cache_dir="unused", name="judge2")
    assert "api_key_env" in str(err.value)
    if value.strip():
        assert value.strip() not in str(err.value)


def test_a_variable_name_as_api_key_env_is_accepted():
    from percontrast.config import check_config, validate_schema

    for value in ("OPENAI_API_KEY", "my_key_2", "_K"):
        cfg = _tiny_config_with({"backend": "openai", "model": "m", "api_key_env": value})
        check_config(validate_schema(cfg))


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1?api_key=SECRET-Q-42",
                                 "http://127.0.0.1:9/v1?x=1&token=SECRET-Q-42",
                                 "http://127.0.0.1:9/v1#SECRET-Q-42",
                                 "http://127.0.0.1:9/v1/?SECRET-Q-42"])
def test_a_query_or_fragment_in_base_url_is_refused_without_echoing_it(url, tmp_path, caplog):
    from percontrast.llm import redact_url

    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    entry = {"backend": "openai", "model": "m", "base_url": url}
    msg = _config_error(_tiny_config_with(entry))
    assert msg.startswith("llm.judge2.base_url:") and "query" in msg
    assert "SECRET-Q-42" not in msg
    with pytest.raises(ValueError) as err:
        make_llm(entry, cache_dir=tmp_path, name="judge2")
    assert "base_url" in str(err.value) and "SECRET-Q-42" not in str(err.value)
    assert "SECRET-Q-42" not in redact_url(url)
    assert "SECRET-Q-42" not in caplog.text and cache_files(tmp_path) == []


def test_schema_errors_elsewhere_never_echo_a_key_or_a_query():
    cfg = _tiny_config_with({"backend": "openai", "model": "m", "api_key_env": LEAK,
                             "base_url": "http://h/v1?k=SECRET-Q-42", "concurrency": "x"})
    msg = _config_error(cfg)
    assert LEAK not in msg and "SECRET-Q-42" not in msg
    cfg = _tiny_config_with({"backend": "openai", "model": "m", "api_key_env": LEAK})
    cfg["llm"]["judge2"] = [cfg["llm"]["judge2"]]  # the whole entry quoted in a type error
    msg = _config_error(cfg)
    assert LEAK not in msg


@pytest.mark.parametrize("size", [50_000, 5_000_000])
def test_a_reply_far_longer_than_max_tokens_fails_and_is_never_cached(serve, tmp_path, size):
    server = serve(lambda n, body: ("json", 200, completion(body, "x" * size)))
    llm = make_llm(spec(server.url, max_new_tokens=256), cache_dir=tmp_path, name="judge",
                   retry=FAST)
    with pytest.raises(LLMUnavailableError) as err:
        llm.chat(conv("q"))
    msg = str(err.value)
    assert "max_tokens" in msg and "256" in msg and "'judge'" in msg and server.url in msg
    assert len(msg) < 2000
    assert cache_files(tmp_path) == []
    assert server.count == 1  # not retried


def test_a_reply_within_the_bound_is_accepted(serve, tmp_path):
    text = "word " * 256  # about 256 tokens of 5 characters
    server = serve(lambda n, body: ("json", 200, completion(body, text)))
    llm = make_llm(spec(server.url, max_new_tokens=256), cache_dir=tmp_path, retry=FAST)
    assert llm.chat(conv("q")) == text and len(cache_files(tmp_path)) == 1


def test_judge_script_refuses_a_key_as_api_key_env_in_one_line(tmp_path):
    data, gens = tmp_path / "test.jsonl", tmp_path / "generations.jsonl"
    data.write_text(json.dumps({"id": "r0", "task": "topic_writing", "user_id": "u",
                                "query": "q", "reference": "ref", "profile": []}) + "\n")
    gens.write_text(json.dumps({"id": "r0", "output": "o", "reference": "ref"}) + "\n")
    out, items = tmp_path / "judge.json", tmp_path / "judge_items.jsonl"
    proc = _run_command("llm_judge", "--generations", str(gens), "--data", str(data),
                       "--judge", json.dumps({"judge": "j", "n": 1}),
                       "--llm", json.dumps({"j": spec("http://127.0.0.1:9/v1",
                                                      api_key_env=LEAK)}),
                       "--cache-dir", str(tmp_path / "cache"), "--out", str(out),
                       "--items", str(items))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "api_key_env" in last and "'j'" in last
    assert LEAK not in proc.stderr + proc.stdout
    assert not out.exists() and not items.exists()
