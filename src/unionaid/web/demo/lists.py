"""The demo's 政策找职工 (issue 12): five lists from other departments — 民政 低保 households,
医保 large self-paid bills, a university admission list (matched on the guardian), household-
registry deaths and property records — imported, matched and turned into leads through the
matching services.

Each list holds a few members of every 站段 (so that leads reach the cadres of every unit),
written messily (``listfiles``), with their household members (same phone and address, another
person), namesakes (same name and birth year) and strangers who are not members. The bureau's
assistance cadre creates the sources, uploads each file, imports it and starts its match run;
the import and the run — the work the background worker does — are called here in the same
process, inside the builder's transaction. The run raises the default rules' leads. Two rows of
the 低保 list carry the householder's ID number on a relative's name: they wait in the review
band for a cadre.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from unionaid.archive.models import OPEN_STATUSES, HardshipRecord, RecordStatus
from unionaid.core.synthetic import SyntheticPeople
from unionaid.matching import services as matching_services
from unionaid.matching.linking import match_run_execute
from unionaid.matching.loading import dataset_load_run
from unionaid.matching.models import Dataset, DatasetStatus, RunStatus, Source, SourceKind
from unionaid.members.models import Member
from unionaid.org.models import OrgUnit
from unionaid.web.demo import listfiles as lf
from unionaid.web.demo.listfiles import Person

# The guardian's columns of an admission list are its identifying ones (the student's name is
# kept as a column of the record): the source maps them, as an admin would on the source page.
ADMISSION_MAPPING = {"家长姓名": "name", "家长身份证号": "id_number", "家长联系电话": "phone"}
# kind: (source name, retention days, column mapping)
SOURCES: dict[str, tuple[str, int, dict[str, str]]] = {
    SourceKind.DIBAO: ("示例市民政局低保名单", 90, {}),
    SourceKind.MEDICAL: ("示例市医保局大额自付结算名单", 90, {}),
    SourceKind.ADMISSION: ("示例省教育考试院高校录取名单", 180, ADMISSION_MAPPING),
    SourceKind.REGISTRY: ("示例市公安局户籍变动（死亡）名单", 90, {}),
    SourceKind.PROPERTY: ("示例市不动产登记中心房产登记名单", 90, {}),
}
SCHOOLS = (("北京交通大学", "本科"), ("西南交通大学", "本科"), ("兰州交通大学", "本科"),
           ("石家庄铁道大学", "本科"), ("太原理工大学", "本科"), ("山西大学", "本科"),
           ("山西铁道职业技术学院", "专科"), ("太原铁路机械学校", "专科"),
           ("山西工程职业学院", "专科"))
MAJORS = ("交通运输", "机械工程", "电气工程及其自动化", "土木工程", "护理", "会计", "计算机应用")
HOSPITALS = ("示例市第一人民医院", "示例市中心医院", "示例铁路医院", "示例省肿瘤医院")


class DemoListError(Exception):
    """A demo list failed to import or match: the demo's own data is wrong."""


@dataclass
class ListStats:
    datasets: int = 0
    rows: int = 0
    matched: int = 0
    review: int = 0
    leads: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)


class _Roll:
    """The members the lists are drawn from: active ones by 站段 (none of them in the hardship
    archive or on its way in), and the archived ones (for the cross-checks); each is used once."""

    def __init__(self, *, members: Sequence[Member], stations: Sequence[OrgUnit],
                 reserved: set[int], rng: random.Random):
        depth = 2 * OrgUnit.steplen
        by_path = {s.path: s.pk for s in stations}
        in_archive = set(HardshipRecord.objects.filter(status__in=OPEN_STATUSES)
                         .values_list("member_id", flat=True))
        self.pools: dict[int, list[Member]] = {s.pk: [] for s in stations}
        for member in members:
            station = by_path.get(member.org_unit.path[:depth])
            if (station and member.is_active_member and member.pk not in reserved
                    and member.pk not in in_archive):
                self.pools[station].append(member)
        for pool in self.pools.values():
            rng.shuffle(pool)
        archived = list(HardshipRecord.objects.filter(status=RecordStatus.ACTIVE)
                        .exclude(member_id__in=reserved).select_related("member__org_unit")
                        .order_by("pk"))
        # dealt round the 站段 (the station cadre persona's, the first, leads) so that the
        # cross-checks reach several units
        by_station: dict[str, list[Member]] = {s.path: [] for s in stations}
        for record in archived:
            by_station.setdefault(record.member.org_unit.path[:depth], []).append(record.member)
        for pool in by_station.values():
            rng.shuffle(pool)
        self.archived: list[Member] = []
        while any(by_station.values()):
            self.archived += [pool.pop() for pool in by_station.values() if pool]
        self.ids = {m.id_number for m in members}

    def take(self, station: OrgUnit, count: int,
             fits: Callable[[Member], bool] = lambda m: True) -> list[Member]:
        pool = self.pools[station.pk]
        chosen = [m for m in pool if fits(m)][:count]
        for member in chosen:
            pool.remove(member)
        return chosen

    def take_archived(self, count: int) -> list[Member]:
        chosen, self.archived = self.archived[:count], self.archived[count:]
        return chosen


class _Maker:
    """People for one list, and their rows written messily in turn."""

    def __init__(self, *, roll: _Roll, people: SyntheticPeople, rng: random.Random):
        self.roll, self.people, self.rng = roll, people, rng
        self.turn = 0
        # how often a non-member's row has no ID number (set per list: the 低保 office's lists
        # of whole households often lack them; registries and hospitals always have them)
        self.no_id_rate = 0.0

    def member(self, member: Member) -> Person:
        return Person(name=member.name, id18=member.id_number, birth=member.birth_date,
                      sex=member.sex, phone=member.phone,
                      address=lf.address_for(member.id_number, self.rng))

    def stranger(self, *, sex: str | None = None, birth: dt.date | None = None) -> Person:
        while True:
            sex_ = sex or self.people.sex()
            born = birth or self.people.birth_date()
            number = self.people.id_number(birth_date=born, sex=sex_)
            if number not in self.roll.ids:
                break
        return Person(name=self.people.name(sex_), id18=number, birth=born, sex=sex_,
                      phone=self.people.phone(), address=lf.address_for(number, self.rng))

    def relative(self, person: Person, *, years: int) -> Person:
        """A household member: same phone and address, another person."""
        sex = "F" if person.sex == "M" else "M"
        born = min(timezone.localdate(), dt.date(person.birth.year + years, 1, 1)
                   + dt.timedelta(days=self.rng.randrange(365)))
        other = self.stranger(sex=sex, birth=born)
        surname = person.name[0] if years > 15 else other.name[0]
        return Person(name=surname + other.name[1:], id18=other.id18, birth=born, sex=sex,
                      phone=person.phone, address=person.address)

    def namesake(self, person: Person) -> Person:
        """Same name and birth year, another birth date, ID number and phone."""
        day = dt.date(person.birth.year, 1, 1) + dt.timedelta(days=self.rng.randrange(365))
        if day == person.birth:
            day += dt.timedelta(days=40)
        other = self.stranger(sex=person.sex, birth=day)
        return Person(name=person.name, id18=other.id18, birth=day, sex=person.sex,
                      phone=other.phone, address=other.address)

    def dress(self, person: Person, *, member: bool = True) -> dict[str, str]:
        """The identifying values as the list writes them. Members' rows take the ID, birth
        and phone styles in turn; every seventh member's name has a homophone, every eleventh a
        stray space. Other people's rows are written plainer (their mess matters less)."""
        n = self.turn
        if member:
            self.turn += 1
        name = person.name
        if member and n % 7 == 3:
            name = lf.homophone(name)
        elif member and n % 11 == 5:
            name = lf.spaced(name)
        id_style = lf.ID_STYLES[n % len(lf.ID_STYLES)] if member else (
            "missing" if self.rng.random() < self.no_id_rate else "plain")
        return {"name": name, "id": lf.id_text(person.id18, id_style),
                "birth": lf.birth_text(person.birth, lf.BIRTH_STYLES[n % 4]),
                "sex": lf.sex_text(person.sex),
                "phone": lf.phone_text(person.phone, lf.PHONE_STYLES[n % 5])}


def _recent(rng: random.Random, low: int, high: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=rng.randint(low, high))


def _age(member: Member) -> int:
    today = timezone.localdate()
    born = member.birth_date
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# -- the five lists: (header, rows) ----------------------------------------------------------

def _dibao(maker: _Maker, stations: Sequence[OrgUnit]) -> tuple[list[str], list[list]]:
    header = ["序号", "姓名", "身份证号", "性别", "出生日期", "与户主关系", "家庭住址", "联系电话",
              "保障人数", "保障金额", "认定日期"]
    rng, rows = maker.rng, []
    maker.no_id_rate = 0.15
    # (householder, a member?, carries the householder's ID number on the spouse's row too)
    households: list[tuple[Person, bool, bool]] = []
    for n, station in enumerate(stations):
        households += [(maker.member(m), True, n < 2 and k == 0)
                       for k, m in enumerate(maker.roll.take(station, 2))]
    # two householders written with a homophone for a character of their name and no ID
    # number (one also with another phone): only the probabilistic stage can find them
    sounding = [maker.member(m) for station in stations[2:4] for m in maker.roll.take(
        station, 1, lambda m: lf.homophone(m.name) != m.name)]
    households += [(p, True, False) for p in sounding]
    households += [(maker.stranger(), False, False) for _ in range(12)]
    rng.shuffle(households)
    for index, (head, is_member, carries) in enumerate(households):
        family = [(head, "户主")]
        if carries or rng.random() < 0.7:
            family.append((maker.relative(head, years=rng.randint(-3, 3)), "配偶"))
        if rng.random() < 0.5:
            family.append((maker.relative(head, years=rng.randint(24, 30)), "子女"))
        size, line = len(family), 820.0
        amount = lf.money_text(line * size * rng.uniform(0.3, 0.8), index)
        since = _recent(rng, 30, 700).isoformat()
        for person, relation in family:
            values = maker.dress(person, member=is_member and relation == "户主")
            if person in sounding:
                values["name"], values["id"] = lf.homophone(person.name), ""
                if person is sounding[-1]:
                    values["phone"] = maker.people.phone()
            elif relation == "配偶" and carries:
                # the householder's number on every row: the ID agrees, the name does not;
                # the pair waits in the review band
                values["id"] = head.id18
            elif relation != "户主" and rng.random() < 0.3:
                values["id"] = ""
            rows.append([len(rows) + 1, values["name"], values["id"], values["sex"],
                         values["birth"], relation, person.address, values["phone"], size,
                         amount, since])
    maker.no_id_rate = 0.0
    return header, rows


def _medical(maker: _Maker, stations: Sequence[OrgUnit]) -> tuple[list[str], list[list]]:
    header = ["序号", "姓名", "身份证号码", "性别", "出生日期", "联系电话", "就诊医院", "入院日期",
              "出院日期", "医疗总费用", "医保统筹支付", "个人自付金额"]
    rng = maker.rng
    patients: list[tuple[Person, bool, float]] = []
    for station in stations:
        for n, member in enumerate(maker.roll.take(station, 3)):
            # two with a large self-paid share (a lead), one below the rule's line
            paid = rng.uniform(2300, 38000) if n < 2 else rng.uniform(300, 1900)
            patients.append((maker.member(member), True, paid))
    for _ in range(16):
        patients.append((maker.stranger(), False, rng.uniform(200, 30000)))
    some = [p for p in patients if p[1]][:4]
    patients += [(maker.namesake(p), False, rng.uniform(2500, 9000)) for p, _m, _a in some[:2]]
    patients += [(maker.relative(p, years=rng.randint(-3, 3)), False, rng.uniform(2500, 9000))
                 for p, _m, _a in some[2:]]
    rng.shuffle(patients)
    rows = []
    for index, (person, is_member, paid) in enumerate(patients):
        values = maker.dress(person, member=is_member)
        total = paid / rng.uniform(0.25, 0.45)
        admitted = _recent(rng, 20, 150)
        birth = person.birth if index % 3 == 0 else values["birth"]  # some as date cells
        rows.append([index + 1, values["name"], values["id"], values["sex"], birth,
                     values["phone"], rng.choice(HOSPITALS), admitted,
                     admitted + dt.timedelta(days=rng.randint(3, 30)), f"{total:.2f}",
                     f"{total - paid:.2f}", lf.money_text(paid, index)])
    return header, rows


def _admission(maker: _Maker, stations: Sequence[OrgUnit]) -> tuple[list[str], list[list]]:
    header = ["序号", "考生号", "学生姓名", "录取院校", "专业", "层次", "家长姓名", "家长身份证号",
              "家长联系电话", "录取日期"]
    rng, year = maker.rng, timezone.localdate().year
    parents: list[tuple[Person, bool]] = []
    for station in stations:
        parents += [(maker.member(m), True)
                    for m in maker.roll.take(station, 2, lambda m: 40 <= _age(m) <= 56)]
    parents += [(maker.stranger(birth=dt.date(rng.randint(1968, 1984), 1, 1)
                                + dt.timedelta(days=rng.randrange(365))), False)
                for _ in range(14)]
    parents += [(maker.namesake(p), False) for p, is_member in parents[:2] if is_member]
    rng.shuffle(parents)
    rows = []
    postgraduate = False
    for index, (parent, is_member) in enumerate(parents):
        values = maker.dress(parent, member=is_member)
        school, level = rng.choice(SCHOOLS)
        if is_member and not postgraduate and _age_of(parent) >= 48:
            school, level, postgraduate = "北京交通大学", "硕士研究生", True
        student = parent.name[0] + maker.people.name()[1:]
        rows.append([index + 1, f"{year % 100}14{rng.randrange(10**10):010d}", student, school,
                     rng.choice(MAJORS), level, values["name"], values["id"], values["phone"],
                     f"{year}年{rng.randint(7, 8)}月{rng.randint(1, 28)}日"])
    return header, rows


def _age_of(person: Person) -> int:
    return timezone.localdate().year - person.birth.year


def _registry(maker: _Maker, stations: Sequence[OrgUnit]) -> tuple[list[str], list[list]]:
    header = ["序号", "姓名", "公民身份号码", "性别", "出生日期", "变动类型", "死亡日期", "户籍地址",
              "登记机关"]
    rng = maker.rng
    people = [(maker.member(m), True) for m in maker.roll.take_archived(3)]
    for station in stations[1:3]:
        people += [(maker.member(m), True) for m in maker.roll.take(station, 1)]
    people += [(maker.stranger(birth=dt.date(rng.randint(1930, 1965), 1, 1)
                               + dt.timedelta(days=rng.randrange(365))), False)
               for _ in range(12)]
    # a member's parent: same address, another person
    people += [(maker.relative(p, years=-rng.randint(24, 30)), False)
               for p, is_member in people[:2] if is_member]
    rng.shuffle(people)
    rows = []
    for index, (person, is_member) in enumerate(people):
        values = maker.dress(person, member=is_member)
        rows.append([index + 1, values["name"], values["id"], values["sex"], values["birth"],
                     "死亡", _recent(rng, 5, 60), person.address,
                     f"示例市公安局{rng.choice('东西南北')}城派出所"])
    return header, rows


def _property(maker: _Maker, stations: Sequence[OrgUnit]) -> tuple[list[str], list[list]]:
    header = ["序号", "权利人", "证件号码", "联系电话", "房屋坐落", "房产套数", "建筑面积（㎡）",
              "登记日期"]
    rng = maker.rng
    owners: list[tuple[Person, bool, int]] = []
    # archived households: four with two or more homes (a re-check), three with one
    owners += [(maker.member(m), True, 2 + n % 2) for n, m in enumerate(
        maker.roll.take_archived(4))]
    owners += [(maker.member(m), True, 1) for m in maker.roll.take_archived(3)]
    for station in stations[::2]:
        owners += [(maker.member(m), True, 2) for m in maker.roll.take(station, 1)]
    owners += [(maker.stranger(), False, rng.choice((1, 1, 2, 3))) for _ in range(14)]
    owners += [(maker.relative(p, years=rng.randint(-3, 3)), False, 1)
               for p, _m, _h in owners[:2]]
    rng.shuffle(owners)
    rows = []
    for index, (person, is_member, homes) in enumerate(owners):
        values = maker.dress(person, member=is_member)
        rows.append([index + 1, values["name"], values["id"], values["phone"], person.address,
                     homes, f"{rng.uniform(45, 140) * homes:.2f}",
                     lf.birth_text(_recent(rng, 60, 3000), lf.BIRTH_STYLES[index % 4])])
    return header, rows


# kind: (builder, title, file name, format)
LISTS: tuple[tuple[str, Callable, str, str, str], ...] = (
    (SourceKind.DIBAO, _dibao, "{year}年{month}月城乡低保保障对象名单（示例）", "低保名单.csv",
     "gb18030"),
    (SourceKind.MEDICAL, _medical, "{year}年{month}月医保大额自付结算明细（示例）",
     "医保大额自付.xlsx", "xlsx"),
    (SourceKind.ADMISSION, _admission, "{year}年普通高校录取名单（示例）", "高校录取名单.csv",
     "utf-8-sig"),
    (SourceKind.REGISTRY, _registry, "{year}年户籍死亡注销人员名单（示例）", "户籍死亡注销.xlsx",
     "xlsx"),
    (SourceKind.PROPERTY, _property, "{year}年不动产登记房产名单（示例）", "房产登记名单.csv",
     "utf-8"),
)


def _file(header: list[str], rows: list[list], *, title: str, fmt: str) -> bytes:
    if fmt == "xlsx":
        return lf.xlsx_bytes(header, rows, title=title, sheet="名单")
    return lf.csv_bytes(header, [[v.isoformat() if isinstance(v, dt.date) else v for v in row]
                                 for row in rows], encoding=fmt)


def _import_and_match(*, admin, root: OrgUnit, source: Source, title: str, file_name: str,
                      data: bytes) -> dict:
    """Upload, import and match one list through the services; the import and the run are
    the background tasks' own functions, called here."""
    dataset = matching_services.dataset_upload(
        actor=admin, source=source, org_unit=root, title=title, dry_run=False, enqueue=False,
        upload=SimpleUploadedFile(file_name, data))
    loaded = dataset_load_run(dataset.pk, dry_run=False)
    dataset = Dataset.objects.get(pk=dataset.pk)
    if loaded.get("status") != DatasetStatus.LOADED:
        raise DemoListError(f"{file_name}: {dataset.message}")
    run = matching_services.match_run_start(actor=admin, dataset=dataset, enqueue=False)
    outcome = match_run_execute(run.pk)
    if outcome.get("status") != RunStatus.DONE:
        run.refresh_from_db()
        raise DemoListError(f"{file_name}: {run.error}")
    return {"rows": loaded.get("rows", 0), **outcome}


def build_lists(*, root: OrgUnit, stations: Sequence[OrgUnit], admin, members: Sequence[Member],
                reserved: set[int], seed: int) -> ListStats:
    """The five lists, imported and matched at the root by ``admin`` (who needs
    ``matching.config`` and ``matching.manage`` there). ``reserved``: members left off every
    list (the worker persona, the walkthrough's spare workers)."""
    with _quiet("splink"):
        return _build(root=root, stations=stations, admin=admin, members=members,
                      reserved=reserved, seed=seed)


@contextlib.contextmanager
def _quiet(name: str):
    """Splink reports each training step at INFO; the demo's output keeps to its summary."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _build(*, root, stations, admin, members, reserved, seed) -> ListStats:
    rng = random.Random(seed + 12)  # noqa: S311 - synthetic data, not crypto
    roll = _Roll(members=members, stations=stations, reserved=reserved, rng=rng)
    maker = _Maker(roll=roll, people=SyntheticPeople(seed + 12), rng=rng)
    today = timezone.localdate()
    stats = ListStats()
    for kind, builder, title, file_name, fmt in LISTS:
        name, retention, mapping = SOURCES[kind]
        source = matching_services.source_save(
            actor=admin, org_unit=root, kind=kind, name=name, retention_days=retention,
            column_mapping=mapping)
        header, rows = builder(maker, stations)
        title = title.format(year=today.year, month=today.month)
        outcome = _import_and_match(admin=admin, root=root, source=source, title=title,
                                    file_name=file_name,
                                    data=_file(header, rows, title=title, fmt=fmt))
        matched = outcome.get("exact", 0) + outcome.get("probabilistic", 0)
        stats.datasets += 1
        stats.rows += outcome["rows"]
        stats.matched += matched
        stats.review += outcome.get("review", 0)
        stats.leads += outcome.get("leads", 0)
        stats.by_kind[str(kind)] = {"rows": outcome["rows"], "matched": matched,
                                    "review": outcome.get("review", 0),
                                    "leads": outcome.get("leads", 0)}
    return stats
