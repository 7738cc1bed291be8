"""The one redaction policy: what a `Redactor` learns, and what it masks in text, data and typed values."""

import dataclasses
import json

from pydantic import BaseModel

from llm_hyperparameters import Redactor, is_secret_name, span, trace

SECRET = 'plain-"secret"\\value<&>'


class Credentials(BaseModel):
    api_key: str
    note: str
    retries: int = 2


@dataclasses.dataclass(frozen=True)
class Login:
    password: str
    user: str


def test_secret_names():
    assert [is_secret_name(name) for name in ("api_key", "OPENAI_API_KEY", "token", "refresh_token")] == [
        True
    ] * 4
    assert [is_secret_name(name) for name in ("password", "client_secret", "tokens", "topic")] == [
        True,
        True,
        False,
        False,
    ]


def test_learned_values_are_masked_in_plain_json_and_html_forms():
    redactor = Redactor()
    redactor.learn({"runs": [{"hyperparameters": {"tool": {"api_key": SECRET}}}]})
    assert redactor.scrub(f"key={SECRET}.") == "key=[REDACTED]."
    assert json.loads(redactor.scrub(json.dumps({"said": SECRET}))) == {"said": "[REDACTED]"}
    assert redactor.scrub("<p>plain-&quot;secret&quot;\\value&lt;&amp;&gt;</p>") == "<p>[REDACTED]</p>"


def test_learning_reads_models_and_dataclasses_and_skips_short_values():
    redactor = Redactor()
    redactor.learn([Credentials(api_key="model-held-key", note="n"), Login(password="abc", user="u")])
    assert redactor.scrub("model-held-key and abc") == "[REDACTED] and abc"


def test_extra_secrets_and_environment(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "env-held-token-1")
    redactor = Redactor(extra_secrets=["hunter2-of-mine"])
    assert redactor.text("hunter2-of-mine / env-held-token-1") == "[REDACTED] / [REDACTED]"


def test_key_shaped_strings_are_masked_without_learning():
    assert Redactor().scrub("use sk-abcdefghijklmnop1234 now") == "use [REDACTED] now"


def test_redact_keeps_types_and_unchanged_objects():
    redactor = Redactor()
    untouched = Credentials(api_key="", note="nothing here")
    assert redactor.redact(untouched) is untouched
    value = {"items": [Credentials(api_key="abcdefgh", note="sk-abcdefghijklmnop1234")], "n": 3}
    redacted = redactor.redact(value)
    assert redacted == {"items": [Credentials(api_key="[REDACTED]", note="[REDACTED]")], "n": 3}
    assert value["items"][0].api_key == "abcdefgh"  # the original is left alone
    login = redactor.redact(Login(password="pw-123456", user="ann"))
    assert login == Login(password="[REDACTED]", user="ann")
    assert redactor.redact(("x", 1)) == ("x", 1)


def test_text_truncates_but_scrub_does_not():
    redactor = Redactor(max_chars=10)
    assert redactor.text("a" * 25) == "a" * 10 + "…[truncated 15 chars]"
    assert redactor.scrub("a" * 25) == "a" * 25


def test_a_run_redactor_cleans_traces_with_what_it_learned_elsewhere():
    redactor = Redactor()
    redactor.learn({"task_parameters": {"password": "learned-before"}})
    with trace("t") as recorded, span("call", inputs={"text": "echo learned-before"}):
        pass
    data = recorded.to_dict(redactor=redactor)
    assert data["spans"][1]["inputs"] == {"text": "echo [REDACTED]"}
    assert "learned-before" in json.dumps(recorded.to_dict())  # a new redactor knows nothing of the run
