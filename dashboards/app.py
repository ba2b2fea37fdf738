"""The interactive dashboard (Dash): volume, hashtags, engagement, topics, voices and papers.

All text shown comes from the database and is passed to Dash components as plain strings,
which React renders as text (never as HTML), so posted content cannot inject markup.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import Dash, Input, Output, dcc, html
from sqlalchemy import select

from radpulse.dashboards import data, figures
from radpulse.db.engine import Database, open_database
from radpulse.db.models import Meta

TITLE = "radpulse: radiology conversation"


def _card(label: str, id_: str) -> html.Div:
    return html.Div([html.Div(label, className="kpi-label"), html.Div("–", id=id_, className="kpi-value")],
                    className="kpi")


def articles_table(df: pd.DataFrame) -> html.Table | html.P:
    """The most-discussed papers as a plain table (cell text is rendered as text, never HTML)."""
    if df.empty:
        return html.P("No paper was cited by posts in this selection.")
    cols = ["title", "journal", "doi", "score", "mentions", "authors"]
    head = html.Thead(html.Tr([html.Th(c) for c in cols]))
    body = html.Tbody([html.Tr([html.Td(str(row[c]) if row[c] is not None else "") for c in cols])
                       for row in df.to_dict("records")])
    return html.Table([head, body], className="articles")


def parse_day(value: object) -> dt.datetime | None:
    """A date picker's value ('2026-01-31' or an ISO datetime) as UTC midnight; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value[:10]).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def create_app(db: Database) -> Dash:
    """A Dash app bound to `db`."""
    app = Dash(__name__, title=TITLE, update_title=None)
    bounds = data.date_bounds(db)
    today = dt.datetime.now(dt.timezone.utc)
    lo, hi = bounds if bounds else (today - dt.timedelta(days=365), today)
    start = max(lo, hi - dt.timedelta(days=365))
    with db.engine.connect() as conn:
        demo = conn.execute(select(Meta.value).where(Meta.key == "demo")).scalar()
    all_platforms = data.platforms(db)
    banner = (html.Div("SYNTHETIC DEMO DATA: every post, author and paper here is invented.", id="synthetic-banner",
                       className="banner") if demo else None)
    app.layout = html.Div(
        [
            html.Header([html.H1("radpulse"), html.P("What radiology is talking about, who is talking, and which papers they discuss.")]),
            banner,
            html.Div(
                [
                    html.Label("Dates"),
                    dcc.DatePickerRange(id="dates", start_date=start.date(), end_date=hi.date(),
                                        min_date_allowed=lo.date(), max_date_allowed=hi.date(), display_format="YYYY-MM-DD"),
                    html.Label("Platforms"),
                    dcc.Checklist(id="platforms", options=[{"label": p, "value": p} for p in all_platforms],
                                  value=all_platforms, inline=True),
                ],
                className="controls",
            ),
            html.Div([_card("Posts", "kpi-posts"), _card("Authors", "kpi-authors"), _card("Likes", "kpi-likes")],
                     className="kpis"),
            dcc.Loading(dcc.Graph(id="volume")),
            html.Div([dcc.Graph(id="hashtags"), dcc.Graph(id="topics")], className="row"),
            html.Div([dcc.Graph(id="engagement"), dcc.Graph(id="authors")], className="row"),
            html.H2("Most-discussed papers"),
            html.Div(id="articles"),
            html.Footer("radpulse · data from X, Reddit, Mastodon, Bluesky, journal feeds and PubMed"),
        ],
        className="page",
    )

    @app.callback(
        Output("volume", "figure"), Output("hashtags", "figure"), Output("topics", "figure"),
        Output("engagement", "figure"), Output("authors", "figure"), Output("articles", "children"),
        Output("kpi-posts", "children"), Output("kpi-authors", "children"), Output("kpi-likes", "children"),
        Input("dates", "start_date"), Input("dates", "end_date"), Input("platforms", "value"),
    )
    def update(start_date, end_date, chosen):  # type: ignore[no-untyped-def]
        first, last = parse_day(start_date), parse_day(end_date)
        if first is None or last is None:  # a hand-made request: explain instead of failing with HTTP 500
            why = f"Dates not understood ({str(start_date)[:40]!r} to {str(end_date)[:40]!r}): pick them as YYYY-MM-DD"
            return (*(figures._empty(t, why) for t in ("Posts", "Top hashtags", "Subspecialties", "Engagement per post",
                                                          "Who is talking")), html.P(why), "–", "–", "–")
        platforms = tuple(p for p in chosen if isinstance(p, str)) if isinstance(chosen, list) else ()
        f = data.Filters(start=first, end=last + dt.timedelta(days=1), platforms=platforms or ("none",))
        t = data.totals(db, f)
        return (
            figures.volume_figure(data.daily_volume(db, f)),
            figures.hashtag_figure(data.top_hashtags(db, f)),
            figures.topic_figure(data.topic_mix(db, f)),
            figures.engagement_figure(data.engagement_sample(db, f)),
            figures.author_figure(data.author_mix(db, f)),
            articles_table(data.top_articles(db, f)),
            f"{t['posts']:,}", f"{t['authors']:,}", f"{t['likes']:,}",
        )

    app.index_string = app.index_string.replace("</head>", f"<style>{CSS}</style></head>")
    _unsubscribe_route(app, db)
    return app


def _unsubscribe_route(app: Dash, db: Database) -> None:
    """`/unsubscribe/<token>`: GET shows a confirmation form, POST (the form, or RFC 8058 one-click) unsubscribes."""
    import flask

    @app.server.route("/unsubscribe/<token>", methods=["GET", "POST"])
    def unsubscribe_page(token: str) -> flask.Response:
        from radpulse.digest.unsubscribe_page import HEADERS, unsubscribe_response

        status, page = unsubscribe_response(db, token, flask.request.method)
        return flask.Response(page, status=status, mimetype="text/html", headers=HEADERS)


CSS = """
body { margin: 0; font-family: -apple-system, 'Segoe UI', Roboto, sans-serif; background: #f6f7f9; color: #1d2433; }
.page { max-width: 1280px; margin: 0 auto; padding: 16px 24px; }
header h1 { margin: 0; font-size: 28px; } header p { margin: 4px 0 12px; color: #5a6478; }
.banner { background: #fff3cd; border: 1px solid #e0c060; padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; font-weight: 600; }
.controls { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; background: #fff; padding: 12px; border-radius: 8px; }
.controls label { font-weight: 600; }
.kpis { display: flex; gap: 16px; margin: 16px 0; }
.kpi { flex: 1; background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
.kpi-label { color: #5a6478; font-size: 13px; } .kpi-value { font-size: 26px; font-weight: 700; }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
table.articles { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
table.articles th, table.articles td { border-bottom: 1px solid #e3e6ec; padding: 6px 8px; text-align: left; }
footer { margin: 24px 0; color: #8a93a5; font-size: 12px; }
"""


def serve(url: str, host: str = "127.0.0.1", port: int = 8050, debug: bool = False) -> None:
    """Open `url` and serve the dashboard until interrupted."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("dash.dash").setLevel(logging.WARNING)  # serve() prints the address itself
    db = open_database(url)
    app = create_app(db)
    print(f"Dashboard on http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    app.run(host=host, port=port, debug=debug)
