"""The model catalog: refusals name the allowed values, sizes and prices are the sourced ones."""

from __future__ import annotations

import datetime as dt

import pytest

from mindmovie import catalog
from mindmovie.catalog import CatalogError, parse_catalog
from mindmovie.providers.base import InvalidRequest


def test_every_provider_stage_has_exactly_one_default() -> None:
    slots = {(m.provider, m.stage) for m in catalog.models()}
    assert ("anthropic", "planner") in slots
    for provider, stage in slots:
        assert sum(m.default for m in catalog.models(provider, stage)) == 1
    assert catalog.default_model("anthropic", "planner").id == "claude-sonnet-5-5"
    assert catalog.default_model("byteplus", "video").id == "seedance-1-5-pro-251215"
    assert catalog.default_model("byteplus", "keyframes").id == "seedream-4-0-250828"
    assert catalog.default_model("google", "keyframes").id == "gemini-2.5-flash-image"
    assert catalog.default_model("google", "video").id.startswith("veo-3.1")


def test_every_price_has_a_source_and_date() -> None:
    for m in catalog.models():
        assert m.price.source and isinstance(m.price.checked, dt.date)
    assert catalog.catalog_checked_date() == min(m.price.checked for m in catalog.models())


def test_sources_name_where_each_figure_comes_from() -> None:
    # Veo 3.1: with audio via a 3rd-party transcript, without audio from Comfy
    veo = catalog.find("veo-3-1")
    assert veo is not None and veo.price.third_party is True
    assert "api-evangelist" in veo.price.source and "Comfy" in veo.price.source
    # Seedance 1.0 lite's ≈1.8 is xavier's only (Comfy's 253.2 credits is 1.5 pro's $1.2)
    lite = catalog.find("seedance-1-0-lite-i2v")
    assert lite is not None and lite.price.third_party is True
    assert "xavier" in lite.price.source and "Comfy" not in lite.price.source
    # the old default (assumed price) stays available, but is no longer the default
    s46 = catalog.find("claude-sonnet-4-6")
    assert s46 is not None and s46.default is False


#: the model ids ../shared/reference/provider-wire.md shows (its requests, answers, §4)
WIRE_IDS = {
    "claude-sonnet-5-5", "claude-sonnet-4-6", "claude-haiku-4-5", "claude-haiku-5-5",
    "seedance-1-5-pro-251215", "seedance-1-0-pro-250528", "seedance-1-0-lite-t2v-250428",
    "seedream-4-0-250828", "seedream-3-0-t2i-250415", "gemini-2.5-flash-image",
    "imagen-4.0-generate-001", "veo-3.1-generate-preview", "veo-3.0-fast-generate-001",
}  # fmt: skip


def test_an_id_the_wire_reference_does_not_show_is_marked_unverified_and_says_so() -> None:
    """catalog.toml's rule: `id_verified = false` for an id the wire reference does not
    confirm, and `providers` says so (the note): four were marked verified (among them
    the google preset's default video model), which no reference line showed."""
    for m in catalog.models():
        assert m.id_verified == (m.id in WIRE_IDS), m.key
        assert m.id_verified or "unverified" in (m.note or ""), m.key


def test_lookup_by_key_or_id_and_dated_family_ids() -> None:
    assert catalog.find("seedance-1-0-pro") is catalog.find("seedance-1-0-pro-250528")
    assert catalog.find("nope") is None
    newer = catalog.resolve("byteplus", "video", "seedance-1-0-pro-fast-260301")
    assert newer.key == "seedance-1-0-pro-fast" and newer.id == "seedance-1-0-pro-fast-260301"
    assert newer.id_verified is False
    with pytest.raises(InvalidRequest) as e:
        catalog.resolve("byteplus", "video", "sora-2")
    assert "seedance-1-5-pro" in str(e.value)
    for tag in ("20250929", "001", "preview", "preview-06-17", "latest", "exp-0827"):
        assert catalog.resolve("byteplus", "video", f"seedance-1-5-pro-{tag}").key == (
            "seedance-1-5-pro"
        )


@pytest.mark.parametrize(
    "typo", ["seedance-1-0-pro-fsat", "seedance-1-0-pro-fast2", "seedance-1-5-pro-i2v"]
)
def test_a_misspelt_model_is_not_taken_for_a_release_of_another(typo: str) -> None:
    """A key extended by any word was taken as its dated release: seedance-1-0-pro-fsat
    (a typo of -fast) was priced and checked as seedance-1-0-pro, with no word, and sent
    as written, refused only at the first clip (options audit). Refused, naming the
    models."""
    with pytest.raises(InvalidRequest) as e:
        catalog.resolve("byteplus", "video", typo)
    assert "seedance-1-0-pro-fast" in str(e.value) and typo in str(e.value)


@pytest.mark.parametrize(
    ("model", "res", "ratio", "size"),
    [
        ("seedance-1-0-pro", "720p", "16:9", (1248, 704)),
        ("seedance-1-0-lite-i2v", "1080p", "16:9", (1920, 1088)),
        ("seedance-1-0-pro-fast", "480p", "9:16", (480, 864)),
        ("seedance-1-5-pro", "720p", "16:9", (1280, 720)),
        ("seedance-1-5-pro", "480p", "16:9", (864, 496)),
        ("seedance-1-5-pro", "1080p", "1:1", (1440, 1440)),
        ("veo-3-1", "720p", "9:16", (720, 1280)),
        ("seedream-4-0", "anything", "16:9", (2560, 1440)),
    ],
)
def test_output_pixels(model: str, res: str, ratio: str, size: tuple[int, int]) -> None:
    assert catalog.output_pixels(model, res, ratio) == size


def test_output_pixels_unknown_combination_names_known_ones() -> None:
    with pytest.raises(InvalidRequest) as e:
        catalog.output_pixels("veo-3-0", "4k", "16:9")
    assert "720p 16:9" in str(e.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("seedance-1-5-pro", 3, "720p", "16:9"),
            "seedance-1-5-pro: duration 3 s not allowed; allowed 4-12 s",
        ),
        (("seedance-1-0-pro", 5.5, "720p", "16:9"), "duration 5.5 s not allowed; allowed 2-12 s"),
        (("veo-3-1", 5, "720p", "16:9"), "duration 5 s not allowed; allowed 4, 6, 8 s"),
        (
            ("seedance-1-0-pro", 5, "4k", "16:9"),
            "resolution 4k not allowed; allowed 480p, 720p, 1080p",
        ),
        (("veo-3-1", 8, "720p", "1:1"), "ratio 1:1 not allowed; allowed 16:9, 9:16"),
        (("seedance-1-0-pro", 5, "720p", "16:9", True), "audio not supported"),
        (("veo-3-0", 8, "720p", "16:9", False, True), "last frame not supported"),
    ],
)
def test_validate_video_names_allowed_values(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(InvalidRequest) as e:
        catalog.validate_video(*args)  # type: ignore[arg-type]
    assert message in str(e.value)


def test_validate_video_names_only_the_providers_own_models_with_audio() -> None:
    """A byteplus model without audio names the byteplus models with it: a Veo model is
    refused as video.model of the byteplus provider, so naming one misleads."""
    with pytest.raises(InvalidRequest) as e:
        catalog.validate_video("seedance-1-0-pro", 5, "720p", "16:9", audio=True)
    assert str(e.value).endswith(
        "audio not supported; set video.audio: false or use one of: seedance-1-5-pro"
    ), str(e.value)


def test_validate_video_reports_every_problem_at_once() -> None:
    with pytest.raises(InvalidRequest) as e:
        catalog.validate_video("seedance-1-5-pro", 1, "4k", "2:1")
    msg = str(e.value)
    assert "duration" in msg and "resolution" in msg and "ratio" in msg


def test_validate_video_accepts_what_the_model_can_do() -> None:
    catalog.validate_video("seedance-1-5-pro", 12, "1080p", "9:16", audio=True, last_frame=True)
    catalog.validate_video("seedance-1-0-pro", 2.0, "480p", "adaptive")
    catalog.validate_video("veo-3-1-fast", 8, "4k", "16:9", audio=True, last_frame=True)


def test_validate_image() -> None:
    catalog.validate_image("seedream-4-0", "16:9", references=10)
    with pytest.raises(InvalidRequest) as e:
        catalog.validate_image("seedream-4-0", "16:9", references=11)
    assert "allowed at most 10" in str(e.value)
    with pytest.raises(InvalidRequest) as e:
        catalog.validate_image("seedream-3-0-t2i", "5:4")
    assert "ratio 5:4 not allowed; allowed 16:9, 9:16, 1:1" in str(e.value)
    with pytest.raises(InvalidRequest) as e:
        catalog.validate_image("seededit-3-0-i2i", "16:9")
    assert "needs a source photo" in str(e.value)
    catalog.validate_image("seededit-3-0-i2i", "16:9", source_photo=True)


@pytest.mark.parametrize(
    ("model", "asked", "got"),
    [
        ("seedance-1-5-pro", 2.4, 4),
        ("seedance-1-5-pro", 30, 12),
        ("seedance-1-0-pro", 5.4, 5),
        ("veo-3-1", 5, 6),  # a tie goes to the longer clip
        ("veo-3-1", 7.1, 8),
    ],
)
def test_snap_seconds(model: str, asked: float, got: int) -> None:
    assert catalog.snap_seconds(model, asked) == got


def test_allowed_seconds_for_plan_options() -> None:
    assert catalog.allowed_seconds("veo-3-1") == (4.0, 6.0, 8.0)
    allowed = catalog.allowed_seconds("seedance-1-5-pro")
    assert allowed is not None and allowed[0] == 4.0 and allowed[-1] == 12.0


def test_prices() -> None:
    s15 = catalog.find("seedance-1-5-pro")
    assert s15 is not None
    # 1.5 pro 720p 5 s: 1280*720*24*5/1024 = 108000 tokens -> $0.1296 (Runware: $0.13)
    assert s15.price.video_usd(seconds=5, width=1280, height=720) == pytest.approx(0.1296)
    assert s15.price.video_usd(seconds=5, width=1280, height=720, audio=True) == pytest.approx(
        0.2592
    )
    assert s15.price.video_usd(seconds=5, width=1280, height=720, tier="flex") == pytest.approx(
        0.0648
    )
    assert s15.price.video_usd(seconds=5, tokens=1_000_000) == pytest.approx(1.2)
    veo = catalog.find("veo-3-1")
    assert veo is not None
    assert veo.price.video_usd(seconds=8, resolution="720p", audio=True) == pytest.approx(3.2)
    assert veo.price.video_usd(seconds=8, resolution="720p", audio=False) == pytest.approx(1.6)
    assert veo.price.video_usd(seconds=8, resolution="8k", audio=True) == pytest.approx(4.8)
    sd45 = catalog.find("seedream-4-5")
    assert sd45 is not None and sd45.price.image_usd(3) == pytest.approx(0.12)
    assert sd45.price.third_party is False
    haiku = catalog.find("claude-haiku-4-5")
    assert haiku is not None
    assert haiku.price.tokens_usd(1_000_000, 100_000) == pytest.approx(1.5)
    assert catalog.find("seedance-1-0-pro").price.third_party is True  # type: ignore[union-attr]


def test_an_image_billed_by_its_output_tokens_is_priced_at_what_they_bill() -> None:
    """A keyframe model billed from its output tokens (Gemini: `output_per_mtok`, 1,290
    tokens a picture) is billed that from its usage; its per-image price, which the
    estimate counts, must be that figure: it was the reference's rounded "about $0.039"
    against a bill of $0.0387, every Gemini keyframe estimated $0.0003 over its bill."""
    by_tokens = [m for m in catalog.models(stage="keyframes") if "output_per_mtok" in m.price.rates]
    assert by_tokens, "no token-priced image model left to check"
    for m in by_tokens:
        r = m.price.rates
        billed = r["tokens_per_image"] * r["output_per_mtok"] / 1e6
        assert r["image"] == pytest.approx(billed), m.key
    gemini = catalog.find("gemini-2-5-flash-image")
    assert gemini is not None and gemini.price.image_usd() == pytest.approx(0.0387)


def test_broken_catalog_is_refused() -> None:
    row = """
[[model]]
key = "a"
provider = "byteplus"
id = "a-1"
stage = "video"
default = true
[model.price]
formula = "tokens_video"
fps = 24
rates = { audio_off = 1.0 }
source = "x"
checked = 2026-01-01
"""
    assert len(parse_catalog(row).models) == 1
    with pytest.raises(CatalogError, match="two defaults"):
        parse_catalog(row + row.replace('"a"', '"b"').replace('"a-1"', '"b-1"'))
    with pytest.raises(CatalogError, match="duplicate"):
        parse_catalog(row + row.replace("default = true", "default = false"))
    with pytest.raises(CatalogError, match="audio_off"):
        parse_catalog(row.replace("audio_off", "audio_on"))
    with pytest.raises(CatalogError):
        parse_catalog(row.replace('stage = "video"', 'stage = "music"'))


def test_references_sent_splits_at_the_models_limit() -> None:
    """The photos a keyframe model is sent and those left out (which the pipeline names):
    the first up to max_references, a source photo counted; all left out by a model
    that takes none; none by an edit model (it restyles its source photo)."""
    photos = [f"p{i}" for i in range(5)]
    assert catalog.references_sent("gemini-2-5-flash-image", photos) == (photos[:3], photos[3:])
    assert catalog.references_sent("gemini-2-5-flash-image", photos, source_photo=True) == (
        photos[:2],
        photos[2:],
    )
    assert catalog.references_sent("seedream-4-0", photos) == (photos, [])
    assert catalog.references_sent("seedream-3-0-t2i", photos) == ([], photos)
    assert catalog.references_sent("seededit-3-0-i2i", photos) == ([], [])
