"""The whole Django path with the real engines: upload → load → match run through
``linkage.link`` → Match rows and the review band, the household and namesake traps held."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from unionaid.matching import services
from unionaid.matching.models import Match, MatchMethod, MatchStatus, RunStatus


def test_a_list_is_matched_end_to_end_and_the_household_is_not_the_worker(
        union, cadres, source, make_member, people, tmp_path, settings,
        django_capture_on_commit_callbacks):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    members = [make_member(union.team_a) for _ in range(30)]
    worker, typo, household_of = members[0], members[1], members[2]
    spouse = people.person()
    lines = ["姓名,身份证号,出生日期,手机号,家庭住址"]
    lines.append(f"{worker.name},{worker.id_number},,,")  # exact on the ID
    # the same person, no ID number, name with a stray space, phone with +86
    lines.append(f"{typo.name[0]} {typo.name[1:]},,{typo.birth_date:%Y%m%d},+86 {typo.phone},")
    # a different person of the worker's household: shared phone and address
    lines.append(f"{spouse['name']},{spouse['id_number']},,{household_of.phone},某市某路9号")
    with django_capture_on_commit_callbacks(execute=True):
        dataset = services.dataset_upload(
            actor=cadres.station_a, source=source, org_unit=union.station_a, dry_run=False,
            upload=SimpleUploadedFile("dibao.csv", "\n".join(lines).encode()))
    dataset.refresh_from_db()
    assert dataset.status == "loaded", dataset.message
    with django_capture_on_commit_callbacks(execute=True):
        run = services.match_run_start(actor=cadres.station_a, dataset=dataset)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    by_member = {m.member_id: m for m in Match.objects.filter(run=run)}
    assert by_member[worker.pk].method == MatchMethod.EXACT
    assert by_member[worker.pk].status == MatchStatus.MATCHED
    assert typo.pk in by_member
    assert household_of.pk not in by_member
    assert all(m.reason for m in by_member.values())
