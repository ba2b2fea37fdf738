"""Topics: subspecialty and theme volume and share over time, emerging terms, discovered topics."""

from __future__ import annotations

import dash
from dash import html

from radpulse.dashboards import data, figures
from radpulse.dashboards.components import empty_state, graph, section, table
from radpulse.dashboards.pages._frame import drill_column, not_annotated, render
from radpulse.dashboards.state import period_for

dash.register_page(__name__, path="/topics", name="Topics", title="radpulse: topics", order=1)


def build(state, db):  # type: ignore[no-untyped-def]
    f = state.filters
    period = period_for(state.days)
    window = (state.start, state.end)
    missing = not_annotated(data.annotated_posts(db, f))
    parts = []
    if missing is not None:
        parts.append(missing)
    else:
        for dim, title in (("subspecialty", "Subspecialties"), ("theme", "Themes")):
            frame = data.volume_by(db, f, period=period, dims=(dim,))
            frame = frame[frame[dim] != data.MISSING[dim]]
            frame = drill_column(frame, state, period=period, keys={dim: dim})
            parts.append(html.Div([
                graph(figures.over_time(frame, y="posts", colour=dim, title=f"{title}: posts", unit="posts",
                                        period=period, window=window), f"topics-{dim}", drill=True),
                graph(figures.share_over_time(frame, by=dim, title=f"{title}: share of posts", period=period),
                      f"topics-{dim}-share"),
            ], className="row"))
    emerging = data.emerging_terms(db, f)
    scope = "all platforms" if not f.platforms else ", ".join(f.platforms)
    parts.append(section(
        f"Emerging terms (accounts using them in the 7 days to {state.end} against the 4 weeks before; "
        f"{scope}; the other filters do not apply)",
        graph(figures.ranked_bars(emerging.assign(drill=""), label="term", value="score", title="Emerging terms",
                                  unit="burst score", hover={"authors": "accounts", "baseline": "baseline accounts"},
                                  empty_message="No term is bursting in the last week of this window "
                                                "(or `radpulse analyze` has not stored it yet)."),
              "topics-emerging")))
    topics = data.discovered_topics(db, f)
    topics = topics.assign(examples=[" · ".join(e) for e in topics["examples"]])
    parts.append(section(f"Topics discovered in the weeks of this window (NMF per week, merged by label; {scope})",
                         table(topics, {"topic": "Topic", "terms": "Top terms", "posts": "Posts (fitted sample)",
                                        "weeks": "Weeks", "examples": "Example posts"}, id_="topics-discovered")
                         if not topics.empty else empty_state("No topics discovered.",
                                                              "No week of this window has 50 posts with text, or "
                                                              "`radpulse analyze` has not stored its topics yet.")))
    return parts


def layout(**query):  # type: ignore[no-untyped-def]
    return render(query, build)
