"""The interactive dashboard: Dash Pages (one module per page under dashboards/pages/), one URL per view.

Every page's layout is a function of its URL (`layout(**query)`): the global filters live in the
query string (dashboards/state.py), so a view is shared by copying the link and survives a
reload. The shell (this module) holds the navigation, the `dcc.Location` the filters write to,
and two callbacks: filters -> URL, and a click on a chart point -> the Posts page with the
filters carried over. Data come from dashboards/data.py, figures from dashboards/figures/.

All text shown comes from the database and is passed to Dash components as plain strings,
which React renders as text (never as HTML), so posted content cannot inject markup.
"""

from __future__ import annotations

import importlib
import pkgutil
import secrets
from dataclasses import dataclass
from typing import Any

import dash
import flask
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from radpulse.dashboards import auth, data, registry
from radpulse.dashboards.components import platform_value, table
from radpulse.dashboards.state import as_dict, global_params, parse_query, to_query, with_params
from radpulse.db.engine import Database, open_database
from radpulse.db.models import Meta

TITLE = "radpulse: radiology conversation"
CONFIG_KEY = "radpulse"


@dataclass
class Context:
    """What every page needs, fixed when the app is created."""

    db: Database
    options: dict[str, tuple[str, ...]]
    bounds: Any
    demo: bool
    credentials: tuple[str, str] | None


def context() -> Context:
    """The running app's context (pages and callbacks run inside a Flask request)."""
    return flask.current_app.config[CONFIG_KEY]


def view(query: dict[str, Any] | str | None):  # type: ignore[no-untyped-def]
    """The view a page's URL asks for (see state.parse_query)."""
    c = context()
    return parse_query(query, data_end=c.bounds[1] if c.bounds else None, known=c.options)


def articles_table(df: Any) -> html.Table | html.P:
    """The most-discussed papers as a plain table (cell text is rendered as text, never HTML)."""
    if df.empty:
        return html.P("No paper was cited by posts in this selection.")
    return table(df, {c: c for c in ["title", "journal", "doi", "score", "mentions", "authors"] if c in df.columns})


def _load_pages() -> None:
    import radpulse.dashboards.pages as pages

    for info in pkgutil.iter_modules(pages.__path__):
        module = importlib.import_module(f"{pages.__name__}.{info.name}")
        entry = dash.page_registry.get(module.__name__)
        if entry is not None and not entry.get("supplied_layout"):  # what Dash does for a pages folder
            entry["layout"] = module.layout


def create_app(db: Database, *, credentials: tuple[str, str] | None = None) -> Dash:
    """A Dash app bound to `db`; `credentials` (user, password) enable the Review page."""
    app = Dash(__name__, title=TITLE, update_title=None, use_pages=True, pages_folder="",
               suppress_callback_exceptions=True)
    _load_pages()
    with db.engine.connect() as conn:
        demo = conn.execute(select(Meta.value).where(Meta.key == "demo")).scalar() is not None
    app.server.config[CONFIG_KEY] = Context(db, data.options(db), data.date_bounds(db), demo, credentials)
    if db.dialect == "sqlite":  # the influence ranking reads the edges through ADBC in a helper process (start it now)
        from radpulse.db.arrow_read import warm_helper

        warm_helper()
    app.server.secret_key = secrets.token_bytes(32)
    banner = (html.Div("SYNTHETIC DEMO DATA: every post, author and paper here is invented.", id="synthetic-banner",
                       className="banner") if demo else None)
    app.layout = html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        html.Header([html.Div([html.Span("radpulse", className="brand"),
                               html.Span("What radiology is talking about, who is talking, and which papers they discuss.",
                                         className="tagline")]),
                     html.Nav(id="nav", className="nav")]),
        banner,
        dash.page_container,
        html.Footer("radpulse · data from X, Reddit, Mastodon, Bluesky, journal feeds and PubMed · "
                    "posts held for privacy review are never shown"),
    ], className="page")

    @app.callback(Output("nav", "children"), Input("url", "pathname"), Input("url", "search"))
    def navigation(pathname, search):  # type: ignore[no-untyped-def]
        carried = with_params(global_params(as_dict(search if isinstance(search, str) else "")))
        links = []
        for page in dash.page_registry.values():
            if page.get("nav") is False:
                continue
            active = " active" if pathname == page["path"] else ""
            if page.get("server_auth"):  # a full page load, so the server can ask for credentials
                links.append(html.A(page["name"], href=page["path"], className="nav-link" + active))
            else:
                links.append(dcc.Link(page["name"], href=page["path"] + carried, className="nav-link" + active))
        return links

    @app.callback(
        Output("url", "search"), Output("f-message", "children"),
        Input("f-dates", "start_date"), Input("f-dates", "end_date"), Input("f-platform", "value"),
        Input("f-source", "value"), Input("f-subspecialty", "value"), Input("f-theme", "value"),
        Input("f-language", "value"), Input("f-author_type", "value"),
        State("url", "search"), prevent_initial_call=True)
    def filters_to_url(start, end, platforms, sources, subs, themes, languages, author_types, search):  # type: ignore[no-untyped-def]
        params = as_dict(search if isinstance(search, str) else "")
        start, end = str(start or "")[:10], str(end or "")[:10]
        if start and end and start > end:
            return dash.no_update, f"The start {start} is after the end {end}: the view was not changed."
        every = list(context().options.get("platform", ()))
        chosen = platform_value(platforms)
        lists = {"platform": None if isinstance(platforms, list) and sorted(platforms) == sorted(every) else chosen}
        for key, value in (("source", sources), ("subspecialty", subs), ("theme", themes), ("language", languages),
                           ("author_type", author_types)):
            lists[key] = ",".join(v for v in value if isinstance(v, str)) if isinstance(value, list) else None
        params.update({"from": start or None, "to": end or None, **lists})
        params.pop("page", None)
        query = to_query({k: v for k, v in params.items() if v})
        new = f"?{query}" if query else ""
        if new == (search or ""):
            raise PreventUpdate
        return new, ""

    @app.callback(Output("url", "href"), Input({"type": "drill", "name": ALL}, "clickData"),
                  State("url", "search"), prevent_initial_call=True)
    def drill_down(clicks, search):  # type: ignore[no-untyped-def]
        """A click on a bar or point opens the posts behind it, the page's filters carried over."""
        if not ctx.triggered or not ctx.triggered[0].get("value"):
            raise PreventUpdate
        point = (ctx.triggered[0]["value"].get("points") or [{}])[0]
        custom = point.get("customdata")
        fragment = custom[0] if isinstance(custom, list) and custom else custom
        if not isinstance(fragment, str) or not fragment:
            raise PreventUpdate
        params = as_dict(search if isinstance(search, str) else "")
        params.update(as_dict(fragment))
        params.pop("page", None)
        return "/posts" + with_params(params)

    registry.attach(app)
    app.index_string = app.index_string.replace("</head>", f"<style>{CSS}</style></head>")
    auth.protect(app)
    _unsubscribe_route(app, db)
    return app


def _unsubscribe_route(app: Dash, db: Database) -> None:
    """`/unsubscribe/<token>`: GET shows a confirmation form, POST (the form, or RFC 8058 one-click) unsubscribes."""

    @app.server.route("/unsubscribe/<token>", methods=["GET", "POST"])
    def unsubscribe_page(token: str) -> flask.Response:
        from radpulse.digest.unsubscribe_page import HEADERS, unsubscribe_response

        status, page = unsubscribe_response(db, token, flask.request.method)
        return flask.Response(page, status=status, mimetype="text/html", headers=HEADERS)


CSS = """
body { margin: 0; font-family: -apple-system, 'Segoe UI', Roboto, sans-serif; background: #f6f7f9; color: #1d2433; }
.page { max-width: 1280px; margin: 0 auto; padding: 12px 24px; }
header { display: flex; justify-content: space-between; align-items: center; flex-wrap: wrap; gap: 8px; margin-bottom: 8px; }
.brand { font-size: 26px; font-weight: 700; margin-right: 12px; } .tagline { color: #5a6478; font-size: 14px; }
.nav { display: flex; gap: 4px; flex-wrap: wrap; }
.nav-link { padding: 6px 10px; border-radius: 6px; color: #1d2433; text-decoration: none; font-weight: 600; font-size: 14px; }
.nav-link:hover { background: #e3e8f0; } .nav-link.active { background: #0072B2; color: #fff; }
.banner { background: #fff3cd; border: 1px solid #e0c060; padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; font-weight: 600; }
.controls { display: flex; gap: 12px; align-items: flex-end; flex-wrap: wrap; background: #fff; padding: 10px 12px;
            border-radius: 8px; box-shadow: 0 1px 2px rgba(0,0,0,.06); margin-bottom: 12px; }
.filter { display: flex; flex-direction: column; gap: 4px; } .filter label { font-weight: 600; font-size: 13px; }
.filter.hidden { display: none; } .dropdown { min-width: 160px; font-size: 13px; }
.filter-message { color: #b00020; font-weight: 600; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; margin: 12px 0; }
.kpi { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
.kpi-label { color: #5a6478; font-size: 13px; } .kpi-value { font-size: 26px; font-weight: 700; }
.kpi-change { color: #5a6478; font-size: 12px; }
.card { background: #fff; border-radius: 8px; padding: 12px 16px; margin: 12px 0; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
.card h2 { font-size: 18px; margin: 4px 0 8px; }
.row { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px; }
.empty { background: #fff; border: 1px dashed #b8c0cc; border-radius: 8px; padding: 12px 16px; margin: 12px 0; color: #3a4456; }
.problems { border-color: #d55e00; }
table.data { border-collapse: collapse; width: 100%; font-size: 13px; }
table.data th, table.data td { border-bottom: 1px solid #e3e6ec; padding: 6px 8px; text-align: left; vertical-align: top; }
.posts { display: flex; flex-direction: column; gap: 8px; }
.post { background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; padding: 8px 12px; }
.post-meta { display: flex; gap: 10px; font-size: 12px; color: #5a6478; align-items: center; }
.post-text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0; }
.pill { border-radius: 10px; padding: 1px 8px; background: #e3e8f0; color: #1d2433; font-weight: 600; }
.pager { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
.chips { display: flex; gap: 8px; flex-wrap: wrap; margin: 4px 0 8px; }
.chip { background: #e3e8f0; border-radius: 12px; padding: 2px 10px; font-size: 13px; }
footer { margin: 24px 0; color: #6a7385; font-size: 12px; }
"""


def serve(url: str, host: str = "127.0.0.1", port: int = 8050, debug: bool = False, *,
          workers: int = 0, credentials: tuple[str, str] | None = None) -> None:
    """Open `url` and serve the dashboard until interrupted: waitress with `workers` threads when
    asked (a production WSGI server), else the Dash development server."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("dash.dash").setLevel(logging.WARNING)  # serve() prints the address itself
    db = open_database(url)
    app = create_app(db, credentials=credentials)
    if workers:
        from waitress import serve as waitress_serve

        print(f"Dashboard on http://{host}:{port}/  (waitress, {workers} threads; Ctrl+C to stop)", flush=True)
        waitress_serve(app.server, host=host, port=port, threads=workers, ident="radpulse")
        return
    print(f"Dashboard on http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    app.run(host=host, port=port, debug=debug)
