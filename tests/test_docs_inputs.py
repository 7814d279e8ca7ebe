"""docs/inputs.md documents every scenario key and every accepted column alias of every input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gigacov import scenario
from gigacov.field.measurements import MEASUREMENT_ALIASES
from gigacov.ingest.boundaries import BOUNDARY_ALIASES
from gigacov.ingest.broadband import BROADBAND_ALIASES
from gigacov.ingest.key_places import KEY_PLACE_ALIASES
from gigacov.ingest.site_columns import SITE_ALIASES
from gigacov.planning.candidates import CANDIDATE_ALIASES

DOC = Path(__file__).resolve().parents[1] / "docs" / "inputs.md"


def test_readme_links_the_inputs_page():
    readme = (DOC.parents[1] / "README.md").read_text("utf-8")
    assert "docs/inputs.md" in readme


def test_every_scenario_key_is_documented():
    text = DOC.read_text("utf-8")
    missing = []
    for section, cls in scenario.SECTIONS.items():
        for f in dataclasses.fields(cls):
            rows = [ln for ln in text.splitlines() if ln.startswith(f"| `[{section}] ")]
            if not any(f"`{f.name}`" in ln or f"] {f.name}`" in ln for ln in rows):
                missing.append(f"[{section}] {f.name}")
    assert not missing, f"add these keys to the table in docs/inputs.md: {missing}"


@pytest.mark.parametrize(
    "name, aliases",
    [
        ("sites", SITE_ALIASES),
        ("boundaries", BOUNDARY_ALIASES),
        ("broadband", BROADBAND_ALIASES),
        ("key_places", KEY_PLACE_ALIASES),
        ("candidates", CANDIDATE_ALIASES),
        ("measurements", MEASUREMENT_ALIASES),
    ],
)
def test_every_column_and_alias_is_documented(name, aliases):
    text = DOC.read_text("utf-8")
    missing = [
        f"{canon}: {a}"
        for canon, names in aliases.items()
        for a in [canon, *names]
        if (f"`{a}`" if a == canon else a) not in text
    ]
    assert not missing, f"docs/inputs.md lacks these {name} columns/aliases: {missing}"
