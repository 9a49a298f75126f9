"""`--section` names sections the way authors write them; `clx plan` takes the build's focus."""

from __future__ import annotations

from cli_course import notebook

SPEC = """<course>
  <name><de>Kurs</de><en>Course</en></name>
  <prog-lang>python</prog-lang>
  <sections>
    <section><name><de>Woche 1: Listen &amp; Schleifen!</de><en>Week 1: Lists</en></name>
      <topics><topic>first</topic></topics></section>
    <section><name><de>Woche 2</de><en>Week 2</en></name>
      <topics><topic>later</topic></topics></section>
  </sections>
</course>
"""


def course(make_course):
    return make_course(
        {
            "course-specs/c.xml": SPEC,
            "slides/m_100/topic_100_first/slides_first.py": notebook("Erstens", "First"),
        }
    )


def planned(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(("public/", "speaker/"))]


def test_section_by_unsanitised_name_any_case_and_plan_focus(make_course) -> None:
    c = course(make_course)
    every = c.clx("plan", str(c.spec), "-v")
    assert every.returncode == 0, every.stderr
    assert any("Woche 2" in p for p in planned(every))

    for value in (
        "woche 1: listen & schleifen!",
        "WEEK 1: LISTS",
        "Woche 1 Listen _ Schleifen",
        "1",
    ):
        r = c.clx("plan", str(c.spec), "-v", "--section", value)
        assert r.returncode == 0, (value, r.stderr)
        paths = planned(r)
        assert paths and all("Woche 2" not in p and "Week 2" not in p for p in paths), value
        assert any("Woche 1 Listen _ Schleifen" in p for p in paths)

    r = c.clx(
        "plan",
        str(c.spec),
        "-v",
        "--lang",
        "en",
        "--format",
        "html",
        "--target",
        "public",
        "--kind",
        "completed",
    )
    assert r.returncode == 0, r.stderr
    # besides the decks: the tree's home page and the page scripts the decks load
    assets = [p for p in planned(r) if "/clx-assets/" in p]
    decks = [p for p in planned(r) if not p.endswith("/index.html") and p not in assets]
    assert decks and all(
        p.startswith("public/En/") and p.endswith(".html") and "/Completed/" in p for p in decks
    )
    assert assets and all(p.startswith("public/En/Course/clx-assets/") for p in assets)
    assert set(planned(r)) - set(decks) - set(assets) == {"public/En/Course/index.html"}


def test_unknown_section_is_a_usage_error_listing_the_sections(make_course) -> None:
    c = course(make_course)
    for verb in ("plan", "build"):
        for value in ("3", "Woche 9"):
            r = c.clx(verb, str(c.spec), "--section", value)
            assert r.returncode == 2, (verb, value, r.stdout, r.stderr)
            assert f"no section '{value}'" in r.stderr
            assert "1 Woche 1: Listen & Schleifen! / Week 1: Lists; 2 Woche 2 / Week 2" in r.stderr
            assert "Traceback" not in r.stderr
    assert not c.out.exists()
