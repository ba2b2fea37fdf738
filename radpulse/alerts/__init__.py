"""Alerts: to operators when a job keeps failing, to subscribers when a subject spikes.

    operators.py  one email when a job reaches [alerts] failures_before_alert, one when it recovers
    spikes.py     robust z-scores of daily volumes (median and MAD over the baseline days)
    delivery.py   spike alerts to subscribers who opted in, claimed like digests (once a day per subject)
"""
