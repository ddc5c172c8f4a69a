"""The demo org tree: a fictitious railway bureau's union, 路局 → 站段 → 车间 → 班组.

Unit names are generic railway unit names; the root's name is made up on purpose so that it is
never taken for a real organisation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from unionaid.org import services as org_services
from unionaid.org.models import OrgLevel, OrgUnit

LEVELS = ("路局", "站段", "车间", "班组")
ROOT_NAME = "示例铁路局工会"
ROOT_CODE = "SL"
ROOT_REGION = "140105"

# (name, code, region code, workshop names). Each station gets 3–5 workshops from its list.
STATIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("太原车务段", "TYCW", "140105",
     ("太原站车间", "榆次站车间", "运转车间", "客运车间", "货运车间")),
    ("太原机务段", "TYJW", "140108",
     ("运用车间", "检修车间", "整备车间", "动车车间", "救援车间")),
    ("太原工务段", "TYGW", "140109",
     ("线路车间", "桥隧车间", "路基车间", "大修车间", "探伤车间")),
    ("太原电务段", "TYDW", "140106",
     ("信号车间", "通信车间", "检修车间", "驼峰车间")),
    ("太原车辆段", "TYCL", "140110",
     ("检修车间", "运用车间", "动车车间", "修配车间", "轮轴车间")),
    ("太原供电段", "TYGD", "140107",
     ("接触网车间", "变电车间", "电力车间", "检测车间")),
    ("大同车务段", "DTCW", "140213",
     ("大同站车间", "运转车间", "客运车间", "货运车间")),
    ("临汾工务段", "LFGW", "141002",
     ("线路车间", "桥隧车间", "路基车间", "综合维修车间")),
)

ORDINALS = ("一", "二", "三", "四", "五", "六")


@dataclass
class DemoTree:
    root: OrgUnit
    stations: list[OrgUnit] = field(default_factory=list)
    workshops: list[OrgUnit] = field(default_factory=list)
    teams: list[OrgUnit] = field(default_factory=list)

    @property
    def units(self) -> list[OrgUnit]:
        return [self.root, *self.stations, *self.workshops, *self.teams]


def team_name(workshop_name: str, index: int) -> str:
    """线路车间 → 线路一班, 线路二班 …"""
    base = workshop_name.removesuffix("车间")
    return f"{base}{ORDINALS[index]}班"


def build_tree(*, actor_factory, rng: random.Random) -> DemoTree:
    """Create levels and units through the org services.

    ``actor_factory(root)`` is called once the root exists and returns the user (holding
    ``org.manage`` over the whole tree) who creates the rest, so that every unit's audit event
    names a real actor.
    """
    for depth, name in enumerate(LEVELS, start=1):
        OrgLevel.objects.update_or_create(depth=depth, defaults={"name": name})
    root = org_services.orgunit_create_root(
        actor=None, name=ROOT_NAME, code=ROOT_CODE, region_code=ROOT_REGION
    )
    actor = actor_factory(root)
    tree = DemoTree(root=root)
    for s_index, (s_name, s_code, region, workshop_names) in enumerate(STATIONS, start=1):
        station = org_services.orgunit_create(
            actor=actor, parent=root, name=s_name, code=f"{ROOT_CODE}-{s_index:02d}{s_code}",
            region_code=region,
        )
        tree.stations.append(station)
        for w_index, w_name in enumerate(workshop_names[: rng.randint(3, 5)], start=1):
            workshop = org_services.orgunit_create(
                actor=actor, parent=station, name=w_name, code=f"{station.code}-W{w_index:02d}"
            )
            tree.workshops.append(workshop)
            for t_index in range(rng.randint(3, 5)):
                team = org_services.orgunit_create(
                    actor=actor, parent=workshop, name=team_name(w_name, t_index),
                    code=f"{workshop.code}-T{t_index + 1:02d}",
                )
                tree.teams.append(team)
    return tree
