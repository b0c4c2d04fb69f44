"""Monthly sampling: reproducible, re-runnable without duplicates, targeted rules on top,
assignment to the agent's own team lead or QA staff by workload, progress reported."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from qa.models import AssignMode, Evaluation, SampleReason, SampleRunStatus
from qa.services.sampling import sample_run_execute, sample_run_start
from tests.factories import CallFactory, SurveyFactory


def run(org, month, actor=None, **kw):
    r = sample_run_start(actor=actor or org.trainer, month=month, dispatch=False, **kw)
    return sample_run_execute(run_id=r.pk)


def sampled(agent=None):
    qs = Evaluation.objects.filter(calibration__isnull=True)
    if agent:
        qs = qs.filter(agent=agent)
    return sorted(qs.values_list("call_id", flat=True))


def test_it_takes_n_random_calls_per_agent_and_assigns_them_to_the_team_lead(
    org, card, month_calls, this_month
):
    result = run(org, this_month)
    assert result.status == SampleRunStatus.DONE
    assert result.done == result.total == 4  # agent1..agent4 (agent4 has no calls)
    for name in ("agent1", "agent2", "agent3"):
        evs = Evaluation.objects.filter(agent=getattr(org, name))
        assert evs.count() == 2
        assert {e.call.agent_id for e in evs} == {getattr(org, name).pk}
    assert set(Evaluation.objects.filter(team=org.team_a).values_list("evaluator", flat=True)) == {
        org.lead1.pk
    }
    assert set(Evaluation.objects.filter(team=org.team_b).values_list("evaluator", flat=True)) == {
        org.lead2.pk
    }
    assert all(e.due_date and e.scorecard_id == card.pk for e in Evaluation.objects.all())


def test_the_same_seed_gives_the_same_sample(org, card, month_calls, this_month):
    run(org, this_month, seed=42)
    first = sampled()
    Evaluation.objects.all().delete()
    run(org, this_month, seed=42)
    assert sampled() == first
    Evaluation.objects.all().delete()
    run(org, this_month, seed=43)
    # A different seed picks differently (6 calls, 15 possible pairs per agent).
    assert sampled() != first


def test_a_rerun_adds_only_what_is_missing(org, card, month_calls, this_month):
    run(org, this_month)
    before = sampled()
    again = run(org, this_month)
    assert again.created == 0
    assert sampled() == before
    # A new agent's calls arrive later: only that agent gets a sample on the next run.
    CallFactory(agent=org.agent4, recorded=True)
    third = run(org, this_month)
    assert third.created == 1
    assert len(sampled()) == len(before) + 1
    assert len(set(sampled())) == len(sampled())


def test_targeted_rules_add_calls_on_top(org, card, month_calls, this_month):
    from tickets.models import PiiDetection

    long_call = month_calls["agent1"][0]
    long_call.talk_seconds = 900
    long_call.save()
    PiiDetection.objects.create(
        agent=org.agent2,
        call=month_calls["agent2"][1],
        field="note",
        kind="rrn",
        masked="900101-1******",
        at=long_call.ended_at,
    )
    run(org, this_month, rules=[SampleReason.LONG_HANDLE, SampleReason.PII])
    a1 = Evaluation.objects.filter(agent=org.agent1)
    assert a1.filter(reason=SampleReason.RANDOM).count() == 2
    # The long call is either already randomly sampled or added as targeted.
    assert a1.filter(call=long_call).exists()
    a2 = Evaluation.objects.filter(agent=org.agent2)
    assert a2.filter(call=month_calls["agent2"][1]).exists()
    assert (
        Evaluation.objects.filter(agent=org.agent3, reason__in=["long_handle", "pii"]).count() == 0
    )


def test_qa_staff_mode_balances_by_workload(org, card, month_calls, this_month):
    from agents.models import Role
    from tests.factories import PersonFactory

    trainer2 = PersonFactory(username="trainer2", role=Role.TRAINING_LEAD, center=org.center)
    run(org, this_month, assign_mode=AssignMode.QA_STAFF)
    loads = {p.pk: Evaluation.objects.filter(evaluator=p).count() for p in (org.trainer, trainer2)}
    assert sum(loads.values()) == 6
    assert loads[org.trainer.pk] == loads[trainer2.pk] == 3


def test_who_may_sample(org, card, this_month):
    with pytest.raises(PermissionDenied):
        sample_run_start(actor=org.lead1, month=this_month, dispatch=False)
    with pytest.raises(PermissionDenied):
        sample_run_start(actor=org.agent1, month=this_month, dispatch=False)
    # A manager samples their own department, not the center nor another department.
    with pytest.raises(ValidationError):
        sample_run_start(actor=org.manager, month=this_month, dispatch=False)
    with pytest.raises(PermissionDenied):
        sample_run_start(actor=org.manager, month=this_month, department=org.signup, dispatch=False)
    assert sample_run_start(
        actor=org.manager, month=this_month, department=org.general, dispatch=False
    )
    with pytest.raises(ValidationError):
        sample_run_start(actor=org.trainer, month=this_month, rules=["bogus"], dispatch=False)


def test_the_command_shows_progress(org, card, month_calls, this_month, capsys):
    call_command("qa_sample", month=this_month.strftime("%Y-%m"), user="trainer1")
    out = capsys.readouterr().out
    assert "4/4 agents" in out
    assert "6 evaluations" in out
    assert Evaluation.objects.count() == 6


def test_a_too_large_seed_is_a_form_error_not_a_500(client, org, card, this_month):
    from qa.models import SampleRun

    client.force_login(org.trainer)
    data = {"month": this_month.strftime("%Y-%m"), "assign_mode": "team_lead", "seed": 10**20}
    response = client.post("/qa/sampling/", data)
    assert response.status_code == 400 and not SampleRun.objects.exists()


def test_after_a_run_the_page_says_how_many_evaluations_were_created_for_whom(
    client, org, card, month_calls, this_month
):
    done = run(org, this_month)
    client.force_login(org.trainer)
    body = client.get(f"/qa/sampling/?run={done.pk}").content.decode()
    assert 'data-status="done" data-created="6"' in body  # 2 calls × agent1..agent3
    message = body.split('id="run-result"')[1].split("</div>")[0]
    assert f'{org.lead1} <span class="mono">4</span>' in message  # team A: agent1, agent2
    assert f'{org.lead2} <span class="mono">2</span>' in message
    # While a run is going, the message polls its progress; a rerun adds nothing and says so.
    again = run(org, this_month)
    part = client.get(f"/qa/sampling/{again.pk}/?part=result").content.decode()
    assert 'id="run-result"' in part and 'data-created="0"' in part
    assert client.get("/qa/sampling/?run=999999").status_code == 200


def test_a_call_its_caller_rated_low_is_sampled_under_the_low_csat_rule(
    org, card, month_calls, this_month
):
    from qa.models import SamplingPolicy

    SamplingPolicy.objects.filter(department=org.general).update(calls_per_agent=0)
    for call, score in ((month_calls["agent3"][0], 1), (month_calls["agent3"][1], 5)):
        SurveyFactory(call=call, score=score)
    run(org, this_month, rules=[SampleReason.LOW_CSAT])
    # No random calls this month: only the call rated 1 of 5 is taken.
    assert list(Evaluation.objects.values_list("call_id", "reason")) == [
        (month_calls["agent3"][0].pk, SampleReason.LOW_CSAT)
    ]
