"""What Qt does with ICU, run in a process of its own: `python -m tests.installer.icu_probe`.

tests/installer/test_icu_data.py runs it with LD_LIBRARY_PATH on a folder holding one
`libicudata.so.73` (the wheel's, or installer/icu_data.py's trimmed one) and reads the JSON it
prints: which ICU data library the process mapped, then what QCollator, QLocale's case
mapping, QTimeZone's names and QStringDecoder gave, and whether a window drew its text.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QCollator,
    QLocale,
    QStringConverter,
    QStringDecoder,
    QTextStream,
    QTimeZone,
)
from PySide6.QtWidgets import QApplication, QLabel

WORDS = ["b", "ą", "z", "ąa", "a", "ab"]
TEXT = "Zażółć gęślą jaźń"
ZONE = b"Europe/London"


def mapped_icu_data() -> list[str]:
    """The ICU data libraries this process has mapped, by real path."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        rows = [row.split(maxsplit=5) for row in maps]
    return sorted({row[5].strip() for row in rows if len(row) == 6 and "libicudata" in row[5]})


def collated(language: str) -> list[str]:
    collator = QCollator(QLocale(language))
    return sorted(WORDS, key=functools.cmp_to_key(collator.compare))


def zone_name(language: str, kind: QTimeZone.TimeType) -> str:
    return QTimeZone(ZONE).displayName(kind, QTimeZone.NameType.LongName, QLocale(language))


def decoded_utf16() -> str:
    """TEXT encoded as UTF-16 (with its byte-order mark), read back through Qt's decoder."""
    data = QByteArray(TEXT.encode("utf-16"))
    stream = QTextStream(data)
    stream.setEncoding(QStringConverter.Encoding.Utf16)
    return stream.readAll()


def text_drawn(app: QApplication) -> int:
    """How many colours a window showing TEXT has: one if nothing was drawn."""
    label = QLabel(TEXT)
    label.resize(320, 60)
    label.show()
    app.processEvents()
    image = label.grab().toImage()
    return len(
        {image.pixel(x, y) for x in range(0, image.width(), 2) for y in range(image.height())}
    )


def main() -> int:
    app = QApplication([])
    standard, daylight = QTimeZone.TimeType.StandardTime, QTimeZone.TimeType.DaylightTime
    found: dict[str, Any] = {
        "sorted_en": collated("en"),
        "sorted_pl": collated("pl"),
        "upper_tr": QLocale("tr").toUpper("i"),
        "lower_tr": QLocale("tr").toLower("I"),
        "upper_en": QLocale("en").toUpper("i"),
        "zone_en_standard": zone_name("en", standard),
        "zone_en_daylight": zone_name("en", daylight),
        "zone_en_gb_daylight": zone_name("en_GB", daylight),
        "zone_pl_standard": zone_name("pl", standard),
        "utf16": decoded_utf16(),
        "utf16_decoder": QStringDecoder(QStringConverter.Encoding.Utf16).isValid(),
        # Through ICU: names Qt does not implement itself go to ucnv_open.
        "icu_decoders": {
            name: QStringDecoder(name).isValid() for name in ("UTF-7", "Shift_JIS", "KOI8-R")
        },
        "colours": text_drawn(app),
        # Last: by now every part of ICU used above is loaded.
        "icu_data": mapped_icu_data(),
    }
    json.dump(found, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
