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
