"""The weekly digest's Jinja2 templates: HTML (rendered with autoescaping) and plain text.

`radpulse.digest.render` fills them with a `Digest` (`d`) and the unsubscribe URL. A URL from
the database becomes a link (or, in the text part, a line a mail client may turn into one) only
through the `http_url` filter (`radpulse.safeurl.safe_http_url`): `javascript:`, `data:` and
every other scheme are left out.
"""

HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ d.title }}: week of {{ d.start }}</title></head>
<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; max-width: 680px; margin: auto; color: #1d2733">
<h1 style="font-size: 22px">{{ d.title }}</h1>
<p style="color: #5b6875">Week of {{ d.start }} to {{ d.last_day }}{% if d.topic_filter %} &middot; your subspecialties: {{ d.topic_filter | join(", ") }}{% endif %}</p>
{% if d.synthetic %}<p style="background: #fff3cd; padding: 6px">SYNTHETIC DEMO DATA: every post, author and paper here is invented.</p>{% endif %}
<h2 style="font-size: 18px">The week in numbers</h2>
<p><strong>{{ "{:,}".format(d.posts) }}</strong> posts ({{ d.change }} on the week before) from <strong>{{ "{:,}".format(d.authors) }}</strong> accounts{% if d.by_platform %}: {% for name, n in d.by_platform %}{{ name }} {{ "{:,}".format(n) }}{% if not loop.last %}, {% endif %}{% endfor %}{% endif %}.</p>
{% if d.sentiment %}<p>Sentiment: {{ d.sentiment.positive }}% positive, {{ d.sentiment.neutral }}% neutral, {{ d.sentiment.negative }}% negative.</p>{% endif %}
<h2 style="font-size: 18px">Most discussed papers</h2>
{% if d.articles %}<ol>{% for a in d.articles %}
<li>{% if a.url | http_url %}<a href="{{ a.url | http_url }}">{{ a.title }}</a>{% else %}{{ a.title }}{% endif %}{% if a.journal %} <em>{{ a.journal }}</em>{% endif %}<br>
<small>{{ a.mentions }} mention{{ "s" if a.mentions != 1 }} by {{ a.authors }} account{{ "s" if a.authors != 1 }}, attention {{ a.score }}</small></li>{% endfor %}
</ol>{% else %}<p>No paper was cited this week.</p>{% endif %}
<h2 style="font-size: 18px">Posts that drew the most engagement</h2>
{% if d.top_posts %}{% for p in d.top_posts %}
<p style="border-left: 3px solid #c9d3dd; padding-left: 8px">{{ p.text }}<br>
<small>{{ p.platform }}, {{ p.date }}: {{ p.likes }} likes, {{ p.reposts }} reposts, {{ p.replies }} replies{% if p.url | http_url %} &middot; <a href="{{ p.url | http_url }}">open</a>{% endif %}</small></p>{% endfor %}
{% else %}<p>No posts this week.</p>{% endif %}
{% if d.emerging %}<h2 style="font-size: 18px">Emerging terms</h2>
<p>{% for t in d.emerging %}{{ t.term }} ({{ t.authors }} accounts{% if t.new %}, new{% endif %}){% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
{% if d.topics %}<h2 style="font-size: 18px">Subspecialties</h2>
<p>{% for name, n in d.topics %}{{ name }} ({{ "{:,}".format(n) }}){% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
<hr><p style="color: #5b6875; font-size: 12px">Posts held for review are left out. <a href="{{ d.base_url }}">Open the dashboard</a>{% if unsubscribe %} &middot; <a href="{{ unsubscribe }}">Unsubscribe</a>{% endif %}</p>
</body></html>
"""

TEXT = """{{ d.title }}
Week of {{ d.start }} to {{ d.last_day }}{% if d.topic_filter %} (your subspecialties: {{ d.topic_filter | join(", ") }}){% endif %}
{% if d.synthetic %}
SYNTHETIC DEMO DATA: every post, author and paper here is invented.
{% endif %}
THE WEEK IN NUMBERS
{{ "{:,}".format(d.posts) }} posts ({{ d.change }} on the week before) from {{ "{:,}".format(d.authors) }} accounts{% if d.by_platform %}: {% for name, n in d.by_platform %}{{ name }} {{ "{:,}".format(n) }}{% if not loop.last %}, {% endif %}{% endfor %}{% endif %}.
{% if d.sentiment %}Sentiment: {{ d.sentiment.positive }}% positive, {{ d.sentiment.neutral }}% neutral, {{ d.sentiment.negative }}% negative.
{% endif %}
MOST DISCUSSED PAPERS
{% for a in d.articles %}{{ loop.index }}. {{ a.title }}{% if a.journal %} ({{ a.journal }}){% endif %}
   {{ a.mentions }} mention{{ "s" if a.mentions != 1 }} by {{ a.authors }} account{{ "s" if a.authors != 1 }}, attention {{ a.score }}{% if a.url | http_url %}
   {{ a.url | http_url }}{% endif %}
{% else %}No paper was cited this week.
{% endfor %}
POSTS THAT DREW THE MOST ENGAGEMENT
{% for p in d.top_posts %}- {{ p.text }}
  {{ p.platform }}, {{ p.date }}: {{ p.likes }} likes, {{ p.reposts }} reposts, {{ p.replies }} replies{% if p.url | http_url %}
  {{ p.url | http_url }}{% endif %}
{% else %}No posts this week.
{% endfor %}{% if d.emerging %}
EMERGING TERMS
{% for t in d.emerging %}{{ t.term }} ({{ t.authors }} accounts{% if t.new %}, new{% endif %}){% if not loop.last %}, {% endif %}{% endfor %}
{% endif %}{% if d.topics %}
SUBSPECIALTIES
{% for name, n in d.topics %}{{ name }} ({{ n }}){% if not loop.last %}, {% endif %}{% endfor %}
{% endif %}
--
Posts held for review are left out. Dashboard: {{ d.base_url }}{% if unsubscribe %}
Unsubscribe: {{ unsubscribe }}{% endif %}
"""
