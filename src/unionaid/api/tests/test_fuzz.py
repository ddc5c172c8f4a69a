"""API fuzzing (issue 10, "Keep it fixed"): schemathesis generates requests for every operation
of /api/openapi.json and sends them through Django's WSGI application, as a staff user with the
widest scope a token can carry (every permission but the three admin duties, 全部数据), over a
small demo union. Every answer must be no server error and match its declared schema.

Bounded and repeatable: a few examples per operation and pass, a fixed seed, derandomized (the
same requests on every run), no example database and Hypothesis's caches in a temporary
directory (nothing written into the repository), no deadline. Three passes per operation: valid
requests naming existing objects, valid requests with generated ids, and invalid requests
(negative mode). A failure lists every operation that failed, with the request to replay it.
Runs on SQLite and on PostgreSQL (the requests share the test's transaction).
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from django.apps import apps
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from conftest import make_role, make_staff
from unionaid.accounts import services as account_services
from unionaid.accounts.models import DataScope
from unionaid.accounts.permissions import ADMIN_DUTIES, PERMISSIONS
from unionaid.org.models import OrgUnit
from unionaid.web.demo import build_demo

EXAMPLES = 8  # per operation and pass: the whole test stays well under two minutes on SQLite
SEED = 20261207
CHECKS = [not_a_server_error, response_schema_conformance]
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # no shrinking: report as is
    suppress_health_check=list(hypothesis.HealthCheck), print_blob=False,
)

# Path parameter → the model (and field) an existing object is taken from for the first pass.
EXISTING = {
    "token_id": ("accounts.ApiToken", "pk"), "unit_id": ("org.OrgUnit", "pk"),
    "member_id": ("members.Member", "pk"), "code": ("assistance.AssistanceItem", "code"),
    "application_id": ("assistance.Application", "pk"),
    "attachment_id": ("assistance.Attachment", "pk"), "task_id": ("approvals.ApprovalTask", "pk"),
    "case_id": ("approvals.ApprovalCase", "pk"), "budget_id": ("funds.Budget", "pk"),
    "disbursement_id": ("funds.Disbursement", "pk"),
    "batch_id": ("funds.DisbursementBatch", "pk"), "campaign_id": ("visits.VisitCampaign", "pk"),
    "pairing_id": ("visits.Pairing", "pk"), "visit_id": ("visits.Visit", "pk"),
    "photo_id": ("visits.VisitPhoto", "pk"), "need_id": ("visits.VisitNeed", "pk"),
    "follow_up_id": ("visits.FollowUp", "pk"), "record_id": ("archive.HardshipRecord", "pk"),
    "objection_id": ("archive.Objection", "pk"), "line_id": ("archive.DibaoStandard", "pk"),
    "override_id": ("approvals.WorkdayOverride", "pk"), "entry_id": ("archive.WatchEntry", "pk"),
    "marked_id": ("archive.DifficultUnit", "pk"),
    "notification_id": ("notifications.Notification", "pk"),
    "job_id": ("exports.ExportJob", "pk"),
}
FIXED = {"kind": "health"}


@pytest.fixture
def _hypothesis_home(tmp_path_factory):
    """Hypothesis's caches (constants, Unicode tables) in a temporary directory, not a
    .hypothesis/ in the repository; with ``database=None`` there is no example database."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture
def _one_connection():
    """The requests run inside the test's transaction: keep Django from closing the connection
    at the end of each request (as its test client does), or PostgreSQL loses the transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_user(db, tmp_path, settings, _hypothesis_home, _one_connection):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    build_demo(members=30, applications=8, visits=5, with_logins=False)
    role = make_role("fuzz", [p for p in PERMISSIONS if p not in ADMIN_DUTIES], DataScope.ALL)
    user = make_staff("fuzz", OrgUnit.objects.get_root_nodes().first(), [role])
    # A token of its own for DELETE /auth/tokens/{id} to revoke, not the one the fuzzer uses.
    account_services.api_token_create(actor=user, name="spare")
    _token, raw = account_services.api_token_create(actor=user, name="fuzz")
    return {"Authorization": f"Bearer {raw}"}


def _existing(names: list[str]) -> dict | None:
    values = {}
    for name in names:
        if name in FIXED:
            values[name] = FIXED[name]
            continue
        if name not in EXISTING:
            return None
        label, field = EXISTING[name]
        qs = apps.get_model(label).objects.order_by("pk")
        if label == "accounts.ApiToken":
            qs = qs.filter(name="spare")
        value = qs.values_list(field, flat=True).first()
        if value is None:
            return None
        values[name] = value
    return values


def _run(operation, strategy, headers) -> str | None:
    failure = []

    @hypothesis.given(case=strategy)
    @hypothesis.seed(SEED)
    @SETTINGS
    def check(case):
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a FailureGroup
            failure.append(f"{exc}\n    replay: {case.as_curl_command(headers=headers)}")
            raise

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:
        return failure[0] if failure else f"{type(exc).__name__}: {exc}"
    return None


def test_every_operation_answers_without_server_errors_and_as_declared(fuzz_user):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        names = [p.name for p in operation.path_parameters]
        passes = [("positive, generated ids", operation.as_strategy(GenerationMode.POSITIVE)),
                  ("negative", operation.as_strategy(GenerationMode.NEGATIVE))]
        known = _existing(names) if names else None
        if known:
            passes.insert(0, ("positive, existing objects",
                              operation.as_strategy(GenerationMode.POSITIVE,
                                                    path_parameters=known)))
        for label, strategy in passes:
            problem = _run(operation, strategy, fuzz_user)
            if problem:
                failures.append(f"{operation.label} ({label}):\n{problem}")
    assert operations > 90  # every router's operations were found
    assert not failures, f"{len(failures)} failing:\n\n" + "\n\n".join(failures)
