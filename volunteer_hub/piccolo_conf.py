"""Piccolo's configuration (named by PICCOLO_CONF=volunteer_hub.piccolo_conf).

The engine follows DATABASE_URL: SQLite (WAL, a generous busy timeout) by default, PostgreSQL when the
URL says so.
"""

from piccolo.conf.apps import AppRegistry

from volunteer_hub.db import make_engine
from volunteer_hub.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["volunteer_hub.piccolo_app"])
