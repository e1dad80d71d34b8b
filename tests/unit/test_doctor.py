"""doctor exits 0 only when the configured preset can run; keys never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mindmovie.cli import app
from mindmovie.config import load_settings
from mindmovie.doctor import run_checks

KEYVARS = (
    "ANTHROPIC_API_KEY",
    "ARK_API_KEY",
    "BYTEPLUS_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for k in KEYVARS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(tmp_path)


def test_local_preset_is_ready_without_keys(clean_env: None) -> None:
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 0, r.output
    assert "ready" in r.output and "libx264" in r.output


def test_paid_preset_with_a_key_missing_fails(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus"])
    assert r.exit_code == 1
    assert "ARK_API_KEY" in r.output and "not set" in r.output
    assert "sk-ant-very-secret" not in r.output


def test_paid_preset_with_keys_present_passes(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("ARK_API_KEY", "ark-very-secret")
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus"])
    assert r.exit_code == 0, r.output
    assert "very-secret" not in r.output


def test_google_preset_names_the_client_mode(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("GOOGLE_API_KEY", "g")
    r = CliRunner().invoke(app, ["doctor", "--preset", "google"])
    assert r.exit_code == 0, r.output
    assert "vertex express" in r.output


def test_google_developer_mode_is_not_ready_for_veo(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API key in developer mode (vertexai false) makes Gemini images but not Veo
    (google-genai 3.x refuses it): doctor must say so and exit 1, as render would fail."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("GOOGLE_API_KEY", "g")
    monkeypatch.setenv("MINDMOVIE_PROVIDERS__GOOGLE__VERTEXAI", "false")
    r = CliRunner().invoke(app, ["doctor", "--preset", "google"])
    assert r.exit_code == 1, r.output
    checks = run_checks(load_settings(None, overrides={"preset": "google"}))
    (check,) = [c for c in checks if c.name == "google mode"]
    assert not check.ok and check.required and "Veo needs Vertex mode" in check.detail
    # developer mode is fine when only the keyframes come from google
    monkeypatch.setenv("MINDMOVIE_VIDEO__PROVIDER", "local")
    r = CliRunner().invoke(app, ["doctor", "--preset", "google"])
    assert r.exit_code == 0, r.output


def test_providers_lists_catalog_with_key_state(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARK_API_KEY", "ark-very-secret")
    r = CliRunner().invoke(app, ["providers", "--json"])
    assert r.exit_code == 0
    rows = json.loads(r.output)
    seedance = [x for x in rows if x["model"].startswith("seedance-1-5-pro")]
    assert seedance and "ARK_API_KEY" in seedance[0]["key"] and "not set" not in seedance[0]["key"]
    assert any(x["provider"] == "google" and "not set" in x["key"] for x in rows)
    assert "very-secret" not in r.output
    # what a person picks a model by: stage, capabilities, price
    s15 = seedance[0]
    assert s15["stage"] == "video"
    for cap in ("first frame", "last frame", "audio", "4-12 s", "1080p"):
        assert cap in s15["capabilities"]
    assert "audio_on 2.4" in s15["price"] and "$/1M tokens" in s15["price"]
    lite = next(x for x in rows if x["model"].startswith("seedance-1-0-lite"))
    assert "audio" not in lite["capabilities"] and "2-12 s" in lite["capabilities"]
    (s45,) = [x for x in rows if x["model"].startswith("seedream-4-5")]
    assert s45["stage"] == "keyframes" and "0.04" in s45["price"]
    # every paid model's price names its source and the date it was checked
    paid = [x for x in rows if x["provider"] != "local"]
    assert paid and all(x["price_source"] and x["price_checked"][:2] == "20" for x in paid)
    table = CliRunner().invoke(app, ["providers"])
    assert table.exit_code == 0 and "checked" in table.output
