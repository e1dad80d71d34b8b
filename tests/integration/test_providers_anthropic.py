"""ClaudePlanner through the real anthropic SDK against the loopback simulator (tests/sim).

What matters to the person: their affirmation, photos and scene counts survive the LLM;
a wrapped or partly bad answer costs at most one repair call and names the bad scene;
every failure maps to one taxonomy with the SDK's own retries off.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from mindmovie.config import ConfigError, Keys, Settings, load_settings
from mindmovie.goals import Goal, Goals, Person
from mindmovie.plan import DEFAULT_CLOSING, load_plan, write_plan
from mindmovie.providers.anthropic import SYSTEM_PROMPT, ClaudePlanner
from mindmovie.providers.base import (
    BUSY_AGAIN,
    AuthError,
    ConnectionLost,
    InvalidRequest,
    JobFailed,
    PlanOptions,
    RateLimited,
    Transient,
)
from tests.integration.support import count_ca_loads
from tests.sim import SimServer

pytestmark = pytest.mark.usefixtures("providers_closed")

MESSAGES = "/v1/messages"


@pytest.fixture
def goals(tmp_path: Path) -> Goals:
    me = tmp_path / "me.png"
    run = tmp_path / "run.png"
    for p in (me, run):
        p.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    return Goals(
        title="My Year",
        person=Person(description="a woman in her thirties with curly hair", photos=[me]),
        goals=[
            Goal(
                category="Health",
                vision="I run a marathon",
                affirmation="I am strong and I finish my marathon with joy",
                photos=[run],
                scenes=2,
            ),
            Goal(category="Career", vision="I lead a design team"),
        ],
        closing="Thank you for this life",
    )


def good_plan(body: dict[str, Any]) -> dict[str, Any]:
    """A well-formed answer whose model-written affirmation for goal 1 differs from the
    person's (so the test sees the person's words win) and with extra scenes for goal 2."""
    scene = {
        "image_prompt": "wide shot at dawn",
        "motion_prompt": "slow push-in",
        "seconds": 5,
    }
    return {
        "title": "LLM title",
        "closing": "LLM closing",
        "scenes": [
            {"goal": 1, "affirmation": "LLM line one", **scene},
            {"goal": 1, "affirmation": "I cross the line smiling", **scene},
            {"goal": 2, "affirmation": "I lead with calm", **scene},
            {"goal": 2, "affirmation": "an extra scene beyond the count", **scene},
        ],
    }


def planner(sim: SimServer, **kw: Any) -> ClaudePlanner:
    return ClaudePlanner(api_key="sk-ant-test", base_url=sim.base_url, **{"timeout": 10, **kw})


OPTIONS = PlanOptions(scene_seconds=5, scenes_per_goal=1, allowed_seconds=(4.0, 6.0, 8.0))


async def test_request_shape_and_person_words_kept(sim: SimServer, goals: Goals) -> None:
    sim.set_planner(good_plan)
    p = planner(sim)
    plan = await p.plan(goals, OPTIONS)

    reqs = sim.requests(path=MESSAGES)
    assert len(reqs) == 1
    body = reqs[0]["body"]
    assert body["model"] == "claude-sonnet-5-5"  # catalog default, nothing hard-coded
    assert body["tool_choice"] == {"type": "tool", "name": "emit_plan"}
    # the instructions go as the system prompt: the rules for each field, and the text
    # the estimate counts as the planner's input (costs.planner_tokens)
    assert body["system"] == SYSTEM_PROMPT and "first person, present tense" in body["system"]
    schema = body["tools"][0]["input_schema"]
    item = schema["properties"]["scenes"]["items"]
    assert set(item["required"]) == {
        "goal",
        "affirmation",
        "image_prompt",
        "motion_prompt",
        "seconds",
    }
    assert item["properties"]["seconds"]["enum"] == [4, 6, 8]
    scenes = schema["properties"]["scenes"]
    assert scenes["minItems"] == scenes["maxItems"] == 3  # exactly the person's count
    assert reqs[0]["headers"].get("x-stainless-retry-count") == "0"
    assert "me.png" not in json.dumps(body)  # no local paths leave the machine

    assert [s.id for s in plan.scenes] == ["01-health-1", "01-health-2", "02-career-1"]
    assert plan.scenes[0].affirmation == "I am strong and I finish my marathon with joy"
    assert plan.scenes[1].affirmation == "I cross the line smiling"
    assert plan.title == "My Year" and plan.closing == "Thank you for this life"
    # 5 s snapped to an allowed length; halfway between two, the longer one wins
    assert [s.seconds for s in plan.scenes] == [6.0, 6.0, 6.0]
    assert Path(plan.scenes[0].reference_photos[0]).name == "run.png"
    assert Path(plan.scenes[2].reference_photos[0]).name == "me.png"  # person's photo

    stats = sim.stats()["models"]["claude-sonnet-5-5"]
    assert p.last_usage == {
        "input_tokens": stats["input_tokens"],
        "output_tokens": stats["output_tokens"],
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    assert p.last_usage["input_tokens"] > 0


async def test_planner_clients_share_one_tls_context(
    sim: SimServer, goals: Goals, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The anthropic SDK's client loaded the system's CA certificates for each client it
    made (one a render and event loop; ~45 ms of CPU each, ~290 clients in the test
    suite). Its clients share the one context now: new planners, each with a new client,
    load none, and still plan."""
    loads = count_ca_loads(monkeypatch)
    sim.set_planner(good_plan)
    before = 0
    for n in range(3):
        if n == 1:
            before = len(loads)  # the shared context
        p = planner(sim)
        await p.plan(goals, OPTIONS)
        await p.aclose()
    assert before >= 1 and len(loads) == before, loads
    assert len(sim.requests(path=MESSAGES)) == 3


async def test_configured_model_is_used(sim: SimServer, goals: Goals) -> None:
    sim.set_planner(good_plan)
    await planner(sim, model="claude-haiku-4-5").plan(goals, OPTIONS)
    assert sim.requests(path=MESSAGES)[0]["body"]["model"] == "claude-haiku-4-5"


async def test_wrapped_answer_is_accepted_without_repair(sim: SimServer, goals: Goals) -> None:
    sim.set_planner(good_plan)
    sim.add_fault("wrap", path=MESSAGES)
    plan = await planner(sim).plan(goals, OPTIONS)
    assert len(plan.scenes) == 3
    assert len(sim.requests(path=MESSAGES)) == 1


async def test_invalid_scene_gets_one_repair_naming_scene_and_field(
    sim: SimServer, goals: Goals
) -> None:
    sim.set_planner(good_plan)
    sim.add_fault("invalid", path=MESSAGES, field="image_prompt")
    p = planner(sim)
    plan = await p.plan(goals, OPTIONS)
    reqs = sim.requests(path=MESSAGES)
    assert len(reqs) == 2
    repair = reqs[1]["body"]["messages"]
    assert repair[1]["content"][0]["type"] == "tool_use"
    result = repair[2]["content"][0]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert result["tool_use_id"] == repair[1]["content"][0]["id"]
    assert "scene 1 (goal 1): image_prompt" in result["content"]
    echoed = repair[1]["content"][0]["input"]  # the model sees its own answer again
    assert "image_prompt" not in echoed["scenes"][0]
    assert echoed["scenes"][1:] == good_plan({})["scenes"][1:]
    assert plan.scenes[0].image_prompt == "wide shot at dawn"
    assert len(p.last_calls) == 2
    assert p.last_usage["input_tokens"] == sum(c["input_tokens"] for c in p.last_calls)


async def test_cache_tokens_are_summed_and_priced_at_their_own_rates(
    sim: SimServer, goals: Goals
) -> None:
    """A prompt that hits Anthropic's cache reports cache_creation_input_tokens and
    cache_read_input_tokens beside input_tokens (provider-wire.md §4: each at its own
    rate). Each call's record (`last_calls`, which the ledger bills) had them, but the
    plan's summed usage (`last_usage`, the pipeline's fallback for a planner with no
    per-call records) held input and output tokens only: priced from it, cache tokens
    went unbilled. Both now agree, and with the simulator's own counts."""
    from mindmovie import costs

    sim.set_planner(good_plan)
    sim.cache_tokens = (1200, 3400)
    sim.add_fault("invalid", path=MESSAGES, field="image_prompt")  # two calls: summed
    p = planner(sim)
    await p.plan(goals, OPTIONS)
    stats = sim.stats()["models"]["claude-sonnet-5-5"]
    assert stats["messages"] == 2
    want = {
        k: stats[k]
        for k in (
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        )
    }
    assert want["cache_creation_input_tokens"] == 2400
    assert want["cache_read_input_tokens"] == 6800
    assert p.last_usage == want
    for call in p.last_calls:
        assert call["cache_creation_input_tokens"] == 1200
        assert call["cache_read_input_tokens"] == 3400
    usd, how = costs.billed_usd(
        "planner", p.spec, p.last_usage, seconds=0, resolution="", ratio="", audio=False
    )
    # claude-sonnet-5-5 in catalog.toml: $2 in, $10 out, $2.5 cache write, $0.2 cache read
    price = (
        want["input_tokens"] * 2.0 + want["output_tokens"] * 10.0 + 2400 * 2.5 + 6800 * 0.2
    ) / 1e6
    assert how == "usage" and usd == pytest.approx(price, abs=1e-9)
    per_call = [
        costs.billed_usd("planner", p.spec, c, seconds=0, resolution="", ratio="", audio=False)
        for c in p.last_calls
    ]
    assert usd == pytest.approx(sum(u for u, _ in per_call), abs=1e-9)


@pytest.mark.parametrize("shape", ["empty", "blank", "left out"])
async def test_the_persons_own_affirmation_scene_needs_no_affirmation_from_claude(
    sim: SimServer, goals: Goals, shape: str
) -> None:
    """Goal 1's first scene shows the person's own affirmation whatever Claude writes
    there. Claude leaving it empty (or out) was a bad scene: a paid repair, and with the
    same answer again the plan failed ('scene 1 (goal 1): affirmation: ...'). It is one
    call and the person's words. Another scene's empty affirmation is still repaired."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        plan = good_plan(body)
        first = plan["scenes"][0]
        if shape == "left out":
            del first["affirmation"]
        else:
            first["affirmation"] = "" if shape == "empty" else "  \u200b "
        return plan

    sim.set_planner(answer)
    p = planner(sim)
    plan = await p.plan(goals, OPTIONS)
    assert len(sim.requests(path=MESSAGES)) == 1 and len(p.last_calls) == 1
    assert plan.scenes[0].affirmation == "I am strong and I finish my marathon with joy"

    def second_scene_empty(body: dict[str, Any]) -> dict[str, Any]:
        plan = good_plan(body)
        plan["scenes"][1]["affirmation"] = ""  # goal 1's second scene: Claude's words
        return plan

    sim.set_planner(second_scene_empty)
    with pytest.raises(JobFailed, match=r"scene 2 \(goal 1\): affirmation"):
        await p.plan(goals, OPTIONS)
    assert len(sim.requests(path=MESSAGES)) == 3  # its answer and the repair


async def test_still_invalid_after_repair_fails_naming_scene_and_field(
    sim: SimServer, goals: Goals
) -> None:
    sim.set_planner(good_plan)
    sim.add_fault("invalid", path=MESSAGES, field="motion_prompt", count=2)
    with pytest.raises(JobFailed) as e:
        await planner(sim).plan(goals, OPTIONS)
    assert "scene 1 (goal 1): motion_prompt" in str(e.value)
    assert len(sim.requests(path=MESSAGES)) == 2  # exactly one repair


async def test_schema_generated_answer_still_gives_the_persons_counts(
    sim: SimServer, goals: Goals
) -> None:
    """The sim's generic answer puts every scene under one goal: after the repair the
    missing goal's scenes come from the local planner, so counts hold."""
    plan = await planner(sim).plan(goals, OPTIONS)
    assert [s.goal for s in plan.scenes] == [1, 1, 2]
    assert plan.scenes[0].affirmation == "I am strong and I finish my marathon with joy"
    assert len(sim.requests(path=MESSAGES)) == 2


async def test_rate_limit_maps_retry_after_and_sdk_does_not_retry(
    sim: SimServer, goals: Goals
) -> None:
    sim.add_fault("http", path=MESSAGES, status=429, retry_after=3)
    with pytest.raises(RateLimited) as e:
        await planner(sim).plan(goals, OPTIONS)
    assert e.value.retry_after == 3.0
    assert len(sim.requests(path=MESSAGES)) == 1


@pytest.mark.parametrize("status", [408, 409, 500, 503, 529])
async def test_server_errors_are_transient(sim: SimServer, goals: Goals, status: int) -> None:
    sim.add_fault("http", path=MESSAGES, status=status)
    with pytest.raises(Transient) as e:
        await planner(sim).plan(goals, OPTIONS)
    assert not isinstance(e.value, RateLimited)
    assert e.value.retry_after is None
    assert len(sim.requests(path=MESSAGES)) == 1


@pytest.mark.parametrize("status", [503, 529])
async def test_an_overload_with_retry_after_carries_it(
    sim: SimServer, goals: Goals, status: int
) -> None:
    """An overloaded API saying when to come back (Retry-After) is Transient with that
    wait, which mindmovie.retry honours as a 429's; before, a 5xx dropped it."""
    sim.add_fault("http", path=MESSAGES, status=status, retry_after=4)
    with pytest.raises(Transient) as e:
        await planner(sim).plan(goals, OPTIONS)
    assert not isinstance(e.value, RateLimited) and e.value.retry_after == 4.0
    assert len(sim.requests(path=MESSAGES)) == 1


@pytest.mark.parametrize("status", [503, 529])
async def test_an_overload_asking_for_hours_says_when_not_a_few_minutes(
    sim: SimServer, goals: Goals, status: int
) -> None:
    """A 503 or 529 with Retry-After: 7200 ends the call at once saying when to render
    again; it also said "render again in a few minutes" (`busy_advice`)."""
    from mindmovie.retry import with_retry

    sim.add_fault("http", path=MESSAGES, status=status, retry_after=7200)
    with pytest.raises(Transient) as e:
        await asyncio.wait_for(with_retry(lambda: planner(sim).plan(goals, OPTIONS)), 10)
    line = str(e.value)
    busy = "is overloaded" if status == 529 else "could not answer"
    assert f"anthropic {busy}; it asks to wait 2 h 0 min" in line, line
    assert "render again after" in line and "few minutes" not in line, line
    assert len(sim.requests(path=MESSAGES)) == 1


async def test_configured_timeout_is_connection_lost_at_the_timeout(
    sim: SimServer, goals: Goals
) -> None:
    """providers.anthropic.timeout bounds each call: an answer slower than it is a
    ConnectionLost (a Transient the retry policy may retry), raised at the timeout, not
    when the answer finally comes; the SDK tells the server the same budget."""
    s = Settings(
        preset="byteplus",
        providers={"anthropic": {"base_url": sim.base_url, "timeout": 0.5}},
    )
    p = ClaudePlanner.from_settings(s, Keys.from_env({"ANTHROPIC_API_KEY": "sk-ant-test"}))
    sim.set_planner(good_plan)
    # a first call imports and builds what the SDK needs: the timed call is the request
    # alone. (It was timed from the server's record of the request, which a handler
    # thread woken 0.15 s late makes 0.15 s late: 0.35 s waited, under the 0.4 s bound.)
    await p.plan(goals, OPTIONS)
    sim.add_fault("delay", path=MESSAGES, seconds=2.5)  # far past the timeout: no flake
    t0 = time.monotonic()
    with pytest.raises(ConnectionLost) as e:
        await p.plan(goals, OPTIONS)
    waited = time.monotonic() - t0
    assert isinstance(e.value, Transient) and e.value.kind == "connection"
    assert "Timeout" in str(e.value)
    # not the async library's words for its own timeout ("CancelledError: Cancelled via
    # cancel scope 7fba39424e00; reason: deadline exceeded")
    assert "cancel scope" not in str(e.value) and "CancelledError" not in str(e.value), e.value
    assert sim.stats()["totals"]["messages"] == 1  # the server had not answered it yet
    _, req = sim.requests(path=MESSAGES)  # one attempt: the SDK's own retries are off
    # its timeout starts after t0, so it cannot end sooner; nor wait out the 2.5 s
    assert 0.5 - 1e-3 <= waited < 2.0, waited
    assert req["headers"].get("x-stainless-timeout") == "0.5"
    assert req["headers"].get("x-stainless-retry-count") == "0"
    # let the sim finish the slow answer so it cannot count into the next test
    deadline = time.monotonic() + 5
    while sim.stats()["totals"]["messages"] == 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def test_dropped_connection_is_transient(sim: SimServer, goals: Goals) -> None:
    sim.add_fault("drop", path=MESSAGES)
    with pytest.raises(Transient):
        await planner(sim).plan(goals, OPTIONS)


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors_name_the_variable(sim: SimServer, goals: Goals, status: int) -> None:
    sim.add_fault("http", path=MESSAGES, status=status)
    with pytest.raises(AuthError) as e:
        await planner(sim).plan(goals, OPTIONS)
    assert "ANTHROPIC_API_KEY" in str(e.value)
    assert "sk-ant-test" not in str(e.value)


async def test_payment_required_is_an_auth_error_naming_billing(
    sim: SimServer, goals: Goals
) -> None:
    """HTTP 402 (no credit): final, and it says where to look, not the key variable."""
    sim.add_fault("http", path=MESSAGES, status=402, message="credit balance too low")
    with pytest.raises(AuthError) as e:
        await planner(sim).plan(goals, OPTIONS)
    assert "HTTP 402" in str(e.value) and "check the account's billing" in str(e.value)
    assert len(sim.requests(path=MESSAGES)) == 1


async def test_unknown_model_404_names_the_setting(sim: SimServer, goals: Goals) -> None:
    sim.add_fault("http", path=MESSAGES, status=404, message="model: claude-x")
    with pytest.raises(InvalidRequest) as e:
        await planner(sim).plan(goals, OPTIONS)
    msg = str(e.value)
    assert "planner.model: anthropic answered HTTP 404 not_found_error: model: claude-x" in msg
    assert "choose another (known: " in msg and "claude-haiku-4-5" in msg
    assert e.value.setting == "planner.model"


@pytest.mark.parametrize("status", [400, 413])
async def test_bad_request_is_invalid_request(sim: SimServer, goals: Goals, status: int) -> None:
    """400, and 413 (request too large): final, never retried as is."""
    sim.add_fault("http", path=MESSAGES, status=status, message="max_tokens: too large")
    with pytest.raises(InvalidRequest) as e:
        await planner(sim).plan(goals, OPTIONS)
    etype = {400: "invalid_request_error", 413: "request_too_large"}[status]
    assert f"HTTP {status} {etype}: max_tokens: too large" in str(e.value)
    assert "(request req_sim" in str(e.value)  # the id Anthropic's support asks for


#: a proxy's page in place of Anthropic's JSON (nginx's, as one in front of the API sends)
NGINX_413 = (
    "<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 "
    "Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>"
)
#: Anthropic's own words for each error (its errors page), as the simulator answers them
ANTHROPIC_ERRORS: list[tuple[int, str | None, str, str, int]] = [
    # status, body (None: Anthropic's JSON), what is said, what to do, exit code
    (400, None, "invalid_request_error: prompt is too long: 215000 tokens > 200000 maximum",
     "shorten the goals", 1),
    (400, None, "invalid_request_error: Your credit balance is too low to access the "
     "Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
     "check the account's billing", 1),
    (400, None, "invalid_request_error: You have reached your specified API usage limits. "
     "You will regain access on 2026-04-01 at 00:00 UTC.",
     "the account's spend limit is reached: render again then, or raise the limit", 1),
    (400, None, "invalid_request_error: messages: text content blocks must be non-empty",
     "refused the request as sent; nothing was billed for it", 1),
    (401, None, "authentication_error: invalid x-api-key", "check ANTHROPIC_API_KEY", 1),
    (403, None, "permission_error: Your API key does not have permission to use the "
     "specified resource.", "check ANTHROPIC_API_KEY", 1),
    (404, None, "not_found_error: model: claude-x", "choose another (known: ", 2),
    (413, None, "request_too_large: Request exceeds the maximum allowed number of bytes.",
     "shorten the goals", 1),
    (413, NGINX_413, "413 Request Entity Too Large 413 Request Entity Too Large nginx",
     "shorten the goals", 1),
    (429, None, "rate_limit_error: Number of request tokens has exceeded your per-minute "
     "rate limit", "render again", 1),
    (500, None, "api_error: Internal server error", "render again", 1),
    (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "502 Bad Gateway",
     "render again", 1),
    (529, None, "overloaded_error: Overloaded", "render again", 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "said", "to_do", "code"),
    ANTHROPIC_ERRORS,
    ids=[f"{c[0]}{'-page' if c[1] else ''}-{i}" for i, c in enumerate(ANTHROPIC_ERRORS)],
)
def test_each_error_claude_answers_is_one_line_saying_status_type_message_and_what_to_do(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    body: str | None,
    said: str,
    to_do: str,
    code: int,
) -> None:
    """`plan` with Claude answering each error of provider-wire.md §3 (and a proxy's
    page in front of it): one line naming the provider, the HTTP status, Anthropic's
    error type and message, and what to do, never the key. A page that is not
    Anthropic's JSON was said as the SDK's class alone ("HTTP 413: ContentTooLargeError"),
    and no line said the error type or what to do but 401/403's and 404's."""
    from typer.testing import CliRunner

    from mindmovie import retry
    from mindmovie.cli import app
    from tests.integration.support import cli_env, goals_file, no_retry_waits

    no_retry_waits(monkeypatch)  # a 429 or 5xx is tried again four times, at once
    monkeypatch.setattr(retry, "RATE_LIMIT_PATIENCE", 0.0)
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    key = "sk-ant-api03-" + "k" * 40
    env = {**env, "ANTHROPIC_API_KEY": key, "COLUMNS": "2000"}
    message = said.split(": ", 1)[-1] if body is None else None
    sim.add_fault("http", path=MESSAGES, status=status, message=message, body=body, count=None)
    args = ["plan", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--yes"]
    r = CliRunner().invoke(app, args, env=env)
    assert r.exit_code == code, r.output
    errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in r.output, r.output
    (line,) = errors
    head = f"HTTP {status}{' ' if body is None else ': '}"  # a page has no error type
    assert line.startswith(
        (f"error: anthropic: {head}", f"error: planner.model: anthropic answered {head}")
    ), line
    assert said in line and to_do in line, line
    assert key not in r.output and "kkkkkkkk" not in r.output


def test_missing_key_is_one_line_config_error() -> None:
    s = load_settings(env={}, overrides={"preset": "byteplus"})
    with pytest.raises(ConfigError) as e:
        ClaudePlanner.from_settings(s, Keys())
    msg = str(e.value)
    assert "ANTHROPIC_API_KEY is not set" in msg and "byteplus preset" in msg
    assert "\n" not in msg


def test_from_settings_uses_base_url_and_model(sim: SimServer) -> None:
    s = Settings(
        preset="byteplus",
        planner={"model": "claude-haiku-4-5"},
        providers={"anthropic": {"base_url": sim.base_url, "timeout": 5}},
    )
    p = ClaudePlanner.from_settings(s, Keys.from_env({"ANTHROPIC_API_KEY": "sk-ant-secret"}))
    assert p.model == "claude-haiku-4-5"
    assert "sk-ant-secret" not in repr(p)


def test_unknown_configured_model_is_config_error() -> None:
    s = Settings(preset="byteplus", planner={"model": "gpt-9"})
    with pytest.raises(ConfigError) as e:
        ClaudePlanner.from_settings(s, Keys.from_env({"ANTHROPIC_API_KEY": "k"}))
    assert "claude-sonnet-5-5" in str(e.value)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ("{max_tokens: lots}", "planner.options.max_tokens: 'lots' is not allowed"),
        ("{max_tokens: 0}", "planner.options.max_tokens: 0 is not allowed"),
        ("{maxtokens: 4000}", "unknown option(s) for anthropic: maxtokens; allowed: max_tokens"),
    ],
)
def test_a_bad_planner_option_is_one_line_before_any_request(
    sim: SimServer, tmp_path: Path, options: str, said: str
) -> None:
    """`planner.options.max_tokens: lots` used to crash `render` with a ValueError
    traceback from the budget hold; a misspelt option was silently ignored. Both are
    one line (exit 2) that names what is allowed, before any request."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from tests.integration.support import cli_env, goals_file

    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    cfg.write_text(cfg.read_text() + f"planner: {{options: {options}}}\n")
    r = CliRunner().invoke(
        app,
        ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--yes"],
        env=env,
    )
    assert r.exit_code == 2, (r.output, r.exception)
    assert said in r.output and "Traceback" not in r.output, r.output
    assert sim.stats()["requests"] == 0


def test_blank_words_are_not_put_to_claude(goals: Goals) -> None:
    """A person description, style or closing of a zero-width space alone was sent as
    the person's words ("person": "\u200b"), as were spaces; blank, it is left out."""
    from mindmovie.providers.anthropic import build_prompt
    from mindmovie.providers.base import PlanOptions

    assert goals.person is not None
    blank = goals.model_copy(
        update={
            "person": goals.person.model_copy(update={"description": "\u200b"}),
            "style": "\u2060 ",
            "closing": "\ufeff",
        }
    )
    prompt = build_prompt(blank, PlanOptions())
    assert "\u200b" not in prompt and "\u2060" not in prompt and "\ufeff" not in prompt
    assert '"person"' not in prompt and '"style"' not in prompt and '"closing"' not in prompt
    assert '"person"' in build_prompt(goals, PlanOptions())


def test_claude_is_asked_to_prefer_the_clip_length_the_scenes_are_priced_at(
    goals: Goals,
) -> None:
    """The google preset's defaults (plan.scene_seconds 5, Veo making 4, 6 or 8 s): the
    prompt said "Allowed clip lengths (seconds): 4, 6, 8; prefer 5", a length the model
    cannot make, while the estimate priced each scene at 6 s (options audit). It asks
    for the length the scenes are priced at."""
    from mindmovie import costs
    from mindmovie.config import load_settings
    from mindmovie.providers.anthropic import build_prompt

    for over in ({"preset": "google"}, {"preset": "byteplus", "plan": {"scene_seconds": 30}}):
        settings = load_settings(overrides=over, env={})
        options = costs.plan_options(settings)
        priced = {s.seconds for s in costs.estimate_run(settings, goals).scenes}
        assert options.allowed_seconds and options.scene_seconds not in options.allowed_seconds
        (secs,) = priced
        assert f"; prefer {secs:g}." in build_prompt(goals, options), (over, priced)


# ---------------------------------------------------------------- found by a mutation audit
async def test_connection_failures_say_whether_the_request_was_sent(
    sim: SimServer, goals: Goals
) -> None:
    """ConnectionLost.sent decides whether the ledger may refund the call: a dropped
    connection (the request reached the server) is sent, a refused one (a port nothing
    listens on) was never sent. Both are ConnectionLost, not a generic Transient, and
    say what the transport said and what to do: both were "connection failed:
    APIConnectionError", the SDK's class alone."""
    import socket

    sim.add_fault("drop", path=MESSAGES)
    with pytest.raises(ConnectionLost) as dropped:
        await planner(sim).plan(goals, OPTIONS)
    assert dropped.value.sent is True
    assert len(sim.requests(path=MESSAGES)) == 1
    assert "sent; render again" in str(dropped.value), dropped.value

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: connecting is refused
    dead = ClaudePlanner(api_key="sk-ant-test", base_url=f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(ConnectionLost) as refused:
        await dead.plan(goals, OPTIONS)
    assert refused.value.sent is False
    assert f"Connect call failed ('127.0.0.1', {port})" in str(refused.value), refused.value
    assert "nothing was sent: check the network" in str(refused.value)
    assert "providers.anthropic.base_url" in str(refused.value)


def test_a_timeout_while_connecting_says_nothing_was_sent_not_a_longer_timeout() -> None:
    """A timeout while connecting (a firewall dropping the packets) made no connection:
    a longer timeout does not mend it; it was told "set a longer timeout"."""
    import anthropic
    import httpx

    p = ClaudePlanner(api_key="sk-ant-test", base_url="http://127.0.0.1:9", timeout=5)
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/messages")
    try:
        try:
            raise httpx.ConnectTimeout("timed out", request=request)
        except httpx.ConnectTimeout as cause:
            raise anthropic.APITimeoutError(request=request) from cause
    except anthropic.APITimeoutError as e:
        got = p._map_error(e)
    assert isinstance(got, ConnectionLost) and got.sent is False
    assert "nothing was sent: check the network" in str(got), got
    assert "longer timeout" not in str(got), got


async def test_max_tokens_on_the_wire_is_the_one_the_budget_holds(
    sim: SimServer, goals: Goals
) -> None:
    """The budget holds planner.options.max_tokens of output, else planner_max_tokens of
    the scene count (costs.planner_hold): the request must ask for no more than that."""
    from mindmovie.providers.anthropic import planner_max_tokens

    sim.set_planner(good_plan)
    await planner(sim).plan(goals, OPTIONS)
    await planner(sim, max_tokens=1234).plan(goals, OPTIONS)
    default, configured = (r["body"]["max_tokens"] for r in sim.requests(path=MESSAGES))
    assert default == planner_max_tokens(3)  # 2 + 1 scenes
    assert configured == 1234


async def test_a_big_plan_has_room_for_its_scenes_and_a_model_s_own_ceiling_is_kept(
    sim: SimServer, goals: Goals
) -> None:
    """The scale audit: max_tokens was at most 16,000, and a plan of more than ~60 scenes
    (200-260 tokens a scene) was cut off there, billed, and failed at every render;
    goals.yaml allows 180. It has room for 180 scenes now, up to 64,000; a model whose
    most is lower says so in a 400 (billed nothing), and the call goes again at it. The
    estimate prices no more output than the call asks for."""
    from mindmovie import costs
    from mindmovie.config import load_settings
    from mindmovie.providers.anthropic import PLANNER_MAX_OUTPUT, planner_max_tokens

    assert planner_max_tokens(60) == 22500 and planner_max_tokens(180) == PLANNER_MAX_OUTPUT
    asked = planner_max_tokens(3)  # 2 + 1 scenes
    sim.set_planner(good_plan)
    sim.add_fault("http", path=MESSAGES, status=400, message=f"max_tokens: {asked} > 2000, "
                  "which is the maximum allowed number of output tokens for claude-x")  # fmt: skip
    plan = await planner(sim).plan(goals, OPTIONS)
    assert len(plan.scenes) == 3
    assert [r["body"]["max_tokens"] for r in sim.requests(path=MESSAGES)] == [asked, 2000]
    big = Goals(title="T", goals=[Goal(category="health", vision="v", scenes=6)] * 30)
    settings = load_settings(overrides={"preset": "byteplus"}, env={})
    out = costs.estimate_planner(settings, big).inputs["output_tokens"]
    assert out == costs.OUTPUT_TOKENS_BASE + 180 * costs.OUTPUT_TOKENS_PER_SCENE <= 64000
    capped = load_settings(
        overrides={"preset": "byteplus", "planner": {"options": {"max_tokens": 9000}}}, env={}
    )
    assert costs.estimate_planner(capped, big).inputs["output_tokens"] == 9000


async def test_usage_is_that_of_the_last_plan_only(sim: SimServer, goals: Goals) -> None:
    """One planner object plans twice (a re-plan): last_usage and last_calls are those
    of the second plan, not both summed, or the second plan would be billed twice."""
    sim.set_planner(good_plan)
    p = planner(sim)
    sim.add_fault("invalid", path=MESSAGES, field="image_prompt")  # first plan: two calls
    await p.plan(goals, OPTIONS)
    assert len(p.last_calls) == 2
    first = sim.stats()["models"]["claude-sonnet-5-5"]["input_tokens"]
    await p.plan(goals, OPTIONS)
    assert len(p.last_calls) == 1
    second = sim.stats()["models"]["claude-sonnet-5-5"]["input_tokens"] - first
    assert p.last_usage["input_tokens"] == p.last_calls[0]["input_tokens"] == second


async def test_before_repair_is_awaited_once_before_the_repair_call(
    sim: SimServer, goals: Goals
) -> None:
    """The repair is a second paid call: the pipeline's budget gate (before_repair) runs
    after the first call and before the second; a plan without repair never calls it."""
    seen: list[int] = []

    async def gate() -> None:
        seen.append(len(sim.requests(path=MESSAGES)))

    sim.set_planner(good_plan)
    await planner(sim).plan(goals, OPTIONS, before_repair=gate)
    assert seen == []
    sim.add_fault("invalid", path=MESSAGES, field="image_prompt")
    await planner(sim).plan(goals, OPTIONS, before_repair=gate)
    assert seen == [2]  # one call before it (this plan's first), its repair after it
    assert len(sim.requests(path=MESSAGES)) == 3


async def test_an_answer_that_is_not_an_object_fails_after_one_repair(
    sim: SimServer, goals: Goals
) -> None:
    """A tool input that is no object at all, twice: JobFailed naming it, not a plan made
    silently of the local planner's scenes."""
    sim.set_planner(lambda body: ["not", "a", "plan"])
    with pytest.raises(JobFailed, match="plan: the tool input is not an object"):
        await planner(sim).plan(goals, OPTIONS)
    assert len(sim.requests(path=MESSAGES)) == 2


async def test_a_plan_answered_as_json_text_is_used(sim: SimServer, goals: Goals) -> None:
    """Claude answering with the plan as JSON text instead of calling the tool: the
    plan is read from the text, and no repair call is paid for."""
    text = json.dumps(good_plan({}))
    sim.add_fault(
        "patch",
        path=MESSAGES,
        body={"content": [{"type": "text", "text": text}], "stop_reason": "end_turn"},
    )
    plan = await planner(sim).plan(goals, OPTIONS)
    assert [s.affirmation for s in plan.scenes][1:] == [
        "I cross the line smiling",
        "I lead with calm",
    ]
    assert len(sim.requests(path=MESSAGES)) == 1


@pytest.mark.parametrize("fence", ["```json\n", "```\n"])
async def test_a_plan_answered_as_fenced_json_text_is_used(
    sim: SimServer, goals: Goals, fence: str
) -> None:
    """The plan as JSON text in a Markdown code fence, with a line before it, as Claude
    writes JSON in text: it failed the render ('answered without calling emit_plan'),
    the answer billed and thrown away. It is read from inside the fence."""
    text = f"Here is the plan:\n{fence}{json.dumps(good_plan({}), indent=1)}\n```\n"
    sim.add_fault(
        "patch",
        path=MESSAGES,
        body={"content": [{"type": "text", "text": text}], "stop_reason": "end_turn"},
    )
    plan = await planner(sim).plan(goals, OPTIONS)
    assert [s.affirmation for s in plan.scenes][1:] == [
        "I cross the line smiling",
        "I lead with calm",
    ]
    assert len(sim.requests(path=MESSAGES)) == 1


async def test_scenes_given_as_json_text_in_the_tool_input_need_no_repair(
    sim: SimServer, goals: Goals
) -> None:
    """The tool input's scenes array given as its JSON text ("scenes": "[{...}]"), as
    Claude sometimes gives a nested array: it was 'scenes: missing or not a list', a
    paid repair. It is read as the array: one call."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        plan = good_plan(body)
        return {**plan, "scenes": json.dumps(plan["scenes"])}

    sim.set_planner(answer)
    p = planner(sim)
    plan = await p.plan(goals, OPTIONS)
    assert [s.affirmation for s in plan.scenes][1:] == [
        "I cross the line smiling",
        "I lead with calm",
    ]
    assert len(sim.requests(path=MESSAGES)) == 1 and len(p.last_calls) == 1


async def test_an_answer_without_the_tool_or_json_fails_naming_the_stop_reason(
    sim: SimServer, goals: Goals
) -> None:
    sim.add_fault(
        "patch",
        path=MESSAGES,
        body={"content": [{"type": "text", "text": "Here it is."}], "stop_reason": "end_turn"},
    )
    with pytest.raises(JobFailed, match=r"without calling emit_plan \(stop_reason end_turn\)"):
        await planner(sim).plan(goals, OPTIONS)
    assert len(sim.requests(path=MESSAGES)) == 1


@pytest.mark.parametrize(
    ("content", "said"),
    [([{"type": "text", "text": "I can't help\nwith that."}], "I can't help with that."), ([], "")],
)
async def test_a_refusal_before_any_plan_says_to_reword_the_goals(
    sim: SimServer, goals: Goals, content: list[dict[str, Any]], said: str
) -> None:
    """stop_reason refusal with a text or nothing (no tool call): Claude declined the
    goals. It was told 'answered without calling emit_plan (stop_reason refusal)', with
    no word of what to change; now as a refusal mid-plan is: reword the goals. Billed
    (last_calls), not repaired."""
    sim.add_fault("patch", path=MESSAGES, body={"content": content, "stop_reason": "refusal"})
    p = planner(sim)
    with pytest.raises(JobFailed) as e:
        await p.plan(goals, OPTIONS)
    msg = str(e.value)
    assert "declined to write the plan (stop_reason refusal" in msg, msg
    assert "reword the goals" in msg and "\n" not in msg
    assert (f'it said "{said}"' in msg) if said else ("said" not in msg)
    assert len(sim.requests(path=MESSAGES)) == 1 and len(p.last_calls) == 1


@pytest.mark.parametrize("shape", ["wrapped twice", "wrapped as a JSON string"])
async def test_a_plan_wrapped_twice_or_as_a_string_is_accepted(
    sim: SimServer, goals: Goals, shape: str
) -> None:
    """unwrap takes up to three wrappers, a JSON string among them: no repair is paid."""
    plan = good_plan({})
    value: Any = (
        {"output": {"plan": plan}} if shape == "wrapped twice" else {"output": json.dumps(plan)}
    )
    block = {"type": "tool_use", "id": "toolu_x", "name": "emit_plan", "input": value}
    sim.add_fault("patch", path=MESSAGES, body={"content": [block]})
    result = await planner(sim).plan(goals, OPTIONS)
    assert [s.affirmation for s in result.scenes][1:] == [
        "I cross the line smiling",
        "I lead with calm",
    ]
    assert len(sim.requests(path=MESSAGES)) == 1


async def test_each_call_records_its_request_and_message_ids(sim: SimServer, goals: Goals) -> None:
    """last_calls (one ledger row each) keep the call's `request-id` header (what
    Anthropic's support asks for; `request_id` held the message id) and the answer's
    message id, for a dispute."""
    sim.set_planner(good_plan)
    sim.add_fault("invalid", path=MESSAGES, field="image_prompt")
    p = planner(sim)
    await p.plan(goals, OPTIONS)
    ids = [c["request_id"] for c in p.last_calls]
    assert len(ids) == 2 and all(i.startswith("req_sim") for i in ids) and ids[0] != ids[1]
    msgs = [c["message_id"] for c in p.last_calls]
    assert all(i.startswith("msg_sim") for i in msgs) and msgs[0] != msgs[1]


# ---------------------------------------------------------------- a streamed answer
async def test_a_plan_slower_to_write_than_the_timeout_arrives_whole(
    sim: SimServer, goals: Goals
) -> None:
    """Claude writing a long plan for longer than providers.anthropic.timeout: the
    answer is streamed, so the timeout bounds each silence, not the whole answer. (Sent
    unstreamed, nothing came before the end: every long plan was cut at the timeout and
    the retry paid for it again.)"""
    sim.set_planner(good_plan)
    sim.add_fault("generating", path=MESSAGES, seconds=1.5)
    plan = await planner(sim, timeout=0.6).plan(goals, OPTIONS)
    assert [s.affirmation for s in plan.scenes][1:] == [
        "I cross the line smiling",
        "I lead with calm",
    ]
    (req,) = sim.requests(path=MESSAGES)
    assert req["body"]["stream"] is True


async def test_a_streamed_answer_keeps_the_usage_the_bill_is_made_from(
    sim: SimServer, goals: Goals
) -> None:
    """Usage comes in two pieces (input tokens at message_start, output tokens at
    message_delta): the call's record has both, as Claude counted them."""
    sim.set_planner(good_plan)
    p = planner(sim)
    await p.plan(goals, OPTIONS)
    counted = sim.stats()["models"]["claude-sonnet-5-5"]
    (call,) = p.last_calls
    assert call["input_tokens"] == counted["input_tokens"] > 0
    assert call["output_tokens"] == counted["output_tokens"] > 1
    assert str(call["message_id"]).startswith("msg_sim")


@pytest.mark.parametrize("code", ["overloaded_error", None])
async def test_an_answer_that_breaks_off_may_be_billed_and_is_worth_a_retry(
    sim: SimServer, goals: Goals, code: str | None
) -> None:
    """A stream that ends in an `error` event (Claude overloaded mid-answer) or a closed
    socket: the answer had begun, so the call is ConnectionLost with sent=True (the
    ledger keeps it committed, never refunds it) and a Transient the retry may repeat."""
    sim.add_fault("midstream", path=MESSAGES, code=code, message="Overloaded")
    with pytest.raises(ConnectionLost) as e:
        await planner(sim).plan(goals, OPTIONS)
    assert e.value.sent is True and isinstance(e.value, Transient)
    assert "broke off" in str(e.value)
    if code:
        assert "overloaded_error: Overloaded" in str(e.value)
        # what to do, as a 529 says it (it ended with the error's type alone)
        assert str(e.value).endswith(f"; anthropic is overloaded: {BUSY_AGAIN}"), str(e.value)
    assert len(sim.requests(path=MESSAGES)) == 1


@pytest.mark.parametrize("body", ["", "<html><body>Request accepted</body></html>"])
async def test_an_ok_answer_with_no_event_stream_is_an_answer_lost_not_a_traceback(
    sim: SimServer, goals: Goals, body: str
) -> None:
    """A 200 whose body holds no event (empty, or a proxy's page): the SDK's
    get_final_message asserted it had a message, and the render ended in a traceback. It
    is ConnectionLost, sent (the call may be billed: the ledger keeps it), and names
    what came."""
    sim.add_fault("http", path=MESSAGES, status=200, body=body, count=1)
    with pytest.raises(ConnectionLost) as e:
        await planner(sim).plan(goals, OPTIONS)
    assert e.value.sent is True
    assert "the answer held no message" in str(e.value), str(e.value)
    assert len(sim.requests(path=MESSAGES)) == 1


async def test_a_silence_longer_than_the_timeout_mid_answer_is_connection_lost(
    sim: SimServer, goals: Goals
) -> None:
    """The stream began, then nothing for longer than the timeout: ConnectionLost at
    that silence (sent, maybe billed), not a wait for the rest of a stuck answer."""
    sim.set_planner(good_plan)
    sim.add_fault("generating", path=MESSAGES, seconds=30)  # seconds between pieces
    t0 = time.monotonic()
    with pytest.raises(ConnectionLost) as e:
        await planner(sim, timeout=0.3).plan(goals, OPTIONS)
    assert e.value.sent is True
    assert time.monotonic() - t0 < 10


async def test_an_answer_that_trickles_past_its_deadline_is_connection_lost(
    sim: SimServer, goals: Goals
) -> None:
    """lessons.md: "downloads with no timeout". A streamed answer whose pieces come just
    inside the timeout never trips it (a stalled answer kept alive by pings), so the
    whole answer has a deadline too: the timeout plus max_tokens at a slow writing rate
    (`ANSWER_TOKENS_PER_SECOND`). Past it: ConnectionLost, sent (maybe billed), not a
    render that waits as long as the stream goes on."""
    sim.set_planner(good_plan)
    # ~1 s between pieces (under the 2 s timeout), 9 s in all; deadline 2 + 20/10 = 4 s
    sim.add_fault("generating", path=MESSAGES, seconds=9)
    t0 = time.monotonic()
    with pytest.raises(ConnectionLost) as e:
        await planner(sim, timeout=2.0, max_tokens=20).plan(goals, OPTIONS)
    waited = time.monotonic() - t0
    assert e.value.sent is True and isinstance(e.value, Transient)
    assert "took longer than 4 s" in str(e.value), str(e.value)
    assert 4.0 - 1e-3 <= waited < 7.0, waited
    assert len(sim.requests(path=MESSAGES)) == 1
    # let the sim finish writing the slow answer so it cannot count into the next test
    deadline = time.monotonic() + 10
    while sim.stats()["totals"]["messages"] == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("cut_at", ["mid_scene", "between_scenes", "last_number", "whole"])
async def test_an_answer_cut_at_max_tokens_is_billed_once_and_names_the_setting(
    sim: SimServer, goals: Goals, cut_at: str
) -> None:
    """stop_reason max_tokens: the tool input is only what Claude wrote before the cap (the
    SDK parses it partially: whole scenes, a number cut short). It was taken for a plan
    to repair: the repair, as long, was cut too and paid for, then the plan failed as
    'Field required' or, cut between scenes, was filled from the local planner without a
    word. It is one billed call and a failure naming planner.options.max_tokens."""
    sim.set_planner(good_plan)
    full = json.dumps(good_plan({}))
    length = {
        "mid_scene": len(full) // 2,
        "between_scenes": full.index('{"goal": 2') - 2,
        "last_number": len(full) - 3,  # ..."seconds": 5 (of 50?)
        "whole": len(full),
    }[cut_at]
    sim.add_fault("cut", path=MESSAGES, count=None, length=length)
    p = planner(sim)
    with pytest.raises(JobFailed) as e:
        await p.plan(goals, OPTIONS)
    assert "max_tokens" in str(e.value) and "planner.options.max_tokens" in str(e.value)
    assert len(sim.requests(path=MESSAGES)) == 1
    (call,) = p.last_calls  # answered: the ledger bills it from its usage
    assert call["output_tokens"] > 1


async def test_an_answer_cut_at_the_context_window_does_not_ask_for_more_max_tokens(
    sim: SimServer, goals: Goals
) -> None:
    """stop_reason model_context_window_exceeded: the answer stopped at the model's
    context window, below max_tokens. It was told as 'cut off at max_tokens ...; set
    planner.options.max_tokens higher', which cannot help. One billed call, not
    repaired, and a failure saying what can."""
    sim.set_planner(good_plan)
    sim.add_fault("cut", path=MESSAGES, code="model_context_window_exceeded")
    p = planner(sim)
    with pytest.raises(JobFailed) as e:
        await p.plan(goals, OPTIONS)
    msg = str(e.value)
    assert "context window" in msg and "model_context_window_exceeded" in msg, msg
    assert "max_tokens higher" not in msg and "plan fewer scenes" in msg, msg
    assert len(sim.requests(path=MESSAGES)) == 1 and len(p.last_calls) == 1


async def test_an_answer_refused_mid_plan_is_not_repaired(sim: SimServer, goals: Goals) -> None:
    """stop_reason refusal after part of the tool input (Claude's classifier stopped the
    answer): the part is no plan to repair (a second paid call, refused as well); one
    billed call and a failure naming the stop reason."""
    sim.set_planner(good_plan)
    sim.add_fault("cut", path=MESSAGES, code="refusal")
    p = planner(sim)
    with pytest.raises(JobFailed, match="stop_reason refusal"):
        await p.plan(goals, OPTIONS)
    assert len(sim.requests(path=MESSAGES)) == 1 and len(p.last_calls) == 1


async def test_a_control_character_in_claude_s_answer_is_refused_as_plan_yaml_refuses_it(
    sim: SimServer, goals: Goals, tmp_path: Path
) -> None:
    """An escape in a scene Claude wrote (ESC [2J clears the terminal `mindmovie plan`
    shows the plan on) went into plan.yaml and to the image model, though goals.yaml
    refuses any control character. Claude's scenes now pass plan.yaml's own rule: one
    repair names the scene and field, and the plan written reads back. A closing with
    one, which no repair is paid for, is the default closing."""
    answered = 0

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        nonlocal answered
        answered += 1
        plan = good_plan(body)
        plan["closing"] = "\x1b]0;owned\x07Thank you"
        if answered == 1:
            plan["scenes"][1]["image_prompt"] = "wide shot \x1b[2J at dawn"
        return plan

    sim.set_planner(answer)
    plan = await planner(sim).plan(goals.model_copy(update={"closing": None}), OPTIONS)
    reqs = sim.requests(path=MESSAGES)
    assert len(reqs) == 2, [sc.image_prompt for sc in plan.scenes]
    repair = json.dumps(reqs[1]["body"]["messages"][-1])
    assert "scene 2 (goal 1): image_prompt" in repair and "control character" in repair
    assert plan.scenes[1].image_prompt == "wide shot at dawn"
    assert plan.closing == DEFAULT_CLOSING
    write_plan(plan, tmp_path / "plan.yaml")
    assert load_plan(tmp_path / "plan.yaml") == plan


@pytest.mark.parametrize("closing", [["Thank you", "for everything"], {"text": "Thanks"}, 7])
async def test_a_closing_from_claude_that_is_not_text_is_the_default_closing(
    sim: SimServer, goals: Goals, closing: Any
) -> None:
    """goals.yaml gives no closing, and Claude's is a list (or an object, a number):
    it was taken as its Python text, and the movie closed on a card reading
    "['Thank you', 'for everything']". Not text, it is the default closing, with no
    repair paid for."""
    sim.set_planner(lambda body: {**good_plan(body), "closing": closing})
    plan = await planner(sim).plan(goals.model_copy(update={"closing": None}), OPTIONS)
    assert plan.closing == DEFAULT_CLOSING
    assert len(sim.requests(path=MESSAGES)) == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"goal": 3, "affirmation": "I sail", "image_prompt": "a boat", "motion_prompt": "pan"},
        {"goal": 2, "affirmation": "I lead", "image_prompt": " ", "motion_prompt": "pan"},
    ],
)
async def test_a_bad_scene_beyond_every_goal_s_count_is_left_out_without_a_repair(
    sim: SimServer, goals: Goals, extra: dict[str, Any]
) -> None:
    """Claude gives every goal its scenes, and one more for a goal that does not exist
    (or with an empty prompt). An extra scene is left out; a bad extra one was paid a
    repair, and the same answer again failed the plan ("goal 3 does not exist"), though
    it had every scene it needed. It is left out as the others are: one call."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        plan = good_plan(body)
        return {**plan, "scenes": [*plan["scenes"], {**extra, "seconds": 4}]}

    sim.set_planner(answer)
    plan = await planner(sim).plan(goals, OPTIONS)
    assert len(sim.requests(path=MESSAGES)) == 1
    assert [s.id for s in plan.scenes] == ["01-health-1", "01-health-2", "02-career-1"]
    assert plan.scenes[2].affirmation == "I lead with calm"


async def test_a_refusal_s_words_are_quoted_without_their_control_characters(
    sim: SimServer, goals: Goals
) -> None:
    """The refusal's text is quoted in the error line the terminal shows: an escape
    sequence in it (an OSC setting the window title, ESC [2J clearing the screen) was
    written to the terminal as it was, and obeyed."""
    text = "\x1b]0;owned\x07I can't help\x1b[2J with that."
    sim.add_fault(
        "patch", path=MESSAGES, body={"content": [{"type": "text", "text": text}],
                                      "stop_reason": "refusal"},
    )  # fmt: skip
    with pytest.raises(JobFailed) as e:
        await planner(sim).plan(goals, OPTIONS)
    msg = str(e.value)
    assert "I can't help" in msg and "with that." in msg, msg
    assert not any(ch in msg for ch in "\x1b\x07"), repr(msg)


async def test_a_goal_s_blank_words_are_not_put_to_claude(sim: SimServer, goals: Goals) -> None:
    """A goal's affirmation of spaces alone went to Claude as the person's words with
    "its first scene uses it word for word": Claude was asked for an affirmation of
    "   ", an affirmation plan.yaml refuses as blank (a paid repair if Claude obeys).
    Its details, actions and feelings blank were sent too ("details": "\u200b"). Blank,
    they are left out, as the offline planner leaves them; given, they go stripped."""
    first = goals.goals[0].model_copy(
        update={"affirmation": "   ", "details": "\u200b", "feelings": "  calm  "}
    )
    blank = goals.model_copy(update={"goals": [first, *goals.goals[1:]]})
    sim.set_planner(good_plan)
    plan = await planner(sim).plan(blank, OPTIONS)
    (req,) = sim.requests(path=MESSAGES)
    sent = req["body"]["messages"][0]["content"]
    text = sent if isinstance(sent, str) else "".join(part["text"] for part in sent)
    brief = json.loads(text[text.index("{") :])
    assert "affirmation" not in brief["goals"][0] and "details" not in brief["goals"][0], brief
    assert brief["goals"][0]["feelings"] == "calm"
    assert plan.scenes[0].affirmation == "LLM line one"


async def test_claude_is_asked_for_affirmations_in_the_person_s_language(
    sim: SimServer, goals: Goals
) -> None:
    """The instructions, their example and the plan's field names are English, and said
    nothing of language: a person who wrote their goals in Hebrew could get English
    lines on screen (paid for). Claude is asked to write each affirmation in the goal's
    own language (the prompts for the image and video models in English), and is given
    the person's words as written, not escaped."""
    first = goals.goals[0].model_copy(update={"vision": "אני רץ מרתון", "affirmation": None})
    sim.set_planner(good_plan)
    await planner(sim).plan(goals.model_copy(update={"goals": [first]}), OPTIONS)
    (req,) = sim.requests(path=MESSAGES)
    system = " ".join(req["body"]["system"].split())
    assert "in the language the person wrote that goal in" in system, system
    assert "In English, as is the motion_prompt" in system, system
    assert "אני רץ מרתון" in json.dumps(req["body"]["messages"], ensure_ascii=False)
