"""Configuration files and settings reference generated from the typed models.

``init`` writes ``loyaute.toml`` and ``register.toml`` from the pydantic models, every setting
present with its description as a comment and its default as value, so a setting cannot exist
without its documentation (STYLE.md rule 7). ``docs/settings.md`` is generated the same way and a
test fails when it is stale.
"""

from __future__ import annotations

import json
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from loyaute.config import AppRule, Settings
from loyaute.policy.register import Register


def toml_value(value: Any) -> str:
    """A Python value as a TOML literal (strings, numbers, booleans, lists of those)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_model_list(annotation: Any) -> bool:
    return get_origin(annotation) is list and any(_is_model(a) for a in get_args(annotation))


def _comment(text: str | None) -> list[str]:
    return [f"# {line}" for line in (text or "").splitlines() if line.strip()]


def render(model: BaseModel, prefix: str = "") -> list[str]:
    """TOML lines for a model instance: scalars first, then sub-tables, then arrays of tables."""
    fields: dict[str, FieldInfo] = type(model).model_fields
    lines: list[str] = []
    tables: list[str] = []
    arrays: list[str] = []
    for name, info in fields.items():
        value = getattr(model, name)
        if _is_model(info.annotation):
            tables.append(name)
        elif _is_model_list(info.annotation):
            arrays.append(name)
        else:
            lines.extend(_comment(info.description))
            lines.append(f"{name} = {toml_value(value)}")
    for name in tables:
        sub: BaseModel = getattr(model, name)
        path = f"{prefix}{name}"
        lines.append("")
        lines.extend(_comment(fields[name].description or type(sub).__doc__))
        lines.append(f"[{path}]")
        lines.extend(render(sub, f"{path}."))
    for name in arrays:
        path = f"{prefix}{name}"
        lines.append("")
        lines.extend(_comment(fields[name].description))
        items: list[BaseModel] = getattr(model, name)
        for item in items:
            lines.append(f"[[{path}]]")
            lines.extend(render(item, f"{path}."))
        if not items:
            lines.append(f"# [[{path}]]  (none by default; see docs/settings.md for the keys)")
    return lines


LOYAUTE_HEADER = """\
# loyaute.toml — réglages de l'opérateur (DSI) / the operator's settings.
# Chaque réglage est présent avec sa valeur par défaut ; `loyaute config check` le valide.
# Every setting is present with its default; `loyaute config check` validates it.
# A change of sources, application mapping, half-day windows, code table, retention, mode or
# purposes changes the configuration fingerprint (`loyaute gates --fingerprint`) and needs a new
# opinion of the staff committee before individual outputs resume (rule A4).
"""

REGISTER_HEADER = """\
# register.toml — le fichier du DPO / the DPO's file.
# Registre (art. 30 RGPD), AIPD (art. 35), avis du comité social territorial. Tant que ces
# champs sont vides, rien ne tourne pour la finalité de contrôle du télétravail (règles A1–A4).
# Register entry, DPIA and committee opinion: until they are filled nothing runs (rules A1–A4).
"""

EXAMPLE_APP = AppRule(name="grand-angle", hosts=["grandangle.extranet.example.org"], paths=["/"])


def loyaute_toml(settings: Settings | None = None) -> str:
    """The text of a fresh ``loyaute.toml`` (defaults, with one commented [[apps]] example)."""
    body = render(settings or Settings())
    example = [
        "",
        "# Exemple / example:",
        "# [[apps]]",
        *(f"# {line}" for line in render(EXAMPLE_APP)),
    ]
    return LOYAUTE_HEADER + "\n" + "\n".join(body + example) + "\n"


def register_toml(register: Register | None = None) -> str:
    """The text of a fresh ``register.toml`` (every key, gates empty)."""
    return REGISTER_HEADER + "\n" + "\n".join(render(register or Register())) + "\n"


def settings_reference() -> str:
    """``docs/settings.md``: every setting of both files with its type, default and meaning."""
    out = [
        "# Settings reference",
        "",
        "Generated from the typed models by `loyaute.templates.settings_reference()`;",
        "a test fails when this file is stale.",
        "",
    ]
    for title, model in (("loyaute.toml", Settings), ("register.toml", Register)):
        out += [f"## {title}", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        out += _rows(model, "")
        out.append("")
    return "\n".join(out)


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows: list[str] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        path = f"{prefix}{name}"
        if _is_model(annotation):
            rows += _rows(annotation, f"{path}.")  # type: ignore[arg-type]
            continue
        if _is_model_list(annotation):
            (item,) = [a for a in get_args(annotation) if _is_model(a)]
            rows.append(f"| `[[{path}]]` | table array | none | {info.description or ''} |")
            rows += _rows(item, f"{path}[].")
            continue
        default = (
            "required"
            if info.is_required()
            else toml_value(info.get_default(call_default_factory=True))
        )
        kind = getattr(annotation, "__name__", str(annotation)).replace("|", "\\|")
        rows.append(f"| `{path}` | {kind} | `{default}` | {info.description or ''} |")
    return rows
