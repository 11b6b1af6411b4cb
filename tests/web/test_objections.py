"""G3 on the DPO's page: the objections waiting for a decision are listed with the agent's reason
and decided there, with a reason the agent reads; nobody else can decide one."""

from __future__ import annotations

from loyaute.policy.rights import object_to_processing
from loyaute.policy.roles import Identity, Role
from tests.web.support import Scenario, Web


def test_g3_the_dpo_decides_an_objection_from_the_dashboard(web: Web, scenario: Scenario) -> None:
    agent = web.account("agent")
    with web.workspace() as ws:
        number = object_to_processing(
            ws, Identity(agent.login, Role.AGENT, agent.agent_id), "Mon travail est au téléphone"
        )
    dpo = web.signed_in("dpo")
    page = dpo.get("/dpo")
    assert page.status_code == 200
    assert f"n° {number}" in page.text
    assert "Mon travail est au téléphone" in page.text

    # Without a reason, or with a decision that is not one, nothing is decided.
    form = {"csrf": dpo.csrf, "number": str(number), "decision": "maybe", "reason": "motifs"}
    assert dpo.post("/dpo/objections", data=form).status_code == 400
    with web.workspace() as ws:
        found = ws.db.individual.objection(number)
        assert found is not None
        assert found.decided_on == ""

    # Another role cannot decide it, even with its own valid session and token.
    hr = web.signed_in("hr_reviewer")
    refused = hr.post(
        "/dpo/objections",
        data={"csrf": hr.csrf, "number": str(number), "decision": "upheld", "reason": "x"},
    )
    assert refused.status_code == 403

    form["decision"] = "upheld"
    form["reason"] = "Accueillie : le traitement s'arrête à votre sujet"
    done = dpo.post("/dpo/objections", data=form)
    assert done.status_code == 303
    assert f"n° {number}" not in dpo.get("/dpo").text
    with web.workspace() as ws:
        found = ws.db.individual.objection(number)
        assert found is not None
        assert (found.decision, found.decision_reason) == (
            "upheld",
            "Accueillie : le traitement s'arrête à votre sujet",
        )
        kinds = [n.kind for n in ws.db.individual.notifications_of(agent.agent_id)]
        assert "objection_decided" in kinds
    # The agent reads the decision, in words, on their own page.
    mine = web.signed_in("agent").get("/me")
    assert "Décision sur votre opposition : accueillie" in mine.text
    # Deciding it twice is refused (already decided: the input is wrong, not its form).
    assert dpo.post("/dpo/objections", data=form).status_code == 422
