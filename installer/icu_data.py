"""A trimmed ICU data library for the kiosk bundle: 32 MB of ICU's data cut to what Qt reads.

PySide6's Qt links ICU 73, and `libicudata.so.73` is nothing but ICU's data package (the file
`icudt73l.dat`) as one read-only array, `icudt73_dat`, that `libicuuc.so.73` links. Qt Core
is the only Qt library that calls ICU, and only for:

- `ucnv_*`: `QStringConverter` for encodings Qt does not implement itself (Qt has UTF-8,
  UTF-16, UTF-32, Latin-1 and the system codec built in);
- `ucol_*`: `QCollator`, the locale's sort order;
- `ucal_open`, `ucal_getCanonicalTimeZoneID`, `ucal_getTimeZoneDisplayName`: `QTimeZone`;
- `u_strToUpper`, `u_strToLower`: `QLocale::toUpper`/`toLower` (Turkish dotted i); their case
  data is built into `libicuuc`, not read from this package.

Everything else in the package serves ICU APIs Qt never calls: break-iterator rules and
dictionaries (Qt has its own), transliterators, spelled-out numbers (rbnf), the display names of
units, currencies, languages and regions, the formats in the locale `.res` files (QLocale
carries its own CLDR data), the table-driven converters (`*.cnv`: legacy Asian, EBCDIC, Mac and
Windows code pages) and StringPrep profiles. `keep` says item by item what stays and why.

`build` takes the wheel's library, extracts the package (the library's `.rodata` section),
removes what is not kept with `icupkg` (which refuses to drop an item a kept one depends on),
and links the rest into a new `libicudata.so.73` with `genccode` and `ld`: the same soname
and the same exported symbol, so `libicuuc.so.73` loads it unchanged. Tools: `icupkg` and
`genccode` (Debian `icu-devtools`; any ICU version reads a version-73 package), `objcopy`,
`readelf` and `ld` (Debian `binutils`).

What a trimmed library cannot do: `QStringDecoder("Shift_JIS")`, `"windows-1250"` and other
table-driven encodings are invalid (ICU's algorithmic ones, such as UTF-7, stay);
`QCollator` sorts by the root order outside `COLLATION_LANGUAGES`; `QTimeZone`'s display
names fall back to English outside `LANGUAGES`.

Used by installer/kiosk.spec; tested by tests/installer/test_icu_data.py, which runs Qt against
both libraries. `python installer/icu_data.py LIBRARY FOLDER` builds one by hand.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

SONAME = "libicudata.so.73"
# genccode names the array ENTRY_POINT + "_dat": the symbol libicuuc.so.73 links (unversioned).
ENTRY_POINT = "icudt73"
SYMBOL = f"{ENTRY_POINT}_dat"
# The package's name: ICU 73, little-endian ASCII ("l"). ICU finds items as icudt73l/<item>.
PACKAGE = "icudt73l"

# The languages the kiosk's programmes are published in (docs/programmes.md): their sort order
# and their time-zone names stay.
LANGUAGES = frozenset({"en", "pl"})

# Languages whose sort order stays besides LANGUAGES: the programmes' likely next
# translations, Welsh and the ten most spoken languages in England and Wales after English
# (2021 census: Polish, Romanian, Panjabi, Urdu, Portuguese, Spanish, Arabic, Bengali, Gujarati,
# Italian). A tailoring is 7 to 34 kB; all 100 languages' would be 1.2 MB more, Chinese,
# Japanese and Korean's 1.2 MB again. Any other language sorts by the root order, which is
# already right for most languages written in Latin, Cyrillic or Greek letters without
# letters of their own.
COLLATION_LANGUAGES = LANGUAGES | {"cy", "ro", "pa", "ur", "pt", "es", "ar", "bn", "gu", "it"}

# Items at the top of the package that stay, and why.
KEPT_ITEMS: dict[str, str] = {
    "res_index.res": "the locales installed; ICU's fallback from one locale to another",
    "root.res": "the root locale every lookup falls back to (ucal_open's calendar data)",
    "pool.res": "the keys and strings root.res shares (icupkg checks the dependency)",
    "zoneinfo64.res": "time-zone rules: ucal_open, ucal_getCanonicalTimeZoneID",
    "timezoneTypes.res": "time-zone aliases and canonical IDs",
    "metaZones.res": "zone to metazone mapping: ucal_getTimeZoneDisplayName",
    "windowsZones.res": "Windows to IANA zone IDs",
    "supplementalData.res": "calendar preferences and week data: ucal_open",
    "likelySubtags.res": "likely subtags ('pl' is pl_Latn_PL): locale fallback",
    "keyTypeData.res": "locale keywords (@collation=...): ucol_open",
    "metadata.res": "deprecated and aliased locale IDs: canonicalisation",
    "numberingSystems.res": "digits of GMT offsets in time-zone names",
    "icuver.res": "ICU and data versions",
    "icustd.res": "the standard conversion data stamp",
    "cnvalias.icu": "converter names and aliases: ucnv_open, ucnv_getStandardName",
    "nfkc.nrm": "NFKC normalisation (NFC and NFD are built into libicuuc)",
    "nfkc_cf.nrm": "NFKC case folding",
    "uts46.nrm": "UTS #46 mapping",
    "uemoji.icu": "emoji properties (the other Unicode properties are built in)",
    "ulayout.icu": "Indic and vertical layout properties",
}

# The collation tree: the root order (UCA), its data, the index of tailorings.
COLLATION_BASE = frozenset({"res_index.res", "root.res", "ucadata.icu"})
# The time-zone names tree: its index, root names, and the strings the locales share.
ZONE_BASE = frozenset({"res_index.res", "root.res", "pool.res"})


def language(item_name: str) -> str:
    """The language of a locale item: `de` for `de__PHONEBOOK.res`, `en` for `en_GB.res`."""
    return item_name.split(".", 1)[0].split("_", 1)[0]


def keep(item: str, languages: Iterable[str] = LANGUAGES) -> bool:
    """Whether the trimmed package keeps `item` (as `icupkg -l` names it: `coll/pl.res`).

    Kept: `KEPT_ITEMS`; in `coll/` the root collation and the tailorings of `languages` and
    `COLLATION_LANGUAGES`; in `zone/` the root and the time-zone names of `languages`.
    Not kept: every other tree (brkitr, translit, rbnf, curr, lang, region, unit), the locale
    `.res` files at the top, table converters (`*.cnv`), StringPrep profiles (`*.spp`),
    spoof-checking data (`confusables.cfu`) and Unicode character names (`unames.icu`).
    """
    path = PurePosixPath(item)
    tree, name = (path.parts[0] if len(path.parts) > 1 else ""), path.name
    if tree == "":
        return name in KEPT_ITEMS
    wanted = set(languages)
    if tree == "coll":
        return name in COLLATION_BASE or language(name) in wanted | COLLATION_LANGUAGES
    if tree == "zone":
        return name in ZONE_BASE or language(name) in wanted
    return False


def run(*command: str | Path) -> str:
    """Run a tool; its standard output, or an error carrying what it said."""
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command))} failed ({done.returncode}): "
            f"{(done.stderr or done.stdout).strip()}"
        )
    return done.stdout


def data_symbol(library: Path) -> tuple[int, int]:
    """Address and size of the exported `icudt73_dat` array in `library`."""
    symbols = run("readelf", "--dyn-syms", "--wide", library)
    for row in symbols.splitlines():
        fields = row.split()
        if len(fields) == 8 and fields[7] == SYMBOL and fields[4:6] == ["GLOBAL", "DEFAULT"]:
            return int(fields[1], 16), int(fields[2], 0)
    raise RuntimeError(f"{library} exports no {SYMBOL}")


def rodata(library: Path) -> tuple[int, int]:
    """Address and size of the `.rodata` section of `library`."""
    sections = run("readelf", "--section-headers", "--wide", library)
    match = re.search(r"\]\s+\.rodata\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s", sections)
    if match is None:
        raise RuntimeError(f"{library} has no .rodata section")
    return int(match.group(1), 16), int(match.group(2), 16)


def extract_package(library: Path, dat: Path) -> None:
    """Write the ICU data package that `library` holds to `dat`.

    The array is the whole `.rodata` section of the library (checked: it starts where the
    section starts and is as long), so `objcopy` gives a valid `.dat` file.
    """
    if data_symbol(library) != rodata(library):
        raise RuntimeError(f"{SYMBOL} is not the whole .rodata section of {library}")
    run("objcopy", "--output-target=binary", "--only-section=.rodata", library, dat)


def items(dat: Path) -> list[str]:
    """The items of an ICU data package, as `icupkg -l` names them."""
    return run("icupkg", "-l", dat).split()


def link_library(dat: Path, like: Path, work: Path, out: Path) -> None:
    """Link the package `dat` into a shared library exporting `icudt73_dat`, soname
    `libicudata.so.73`, for the same machine as the library `like`."""
    run("genccode", "--quiet", "--object", "--match-arch", like, "--entrypoint", ENTRY_POINT,
        "--destdir", work, dat)  # fmt: skip
    (obj,) = work.glob("*.o")
    # -s: no .symtab (the exported symbol is in .dynsym); genccode's object has no
    # .note.GNU-stack section, so say the stack is not executable.
    run("ld", "-shared", "-s", "-z", "noexecstack", "-soname", SONAME, "-o", out, obj)


def build(
    source: Path, folder: Path, languages: Iterable[str] = LANGUAGES
) -> tuple[Path, list[str]]:
    """Write the trimmed `folder/libicudata.so.73` from the wheel's library `source`.

    Returns the library's path and the items kept.
    """
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / SONAME
    kept_languages = set(languages)
    with tempfile.TemporaryDirectory(prefix="icu-data-") as tmp:
        work = Path(tmp)
        # Both packages carry the package name: icupkg checks it against the file name.
        (work / "in").mkdir()
        (work / "out").mkdir()
        full, trimmed = work / "in" / f"{PACKAGE}.dat", work / "out" / f"{PACKAGE}.dat"
        extract_package(source, full)
        everything = items(full)
        dropped = [i for i in everything if not keep(i, kept_languages)]
        kept = [i for i in everything if keep(i, kept_languages)]
        missing = {i for i in KEPT_ITEMS if i not in everything}
        if missing:
            raise RuntimeError(f"{source} has no {', '.join(sorted(missing))}: another ICU?")
        removal = work / "remove.txt"
        removal.write_text("".join(f"{i}\n" for i in dropped), encoding="utf-8")
        # Without --ignore-deps: icupkg refuses to drop an item a kept one depends on.
        run("icupkg", "--remove", removal, full, trimmed)
        (work / "obj").mkdir()
        link_library(trimmed, source, work / "obj", out)
        if data_symbol(out)[1] != trimmed.stat().st_size:
            raise RuntimeError(f"{out}: {SYMBOL} is not the trimmed package")
    return out, kept


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: python installer/icu_data.py LIBICUDATA FOLDER\n")
        return 2
    source, folder = Path(argv[0]), Path(argv[1])
    out, kept = build(source, folder)
    mb = 1_000_000
    sys.stdout.write(
        f"{out}: {out.stat().st_size / mb:.1f} MB (from {source.stat().st_size / mb:.1f} MB), "
        f"{len(kept)} items kept\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
