"""Client text is data: the one escaping path, checked by parsing what each HTML producer makes.

Every producer of HTML from data (display tables, bullet lists, results' rich display, the
report's page frame, person pages) is given the same hostile payloads; the HTML is parsed with
the standard library's parser and no element, attribute or script may come from the data,
while the payload's text must still be there for the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pandas as pd
import pytest

from workbench.escaping import escape_frame, escape_html
from workbench.plans.pages import render_person_page
from workbench.reporting.display import bullets, show
from workbench.reporting.html_report import styled_page
from workbench.results import Result

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><iframe src=javascript:alert(1)>",
    "<b>bold</b> & <i>co</i>",
]


class Parsed(HTMLParser):
    """Tags, attributes and text of a page (the text with entities resolved)."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.chunks = [], [], []
        self.feed(page)
        self.close()
        self.text = "".join(self.chunks)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_data(self, data):
        self.chunks.append(data)


def assert_inert(page: str, payloads=PAYLOADS):
    """No element or event handler from the payloads; each payload readable as text."""
    parsed = Parsed(page)
    made = {"script", "img", "svg", "iframe", "i"} & set(parsed.tags)
    assert not made, f"elements created from data: {sorted(made)}"
    assert not [a for a in parsed.attributes if a.startswith("on")]
    for payload in payloads:
        assert payload in parsed.text, payload


def test_escape_html_turns_every_markup_character_into_a_reference():
    assert escape_html("<a href='x' title=\"y\">&</a>") == (
        "&lt;a href=&#x27;x&#x27; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;")
    assert escape_html(None) == "" and escape_html(0.5) == "0.5"


def test_escape_frame_escapes_text_cells_and_labels_only():
    frame = pd.DataFrame({"<th>": ["<td>", None], "n": [-0.5, 2.0]}, index=["<i>", "b"])
    out = escape_frame(frame)
    assert out.columns.tolist() == ["&lt;th&gt;", "n"]
    assert out.index.tolist() == ["&lt;i&gt;", "b"]
    assert out.iloc[0, 0] == "&lt;td&gt;" and pd.isna(out.iloc[1, 0])
    assert out["n"].tolist() == [-0.5, 2.0]
    assert frame.iloc[0, 0] == "<td>"  # the input is not modified


def test_display_tables_escape_cells_headers_and_index():
    frame = pd.DataFrame({"skill": PAYLOADS, "estimate": range(len(PAYLOADS))})
    frame[PAYLOADS[1]] = "x"  # a header from data (a skill as a column of a wide table)
    assert_inert(show(frame).to_html())
    assert_inert(show(frame.set_index("skill"), index=True).to_html())
    assert_inert(show(frame, labels=False).to_html())


def test_display_tables_still_format_numbers():
    page = show(pd.DataFrame({"skill": ["a"], "score": [1234.5678]}), 1).to_html()
    assert "1,234.6" in page


def test_bullet_lists_are_text():
    assert_inert(bullets(PAYLOADS).data)


@dataclass(frozen=True)
class _Hostile(Result):
    title = "Hostile"
    table: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def _sections(self):
        return [(PAYLOADS[0], self.table), ("Series", self.table.set_index("skill")["n"]),
                ("Notes", PAYLOADS), ("Text", PAYLOADS[2])]


def test_results_rich_display_escapes_every_section():
    table = pd.DataFrame({"skill": PAYLOADS, "n": range(len(PAYLOADS))})
    assert_inert(_Hostile(table, {"label": PAYLOADS[1]})._repr_html_())


def test_report_frame_escapes_title_subtitle_note_and_footer():
    page = styled_page("<p>body</p>", title=PAYLOADS[0], subtitle=PAYLOADS[1], note=PAYLOADS[2],
                       footer=PAYLOADS[3])
    assert_inert(page, PAYLOADS[:4])


MARKDOWN_PAYLOADS = ["**bold** and _em_", "a | b | c", "[click](javascript:alert(1))",
                     "`code` \\ back\\slash", "line\r=1+1", "&lt;entity&gt;"]


def _record(payload):
    """A person's plan record with ``payload`` in every field that comes from data."""
    activity = {"title": payload, "activity": payload, "kind": "course", "start": "2027-01-04",
                "end": "2027-02-01", "hours": 6, "gain": 0.2, "gain_source": "catalog"}
    focus = {"focus_rank": 1, "skill": payload, "focus_type": "gap", "goal": payload,
             "score": 2.5, "se": 0.2, "required_level": 3.5, "gap": 1.0, "p_below": 0.9,
             "weight": 1.0, "priority": 0.9, "activities": [activity], "mentor": payload,
             "n_activities": 0}
    return {"person": payload, "name": payload, "role": payload, "team": payload,
            "start": "2027-01-04", "reassessment": "2027-03-29", "checkins": [],
            "hours_per_week": 3, "strengths": [{"skill": payload, "score": 4.0,
                                                "required_level": 3.0}],
            "focus": [focus], "issues": [payload], "min_raters": 3,
            "source_scores": [{"skill": payload, "source": "self", "mean": 3.0, "shown": True}],
            "comments": [{"skill": payload, "source": "peer", "comment": payload}]}


@pytest.mark.parametrize("payload", PAYLOADS + MARKDOWN_PAYLOADS)
def test_person_page_escapes_every_field(payload):
    import mistune

    from workbench.plans.pages import unescape_markdown

    shown = payload.replace("\r", " ")  # a line break in a value is shown as a space
    page = render_person_page(_record(payload), fmt="html")
    assert_inert(page, [shown])
    # only the template's own markup: its bold labels and its table cells
    parsed, plain = Parsed(page), Parsed(render_person_page(_record("Plain"), fmt="html"))
    assert parsed.tags.count("strong") == plain.tags.count("strong")
    assert parsed.tags.count("td") == plain.tags.count("td")
    assert not {"a", "em", "code"} & set(parsed.tags)
    # the Markdown page, as a Markdown viewer that lets HTML through shows it
    md = render_person_page(_record(payload), fmt="md")
    viewed = Parsed(mistune.create_markdown(escape=False, plugins=["table"])(md))
    assert not {"script", "img", "svg", "iframe", "a", "em", "code"} & set(viewed.tags)
    assert viewed.tags.count("td") == Parsed(mistune.create_markdown(
        escape=False, plugins=["table"])(render_person_page(_record("Plain")))).tags.count("td")
    assert shown in viewed.text and shown in unescape_markdown(md)
