from unionaid.cli import translate


def test_cli_maps_two_word_commands_to_management_commands():
    assert translate(["audit", "verify"]) == ["audit_verify"]
    assert translate(["import", "members", "roster.xlsx", "--dry-run"]) == [
        "import_members", "roster.xlsx", "--dry-run"
    ]
    assert translate(["keys", "rotate"]) == ["keys_rotate"]


def test_cli_passes_other_commands_through():
    assert translate(["demo", "--if-empty"]) == ["demo", "--if-empty"]
    assert translate(["migrate"]) == ["migrate"]


def test_the_log_filter_redacts_messages_and_tracebacks():
    import logging

    from unionaid.core.logging import RedactPersonalData
    from unionaid.core.synthetic import SyntheticPeople

    person = SyntheticPeople(7).person()
    try:
        raise ValueError(f"bad value {person['id_number']}")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "phone %s account %s",
                                   (person["phone"], "622202020011223"), sys.exc_info())
    RedactPersonalData().filter(record)
    text = record.getMessage() + (record.exc_text or "")
    assert person["id_number"] not in text
    assert person["phone"] not in text
    assert "622202020011223" not in text
    assert "[ID]" in text
