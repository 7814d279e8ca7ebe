"""Tests of the shipped standard files and of standard-file validation."""

from __future__ import annotations

import math
import textwrap

import pytest

from gigacov.compliance import STANDARDS_DIR, list_standards, load_standard, load_standards
from gigacov.errors import StandardError

SHIPPED = [
    "fujian-2024",
    "fujian-newinfra-2025",
    "miit-gigabit-city-2021",
    "national-14th-fyp-2025",
]

GOOD = """
id = "my-standard"
version = "1"
year = 2024
issuer = "me"
source = "my notes"
[title]
en = "Mine"

[[indicators]]
key = "pop_coverage_5g"
op = ">="
threshold = 0.9
levels = ["county"]
"""


def write(tmp_path, text: str, name: str = "s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_shipped_standards_are_listed_and_load():
    assert list_standards() == SHIPPED
    for std in load_standards(list_standards()):
        assert std.id and std.title and std.title_zh and std.issuer and std.source
        assert std.version and 2020 <= std.year <= 2030 and std.notes.strip()
        for ind in std.indicators:
            assert ind.name_zh and ind.name_en and ind.op in (">=", ">")
            assert ind.level and ind.unit in ("ratio", "per_10k", "count")
            if not ind.confirmed:
                assert ind.note.strip()


def test_miit_thresholds_are_the_commonly_cited_ones_and_unconfirmed():
    (std,) = load_standards(["miit-gigabit-city-2021"])
    by_key = {i.key: i for i in std.indicators}
    assert set(by_key) == {
        "household_gigabit_coverage",
        "pon_10g_share",
        "key_place_reach_5g",
        "sites_5g_per_10k",
        "users_500m_share",
        "users_1000m_count",
        "users_5g_share",
    }
    expected = {
        "household_gigabit_coverage": 0.80,
        "pon_10g_share": 0.30,
        "key_place_reach_5g": 0.95,
        "sites_5g_per_10k": 12.0,
        "users_500m_share": 0.30,
        "users_5g_share": 0.25,
    }
    for key, thr in expected.items():
        assert by_key[key].threshold == thr and by_key[key].confirmed is False
    assert math.isnan(by_key["users_1000m_count"].threshold)  # unknown: reported, not judged
    assert by_key["users_1000m_count"].mandatory is False
    assert "analogy" in std.level_notes["county"]


def test_fujian_and_national_targets():
    stds = {s.id: s for s in load_standards(SHIPPED)}

    def get(sid, key, level):
        (ind,) = [i for i in stds[sid].indicators if i.key == key and level in i.level]
        return ind

    g = get("fujian-2024", "users_1000m_share", "province")
    assert (g.op, g.threshold, g.mandatory, g.confirmed) == (">", 0.25, True, True)
    c = get("fujian-2024", "cities_passing_share", "province")
    assert (c.threshold, c.of_standard, c.of_level) == (1.0, "miit-gigabit-city-2021", "city")
    v = get("fujian-2024", "village_reach_5g", "province")
    assert v.confirmed is False and "97 %" in v.note  # gigacov's choice, justified
    assert get("fujian-2024", "key_place_reach_5g", "province").confirmed is False
    assert get("national-14th-fyp-2025", "sites_5g_per_10k", "province").threshold == 26.0
    assert get("national-14th-fyp-2025", "village_reach_5g", "province").threshold == 0.80
    assert get("fujian-newinfra-2025", "sites_5g_per_10k", "province").threshold == 30.0
    assert "terton.com.cn" in stds["fujian-2024"].url
    assert "people.com.cn" in stds["national-14th-fyp-2025"].url


def test_user_standard_by_path_relative_to_base_dir(tmp_path):
    write(tmp_path, GOOD, "mine.toml")
    (std,) = load_standards(["mine.toml"], base_dir=tmp_path)
    assert std.id == "my-standard" and std.indicators[0].threshold == 0.9
    assert std.indicators[0].name_en == "5G population coverage"  # filled from the key
    both = load_standards(["miit-gigabit-city-2021", str(tmp_path / "mine.toml")])
    assert [s.id for s in both] == ["miit-gigabit-city-2021", "my-standard"]


def test_unknown_id_suggests_the_close_one():
    with pytest.raises(
        StandardError, match=r"unknown standard 'fujian-2042'.*did you mean 'fujian-2024'"
    ):
        load_standards(["fujian-2042"])


def test_same_standard_twice():
    with pytest.raises(StandardError, match="listed twice"):
        load_standards(["fujian-2024", str(STANDARDS_DIR / "fujian-2024.toml")])


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ('op = ">="', 'op = "=>"', r"indicators\[0\]\.op: '=>' is not one of"),
        (
            'key = "pop_coverage_5g"',
            'key = "pop_coverage"',
            r"indicators\[0\]\.key: unknown indicator 'pop_coverage'; did you mean 'pop_coverage_5g'",
        ),
        (
            "threshold = 0.9",
            "threshold = 90",
            r"indicators\[0\]\.threshold: 90\.0 is not a fraction 0–1 .*write 0\.9",
        ),
        (
            "threshold = 0.9",
            'threshold = "0.9"',
            r"indicators\[0\]\.threshold must be a float, got '0\.9'",
        ),
        ("threshold = 0.9\n", "", r"indicators\[0\]: missing required key 'threshold'"),
        (
            'levels = ["county"]',
            'levels = ["counties"]',
            r"indicators\[0\]\.levels: 'counties' is not a level; did you mean 'county'",
        ),
        (
            'levels = ["county"]',
            'levels = ["county"]\nthreshhold = 1',
            r"indicators\[0\]: unknown key 'threshhold'; did you mean 'threshold'",
        ),
        (
            'levels = ["county"]',
            'levels = ["county"]\nconfirmed = false',
            r"confirmed = false needs a note",
        ),
        ('issuer = "me"\n', "", r"missing required key 'issuer'"),
        ("year = 2024", 'year = "2024"', r"year must be a int, got '2024'"),
        ("[title]", "titel = 1\n[title]", r"unknown key 'titel'; did you mean 'title'"),
        (
            'levels = ["county"]',
            'levels = ["county"]\n[[indicators]]\nkey = "pop_coverage_5g"\nop = ">="\nthreshold = 0.5\nlevels = ["city", "county"]',
            r"indicators\[1\] repeats key 'pop_coverage_5g' for level 'county'",
        ),
        ('id = "my-standard"', 'id = "my-standard"\nthis is not toml', r"not valid TOML"),
    ],
)
def test_malformed_standard_names_file_and_key(tmp_path, old, new, match):
    assert old in GOOD
    p = write(tmp_path, GOOD.replace(old, new, 1), "broken.toml")
    with pytest.raises(StandardError, match=match) as info:
        load_standards([str(p)])
    assert "broken.toml" in str(info.value)


def test_missing_file():
    with pytest.raises(StandardError, match="does not exist"):
        load_standard("/nonexistent/standard.toml")


def test_derived_indicator_needs_its_standard(tmp_path):
    text = GOOD.replace('key = "pop_coverage_5g"', 'key = "cities_passing_share"')
    with pytest.raises(StandardError, match="needs of_standard"):
        load_standard(write(tmp_path, text))
