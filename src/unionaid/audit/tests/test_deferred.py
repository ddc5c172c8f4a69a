"""atomic_audited: a service's events are appended together at its end, in its transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from unionaid.audit.models import AuditEvent
from unionaid.audit.services import atomic_audited, audit_record, audit_verify

pytestmark = pytest.mark.django_db


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


@atomic_audited
def _service(*, actions, fail_after=None, inner=None):
    for n, action in enumerate(actions):
        if fail_after is not None and n == fail_after:
            raise RuntimeError("boom")
        event = audit_record(actor=None, action=action)
        assert event.id is None  # kept aside until the service ends
        assert not AuditEvent.objects.filter(action=action).exists()
    if inner is not None:
        inner()


def test_events_are_written_at_the_end_in_order_and_chained():
    audit_record(actor=None, action="before")
    _service(actions=["one", "two", "three"])
    assert _actions() == ["before", "one", "two", "three"]
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.id for e in events] == [1, 2, 3, 4]
    assert events[1].prev_hash == events[0].hash
    assert len({e.occurred_at for e in events[1:]}) == 1  # one transaction, one time
    assert list(audit_verify()) == []
    assert getattr(connection, "_audit_buffer", None) is None


def test_a_failing_service_writes_no_event():
    with pytest.raises(RuntimeError):
        _service(actions=["one", "two"], fail_after=1)
    assert _actions() == []
    assert getattr(connection, "_audit_buffer", None) is None


def test_events_of_a_rolled_back_savepoint_are_dropped():
    def inner():
        try:
            with transaction.atomic():
                audit_record(actor=None, action="undone")
                raise ValueError("refused")
        except ValueError:
            pass
        audit_record(actor=None, action="after")

    _service(actions=["kept"], inner=inner)
    assert _actions() == ["kept", "after"]
    assert list(audit_verify()) == []


def test_nested_services_join_the_outer_batch():
    def inner():
        _service(actions=["nested"])
        assert not AuditEvent.objects.exists()  # still waiting for the outer service

    _service(actions=["outer"], inner=inner)
    assert _actions() == ["outer", "nested"]


def test_a_failing_nested_service_caught_by_the_outer_one_leaves_no_event():
    def inner():
        with pytest.raises(RuntimeError):
            _service(actions=["nested", "never"], fail_after=1)

    _service(actions=["outer"], inner=inner)
    assert _actions() == ["outer"]


def test_outside_a_service_events_are_written_at_once():
    event = audit_record(actor=None, action="direct")
    assert event.id == 1
    assert AuditEvent.objects.get().action == "direct"
