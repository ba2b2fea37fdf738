"""Journal feeds (RSS 0.9x/1.0/2.0 and Atom): table-of-contents items as ArticleRecords.

The collector lives in `collector.py` and is imported on first use (`get_collector`, or a name
looked up here), so that reading the config, the CLI and the exports never load the client
library; `source.py` declares the platform.
"""

from radpulse.collectors.registry import collector_attributes

__getattr__ = collector_attributes(__name__)
