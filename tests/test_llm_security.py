"""Where an llm entry may send its key: https unless loopback or ``allow_http``, a real secret.

Issue 31 item 9: any environment variable named in ``api_key_env`` went out as the bearer token,
over plain HTTP, to any host (a loopback server received ``Bearer /root`` and ``$PATH``), and a
``base_url`` without http(s) failed only after five retries. Each case is refused at config
validation (before any job is planned) and by ``make_llm``, and nothing is sent.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from percontrast.config import ConfigError, check_config, validate_schema
from percontrast.llm import LLMConfigError, make_llm

REPO = Path(__file__).resolve().parents[1]


def tiny_config_with(entry: dict) -> dict:
    cfg = yaml.safe_load((REPO / "configs" / "tiny.yaml").read_text())
    cfg["llm"]["judge2"] = entry
    cfg["evaluation"]["llm_judge"]["judge"] = "judge2"
    return cfg


def config_error(entry: dict) -> str:
    with pytest.raises(ConfigError) as err:
        check_config(validate_schema(tiny_config_with(entry)))
    return str(err.value)


def config_ok(entry: dict) -> None:
    check_config(validate_schema(tiny_config_with(entry)))


def make_error(entry: dict, tmp_path) -> str:
    with pytest.raises(LLMConfigError) as err:
        make_llm(entry, cache_dir=tmp_path, name="judge2")
    return str(err.value)


def openai(**extra) -> dict:
    return {"backend": "openai", "model": "m", **extra}


# ------------------------------------------------------------------ base_url: scheme and host

@pytest.mark.parametrize("url, why", [
    ("localhost:8000/v1", "no http:// or https://"),
    ("127.0.0.1:8000/v1", "no http:// or https://"),
    ("node7/v1", "no http:// or https://"),
    ("file:///etc/passwd", "'file'"),
    ("ftp://127.0.0.1/v1", "'ftp'"),
    ("ws://127.0.0.1:8000/v1", "'ws'"),
    ("http:///v1", "no host"),
])
def test_a_base_url_that_is_not_http_fails_at_validation(url, why, tmp_path):
    msg = config_error(openai(base_url=url))
    assert msg.startswith("llm.judge2.base_url:") and "http" in msg and why in msg, msg
    assert why in make_error(openai(base_url=url), tmp_path)


@pytest.mark.parametrize("url", ["u:SECRET-U-42@node7/v1", "localhost:SECRET-U-42@h/v1"])
def test_a_schemeless_base_url_is_refused_without_echoing_it(url, tmp_path):
    msg = config_error(openai(base_url=url))
    assert msg.startswith("llm.judge2.base_url:") and "SECRET-U-42" not in msg
    assert "SECRET-U-42" not in make_error(openai(base_url=url), tmp_path)


# ------------------------------------------------------------------ https unless loopback

@pytest.mark.parametrize("url", ["http://node7:8000/v1", "http://10.0.0.3/v1",
                                 "http://api.example.com/v1", "HTTP://node7/v1",
                                 "http://0.0.0.0:8000/v1", "http://localhost.example.com/v1",
                                 "http://u:SECRET-U-42@node7/v1"])
def test_plain_http_to_another_host_is_refused(url, tmp_path):
    msg = config_error(openai(base_url=url, api_key_env="OPENAI_API_KEY"))
    assert msg.startswith("llm.judge2.base_url:") and "https" in msg and "allow_http" in msg
    assert "SECRET-U-42" not in msg
    msg = make_error(openai(base_url=url), tmp_path)
    assert "https" in msg and "allow_http" in msg and "SECRET-U-42" not in msg


@pytest.mark.parametrize("url", ["http://node7:8000/v1", "http://10.0.0.3/v1"])
def test_plain_http_to_another_host_is_accepted_when_the_entry_allows_it(url, tmp_path):
    entry = openai(base_url=url, allow_http=True)
    config_ok(entry)
    assert make_llm(entry, cache_dir=tmp_path).backend.base_url == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1", "http://localhost:8000/v1",
                                 "http://LOCALHOST/v1", "http://[::1]:8000/v1",
                                 "http://127.5.6.7/v1", "https://node7:8000/v1",
                                 "https://api.openai.com/v1", None, ""])
def test_https_and_loopback_http_are_accepted(url, tmp_path):
    entry = openai(base_url=url, api_key_env="OPENAI_API_KEY")
    config_ok(entry)
    make_llm(entry, cache_dir=tmp_path)


def test_allow_http_must_be_a_boolean():
    msg = config_error(openai(base_url="http://node7/v1", allow_http="yes"))
    assert msg.startswith("llm.judge2.allow_http:")


def test_allow_http_is_not_filled_in_by_default():
    """No default in the schema: an llm entry's params, and so its jobs, stay as they were."""
    cfg = validate_schema(tiny_config_with(openai(base_url="http://127.0.0.1:9/v1")))
    assert "allow_http" not in cfg["llm"]["judge2"]


# ------------------------------------------------------------------ api_key_env: a secret

NOT_SECRETS = ["HOME", "PATH", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "LANG", "LANGUAGE",
               "LC_ALL", "LC_CTYPE", "TERM", "TMPDIR", "HOSTNAME", "DISPLAY", "EDITOR", "TZ",
               "PYTHONPATH", "LD_LIBRARY_PATH", "VIRTUAL_ENV", "CONDA_PREFIX", "XDG_RUNTIME_DIR",
               "SSH_AUTH_SOCK", "CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID", "home", "Path",
               "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN",
               "AZURE_CLIENT_SECRET", "GOOGLE_APPLICATION_CREDENTIALS"]


@pytest.mark.parametrize("name", NOT_SECRETS)
def test_a_variable_that_is_not_an_api_key_is_refused_as_api_key_env(name, tmp_path):
    entry = openai(base_url="http://127.0.0.1:9/v1", api_key_env=name)
    msg = config_error(entry)
    assert msg.startswith("llm.judge2.api_key_env:") and "bearer" in msg, msg
    assert "bearer" in make_error(entry, tmp_path)


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "HF_TOKEN", "GITHUB_TOKEN", "GROQ_API_KEY",
                                  "AZURE_OPENAI_API_KEY", "AWS_BEARER_TOKEN_BEDROCK",
                                  "VLLM_API_KEY", "MY_KEY", "my_key_2", "_K", "PATH_KEY"])
def test_api_key_variables_are_accepted(name, tmp_path):
    entry = openai(base_url="http://127.0.0.1:9/v1", api_key_env=name)
    config_ok(entry)
    make_llm(entry, cache_dir=tmp_path)


class Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        Recorder.seen.append(self.headers.get("Authorization", ""))
        body = json.dumps({"choices": [{"message": {"role": "assistant", "content": "ok"}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_home_never_goes_out_as_a_bearer_token(tmp_path, monkeypatch):
    """The issue's probe: a loopback server received ``Bearer /root``."""
    pytest.importorskip("openai")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HOME", "/root-SECRET-H")
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        with pytest.raises(LLMConfigError):
            make_llm(openai(base_url=url, api_key_env="HOME"), cache_dir=tmp_path).chat(
                [{"role": "user", "content": "q"}])
        assert Recorder.seen == []
        # the same server with a real key variable answers: the refusal is the variable's
        monkeypatch.setenv("PERCONTRAST_TEST_KEY", "k-1")
        llm = make_llm(openai(base_url=url, api_key_env="PERCONTRAST_TEST_KEY"),
                       cache_dir=tmp_path)
        assert llm.chat([{"role": "user", "content": "q"}]) == "ok"
        assert Recorder.seen == ["Bearer k-1"]
    finally:
        server.shutdown()
        server.server_close()
