"""Which database engine this test run uses, and where the PostgreSQL server is."""

import os

IN_CI = os.environ.get("CI", "").lower() == "true"
ENGINE = os.environ.get("VH_TEST_DB", "sqlite")
ADMIN_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
