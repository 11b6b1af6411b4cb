"""Documentation generated from code cannot go stale (STYLE.md rule 7)."""

from __future__ import annotations

import tomllib

from loyaute.config import Settings
from loyaute.policy.register import Register
from loyaute.templates import loyaute_toml, register_toml, settings_reference
from tests.conftest import ROOT


def test_settings_reference_is_up_to_date() -> None:
    """docs/settings.md is what settings_reference() writes; regenerate it when a setting
    changes: python -c "from loyaute.templates import settings_reference as s;
    open('docs/settings.md','w').write(s())"."""
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == settings_reference()


def _keys(model: type, prefix: str = "") -> set[str]:
    out = set()
    for name, info in model.model_fields.items():  # type: ignore[attr-defined]
        annotation = info.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            out |= _keys(annotation, f"{prefix}{name}.")
        else:
            out.add(f"{prefix}{name}")
    return out


def test_every_setting_is_documented() -> None:
    reference = settings_reference()
    for key in _keys(Settings) | _keys(Register):
        assert f"`{key}`" in reference or f"`[[{key}]]`" in reference, key
    for name, info in Settings.model_fields.items():
        assert info.description or hasattr(info.annotation, "model_fields"), name


def test_templates_parse_back_to_the_defaults() -> None:
    assert Settings.model_validate(tomllib.loads(loyaute_toml())) == Settings()
    assert Register.model_validate(tomllib.loads(register_toml())) == Register()


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Quick start")
    block = readme[start : readme.index("##", start + 5)]
    commands = [ln.split("#")[0].strip() for ln in block.splitlines() if ln.startswith("make ")]
    assert commands == ["make demo", "make test"]
