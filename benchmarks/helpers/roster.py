"""A synthetic roster CSV in the format people upload (Chinese headers, UTF-8 with BOM).

Deterministic for (rows, seed, unit codes); cached under benchmarks/data/ because writing a
million rows takes a while and the file is the same every time.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
from pathlib import Path

from unionaid.core.synthetic import SyntheticPeople

HEADER = ["姓名", "身份证号", "手机号", "单位编码", "用工形式", "会籍状态", "入会日期", "银行账号"]
EMPLOYMENT = (("合同制职工", 80), ("劳务派遣", 9), ("新就业形态劳动者", 4), ("非全日制", 3),
              ("退休返聘", 4))
STATUS = (("在籍会员", 95), ("非会员", 3), ("已退休", 2))


def roster_path(data_dir: Path, rows: int, seed: int, unit_codes: list[str]) -> Path:
    digest = hashlib.sha256("\n".join(unit_codes).encode()).hexdigest()[:8]
    return data_dir / f"roster-{rows}-{seed}-{digest}.csv"


def _table(weighted) -> list[str]:
    return [value for value, weight in weighted for _ in range(weight)]


def write_roster(path: Path, *, rows: int, seed: int, unit_codes: list[str]) -> Path:
    """Write ``rows`` unique people spread over ``unit_codes`` (unless the file exists)."""
    if path.exists():
        return path
    people = SyntheticPeople(seed)
    rng = random.Random(seed)
    employment, status = _table(EMPLOYMENT), _table(STATUS)
    weights = [0.5 + rng.random() for _ in unit_codes]
    seen: set[str] = set()
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        written = 0
        while written < rows:
            person = people.person()
            if person["id_number"] in seen:
                continue
            seen.add(person["id_number"])
            birth: dt.date = person["birth_date"]
            joined = dt.date(min(birth.year + rng.randint(19, 24), 2025), rng.randint(1, 12), 1)
            writer.writerow([
                person["name"],
                person["id_number"],
                person["phone"] if rng.random() < 0.95 else "",
                rng.choices(unit_codes, weights)[0],
                employment[int(rng.random() * len(employment))],
                status[int(rng.random() * len(status))],
                joined.isoformat(),
                people.bank_account() if rng.random() < 0.6 else "",
            ])
            written += 1
    tmp.rename(path)
    return path


def sample_rows(path: Path, *, count: int, seed: int) -> list[dict]:
    """``count`` random rows of the roster (reservoir sampling, one pass)."""
    rng = random.Random(seed + 1)
    chosen: list[dict] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i < count:
                chosen.append(row)
            else:
                j = rng.randint(0, i)
                if j < count:
                    chosen[j] = row
    return chosen
