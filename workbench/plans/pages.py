"""One page per person: their plan as Markdown and as a styled, printable HTML page.

The HTML page uses the client report's look (the same fonts, colours, header band and
tables) and a print layout: white background, no shadows, A4 margins, sections and tables
kept whole across page breaks, so a manager can print it. Per-source scores appear only
where confidentiality allows; raters are never named; sources and activity kinds are shown
in words.

Examples
--------
>>> rec = {"person": "P1", "role": "Lead", "team": "T", "start": "2027-01-04",
...        "reassessment": "2027-03-29", "checkins": [], "hours_per_week": 3,
...        "strengths": [], "focus": [], "source_scores": [], "comments": [],
...        "issues": [], "min_raters": 3}
>>> render_person_page(rec).splitlines()[0]
'# Learning plan: P1'
>>> "@media print" in render_person_page(rec, fmt="html")
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from workbench.checks import check_choice
from workbench.escaping import escape_html
from workbench.plans.labels import (
    GAIN_SOURCE_LABELS,
    date_label,
    kind_label,
    number_label,
    source_label,
)
from workbench.presentation.labels import wave_label
from workbench.presentation.style import BASE_CSS

__all__ = ["render_person_page", "unescape_markdown", "PAGE_CSS"]

_DATE = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?%?|–|hidden|\d+(\.\d+)? \(standard error [\d.]+\)|"
                     r"[\d.]+, rank \d+")

# The house style (workbench.presentation.style) plus the person page's own layout and print rules.
PAGE_CSS = BASE_CSS + """
header { padding: 1.6rem 3rem 1.2rem; }
header h1 { font-size: 1.7rem; }
header p { margin: .15rem 0; opacity: .92; }
main { max-width: 960px; padding: .5rem 2rem 2rem; }
section { background: white; border-radius: 6px; padding: .6rem 1.6rem 1rem; margin: 1.2rem 0;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h2 { font-size: 1.3rem; border-bottom: 2px solid #e4e7eb; padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin-bottom: .3rem; }
table { margin: .6rem 0; }
th, td { text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.date { white-space: nowrap; }
p.note { color: #52606d; font-size: .85rem; }
@page { margin: 15mm 14mm; }
@media print {
  header { border-bottom: 3px solid #1f3a5f; padding: 0 0 .4rem; }
  /* a part may run over a page (else a long one leaves page 1 with the header alone); its
     tables stay whole and a heading stays with what follows it */
  section { box-shadow: none; border-radius: 0; padding: 0; margin: .8rem 0; }
  table, tr, h3 { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  p.note { break-before: avoid; page-break-before: avoid; }
}
"""


def render_person_page(record, *, fmt="md"):
    """Render a person's plan record (:meth:`PlanSet.person`) as Markdown or HTML.

    Parameters
    ----------
    record : dict
        The plans.json record of one person.
    fmt : {"md", "html"}

    Returns
    -------
    str
    """
    check_choice("fmt", fmt, ("md", "html"))
    md = _markdown(record)
    if fmt == "md":
        return md
    who = record.get("name") or record["person"]
    return _markdown_to_html(md, title=f"Learning plan: {who}")


def _pct(p):
    """A probability as a reader takes it: never a certain 0% or 100% from a model."""
    if p is None:
        return "–"
    if p > 0.99:
        return "over 99%"
    if p < 0.01:
        return "under 1%"
    return f"{p:.0%}"


_BANDS = {"ready_now": "ready now", "ready_in_horizon": "ready by the end of this plan if its "
          "activities are completed", "ready_later": "not yet: more than this plan",
          "not_assessed": "not assessed (a required skill has no score)"}


def _readiness_lines(rows):
    lines = ["## Readiness for your next role", "",
             "The chance that your true level already meets every requirement of the role, "
             "from your scores and their uncertainty, and the chance by the end of this plan "
             "if its activities are completed.", "",
             "| Role | On your path as | Now | End of this plan | Where you stand |",
             "|---|---|---|---|---|"]
    for x in rows:
        lines.append(f"| {_md(x['role'])} | {_md(x['relation'])} | {_pct(x['p_ready'])} | "
                     f"{_pct(x['p_ready_horizon'])} | "
                     f"{_BANDS.get(x['band'], _md(x['band']))} |")
    return lines + [""]


def _focus_lines(f, alpha):
    """The Markdown lines of one focus skill on a person's page: where the person stands,
    the destination, the activities, the expected gain and the mentor.
    """
    level = f"{100 * (1 - alpha):g}%"
    why = (" (a strength to build on)" if f["focus_type"] == "stretch" else "")
    lines = [f"### {f['focus_rank']}. {_md(f['skill'])}{why}", "",
             f"**12-week goal:** {_md(f['goal'])}", "",
             "| Why this skill | |", "|---|---|",
             f"| Current level | {number_label(f['score'])} (standard error "
             f"{number_label(f['se'], 2)}) |",
             f"| Requirement | {number_label(f['required_level'])} |",
             f"| Gap to the destination | {number_label(f['gap'])} |",
             f"| Probability that the true level is below the destination | "
             f"{_pct(f['p_below'])} |",
             f"| Weight of the skill for the role | {number_label(f['weight'])} |",
             f"| Priority (weight x expected shortfall) | {number_label(f['priority'], 2)}, "
             f"rank {f['focus_rank']} |", ""]
    if f.get("n_activities", len(f["activities"])):
        lines += [f"With the planned activities the expected gain is "
                  f"+{number_label(f['expected_gain'], 2)} ({level} range "
                  f"{number_label(f['gain_ci_low'], 2)} to {number_label(f['gain_ci_high'], 2)}),"
                  f" so the expected level in 12 weeks is {number_label(f['expected_level'])} "
                  f"(plausible range {number_label(f['level_low'])} to "
                  f"{number_label(f['level_high'])}). The 12-week target is "
                  f"{number_label(f['target_level'])}; the longer-term destination is "
                  f"{number_label(f['destination_level'])} ({_md(f['destination_reason'])}).", ""]
    if f.get("mentor"):
        lines.append(f"**Mentor:** {_md(_mentor_text(f))}")
    else:
        reason = f.get("no_mentor_reason") or "mentors were not matched in this run"
        lines.append(f"**Mentor:** none available ({_md(reason)}); mentoring is not part of this "
                     "skill's plan.")
    lines.append("")
    if f["activities"]:
        lines += ["| Activity | Type | From | To | Hours | Expected gain | Evidence |",
                  "|---|---|---|---|---|---|---|"]
        for a in f["activities"]:
            lines.append(f"| {_md(a['title'])} ({_md(a['activity'])}) | {kind_label(a['kind'])} | "
                         f"{date_label(a['start'])} | {date_label(a['end'])} | "
                         f"{a['hours']:g} | +{number_label(a['gain'], 2)} | "
                         f"{GAIN_SOURCE_LABELS.get(a['gain_source'], a['gain_source'])} |")
    else:
        lines.append("No catalog activity could be planned for this skill (see notes).")
    lines.append("")
    return lines


def _mentor_text(f):
    """The mentor by name where the people file has one, with role and team."""
    who = f.get("mentor_name") or f["mentor"]
    about = ", ".join(str(x) for x in (f.get("mentor_role"), f.get("mentor_team")) if x)
    return f"{who} ({about})" if about else str(who)


def _markdown(r):
    """One person's plan page as Markdown, from the ``plans.json`` record (client text
    escaped for Markdown).
    """
    who = r.get("name") or r["person"]
    lines = [f"# Learning plan: {_md(who)}", "",
             f"**Person:** {_md(r['person'])}  " if r.get("name") else "",
             f"**Role:** {_md(r['role'])}  ", f"**Team:** {_md(r['team'])}  ",
             f"**Plan period:** {date_label(r['start'])} to "
             f"{date_label(r['reassessment']) or '–'} "
             f"(about {number_label(float(r['hours_per_week']))} hours a week)", ""]
    lines += ["## Strengths", ""]
    if r["strengths"]:
        lines += [f"- {_md(s['skill'])}: {number_label(s['score'])} (requirement "
                  f"{number_label(s['required_level'])})" for s in r["strengths"]]
    else:
        lines.append("- No skill is yet confidently above its requirement.")
    lines += ["", "## Focus skills", ""]
    if not r["focus"]:
        lines.append("No focus skill was chosen for this period.")
    for f in r["focus"]:
        lines += _focus_lines(f, r.get("alpha", 0.05))
    if r["focus"] and r.get("gain_note"):
        lines += ["## How the targets were set", "",
                  "Each 12-week target is the level the planned activities can be expected "
                  "to deliver, never more; the role's requirement stays the destination. "
                  + _md(r["gain_note"]) + " Gains assume the activities are completed.", ""]
    if r.get("readiness"):
        lines += _readiness_lines(r["readiness"])
    lines += ["## Check-ins", ""]
    lines += [f"- {date_label(d)}: check-in with your manager" for d in r["checkins"]] or \
        ["- none"]
    if r["reassessment"]:
        lines.append(f"- {date_label(r['reassessment'])}: re-assessment (360 re-rating)")
    lines += ["", "## What your raters said", ""]
    if r["source_scores"]:
        lines += _source_table(r)
    else:
        lines.append("No per-source ratings are available.")
    if r["comments"]:
        lines += ["", "### Comments", ""]
        lines += [f"- {_md(c['skill'])} ({source_label(c['source'])}): {_md(c['comment'])}"
                  for c in r["comments"]]
    if r["issues"]:
        lines += ["", "## Notes", ""] + [f"- {_md(m)}" for m in r["issues"]]
    return "\n".join(lines) + "\n"


def _wave_text(r) -> str:
    """Which survey wave the raters' table shows, in a sentence ("" when not one wave)."""
    waves = {x.get("wave") for x in r["source_scores"]}
    if len(waves) != 1 or None in waves:
        return ""
    return f"These are the ratings of survey round {_md(wave_label(waves.pop()))}."


def _source_table(r):
    order = ["self", "manager", "peer", "direct_report", "other", "all_others"]
    present = [s for s in order if any(x["source"] == s for x in r["source_scores"])]
    skills = sorted({x["skill"] for x in r["source_scores"]})
    cell = {(x["skill"], x["source"]): x for x in r["source_scores"]}
    head = "| Skill | " + " | ".join(source_label(s) for s in present) + " |"
    lines = [_wave_text(r), ""] if _wave_text(r) else []
    lines += [head, "|---" * (len(present) + 1) + "|"]
    for skill in skills:
        vals = []
        for s in present:
            x = cell.get((skill, s))
            vals.append("" if x is None else (number_label(x["mean"]) if x["shown"]
                                              else "hidden"))
        lines.append(f"| {_md(skill)} | " + " | ".join(vals) + " |")
    pooled = [source_label(s).lower() for s in present
              if s not in ("self", "manager", "all_others")]
    together = ("" if "all_others" not in present or not pooled else
                f"; 'colleagues together' averages the {_and(pooled)} shown here (not you, "
                "not your manager)")
    lines += ["", f"'hidden': fewer raters than the confidentiality minimum "
              f"({_min_raters_text(r['min_raters'])}); a blank cell: no rating from that "
              f"source on the skill{together}. Self and manager ratings are always shown; no "
              "rater is ever named."]
    return lines


def _and(words: list) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _min_raters_text(min_raters):
    if isinstance(min_raters, Mapping):
        return ", ".join(f"{source_label(k)}: {v}" for k, v in min_raters.items())
    return f"{min_raters} per source"


# Markdown's own characters in client text are backslash-escaped (CommonMark shows them as
# typed); line breaks become spaces, so a value can never start a line, a heading or a row.
_MD_SPECIAL = re.compile(r"([\\`*_|<>&\[\]])")
_MD_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
_MD_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_CELL_BORDER = re.compile(r"(?<!\\)\|")


def _md(value) -> str:
    """Client text for the Markdown page: shown as typed, never read as markup."""
    return _MD_SPECIAL.sub(r"\\\1", _MD_BREAKS.sub(" ", str(value)))


def _inline(text):
    """A line of the page's Markdown as HTML: ``**`` of the template bold, text escaped.

    Client text carries no bare ``**`` or ``|`` (see :func:`_md`), so every one left is the
    template's; its backslash escapes are undone before the one HTML escaping.
    """
    parts = text.split("**")
    return "".join(f"<strong>{_html_text(p)}</strong>" if i % 2 else _html_text(p)
                   for i, p in enumerate(parts))


def unescape_markdown(text: str) -> str:
    """The text a reader of a person's Markdown page sees: backslash escapes undone.

    Examples
    --------
    >>> unescape_markdown(r"\\<b\\> emp\\_01")
    '<b> emp_01'
    """
    return _MD_ESCAPED.sub(r"\1", text)


def _html_text(text):
    return escape_html(unescape_markdown(text))


def _markdown_to_html(md, *, title):
    """The Markdown subset the page uses to HTML: the title block becomes the header band,
    each ``##`` part a section (kept whole when printed)."""
    lines = md.splitlines()
    head, body = [], []
    part = head
    for line in lines:
        if line.startswith("## "):
            part = body
        part.append(line)
    header = []
    for line in head:
        if line.startswith("# "):
            header.append(f"<h1>{_inline(line[2:].strip())}</h1>")
        elif line.strip():
            header.append(f"<p>{_inline(line.strip())}</p>")
    out, in_list, table, open_section = [], False, [], False

    def flush_table():
        if not table:
            return
        rows = [[c.strip() for c in _CELL_BORDER.split(row.strip()[1:-1])] for row in table]
        head_row, rest = rows[0], rows[2:]
        # numbers right-aligned (a column of them reads down), words left
        num = [bool(rest) and all(_NUMBER.fullmatch(r[k]) for r in rest if k < len(r))
               for k in range(len(head_row))]
        cls = [' class="num"' if n else "" for n in num]
        out.append("<table><thead><tr>" + "".join(
            f"<th{cls[k]}>{_inline(c)}</th>" for k, c in enumerate(head_row))
            + "</tr></thead><tbody>")
        def cell_class(c):
            if _NUMBER.fullmatch(c):
                return ' class="num"'
            return ' class="date"' if _DATE.fullmatch(c) else ""

        out.extend("<tr>" + "".join(
            f"<td{cell_class(c)}>{_inline(c)}</td>" for c in r) + "</tr>" for r in rest)
        out.append("</tbody></table>")
        table.clear()

    for line in body:
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("## "):
            if open_section:
                out.append("</section>")
            out.append(f"<section><h2>{_inline(line[3:].strip())}</h2>")
            open_section = True
        elif line.startswith("### "):
            out.append(f"<h3>{_inline(line[4:].strip())}</h3>")
        elif line.startswith("'hidden'"):
            out.append(f'<p class="note">{_inline(line.rstrip())}</p>')
        elif line.strip():
            out.append(f"<p>{_inline(line.rstrip())}</p>")
    flush_table()
    if in_list:
        out.append("</ul>")
    if open_section:
        out.append("</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape_html(title)}</title><style>{PAGE_CSS}</style></head><body>\n"
            "<header>" + "".join(header) + "</header>\n<main>\n" + "\n".join(out)
            + "\n</main>\n<footer>Personal learning plan: for the person and their manager."
            "</footer>\n</body></html>\n")
