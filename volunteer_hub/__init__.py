"""Volunteer Hub: volunteers, schools, Friday activities, shifts and the incentive scheme."""

import os

# Piccolo finds its configuration through this variable; set it before any table is used.
os.environ.setdefault("PICCOLO_CONF", "volunteer_hub.piccolo_conf")
