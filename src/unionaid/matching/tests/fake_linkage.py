"""A stand-in for ``linkage.link`` with the contract's shape (MATCHING_SPEC), for testing the
run machinery around it — claiming, progress, decisions, cancel, retry — without the engine:
exact on ``id_key``, and "review" for the same name without an ID on the external side. The
real engine is exercised by test_runs_linkage.py once linkage.py is merged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FakeResult:
    matches: str
    review: str
    counts: dict


class FakeLink:
    def __init__(self):
        self.calls = []
        self.fail: BaseException | None = None
        self.on_progress = None

    def __call__(self, con, members, external, progress):
        self.calls.append((members, external))
        cols = {r[0] for r in con.cursor().execute(f"DESCRIBE {members}").fetchall()}
        assert {"row_no", "member_key", "name", "name_py", "id18", "id_ok", "birth", "sex",
                "phone", "address", "unit", "problems", "id_key"} <= cols
        progress("exact", 0, 1)
        if self.on_progress is not None:
            self.on_progress()
        progress("exact", 1, 1)
        if self.fail is not None:
            raise self.fail
        cur = con.cursor()
        cur.execute(f"""CREATE TABLE fake_matches AS
            SELECT e.row_no AS external_row, m.member_key, 1.0::DOUBLE AS score,
                   'exact' AS method, '身份证号一致' AS reason
            FROM {external} e JOIN {members} m ON e.id_key = m.id_key""")
        cur.execute(f"""CREATE TABLE fake_review AS
            SELECT e.row_no AS external_row, m.member_key, 0.7::DOUBLE AS score,
                   'probabilistic' AS method, '姓名一致；无身份证号' AS reason
            FROM {external} e JOIN {members} m ON e.name = m.name
            WHERE e.id_key IS NULL""")
        exact = cur.execute("SELECT count(*) FROM fake_matches").fetchone()[0]
        review = cur.execute("SELECT count(*) FROM fake_review").fetchone()[0]
        rows = cur.execute(f"SELECT count(*) FROM {external}").fetchone()[0]
        return FakeResult("fake_matches", "fake_review", {
            "external": rows, "exact": exact, "probabilistic": 0, "review": review,
            "unmatched": rows - exact - review})
