"""``serve(demo=True)``: the demo school in a fresh SQLite file, logins for each role, signed
checkpoints; a parent reads their child's diary and an auditor gets a receipt, over HTTP."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from ejournal.api.app import create_app
from ejournal.api.bootstrap import Services, bootstrap
from ejournal.generator.demo import YEAR
from ejournal.generator.demo_logins import DEMO_PASSWORD, provision_demo_logins
from ejournal.ledger.domain import Guardianship, SchoolClass
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.settings import Settings
from ejournal.web.server import _build_demo
from tests.api.conftest import TestClient


def _first_guardianship(services: Services) -> Guardianship:
    with services.ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT originator_id FROM {EVENTS_TABLE} WHERE topic LIKE ? ORDER BY idx LIMIT 1",
            ("%:Guardianship.Opened",),
        )
        (guardianship_id,) = cursor.fetchone()
    guardianship = services.ledger.find(UUID(str(guardianship_id)), Guardianship)
    assert guardianship is not None
    return guardianship


def test_the_demo_server_has_logins_for_every_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    environ: dict[str, str] = {}
    settings, clock, school = _build_demo(Settings(), environ)
    assert settings.database_url == "sqlite:///ejournal-demo.db"
    services = bootstrap(settings, clock=clock, environ=environ)
    try:
        logins = {
            login.login
            for login in provision_demo_logins(
                services.ledger, services.auth, services.vault, school, YEAR
            )
        }
        assert {"direktor", "t.russkiy", "uchenik", "roditel", "auditor", "podderzhka"} <= logins
        guardianship = _first_guardianship(services)
        with TestClient(create_app(services)) as client:

            def headers(login: str) -> dict[str, str]:
                response = client.post(
                    "/auth/login", json={"login": login, "password": DEMO_PASSWORD}
                )
                assert response.status_code == 201, response.text
                return {"Authorization": f"Bearer {response.json()['access_token']}"}

            parent = headers("roditel")
            me = client.get("/auth/me", headers=parent).json()
            assert UUID(me["person_id"]) in guardianship.parent_ids
            assert services.projector is not None
            assert services.projector.wait_until(services.projector.head(), timeout=60)
            diary = client.get(
                f"/schools/{school}/years/{YEAR}/students/{guardianship.student_id}/diary",
                params={"from": "2025-09-08", "to": "2025-09-14"},
                headers=parent,
            )
            assert diary.status_code == 200, diary.text
            lessons = [entry for day in diary.json()["days"] for entry in day["lessons"]]
            assert len(lessons) >= 20
            head = headers("direktor")
            name = client.get(f"/people/{guardianship.student_id}", headers=head)
            assert name.json()["full_name"] == "Алиев Магомед Расулович"
            fifth_a = SchoolClass.create_id(school_id=school, year_start=YEAR, grade=5, letter="А")
            for path in (
                f"/classes/{fifth_a}/summary-sheet",
                f"/schools/{school}/years/{YEAR}/monitor",
                f"/schools/{school}/years/{YEAR}/monitor?class_id={fifth_a}",
            ):
                response = client.get(path, headers=head)
                assert response.status_code == 200, response.text
            sheet = client.get(f"/classes/{fifth_a}/summary-sheet", headers=head).json()
            assert len(sheet["rows"]) == 25
            averages = [a for row in sheet["rows"] for c in row["cells"] for a in c["averages"]]
            assert any(a["value"] is not None for a in averages)
            auditor = headers("auditor")
            checkpoints = client.get("/ledger/checkpoints", headers=auditor).json()
            assert "system" in {cp["log_id"] for cp in checkpoints}
            receipt = client.get(f"/ledger/receipts/{guardianship.id}/1", headers=auditor)
            assert receipt.status_code == 200, receipt.text
            assert receipt.json()["receipt"].startswith("c2sp.org/tlog-proof")
    finally:
        services.close()
