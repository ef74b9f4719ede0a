"""Every message in the code and templates has a Chinese translation with the same placeholders."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from volunteer_hub.i18n import LOCALE_DIR
from volunteer_hub.settings import ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy": None}


def extracted_messages() -> set[str]:
    messages = set()
    method_map = [("volunteer_hub/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map=method_map, options_map=options, keywords=KEYWORDS
    ):
        messages.update([message] if isinstance(message, str) else [m for m in message if m])
    return messages


def test_every_message_is_translated_to_chinese():
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = {m.id: m.string for m in read_po(handle) if m.id}
    messages = extracted_messages()
    assert len(messages) > 100
    missing = sorted(m for m in messages if not catalogue.get(m))
    assert missing == [], f"add these to messages.po: {missing}"
    for message in messages:
        placeholders = sorted(re.findall(r"%\(\w+\)s", message))
        assert sorted(re.findall(r"%\(\w+\)s", catalogue[message])) == placeholders, message
