"""Cost estimates and billed amounts, checked against arithmetic done by hand here.

Every expected figure is written out (pixels x fps x seconds / 1024 x rate), never taken
from the code under test: an estimate that ignored resolution and audio and priced 8 s
Veo clips as 12 s once shipped (lessons.md, "Resume and money").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from mindmovie import catalog, costs
from mindmovie.config import Settings
from mindmovie.goals import Goal, Goals
from mindmovie.plan import Plan, Scene

CENT = 0.005


def money(x: float) -> Any:
    return pytest.approx(x, abs=CENT)


def goals(n: int = 2, scenes: int | None = None) -> Goals:
    cats = ["health", "wealth", "career", "growth"]
    return Goals(
        title="My year",
        goals=[
            Goal(category=cats[i % len(cats)], vision=f"I live goal {i + 1}", scenes=scenes)
            for i in range(n)
        ],
    )


def byteplus(**over: Any) -> Settings:
    return Settings(preset="byteplus", **over)


def google(**over: Any) -> Settings:
    return Settings(preset="google", **over)


# ====================================================================== Seedance
def test_seedance_1_5_pro_720p_16x9_5s_with_audio() -> None:
    s = byteplus(video={"audio": True}, output={"resolution": "720p", "aspect": "16:9"})
    est = costs.estimate_video(s, 5)
    tokens = 1280 * 720 * 24 * 5 / 1024  # = 108,000
    assert tokens == 108_000
    assert est.usd == money(tokens * 2.4 / 1_000_000)  # $0.2592
    assert est.usd == money(0.26)  # Runware's quoted 720p 5 s with audio
    assert est.model == "seedance-1-5-pro" and est.provider == "byteplus"
    assert est.inputs["width"] == 1280 and est.inputs["height"] == 720
    assert est.inputs["tokens"] == 108_000 and est.inputs["audio"] is True
    assert est.inputs["rate_per_mtok"] == 2.4 and est.inputs["seconds"] == 5


def test_seedance_audio_switch_is_honoured() -> None:
    on = costs.estimate_video(byteplus(video={"audio": True}), 5)
    off = costs.estimate_video(byteplus(video={"audio": False}), 5)
    assert off.usd == money(1280 * 720 * 24 * 5 / 1024 * 1.2 / 1_000_000)  # $0.1296
    assert on.usd == money(1280 * 720 * 24 * 5 / 1024 * 2.4 / 1_000_000)  # $0.2592
    assert on.usd > off.usd


def test_seedance_1_0_pro_1080p_9x16_10s() -> None:
    s = byteplus(
        video={"model": "seedance-1-0-pro"}, output={"resolution": "1080p", "aspect": "9:16"}
    )
    est = costs.estimate_video(s, 10)
    assert est.usd == money(1088 * 1920 * 24 * 10 / 1024 * 2.5 / 1_000_000)  # $1.224
    assert est.inputs["width"] == 1088 and est.inputs["height"] == 1920


def test_seedance_1_0_has_no_audio_so_audio_is_not_priced() -> None:
    s = byteplus(video={"model": "seedance-1-0-pro", "audio": True})
    est = costs.estimate_video(s, 5)
    # real 720p 16:9 output of Seedance 1.0 is 1248x704, not 1280x720
    assert est.usd == money(1248 * 704 * 24 * 5 / 1024 * 2.5 / 1_000_000)
    assert est.inputs["audio"] is False
    assert (est.inputs["width"], est.inputs["height"]) == (1248, 704)


def test_resolution_is_honoured() -> None:
    by_res = {
        r: costs.estimate_video(byteplus(output={"resolution": r}), 5).usd
        for r in ("480p", "720p", "1080p")
    }
    assert by_res["480p"] == money(864 * 496 * 24 * 5 / 1024 * 1.2 / 1_000_000)
    assert by_res["720p"] == money(1280 * 720 * 24 * 5 / 1024 * 1.2 / 1_000_000)
    assert by_res["1080p"] == money(1920 * 1080 * 24 * 5 / 1024 * 1.2 / 1_000_000)
    assert by_res["480p"] < by_res["720p"] < by_res["1080p"]
    veo720 = costs.estimate_video(google(output={"resolution": "720p"}), 8).usd
    veo1080 = costs.estimate_video(google(output={"resolution": "1080p"}), 8).usd
    assert veo720 == money(0.08 * 8) and veo1080 == money(0.10 * 8)


def test_flex_tier_halves_seedance() -> None:
    plain = costs.estimate_video(byteplus(video={"audio": True}), 5)
    flex = costs.estimate_video(
        byteplus(video={"audio": True, "options": {"service_tier": "flex"}}), 5
    )
    assert flex.usd == money(1280 * 720 * 24 * 5 / 1024 * 2.4 / 1_000_000 * 0.5)  # $0.1296
    assert flex.usd == pytest.approx(plain.usd / 2)
    assert flex.inputs["service_tier"] == "flex" and flex.inputs["tier_factor"] == 0.5


def test_seconds_are_snapped_like_the_planner() -> None:
    # Seedance 1.5 pro takes 4-12 s in whole seconds: 4.4 s is made (and billed) as 4 s
    est = costs.estimate_video(byteplus(), 4.4)
    assert est.inputs["seconds"] == 4 and est.inputs["requested_seconds"] == 4.4
    assert est.usd == money(1280 * 720 * 24 * 4 / 1024 * 1.2 / 1_000_000)


# ====================================================================== Veo
def test_veo_fast_720p_8s_audio_on_and_off() -> None:
    on = costs.estimate_video(google(video={"audio": True}), 8)
    off = costs.estimate_video(google(video={"audio": False}), 8)
    assert on.model == "veo-3-1-fast"
    assert on.usd == money(0.10 * 8)  # $0.80
    assert off.usd == money(0.08 * 8)  # $0.64
    assert on.inputs == {
        "seconds": 8,
        "resolution": "720p",
        "audio": True,
        "rate_per_second": 0.10,
        "ratio": "16:9",
    }


def test_a_resolution_without_a_price_is_shown_at_the_highest_rate() -> None:
    """Veo 3.1 fast lists no 480p price: never under-estimated, and the formula (rate,
    text) shows the rate the total was priced at, $0.30/s (its 4k), not a lower one."""
    spec = catalog.resolve("google", "video", "veo-3-1-fast")
    usd, text, inputs = costs._video_price(
        spec, seconds=8, resolution="480p", ratio="16:9", audio=True, service_tier=None
    )
    assert usd == money(0.30 * 8)
    assert inputs["rate_per_second"] == 0.30
    assert text == "8 s × $0.3/s (480p, audio on); no price for 480p, the highest rate assumed"


def test_named_veo_model_standard() -> None:
    est = costs.estimate_video(google(video={"model": "veo-3-1", "audio": True}), 8)
    assert est.usd == money(0.40 * 8)  # $3.20


def test_an_8s_veo_clip_is_priced_as_8s_not_12() -> None:
    est = costs.estimate_video(google(video={"audio": True}), 12)
    assert est.inputs["seconds"] == 8
    assert est.usd == money(0.10 * 8)
    assert est.usd != pytest.approx(0.10 * 12)
    run = costs.estimate_run(google(plan={"scene_seconds": 12}), goals(1, scenes=2))
    assert [s.seconds for s in run.scenes] == [8, 8]
    # 2 x (gemini image 1,290 tokens x $30/1M + 8 s x $0.08/s without audio)
    clips = sum(s.total for s in run.scenes)
    assert clips == money(2 * (0.0387 + 8 * 0.08))


# ====================================================================== images
def test_seedream_4_5_image() -> None:
    est = costs.estimate_keyframe(byteplus(keyframes={"model": "seedream-4-5"}))
    assert est.usd == money(0.04)
    assert est.inputs == {"images": 1, "rate_per_image": 0.04}
    assert costs.estimate_keyframe(byteplus()).usd == money(0.03)  # Seedream 4.0 default


# ====================================================================== Claude
def test_claude_billed_from_known_tokens() -> None:
    spec = catalog.default_model("anthropic", "planner")
    usd, how = costs.billed_usd(
        "planner",
        spec,
        {"input_tokens": 12_000, "output_tokens": 3_000},
        seconds=0,
        resolution="",
        ratio="",
        audio=False,
    )
    assert how == "usage"
    # sonnet 5.5: $2 / $10 per 1M in / out
    assert usd == money(0.012 * 2 + 0.003 * 10)  # $0.054
    # prompt-cache tokens at their own rates (catalog: $2.50 write, $0.20 read per 1M)
    cached, how = costs.billed_usd(
        "planner",
        spec,
        {
            "input_tokens": 12_000,
            "output_tokens": 3_000,
            "cache_creation_input_tokens": 4_000,
            "cache_read_input_tokens": 10_000,
        },
        seconds=0,
        resolution="",
        ratio="",
        audio=False,
    )
    assert how == "usage"
    assert cached == pytest.approx(0.054 + 0.004 * 2.5 + 0.010 * 0.20)  # $0.066


def test_planner_estimate_uses_its_token_inputs() -> None:
    g = goals(3, scenes=2)
    est = costs.estimate_planner(byteplus(), g)
    i = est.inputs
    assert est.model == "claude-sonnet-5-5"
    assert i["output_tokens"] == 100 + 250 * 6  # base + per scene x 6 scenes
    # the prompt, schema and system text at 4 chars a token, plus the tool-use overhead
    assert i["input_tokens"] == -(-i["prompt_chars"] // 4) + 350
    assert est.usd == money(i["input_tokens"] * 2 / 1e6 + i["output_tokens"] * 10 / 1e6)
    cheaper = costs.estimate_planner(byteplus(planner={"model": "claude-haiku-4-5"}), g)
    assert cheaper.usd == money(i["input_tokens"] * 1 / 1e6 + i["output_tokens"] * 5 / 1e6)


# ====================================================================== whole runs
def test_the_budget_that_surely_finishes_counts_every_call_above_its_estimate() -> None:
    """Each Seedance clip may bill one frame more than its estimate (its hold): with the
    most ONE call is held above its estimate, doctor called a budget enough that stopped
    (exit 3) when every clip billed its extra frame. Every call's margin counts, the
    plan's too: Claude writing a long plan (under max_tokens) billed $0.0137 of a $0.0053
    estimate, and a budget doctor called enough stopped at the first keyframe with
    nothing made (estimates audit)."""
    est = costs.estimate_run(byteplus(), goals(2, scenes=2))
    clip = est.scenes[0].video
    assert clip.held_above > 0  # (one frame's tokens)
    assert est.planner is not None and est.plan_hold > est.planner.usd
    above = sum(c.held_above for s in est.scenes for c in (s.keyframe, s.video))
    plan_above = est.plan_hold - est.planner.usd
    assert est.most_held == pytest.approx(est.total + above + plan_above)
    assert est.total + above > est.plan_hold and above > clip.held_above
    assert costs.budget_short(est, est.most_held) is None
    assert costs.budget_short(est, est.total + above) is not None  # the plan's margin short


def test_run_total_by_hand() -> None:
    g = goals(2, scenes=2)
    est = costs.estimate_run(byteplus(), g)
    assert [s.scene_id for s in est.scenes] == [
        "01-health-1",
        "01-health-2",
        "02-wealth-1",
        "02-wealth-2",
    ]
    per_scene = 0.03 + 1280 * 720 * 24 * 5 / 1024 * 1.2 / 1_000_000  # $0.1596
    assert est.planner is not None
    assert sum(s.total for s in est.scenes) == money(4 * per_scene)
    assert est.total == money(4 * per_scene + est.planner.usd)
    assert est.paid and est.currency == "USD"


def test_resumed_run_excludes_done_steps() -> None:
    g = goals(2, scenes=2)
    full = costs.estimate_run(byteplus(), g)
    done = {("01-health-1", "keyframe"), ("01-health-1", "clip"), ("02-wealth-1", "keyframe")}
    resumed = costs.estimate_run(byteplus(), g, done=done, plan_done=True)
    assert resumed.planner is None
    clip = 1280 * 720 * 24 * 5 / 1024 * 1.2 / 1_000_000
    # still to do: 2 keyframes x $0.03 and 3 clips
    assert resumed.total == money(2 * 0.03 + 3 * clip)
    assert full.planner is not None
    assert full.total - resumed.total == money(full.planner.usd + 2 * 0.03 + clip)
    first = resumed.scenes[0]
    assert first.total == 0 and first.keyframe.done and first.video.done
    assert first.video.inputs["done"] is True
    assert resumed.scenes[2].keyframe.done and not resumed.scenes[2].video.done
    all_done = {(s.scene_id, st) for s in full.scenes for st in ("keyframe", "clip")}
    nothing = costs.estimate_run(byteplus(), g, done=all_done, plan_done=True)
    assert nothing.total == 0 and nothing.paid is False


def test_edited_plan_gives_the_scenes_and_skips_the_planner() -> None:
    plan = Plan(
        title="T",
        closing="C",
        scenes=[
            Scene(
                id="my-scene",
                goal=1,
                category="health",
                affirmation="I am well",
                image_prompt="a runner",
                motion_prompt="push in",
                seconds=10,
            )
        ],
    )
    est = costs.estimate_run(byteplus(), goals(1), plan)
    assert est.planner is None
    assert [(s.scene_id, s.seconds) for s in est.scenes] == [("my-scene", 10)]
    assert est.total == money(0.03 + 1280 * 720 * 24 * 10 / 1024 * 1.2 / 1_000_000)


def test_local_preset_is_free() -> None:
    est = costs.estimate_run(Settings(preset="local"), goals(3))
    assert est.total == 0 and est.paid is False
    assert all(c.free for c in est.calls())
    text = render(est)
    assert "free" in text and "$" not in text.split("Catalog")[0]


# ====================================================================== billed amounts
def test_billed_seedance_from_usage_tokens() -> None:
    spec = catalog.resolve("byteplus", "video", "seedance-1-5-pro")
    kw: dict[str, Any] = {"seconds": 5, "resolution": "720p", "ratio": "16:9", "audio": True}
    usd, how = costs.billed_usd("video", spec, {"completion_tokens": 108_900}, **kw)
    assert how == "usage" and usd == money(108_900 * 2.4 / 1_000_000)  # $0.26136
    usd, how = costs.billed_usd(
        "video",
        spec,
        {"completion_tokens": 108_900, "service_tier": "flex", "generate_audio": False},
        **kw,
    )
    assert how == "usage" and usd == money(108_900 * 1.2 * 0.5 / 1_000_000)
    usd, how = costs.billed_usd("video", spec, {}, **kw)
    assert how == "formula" and usd == money(1280 * 720 * 24 * 5 / 1024 * 2.4 / 1_000_000)
    # no tokens reported, but the task's own duration: the formula at the task's 10 s
    usd, how = costs.billed_usd("video", spec, {"duration": 10}, **kw)
    assert how == "formula" and usd == money(1280 * 720 * 24 * 10 / 1024 * 2.4 / 1_000_000)


def test_billed_images_and_veo() -> None:
    seedream = catalog.resolve("byteplus", "keyframes", "seedream-4-0")
    kw: dict[str, Any] = {"seconds": 8, "resolution": "720p", "ratio": "16:9", "audio": False}
    assert costs.billed_usd("keyframe", seedream, {"generated_images": 2}, **kw) == (
        money(2 * 0.03),
        "usage",
    )
    assert costs.billed_usd("keyframe", seedream, None, **kw) == (money(0.03), "formula")
    gemini = catalog.resolve("google", "keyframes", None)
    usd, how = costs.billed_usd("keyframe", gemini, {"output_tokens": 1290}, **kw)
    assert how == "usage" and usd == money(1290 * 30 / 1_000_000)
    # the prompt and reference photos it read are billed too, at the input rate ($0.30/1M)
    usd, how = costs.billed_usd(
        "keyframe", gemini, {"output_tokens": 1290, "input_tokens": 3000}, **kw
    )
    assert how == "usage" and usd == pytest.approx((1290 * 30 + 3000 * 0.30) / 1_000_000)
    veo = catalog.resolve("google", "video", None)
    assert costs.billed_usd("video", veo, {}, **kw) == (money(8 * 0.08), "formula")
    assert costs.billed_usd("video", None, {}, **kw) == (0.0, "formula")


# ====================================================================== presentation
def test_format_usd() -> None:
    assert costs.format_usd(0.1296) == "$0.13"
    assert costs.format_usd(0.004) == "$0.0040"
    assert costs.format_usd(0.0, free=True) == "free"
    assert costs.format_usd(0.0) == "$0.00"
    assert costs.format_usd(1234.5) == "$1,234.50"
    # a cent and more is read in cents
    assert costs.format_usd(0.01) == "$0.01" and costs.format_usd(0.0125) == "$0.01"


def render(est: costs.RunEstimate) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(costs.estimate_table(est))
    return console.export_text()


def test_table_has_scene_planner_and_total_rows() -> None:
    est = costs.estimate_run(byteplus(), goals(2))
    table = costs.estimate_table(est)
    assert table.row_count == len(est.scenes) + 2
    text = render(est)
    assert "01-health-1" in text and "plan" in text and "total" in text
    assert str(table.caption).startswith(
        "planner anthropic/claude-sonnet-5-5, keyframe byteplus/seedream-4-0, "
        "video byteplus/seedance-1-5-pro. Catalog prices (checked "
    )
    assert costs.format_usd(est.total) in text
    resumed = costs.estimate_run(byteplus(), goals(2), done={("01-health-1", "clip")})
    assert "done" in render(resumed)


def test_the_caption_under_the_table_is_wrapped_at_the_width_there_is() -> None:
    """In a pipe (80 columns) the caption, the table's own, wrapped at the table's
    width (~59): a note took six lines. It is wrapped at the console's."""
    est = costs.estimate_run(byteplus(), goals(2))
    console = Console(width=80, record=True, color_system=None)
    console.print(costs.estimate_table(est))
    lines = console.export_text().splitlines()
    table_width = max(len(line) for line in lines if line.startswith(("┃", "│", "└")))
    start = next(i for i, line in enumerate(lines) if line.startswith("planner "))
    caption = lines[start:]
    assert table_width < 70 and max(len(line.rstrip()) for line in caption) > table_width
    assert all(len(line.rstrip()) <= 80 for line in caption), caption


def test_the_spend_question_says_when_the_catalog_prices_are_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A render resumed months after the catalog's prices were checked: the estimate
    (and the spend question it is) said only "Catalog prices (checked <date>)", and
    only `doctor` said they were stale. It now says how old they are and to check the
    current prices, from the day after catalog.STALE_DAYS, as doctor does."""
    import datetime as dt

    est = costs.estimate_run(byteplus(), goals(1))
    for age in (catalog.STALE_DAYS, catalog.STALE_DAYS + 1):
        checked = dt.date.today() - dt.timedelta(days=age)
        monkeypatch.setattr(catalog, "catalog_checked_date", lambda d=checked: d)
        caption = str(costs.estimate_table(est).caption)
        said = f"(checked {checked.isoformat()}, {age} days ago: prices may have changed since"
        assert (said in caption) == (age > catalog.STALE_DAYS), caption
        assert ("current prices before paying" in caption) == (age > catalog.STALE_DAYS)


def test_a_long_scene_id_is_folded_whole_on_a_narrow_terminal() -> None:
    g = Goals(title="t", goals=[Goal(category="a" * 80, vision="v", scenes=3)])
    est = costs.estimate_run(byteplus(), g)
    console = Console(width=70, record=True, color_system=None)
    console.print(costs.estimate_table(est))
    text = console.export_text()
    assert "…" not in text
    # each id, read back from the folded first column, is whole (its -1/-2/-3 too)
    first = "".join(ln.split("│")[1].strip() for ln in text.splitlines() if ln.count("│") > 2)
    for s in est.scenes:
        assert s.scene_id in first


@pytest.mark.parametrize("width", [37, 40, 44, 63])
def test_on_a_40_column_terminal_every_price_and_the_total_are_whole(width: int) -> None:
    """Boxed, at 40 columns the prices were '$0.…'; then without borders but with
    padding beside each blank divider, the heads 'keyfr…' (40) and 'secon…' (38)."""
    est = costs.estimate_run(byteplus(), goals(20, scenes=3))
    console = Console(width=width, record=True, color_system=None)
    console.print(costs.estimate_table(est))
    text = console.export_text()
    assert "…" not in text, text
    assert " ".join(costs.HEADS) in " ".join(text.split()), text
    (total,) = [ln for ln in text.splitlines() if ln.split()[:1] == ["total"]]
    assert costs.format_usd(est.total) in total
    s = est.scenes[0]
    assert f"{costs.format_usd(s.keyframe.usd)}" in text and costs.format_usd(s.total) in text


def test_estimate_json_rows_carry_formula_inputs() -> None:
    est = costs.estimate_run(byteplus(video={"audio": True}), goals(1))
    data = json.loads(json.dumps(costs.estimate_json(est)))
    assert data["currency"] == "USD" and data["paid"] is True
    assert data["total"] == money(est.total)
    row = data["scenes"][0]
    assert row["video"]["inputs"] == {
        "width": 1280,
        "height": 720,
        "fps": 24,
        "seconds": 5,
        "tokens": 108_000,
        "rate_per_mtok": 2.4,
        "list_rate_per_mtok": 2.4,
        "tier_factor": 1.0,
        "audio": True,
        "service_tier": None,
        "ratio": "16:9",
    }
    assert row["keyframe"]["inputs"] == {"images": 1, "rate_per_image": 0.03}
    assert row["total"] == money(0.03 + 108_000 * 2.4 / 1_000_000)
    assert "108,000 tokens" in row["video"]["formula"]
    planner = data["planner"]
    assert set(planner["inputs"]) >= {"input_tokens", "output_tokens", "rate_in", "rate_out"}


# ====================================================================== holds
def test_the_gate_holds_one_more_seedance_frame() -> None:
    """Seedance may bill 121 frames for a 5 s clip (provider-wire §4): the gate holds
    that, so a real bill above the formula still fits under the cap."""
    s = byteplus(video={"audio": True}, output={"resolution": "720p", "aspect": "16:9"})
    hold = costs.video_hold(s, 5)
    assert hold == pytest.approx(1280 * 720 * 121 / 1024 * 2.4 / 1e6)  # 108,900 tokens
    assert hold > costs.estimate_video(s, 5).usd
    veo = google(output={"resolution": "720p"})
    assert costs.video_hold(veo, 8) == costs.estimate_video(veo, 8).usd  # per second: exact


def test_keyframe_hold_adds_gemini_input_tokens_only() -> None:
    seedream = byteplus()
    assert costs.keyframe_hold(seedream, 3) == costs.estimate_keyframe(seedream).usd == 0.03
    gemini = google()
    # $0.0387 per image (1,290 tokens x $30/1M) + (2000 prompt + 2 images x 1290) input
    # tokens x $0.30/1M
    want = 0.0387 + (2000 + 2 * 1290) * 0.30 / 1e6
    assert costs.keyframe_hold(gemini, 2) == pytest.approx(want)


def test_a_big_photo_sent_to_gemini_is_held_at_its_tiles() -> None:
    """A 12 MP phone photo (4032 x 3024) is 6 x 4 tiles of 768 px, 258 tokens each:
    6,192 input tokens, where the hold counted 1,290 an image; a bill over its hold can
    take the run past its --budget. Small ones stay at tokens_per_image."""
    assert costs.gemini_image_tokens((4032, 3024)) == 24 * 258
    assert costs.gemini_image_tokens((384, 384)) == 258
    assert costs.gemini_image_tokens((1536, 1536)) == 4 * 258
    gemini = google()
    small = costs.keyframe_hold(gemini, 2, [(800, 600), (1024, 1024)])
    assert small == pytest.approx(costs.keyframe_hold(gemini, 2))
    big = costs.keyframe_hold(gemini, 2, [(4032, 3024)])  # the other's size unknown
    assert big == pytest.approx(0.0387 + (2000 + 24 * 258 + 1290) * 0.30 / 1e6)
    seedream = byteplus()  # a flat price per image: exact whatever is sent
    assert costs.keyframe_hold(seedream, 1, [(4032, 3024)]) == 0.03


def test_planner_hold_is_max_tokens_of_output() -> None:
    g = goals(2, scenes=2)
    s = byteplus()
    est = costs.estimate_planner(s, g)
    hold = costs.planner_hold(s, g)
    max_out = 1500 + 350 * 4
    tin = est.inputs["input_tokens"]
    # sonnet 5.5 $2 / $10 per 1M: input x1.5 plus a first answer resent by a repair
    want = (-(-tin * 3 // 2) + max_out) * 2 / 1e6 + max_out * 10 / 1e6
    assert hold == pytest.approx(want) and hold > est.usd
    capped = byteplus(planner={"options": {"max_tokens": 2000}})
    assert costs.planner_hold(capped, g) < hold


def test_local_model_names_are_the_providers_own() -> None:
    """costs names the offline models without importing them (numpy): the names must be
    the ones the providers put in their input keys."""
    from mindmovie.providers.local import LocalPlanner
    from mindmovie.providers.local_media import LocalKeyframes, LocalMotion

    assert {
        "planner": LocalPlanner.model,
        "keyframe": LocalKeyframes.model,
        "video": LocalMotion.model,
    } == costs.LOCAL_MODELS


def test_until_keyframes_table_says_video_is_later_not_free() -> None:
    """`render --until keyframes` asks to confirm an estimate without the clips; its
    table said "free" in every video cell under Seedance, as if video cost nothing.
    They say "later"; a clip already made still says "done"; the total is the keyframes'."""
    full = costs.estimate_run(byteplus(), goals(2), done={("01-health-1", "clip")})
    est = full.upto("keyframes")
    text = render(est)
    cells = [[c.strip() for c in ln.split("│")[1:-1]] for ln in text.splitlines()]
    rows = {r[0]: r for r in cells if r and r[0].endswith("-1")}
    assert rows["01-health-1"][2:4] == [costs.format_usd(est.scenes[0].keyframe.usd), "done"]
    assert rows["02-wealth-1"][2:4] == [
        costs.format_usd(est.scenes[1].keyframe.usd),
        costs.LATER,
    ]
    assert "free" not in text
    assert est.total == money(sum(s.keyframe.usd for s in full.scenes) + full.planner.usd)  # type: ignore[union-attr]


# ====================================================================== found by mutation
def test_the_formula_text_and_rates_shown_are_the_ones_priced() -> None:
    """The formula a person checks the arithmetic with names the rate, tier and audio
    the price was computed at, for each switch: not the audio-on rate for a silent clip,
    not a suffix about a missing price where there is one."""
    off = costs.estimate_video(byteplus(video={"audio": False}), 5)
    assert off.formula == (
        "1280×720 px × 24 fps × 5 s / 1024 = 108,000 tokens × $1.2/1M tokens, audio off"
    )
    assert off.inputs["rate_per_mtok"] == 1.2 and off.inputs["list_rate_per_mtok"] == 1.2
    flex = costs.estimate_video(
        byteplus(video={"audio": True, "options": {"service_tier": "flex"}}), 5
    )
    assert flex.formula == (
        "1280×720 px × 24 fps × 5 s / 1024 = 108,000 tokens × $2.4/1M tokens"
        " × 0.5 (flex tier), audio on"
    )
    assert flex.inputs["rate_per_mtok"] == 1.2 and flex.inputs["list_rate_per_mtok"] == 2.4
    veo = costs.estimate_video(google(video={"audio": False}), 8)
    assert veo.formula == "8 s × $0.08/s (720p, audio off)"
    assert veo.inputs["rate_per_second"] == 0.08


def test_billed_amounts_follow_every_reported_figure() -> None:
    """A bill is what the provider counted, to the token: the reported tokens, the
    task's own resolution and ratio, the tier it ran on (else the one asked for), the
    cache and input tokens; and a malformed or missing figure is not read as one."""
    seedance = catalog.resolve("byteplus", "video", "seedance-1-5-pro")
    kw: dict[str, Any] = {"seconds": 5, "resolution": "720p", "ratio": "16:9", "audio": True}
    usd, how = costs.billed_usd("video", seedance, {"completion_tokens": 108_900}, **kw)
    assert (usd, how) == (pytest.approx(108_900 * 2.4 / 1e6), "usage")  # not 108,000's
    # the task's own size: 1080p, and 21:9 (1470x630 at 720p), over the arguments
    usd, _ = costs.billed_usd("video", seedance, {"resolution": "1080p"}, **kw)
    assert usd == pytest.approx(1920 * 1080 * 24 * 5 / 1024 * 2.4 / 1e6)
    usd, _ = costs.billed_usd("video", seedance, {"ratio": "21:9"}, **kw)
    assert usd == pytest.approx(round(1470 * 630 * 24 * 5 / 1024) * 2.4 / 1e6)
    plain = 1280 * 720 * 24 * 5 / 1024 * 2.4 / 1e6
    for blank in ({"resolution": ""}, {"ratio": ""}, {"resolution": 1080}):
        assert costs.billed_usd("video", seedance, blank, **kw)[0] == pytest.approx(plain)
    # a flex run whose task does not say its tier (or says "") is billed at flex
    for usage in ({}, {"service_tier": ""}):
        usd, _ = costs.billed_usd("video", seedance, usage, **kw, service_tier="flex")
        assert usd == pytest.approx(plain * 0.5)

    claude = catalog.default_model("anthropic", "planner")
    kw = {"seconds": 0, "resolution": "", "ratio": "", "audio": False}
    assert costs.billed_usd("planner", claude, {"output_tokens": 3_000}, **kw) == (
        pytest.approx(0.003 * 10),
        "usage",
    )
    assert costs.billed_usd("planner", claude, {"input_tokens": 12_000}, **kw) == (
        pytest.approx(0.012 * 2),
        "usage",
    )
    assert costs.billed_usd("planner", claude, {}, **kw) == (0.0, "formula")
    assert costs.billed_usd("planner", claude, {"input_tokens": True}, **kw) == (0.0, "formula")

    gemini = catalog.resolve("google", "keyframes", None)
    usd, how = costs.billed_usd("keyframe", gemini, {"output_tokens": 1290}, **kw)
    assert (usd, how) == (pytest.approx(1290 * 30 / 1e6), "usage")
    # Seedream reports the tokens of its picture too; it is billed per image all the same
    seedream = catalog.resolve("byteplus", "keyframes", "seedream-4-0")
    usage = {"generated_images": 1, "output_tokens": 16_384}
    assert costs.billed_usd("keyframe", seedream, usage, **kw) == (pytest.approx(0.03), "usage")
    assert costs.billed_usd("keyframe", seedream, {"generated_images": True}, **kw) == (
        pytest.approx(0.03),
        "formula",
    )


def test_what_a_run_stopping_early_or_resumed_shows() -> None:
    """`--until plan` spends the planner only; a full run is the whole estimate; the
    JSON of a run whose plan is made has no planner; a local run's plan is a free call."""
    est = costs.estimate_run(byteplus(), goals(2))
    assert est.planner is not None
    only_plan = est.upto("plan")
    assert only_plan.scenes == [] and only_plan.total == pytest.approx(est.planner.usd)
    assert est.upto("render") == est and est.upto("clips") == est
    resumed = costs.estimate_run(byteplus(), goals(2), plan_done=True)
    assert costs.estimate_json(resumed)["planner"] is None
    local = costs.estimate_run(Settings(preset="local"), goals(2))
    assert local.planner is not None and local.planner.free and local.planner.usd == 0
    assert local.scenes[0].keyframe.inputs == {"images": 1}
    # keyframes all made: a run to keyframes has nothing left to pay for
    made = {(s.scene_id, "keyframe") for s in est.scenes}
    later = costs.estimate_run(byteplus(), goals(2), done=made, plan_done=True).upto("keyframes")
    assert later.total == 0 and later.paid is False


def test_settings_no_clip_can_be_made_with_are_named_and_scene_seconds_allowed() -> None:
    assert costs.clip_settings_problem(google(output={"resolution": "480p"})) == (
        "output.resolution: veo-3-1-fast: resolution 480p not allowed; allowed 720p, 1080p"
    )
    # led by the setting refused first (the CLI puts where it was written in front)
    assert costs.clip_settings_problem(google(output={"aspect": "1:1"})) == (
        "output.aspect: veo-3-1-fast: ratio 1:1 not allowed; allowed 16:9, 9:16"
    )
    assert costs.clip_settings_problem(byteplus()) is None
    assert costs.clip_settings_problem(Settings(preset="local")) is None
    assert costs.plan_options(Settings(preset="local")).allowed_seconds is None
    assert costs.plan_options(byteplus()).allowed_seconds == tuple(float(s) for s in range(4, 13))


def test_planner_inputs_count_every_part_of_the_prompt_and_every_scene() -> None:
    from mindmovie.providers.anthropic import SYSTEM_PROMPT, build_prompt

    s = byteplus(plan={"scenes_per_goal": 2})
    for n in (1, 2, 3, 4):  # prompt lengths that are and are not a multiple of 4
        g = goals(n)
        est = costs.estimate_planner(s, g)
        chars = est.inputs["prompt_chars"]
        assert chars > len(SYSTEM_PROMPT) + len(build_prompt(g, costs.plan_options(s))) + 100
        assert est.inputs["input_tokens"] == -(-chars // 4) + 350  # rounded up
        assert est.inputs["scenes"] == 2 * n
    one = costs.estimate_planner(byteplus(), goals(3))
    assert one.inputs["scenes"] == 3  # scenes_per_goal 1


def test_a_local_stage_holds_nothing_and_gemini_holds_its_prompt_without_photos() -> None:
    local = Settings(preset="local")
    assert costs.planner_hold(local, goals(2)) == 0.0
    assert costs.keyframe_hold(local, 2) == 0.0
    assert costs.keyframe_hold(google(), 0) == pytest.approx(0.0387 + 2000 * 0.30 / 1e6)


def test_an_edit_model_prices_scenes_without_a_photo_at_the_text_model() -> None:
    """SeedEdit restyles a goal's own photo: a scene that references none is made, and
    priced, by the provider's text-to-image model instead."""
    from pathlib import Path

    g = Goals(title="t", goals=[Goal(category="health", vision="v", photos=[Path("/p/a.jpg")])])

    def scene(i: int, refs: list[str]) -> Scene:
        return Scene(
            id=f"01-health-{i}",
            goal=1,
            category="health",
            affirmation="a",
            image_prompt="i",
            motion_prompt="m",
            seconds=5,
            reference_photos=refs,
        )

    plan = Plan(title="T", closing="C", scenes=[scene(1, ["/p/a.jpg"]), scene(2, [])])
    edit = byteplus(keyframes={"model": "seededit-3-0-i2i"})
    text = costs.text_keyframe_settings(edit)
    assert text is not None and text.keyframes.model == "seedream-4-0"
    assert costs.text_keyframe_settings(byteplus()) is None
    assert costs.text_keyframe_settings(Settings(preset="local")) is None
    est = costs.estimate_run(edit, g, plan)
    assert [s.keyframe.model for s in est.scenes] == ["seededit-3-0-i2i", "seedream-4-0"]
    plain = costs.estimate_run(byteplus(), g, plan)
    assert [s.keyframe.model for s in plain.scenes] == ["seedream-4-0", "seedream-4-0"]
    # the table's caption names both keyframe models: it named SeedEdit alone, though
    # the scene without a photo is priced (and made) with Seedream
    caption = str(costs.estimate_table(est).caption)
    assert "keyframe byteplus/seededit-3-0-i2i and byteplus/seedream-4-0," in caption, caption
    caption = str(costs.estimate_table(plain).caption)
    assert "keyframe byteplus/seedream-4-0," in caption and " and " not in caption, caption


def test_a_scenes_source_photo_is_its_own_goals_by_the_current_rule() -> None:
    from pathlib import Path

    a, b = Path("/p/a.jpg"), Path("/p/b.jpg")
    g = Goals(
        title="t",
        goals=[Goal(category="health", vision="v", photos=[a, b]), Goal(category="w", vision="v")],
    )

    def scene(goal: int, refs: list[str]) -> Scene:
        return Scene(
            id=f"0{goal}-x-1",
            goal=goal,
            category="x",
            affirmation="a",
            image_prompt="i",
            motion_prompt="m",
            seconds=5,
            reference_photos=refs,
        )

    first = scene(1, [str(b), str(a)])  # Claude lists the scene's own photo first
    assert costs.scene_source_photo(g, [first], first) == a  # 1st scene: 1st photo
    assert costs.scene_source_photo(g, [first], first, by_place=True) == b  # the old rule
    for other in (scene(2, [str(a)]), scene(3, [str(a)])):
        assert costs.scene_source_photo(g, [other], other) is None  # no photos / no goal


def test_the_table_rows_say_done_for_what_is_made_and_a_price_for_the_rest() -> None:
    """The plan row shows the planner's price, or "done" when the plan is made; a
    scene's total is "done" only when both its steps are; a scene with nothing left to
    pay in this run is $0.00, never "free" under paid models."""

    def rows(est: costs.RunEstimate) -> dict[str, list[str]]:
        cells = [[c.strip() for c in ln.split("│")[1:-1]] for ln in render(est).splitlines()]
        return {r[0]: r[1:] for r in cells if r and r[0]}

    g = goals(2)
    fresh = costs.estimate_run(byteplus(), g)
    assert fresh.planner is not None
    assert rows(fresh)["plan"][-1] == costs.format_usd(fresh.planner.usd)
    done = {("01-health-1", "keyframe"), ("01-health-1", "clip"), ("02-wealth-1", "keyframe")}
    resumed = costs.estimate_run(byteplus(), g, done=done, plan_done=True)
    table = rows(resumed)
    assert table["plan"][-1] == "done"
    assert table["01-health-1"][1:] == ["done", "done", "done"]
    clip = costs.format_usd(resumed.scenes[1].video.usd)
    assert table["02-wealth-1"][1:] == ["done", clip, clip]
    later = resumed.upto("keyframes")
    assert rows(later)["02-wealth-1"][1:] == ["done", costs.LATER, "$0.00"]


@pytest.mark.parametrize("width", [30, 20])
def test_a_terminal_too_narrow_for_the_table_gets_a_line_a_row(width: int) -> None:
    """At 30 columns rich cut the heads to 'sec…', 'key…', at 20 the prices to 'f…' and
    '$…': no price could be read. A line a row then, each value named and whole."""
    est = costs.estimate_run(byteplus(), goals(2))
    console = Console(width=width, record=True, color_system=None)
    console.print(costs.estimate_table(est))
    text = " ".join(console.export_text().split())
    assert "…" not in text
    for s in est.scenes:
        assert (
            f"{s.scene_id}: seconds {s.seconds:g}, keyframe {costs.format_usd(s.keyframe.usd)}, "
            f"video {costs.format_usd(s.video.usd)}, total {costs.format_usd(s.total)}"
        ) in text, text
    assert f"total: seconds {sum(s.seconds for s in est.scenes):g}, total " in text
    assert costs.format_usd(est.total) in text and "Catalog prices" in text


@pytest.mark.parametrize("width", [36, 30, 20])
def test_a_line_a_row_keeps_each_label_beside_its_amount(width: int) -> None:
    """Wrapped by rich, at 36 columns a row's line broke between 'keyframe' and '$0.03'
    (at 20 'seconds' / '5,', 'total' / '$0.16'): the amount read as the next label's.
    Each pair is kept on one line; lines break only between pairs."""
    est = costs.estimate_run(byteplus(), goals(2))
    console = Console(width=width, record=True, color_system=None)
    console.print(costs.estimate_table(est))
    lines = console.export_text().splitlines()
    rows = lines[1 : next(i for i, ln in enumerate(lines) if ln.startswith("planner"))]
    assert len(rows) > len(est.scenes) + 2, lines  # wrapped: the case under test
    for ln in rows:
        words = ln.split()
        assert words[-1] not in costs.HEADS, lines  # a label, its amount on the next line
        amount = words[0].startswith("$") or words[0].rstrip(",").isdigit()
        assert not amount, lines  # an amount without its label
        assert len(ln.rstrip()) <= width, lines


def test_a_reference_photo_under_an_unknown_users_home_is_priced_not_a_traceback() -> None:
    """`~nosuchuser/me.jpg` (a user this system does not know): Path.expanduser raised
    RuntimeError in the Gemini keyframe estimate; the photo is priced as unreadable (at
    tokens_per_image), as a missing one is."""
    gemini = google()
    missing = costs.request_keyframe_estimate(gemini, "a run", None, ["/nonexistent/me.jpg"])
    unknown = costs.request_keyframe_estimate(gemini, "a run", None, ["~nosuchuser9/me.jpg"])
    assert unknown.usd == pytest.approx(missing.usd)
    assert unknown.usd > costs.request_keyframe_estimate(gemini, "a run", None, []).usd


# ====================================================================== mutation audit
def test_a_long_thin_photo_is_counted_by_its_tiles_not_as_a_small_one() -> None:
    """Only a photo small on both sides is one 258-token image: a 300 x 2000 strip is
    3 tiles of 768 px (counted as 258 when either side alone was small, under its bill)."""
    assert costs.gemini_image_tokens((300, 2000)) == 3 * 258
    assert costs.gemini_image_tokens((2000, 300)) == 3 * 258
    assert costs.gemini_image_tokens((300, 384)) == 258


def test_a_gemini_image_with_no_usage_is_billed_by_the_formula() -> None:
    """Gemini may answer without usage metadata: the keyframe is billed one image at the
    catalog price, not a TypeError from multiplying a missing token count."""
    gemini = catalog.resolve("google", "keyframes", None)
    kw: dict[str, Any] = {"seconds": 8, "resolution": "720p", "ratio": "16:9", "audio": False}
    assert costs.billed_usd("keyframe", gemini, {}, **kw) == (money(0.0387), "formula")
    assert costs.billed_usd("keyframe", gemini, None, **kw) == (money(0.0387), "formula")


def test_a_run_estimate_prices_each_gemini_keyframe_with_its_own_prompt() -> None:
    """A token-priced keyframe bills its prompt: the run's estimate counts each scene's
    prompt and the plan's style (400 + 9 chars = 102 tokens at $0.30/1M) on top of the
    image, as the call itself is priced."""
    scene = Scene(
        id="01-health-1",
        goal=1,
        category="health",
        affirmation="a",
        image_prompt="x" * 400,
        motion_prompt="m",
        seconds=8,
    )
    plan = Plan(title="T", closing="C", style="S", scenes=[scene])
    est = costs.estimate_run(google(), goals(1), plan)
    kf = est.scenes[0].keyframe
    assert len("x" * 400 + "\nStyle: S") // 4 == 102
    assert kf.inputs["input_tokens"] == 102
    assert kf.usd == pytest.approx(0.0387 + 102 * 0.30 / 1e6)


def test_a_gemini_keyframe_estimate_counts_its_source_photo_at_its_pixels(
    tmp_path: Path,
) -> None:
    """The photo an edit restyles is sent, so billed: a readable 32 x 24 photo is one
    small image of 258 tokens (not tokens_per_image's 1290, which is for one unread)."""
    from tests.media import write_photo

    photo = write_photo(tmp_path / "me.jpg")
    gemini = google()
    est = costs.request_keyframe_estimate(gemini, "p", None, [], source=photo)
    text = "p\nRestyle the first attached photo into this scene, keeping its subject."
    assert est.inputs["input_tokens"] == len(text) // 4 + 258
    assert est.usd == pytest.approx(0.0387 + (len(text) // 4 + 258) * 0.30 / 1e6)


def test_estimate_says_the_movie_s_length_below_its_seconds_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seconds column's total is the scenes' (3 x 5 = 15 s) and read as the movie's:
    the title and closing cards (3 s each) add, the crossfades (1 s, four of them)
    overlap. The line below the table says the movie's length, the storyboard's; the
    JSON gives it as movie_seconds."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    goals = "title: T\ngoals:\n" + "".join(
        f"  - category: c{i}\n    vision: I run {i}\n" for i in range(3)
    )
    (tmp_path / "goals.yaml").write_text(goals)
    r = CliRunner().invoke(app, ["estimate", "goals.yaml"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    (total,) = [ln for ln in r.stdout.splitlines() if ln.strip("│ ").startswith("total")]
    assert "15" in total.split()
    said = " ".join(r.stdout.split())  # (the caption is wrapped at the table's width)
    assert "The movie: 17 s (the scenes' 15 s, with the title and closing cards" in said
    r = CliRunner().invoke(
        app, ["estimate", "goals.yaml", "--json"], env={"MINDMOVIE_COMPOSE__CROSSFADE": "0"}
    )
    assert json.loads(r.stdout)["movie_seconds"] == 21.0
    assert json.loads(r.stdout)["seconds"] == 15


def test_estimate_s_movie_length_is_plan_yaml_s_seconds_not_the_clips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan.yaml `seconds: 13` with Seedance (12 s clips at most): the estimate's movie
    length added the clip's 12 s (it said 20 s of a 21 s movie), while the movie
    shows the scene for its 13 s (the clip holds its last frame), as the storyboard
    says."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    goals = "title: T\ngoals:\n" + "".join(
        f"  - category: c{i}\n    vision: I run {i}\n" for i in range(2)
    )
    (tmp_path / "goals.yaml").write_text(goals)
    (tmp_path / "c.yaml").write_text("preset: byteplus\nplanner: {provider: local}\n")
    args = ["goals.yaml", "-c", "c.yaml", "-o", "run"]
    assert CliRunner().invoke(app, ["plan", *args], env={}).exit_code == 0
    plan = tmp_path / "run" / "plan.yaml"
    plan.write_text(plan.read_text().replace("seconds: 5.0", "seconds: 13.0", 1))
    r = CliRunner().invoke(app, ["estimate", *args, "--json"], env={})
    data = json.loads(r.stdout)
    assert data["seconds"] == 17  # the clips billed: 12 + 5
    assert data["movie_seconds"] == 21.0  # 3 + 13 + 5 + 3, less 3 crossfades of 1 s


def test_what_to_change_for_settings_no_clip_can_have_names_only_the_setting_refused() -> None:
    """It said "change output.aspect / output.resolution / video.audio (or --aspect /
    --resolution)" whatever was refused: of a refused video.audio, to change the aspect
    and resolution too, and from `plan`, which has no such flags (options audit)."""
    from mindmovie.config import load_settings

    cases = {
        "output.aspect": {"preset": "google", "output": {"aspect": "1:1"}},
        "output.resolution": {"preset": "google", "output": {"resolution": "480p"}},
        "video.audio": {
            "preset": "byteplus",
            "video": {"model": "seedance-1-0-pro", "audio": True},
        },
    }
    for culprit, over in cases.items():
        settings = load_settings(overrides=over, env={})
        problem = costs.clip_settings_problem(settings)
        fix = costs.clip_settings_fix(settings)
        assert problem is not None and problem.startswith(culprit), (culprit, problem)
        assert culprit in fix and "--" not in fix, fix
        assert not [o for o in cases if o != culprit and o in fix], fix


def test_a_clip_with_audio_off_priced_at_the_rate_with_audio_says_so() -> None:
    """Veo 3.0 (Fast) has no audio-off price in the catalog: a clip with video.audio off
    was priced at the rate with audio, its formula reading "(720p, audio off)" as if that
    were a sourced audio-off figure (estimates audit). It says the rate is assumed; Veo
    3.1, with an audio-off rate, does not."""
    from mindmovie.config import load_settings

    for model, assumed in (("veo-3-0", True), ("veo-3-1-fast", False)):
        s = load_settings(
            overrides={"preset": "google", "video": {"model": model, "audio": False}}, env={}
        )
        text = costs.estimate_video(s, 8).formula
        assert ("no audio-off price known, the rate with audio assumed" in text) == assumed, text
