"""The re-identification attack on the warehouse (issue 12 item 1, DATA_CONTRACT.md §5), played for real.

A demo data set (with its deliberate bad rows) is ingested by the real ingest. The attacker then reads every
column of every Parquet file under warehouse/ — every feed, reference, manifest, decisions — joins the rows of
one person across tables by person_key (and a resident's house by house_id), and tries to complete each
person's id number from what is stored:

- the known digits of every id-like mask (18 characters of digits, X and *), gathered over all of the
  person's rows; a 6-digit text (home_region) fills the region if a mask lacks it, the stored gender the
  parity of the 17th digit;
- for the hidden birth date: every stored date or timestamp of the person (arrival, updates, scans, records,
  the ingest time, the house's survey date), every 8-digit run in any of the person's texts and every
  YYYYMMDD-like integer, each taken as the birth date; and every year-like value (an integer 1900–2100, the
  year of any date) with every month and day;
- the GB 11643 check character to throw out wrong completions, and the bound "born no later than" the
  person's earliest stored event (an arrival, an update, a scan, a record, the ingest of the file).

Each of those guesses is a *hypothesis* with its set of candidate id numbers, counted exactly (not listed: a
minor's mask hides the sequence digits, which leaves thousands). A person is re-identified when a hypothesis
leaves exactly one candidate and it is the raw id number (read from the delivered inbox files, the attacker's
answer key). The test asserts that this happens to nobody, and that for every person the smallest
candidate set that still holds the right id has at least MIN_CANDIDATES members.

Separately: no warehouse value contains a raw id number, name or phone (admin phones of units included).
The quarantine and archive keep raw files by design (DATA_CONTRACT.md §5) and are not in scope here.

The newborn gap (docs/architecture.md): a newborn's own events — a 一家亲 scan, the ingest of the first
snapshot that holds it — bound its birth date to a few days early in the birth year; with the full mask's
sequence digits and check character that pinned it. A minor's mask hides those four characters too: the
test of babies born on 1–5 January, scanned and snapshotted days later, shows they keep thousands of
candidates. (This holds while the warehouse keeps under 18 calendar years of history.)
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wangtai.idnumber import CHECK_CHARS, WEIGHTS
from wangtai.ingest.pii import load_secret, person_keys
from wangtai.paths import DataPaths

# With a birth year and an adult's mask (370211********123X) the month and day stay hidden: of the ~365 dates
# of a year, the check character lets about 1 in 11 through (never fewer than 32, whatever the year and the
# shown digits). A minor's mask (370211************) leaves the dates up to the first stored event times the
# ~500 sequence digits the gender allows.
MIN_CANDIDATES = 20

_MASK = re.compile(r"^[0-9X*]{18}$")
_REGION = re.compile(r"^\d{6}$")
_EIGHT = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_ID = re.compile(r"\d{17}[\dX]")

# Columns whose time is, for the person of that row, an event after birth (the attacker's upper bound).
_AFTER_BIRTH = ("arrival_date", "updated_at", "scanned_at", "received_at", "ingested_at")


# -- the data set ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataPaths, dict[str, set[str]]]:
    """A small demo with bad rows, its raw id numbers by person_key (read from the inbox before ingest),
    then ingested."""
    from wangtai.demo import generate
    from wangtai.ingest import ingest_all

    paths = DataPaths(tmp_path_factory.mktemp("attacked"))
    generate(paths, residents=3_000, seed=12, bad_rows=0.01)
    raw = _raw_values(paths)
    ingest_all(paths)
    return paths, raw


def _inbox_tables(paths: DataPaths) -> list[pd.DataFrame]:
    return [pd.read_parquet(p) for p in sorted(paths.inbox.rglob("*.parquet"))]


def _raw_values(paths: DataPaths) -> dict[str, set[str]]:
    """Every raw id number, name and phone the source systems delivered (inbox and reference)."""
    values: dict[str, set[str]] = {"id_number": set(), "name": set(), "phone": set()}
    for frame in _inbox_tables(paths):
        for column in values:
            if column in frame:
                values[column] |= {str(v) for v in frame[column].dropna()}
    units = pd.read_parquet(paths.reference / "units.parquet")
    values["name"] |= set(units["admin_name"].dropna())
    values["phone"] |= {str(v) for v in units["admin_phone"].dropna()}
    return values


def _raw_ids_by_key(raw: dict[str, set[str]]) -> dict[str, str]:
    """person_key → raw id number, for the valid ids (the answer key; the attacker has no secret)."""
    ids = sorted(v.upper() for v in raw["id_number"] if _ID.fullmatch(v.upper()))
    keys = person_keys(pa.array(ids, pa.string()), load_secret()).to_pylist()
    return dict(zip(keys, ids, strict=True))


def _warehouse_frames(paths: DataPaths) -> dict[str, pd.DataFrame]:
    """Every Parquet file under warehouse/, whole, by its path relative to the warehouse."""
    files = sorted(p for p in paths.warehouse.rglob("*.parquet") if not p.name.startswith("."))
    assert files, "no warehouse files"
    return {p.relative_to(paths.warehouse).as_posix(): pq.read_table(p).to_pandas() for p in files}


# -- the attacker's view of one person ---------------------------------------------------------------------


@dataclass
class Person:
    masks: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    dates: set[date] = field(default_factory=set)  # each a guess at the birth date
    years: set[int] = field(default_factory=set)  # each a guess at the birth year
    genders: set[str] = field(default_factory=set)  # 男 / 女: the parity of the 17th digit
    bound: date | None = None  # born no later than this

    def after_birth(self, day: date) -> None:
        self.bound = day if self.bound is None else min(self.bound, day)


def _as_date(value) -> date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    return None


def _ymd(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _learn(person: Person, column: str, value) -> None:
    """What one stored value tells the attacker about the person of its row."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return
    day = _as_date(value)
    if day is not None:
        person.dates.add(day)
        person.years.add(day.year)
        if column in _AFTER_BIRTH:
            person.after_birth(day)
        return
    if isinstance(value, bool | np.bool_):
        return
    if isinstance(value, int | np.integer):
        number = int(value)
        if 1900 <= number <= 2100:
            person.years.add(number)
        found = _ymd(str(number)) if 19000101 <= number <= 21001231 else None
        if found:
            person.dates.add(found)
        return
    if isinstance(value, str):
        if column == "gender" and value in ("男", "女"):
            person.genders.add(value)
        if _MASK.fullmatch(value):
            person.masks.add(value)
        elif _REGION.fullmatch(value):
            person.regions.add(value)
        for run in _EIGHT.findall(value):
            found = _ymd(run)
            if found:
                person.dates.add(found)


def _learn_row(person: Person, row: dict) -> None:
    for column, value in row.items():
        _learn(person, column, value)


def gather(frames: dict[str, pd.DataFrame]) -> dict[str, Person]:
    """Every person (person_key) with everything stored about them, across all tables."""
    people: dict[str, Person] = defaultdict(Person)
    ingested = {}
    for frame in frames.values():
        if {"batch_id", "ingested_at"} <= set(frame.columns):
            ingested.update(zip(frame["batch_id"], frame["ingested_at"], strict=True))
    houses = {}
    for name, frame in frames.items():
        if name.startswith("houses/"):
            for row in frame.to_dict("records"):
                houses.setdefault(row["house_id"], []).append(row)
    for frame in frames.values():
        if "person_key" not in frame.columns:
            continue
        for row in frame.to_dict("records"):
            person = people[row["person_key"]]
            _learn_row(person, row)
            if row.get("batch_id") in ingested:  # the row existed when its file was ingested
                _learn(person, "ingested_at", ingested[row["batch_id"]])
            for house in houses.get(row.get("house_id"), ()):
                for column, value in house.items():
                    _learn(person, f"house.{column}", value)
    return people


# -- completing an id --------------------------------------------------------------------------------------

_ALL_DAYS = {
    year: np.array(
        [(d.month * 100 + d.day) for d in pd.date_range(f"{year}-01-01", f"{year}-12-31").date], np.int64
    )
    for year in range(1900, 2101)
}
_DIGITS = list("0123456789")
_DATE = range(6, 14)  # the 8 birth-date digits


def _known(person: Person) -> list[list[str]]:
    """Per position, the characters the person's masks agree on (a list of options; ["?"] = unknown)."""
    known = [["?"] for _ in range(18)]
    for mask in person.masks:
        for i, ch in enumerate(mask):
            if ch != "*":
                known[i] = [ch]
    if known[0] == ["?"] and person.regions:
        regions = sorted(person.regions)
        for i in range(6):
            known[i] = sorted({r[i] for r in regions})
    if known[16] == ["?"] and len(person.genders) == 1:  # the 17th digit is odd for men, even for women
        known[16] = [d for d in _DIGITS if int(d) % 2 == (person.genders == {"男"})]
    return known


def _options(known: list[list[str]], i: int) -> list[str]:
    if known[i] != ["?"]:
        return known[i]
    return list(CHECK_CHARS) if i == 17 else _DIGITS


@dataclass
class Candidates:
    """The ids a guess leaves: ``count`` of them, counted exactly (not enumerated: with the sequence digits
    hidden there are thousands); ``holds(id)`` says whether an id is one of them."""

    count: int
    known: list[list[str]]
    birth: np.ndarray  # the birth dates YYYYMMDD the guess allows

    def holds(self, id_number: str) -> bool:
        return all(id_number[i] in _options(self.known, i) for i in range(18) if i not in _DATE) and bool(
            np.isin(int(id_number[6:14]), self.birth)
        )


def _residues(options: list[str], weight: int) -> np.ndarray:
    """How many of the options give each weighted residue mod 11."""
    out = np.zeros(11, np.int64)
    for digit in options:
        out[int(digit) * weight % 11] += 1
    return out


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The residue counts of a sum mod 11, given the counts of its two terms."""
    return np.array([sum(a[r] * b[(s - r) % 11] for r in range(11)) for s in range(11)], np.int64)


def _complete(known: list[list[str]], birth: np.ndarray, bound: date | None) -> Candidates:
    """The ids the known characters allow with each birth date YYYYMMDD in ``birth`` (then filtered by the
    check character and by "born no later than ``bound``"): every choice of the unknown digits whose weighted
    sum gives an allowed check character (GB 11643: the check character is a function of that sum mod 11)."""
    if bound is not None:
        birth = birth[birth <= bound.year * 10_000 + bound.month * 100 + bound.day]
    sums = np.zeros(11, np.int64)
    sums[0] = 1
    for i in (*range(6), 14, 15, 16):
        sums = _convolve(sums, _residues(_options(known, i), int(WEIGHTS[i])))
    dates = np.zeros(11, np.int64)
    date_sums = sum(birth // 10 ** (7 - k) % 10 * int(WEIGHTS[6 + k]) for k in range(8)) % 11
    np.add.at(dates, date_sums, 1)
    sums = _convolve(sums, dates)
    count = int(sum(sums[CHECK_CHARS.index(c)] for c in _options(known, 17)))
    return Candidates(count, known, birth)


def hypotheses(person: Person) -> list[tuple[str, Candidates]]:
    """Every guess at the hidden digits, with the candidate ids it leaves."""
    known = _known(person)
    out = []
    for day in sorted(person.dates):
        birth = np.array([day.year * 10_000 + day.month * 100 + day.day], np.int64)
        out.append((f"date {day}", _complete(known, birth, None)))
    for year in sorted(person.years):
        if year in _ALL_DAYS:
            birth = year * 10_000 + _ALL_DAYS[year]
            out.append((f"year {year}", _complete(known, birth, None)))
            out.append((f"year {year}, born by {person.bound}", _complete(known, birth, person.bound)))
    return out


@dataclass
class Verdict:
    people: int
    rebuilt: list[tuple[str, str]]  # (person_key, hypothesis) that pinned the raw id
    smallest: dict[str, int]  # person_key → smallest candidate set holding the raw id (attacked only)

    def narrowed(self, below: int) -> int:
        """How many people some guess narrows to fewer than ``below`` candidates."""
        return sum(1 for n in self.smallest.values() if n < below)


def attack(frames: dict[str, pd.DataFrame], raw_ids: dict[str, str]) -> Verdict:
    people = gather(frames)
    rebuilt, smallest = [], {}
    for key, person in people.items():
        truth = raw_ids.get(key)
        if truth is None:
            continue
        for label, candidates in hypotheses(person):
            if not candidates.holds(truth):
                continue
            smallest[key] = min(smallest.get(key, 10**18), candidates.count)
            if candidates.count == 1:
                rebuilt.append((key, label))
    return Verdict(len(people), rebuilt, smallest)


# -- the tests -----------------------------------------------------------------------------------------------


def test_no_person_can_be_reidentified_from_the_warehouse(attacked):
    paths, raw = attacked
    raw_ids = _raw_ids_by_key(raw)
    verdict = attack(_warehouse_frames(paths), raw_ids)
    assert verdict.people > 2_000  # the attack saw the people (residents, discovered, joined by key)
    assert set(raw_ids) & set(verdict.smallest), "no hypothesis held any raw id: the attack is broken"
    fewest = min(verdict.smallest.values())
    print(f"\n{verdict.people} people; {len(verdict.rebuilt)} rebuilt; fewest candidates {fewest}")
    rebuilt_people = {key for key, _ in verdict.rebuilt}
    assert not verdict.rebuilt, (
        f"{len(rebuilt_people)} of {verdict.people} id numbers rebuilt, e.g. by {verdict.rebuilt[:3]}"
    )
    assert fewest >= MIN_CANDIDATES


def test_the_attack_finds_a_planted_birth_date(attacked):
    """The attack is not blind: a warehouse that kept one person's birth date beside the mask gives that
    person away (what today's code did for everyone)."""
    paths, raw = attacked
    raw_ids = _raw_ids_by_key(raw)
    frames = _warehouse_frames(paths)
    name = next(n for n in frames if n.startswith("residents/"))
    residents = frames[name].copy()
    key = next(k for k in residents["person_key"] if k in raw_ids)
    born = _ymd(raw_ids[key][6:14])
    residents["planted"] = [born if k == key else None for k in residents["person_key"]]
    verdict = attack({**frames, name: residents}, raw_ids)
    assert {k for k, _ in verdict.rebuilt} == {key}


def test_a_newborns_dates_do_not_give_it_away(tmp_path):
    """Babies born here, whose police record was updated on the birth day, who "arrived" that day, and whose
    vaccination record came in that day: none of those dates may be stored (each one completes the mask)."""
    from datetime import datetime, timedelta

    from tests.test_ingest import NOW, drop, make_id, residents, source_records, write_reference
    from wangtai.ingest import ingest_all

    paths = DataPaths(tmp_path / "data")
    write_reference(paths)
    born = [date(2026, 1, 5), date(2026, 2, 20), date(2025, 12, 30), date(2026, 7, 1)]
    ids = [make_id(i, born=f"{d:%Y%m%d}") for i, d in enumerate(born)]
    people = residents(len(born)).assign(id_number=ids, population_type="流动人口", reason="随迁")
    people["arrival_date"] = born
    people["updated_at"] = [datetime(d.year, d.month, d.day, 16) for d in born]
    records = source_records(len(born)).assign(id_number=ids, source="医院", detail="预防接种建档")
    records["received_at"] = [datetime(d.year, d.month, d.day, 9) + timedelta(hours=3) for d in born]
    drop(paths, "residents", people, "r.parquet")
    drop(paths, "source_records", records, "s.parquet")
    results = ingest_all(paths, now=NOW)
    assert [r.accepted for r in results] == [len(born)] * 2
    raw_ids = _raw_ids_by_key({"id_number": set(ids)})
    verdict = attack(_warehouse_frames(paths), raw_ids)
    assert not verdict.rebuilt, verdict.rebuilt
    assert set(verdict.smallest) == set(raw_ids)  # the birth-year hypothesis holds each of them
    assert min(verdict.smallest.values()) >= MIN_CANDIDATES


def test_a_newborn_seen_early_in_its_birth_year_is_not_narrowed(tmp_path):
    """Babies born in the first days of the year, scanned by 一家亲 a day or two later (one on its birth day),
    in a residents snapshot ingested on 6 January: the scan and the ingest bound the birth date to a few days,
    and the full mask's sequence digits and check character then leave one or two candidates. A minor's mask
    hides those four characters too (docs/architecture.md), so thousands remain."""
    from tests.test_ingest import drop, make_id, registrations, residents, write_reference
    from wangtai.ingest import ingest_all

    paths = DataPaths(tmp_path / "data")
    write_reference(paths)
    born = [date(2026, 1, 3), date(2026, 1, 1), date(2026, 1, 5), date(2026, 1, 2), date(2026, 1, 4)]
    scanned = [datetime(2026, 1, d.day + 2 if d.day < 4 else d.day, 9) for d in born]
    scanned[1] = datetime(2026, 1, 1, 15)  # scanned on its birth day
    ids = [make_id(i, born=f"{d:%Y%m%d}") for i, d in enumerate(born)]
    people = residents(len(born)).assign(id_number=ids, population_type="流动人口", reason="随迁")
    people["arrival_date"] = born
    people["updated_at"] = [datetime(d.year, d.month, d.day, 16) for d in born]
    scans = registrations(len(born)).assign(id_number=ids, scanned_at=scanned)
    drop(paths, "residents", people, "r.parquet")
    drop(paths, "registrations", scans, "s.parquet")
    results = ingest_all(paths, now=datetime(2026, 1, 6, 12))
    assert [r.accepted for r in results] == [len(born)] * 2
    raw_ids = _raw_ids_by_key({"id_number": set(ids)})
    verdict = attack(_warehouse_frames(paths), raw_ids)
    assert set(verdict.smallest) == set(raw_ids)  # every baby was attacked with its bound
    assert not verdict.rebuilt, verdict.rebuilt
    assert min(verdict.smallest.values()) >= MIN_CANDIDATES, sorted(verdict.smallest.values())


def _substrings(value: str, lengths: set[int]) -> set[str]:
    return {value[i : i + n] for n in lengths for i in range(len(value) - n + 1)}


def raw_values_in(frames: dict[str, pd.DataFrame], raw: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """(file, column, kind) for every text column holding a raw id number, name or phone anywhere in it."""
    hits = []
    for kind, values in raw.items():
        values = {v for v in values if len(v) >= 2}
        lengths = {len(v) for v in values}
        for name, frame in frames.items():
            for column in frame.columns:
                texts = frame[column].dropna()
                texts = texts[texts.map(lambda v: isinstance(v, str))].unique()
                if {s for text in texts for s in _substrings(text, lengths)} & values:
                    hits.append((name, column, kind))
    return hits


def test_no_warehouse_value_holds_a_raw_id_name_or_phone(attacked):
    paths, raw = attacked
    frames = _warehouse_frames(paths)
    assert not raw_values_in(frames, raw)
    manifest = pd.concat(f for n, f in frames.items() if n.startswith("manifest/"))
    assert manifest["reason"].notna().any()  # there are reasons to check (the demo's bad rows)


def test_the_raw_value_check_sees_a_planted_value(attacked):
    """A reason quoting a phone, or a name inside an address, is found."""
    paths, raw = attacked
    frames = _warehouse_frames(paths)
    name = next(n for n in frames if n.startswith("manifest/"))
    manifest = frames[name].copy()
    phone, person = sorted(raw["phone"])[0], sorted(v for v in raw["name"] if len(v) == 3)[0]
    manifest.loc[manifest.index[0], "reason"] = f"列 phone 无法转换，例如 “{phone}”"
    manifest.loc[manifest.index[-1], "file_name"] = f"{person}的登记表.parquet"
    hits = raw_values_in({**frames, name: manifest}, raw)
    assert (name, "reason", "phone") in hits and (name, "file_name", "name") in hits
