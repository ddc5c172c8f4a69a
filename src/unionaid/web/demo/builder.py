"""Build the whole demo union in one transaction: tree, roles, posts, personas, members, the
三助 chain (catalog, approval flows, budgets, applications in every state), the hardship work,
and other departments' lists matched to the roll with the leads they raise (政策找职工)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from django.db import transaction

from unionaid.audit.services import audit_record
from unionaid.core.synthetic import SyntheticPeople
from unionaid.org.models import OrgUnit
from unionaid.web.demo import people as demo_people
from unionaid.web.demo import staff
from unionaid.web.demo.applications import (
    DEFAULT_APPLICATIONS,
    ApplicationStats,
    build_applications,
)
from unionaid.web.demo.casework import Cast
from unionaid.web.demo.chain import ChainSetup, build_chain
from unionaid.web.demo.hardship import HardshipStats, build_hardship
from unionaid.web.demo.lists import ListStats, build_lists
from unionaid.web.demo.tree import DemoTree, build_tree

DEFAULT_MEMBERS = 5000
DEFAULT_SEED = 2026
DEFAULT_VISITS = 300


class DemoNotEmptyError(Exception):
    """The database already holds an org tree; the demo never mixes with real data."""


@dataclass
class DemoResult:
    tree: DemoTree
    users: dict = field(default_factory=dict)
    members: int = 0
    household: int = 0
    consents: int = 0
    chain: ChainSetup = field(default_factory=ChainSetup)
    applications: ApplicationStats = field(default_factory=ApplicationStats)
    hardship: HardshipStats = field(default_factory=HardshipStats)
    lists: ListStats = field(default_factory=ListStats)
    seconds: float = 0.0

    @property
    def unit_counts(self) -> dict[str, int]:
        return {
            "站段": len(self.tree.stations),
            "车间": len(self.tree.workshops),
            "班组": len(self.tree.teams),
        }


def is_empty() -> bool:
    return not OrgUnit.objects.exists()


def persona_units(tree: DemoTree) -> dict[str, OrgUnit]:
    """The station, workshop and team the cadre personas work in (one nested chain)."""
    station = tree.stations[0]
    workshop = next(w for w in tree.workshops if w.path.startswith(station.path))
    team = next(t for t in tree.teams if t.path.startswith(workshop.path))
    return {
        "bureau_cadre": tree.root,
        "audit_admin": tree.root,
        "station_cadre": station,
        "workshop_cadre": workshop,
        "team_cadre": team,
    }


@transaction.atomic
def build_demo(
    *, members: int = DEFAULT_MEMBERS, seed: int = DEFAULT_SEED, with_logins: bool = True,
    applications: int = DEFAULT_APPLICATIONS, visits: int = DEFAULT_VISITS, lists: bool = True,
) -> DemoResult:
    """Create the demo union. Raises ``DemoNotEmptyError`` if any OrgUnit exists.

    ``with_logins=False`` still creates the roles, posts and persona users (the benchmarks need
    a station cadre) but no TOTP devices; ``members=0`` builds the tree, staff, catalog, flows
    and budgets only; ``applications`` is how many applications to file besides the worker
    persona's own (limited by the active members); ``visits`` how many home visits the
    campaign records (the hardship archive grows from them); ``lists`` whether to import and
    match the other departments' lists (after the archive: their cross-checks read it).
    """
    started = time.perf_counter()
    if not is_empty():
        raise DemoNotEmptyError()
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not crypto
    names = SyntheticPeople(seed + 1)
    roles = staff.create_roles()
    holder: dict[str, object] = {}

    def make_sysadmin(root):
        holder["sysadmin"] = staff.create_sysadmin(root=root, roles=roles, full_name=names.name())
        return holder["sysadmin"]

    tree = build_tree(actor_factory=make_sysadmin, rng=rng)
    secadmin = staff.create_security_admin(root=tree.root, roles=roles, full_name=names.name())
    units = persona_units(tree)
    users = staff.create_posts_and_logins(
        secadmin=secadmin, tree=tree, roles=roles, persona_units=units,
        names={p.username: names.name() for p in staff.PERSONAS},
    )
    users.update(sysadmin=holder["sysadmin"], secadmin=secadmin)
    unit_staff = staff.create_unit_staff(secadmin=secadmin, tree=tree, roles=roles,
                                         persona_units=units, names=names)

    saved, stats = demo_people.load_people(
        total=members, teams=tree.teams, seed=seed, first_team=units["team_cadre"]
    )
    if saved:
        users["worker"] = staff.create_worker_login(secadmin=secadmin, member=saved[0])
    chain = build_chain(root=tree.root, stations=tree.stations,
                        catalog_admin=users["bureau_cadre"], finance=users["finance"])
    filed = ApplicationStats()
    cast = Cast(
        root=tree.root, finance=users["finance"], cashier=users["cashier"],
        team_unit_id=units["team_cadre"].pk,
        team_filer=users["team_cadre"],
        filers={s.path: unit_staff["intake_cadre"][s.pk] for s in tree.stations},
    )
    if saved and applications > 0:
        filed = build_applications(members=saved, total=applications, cast=cast,
                                   workshop=units["workshop_cadre"], worker=users.get("worker"),
                                   seed=seed)
    hardship = HardshipStats()
    team_members = [m for m in saved if m.org_unit_id == units["team_cadre"].pk]
    if saved and visits > 0:
        hardship = build_hardship(tree=tree, users=users, unit_staff=unit_staff, members=saved,
                                  cast=cast, team_members=team_members, seed=seed, visits=visits)
    matched = ListStats()
    if saved and lists:
        # the worker persona and the team's two workers left for a first visit stay off the lists
        reserved = {saved[0].pk, *(m.pk for m in team_members[-2:])}
        matched = build_lists(root=tree.root, stations=tree.stations,
                              admin=users["bureau_cadre"], members=saved, reserved=reserved,
                              seed=seed)
    if with_logins:
        staff.create_demo_devices(users[u] for u in ("sysadmin", "secadmin", "auditadmin"))
    audit_record(
        actor=None, actor_label="demo", action="demo.build", target=tree.root,
        org_unit_path=tree.root.path,
        changes={"members": stats.members, "household": stats.household,
                 "consents": stats.consents, "seed": seed, "units": len(tree.units),
                 "items": chain.items, "applications": filed.total,
                 "visits": hardship.visits, "hardship_records": hardship.records,
                 "lists": matched.datasets, "leads": matched.leads},
    )
    return DemoResult(
        tree=tree, users=users, members=stats.members, household=stats.household,
        consents=stats.consents, chain=chain, applications=filed, hardship=hardship,
        lists=matched, seconds=time.perf_counter() - started,
    )
