"""The alarms an operator is woken by: every function's errors and throttles, the authorizer's errors, failed and
timed-out executions, dead-letter queues that hold an event, a nightly export not committed by its deadline; all
notify the optional AlarmTopicArn."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from devtools.template import ROOT, load_template, resources

pytestmark = pytest.mark.template


def _alarms() -> dict:
    return resources(load_template(), "AWS::CloudWatch::Alarm")


def _lambda_metrics(alarm: dict) -> list[tuple[str, str]]:
    found = []
    for query in alarm["Properties"].get("Metrics", []):
        metric = query.get("MetricStat", {}).get("Metric", {})
        if metric.get("Namespace") == "AWS/Lambda":
            (dimension,) = metric["Dimensions"]
            found.append((metric["MetricName"], dimension["Value"]["Ref"]))
    return found


def test_every_function_is_in_one_errors_alarm_and_one_throttles_alarm():
    functions = set(resources(load_template(), "AWS::Serverless::Function"))
    for metric in ("Errors", "Throttles"):
        covered = Counter(fn for alarm in _alarms().values() for name, fn in _lambda_metrics(alarm) if name == metric)
        missing = functions - set(covered)
        assert not missing, f"add {sorted(missing)} to a group of the {metric} alarms in template/11-alarms.yaml"
        assert all(count == 1 for count in covered.values()), covered
        assert set(covered) <= functions


def test_metric_math_alarms_stay_within_cloudwatchs_ten_metrics_and_sum_them():
    for name, alarm in _alarms().items():
        queries = alarm["Properties"].get("Metrics")
        if not queries:
            continue
        stats = [query for query in queries if "MetricStat" in query]
        (total,) = [query for query in queries if query.get("ReturnData")]
        assert 1 <= len(stats) <= 10, name
        assert total["Expression"] == f"SUM([{','.join(query['Id'] for query in stats)}])", name


def test_the_operational_alarms_exist_and_every_alarm_notifies_the_optional_topic():
    alarms = _alarms()
    assert _lambda_metrics(alarms["AuthorizerErrorsAlarm"]) == [("Errors", "AuthorizerFunction")]
    for name, metric in (
        ("ExportExecutionsFailedAlarm", "ExecutionsFailed"),
        ("ExportExecutionsTimedOutAlarm", "ExecutionsTimedOut"),
    ):
        props = alarms[name]["Properties"]
        assert (props["Namespace"], props["MetricName"]) == ("AWS/States", metric)
        assert props["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "ExportStateMachine"}}]
    queues = json.dumps(alarms["DeadLetterQueuesAlarm"]["Properties"]["Metrics"])
    for queue in ("NightlyDispatchFunctionNightlyQueue", "NightlyDispatchFunctionCommitDeadlineQueue"):
        assert queue in queues
    assert "ExportJobStatusFunctionExportExecutionStoppedQueue" in queues
    topic = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == topic == alarm["Properties"]["OKActions"], name
    assert load_template()["Parameters"]["AlarmTopicArn"]["Default"] == ""


def test_the_nightly_deadline_alarm_watches_the_metric_the_dispatcher_publishes():
    template = load_template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    props = _alarms()["NightlyNotCommittedAlarm"]["Properties"]
    assert props["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert props["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert props["MetricName"] == "NightlyNotCommitted"
    assert '"NightlyNotCommitted"' in (ROOT / "functions" / "nightly_dispatch" / "app.py").read_text()
    deadline = template["Resources"]["NightlyDispatchFunction"]["Properties"]["Events"]["CommitDeadline"]
    assert deadline["Properties"]["ScheduleExpression"] == {"Ref": "NightlyCommitDeadline"}
    assert '"detail": {"check": "commit-deadline"}' in deadline["Properties"]["Input"]["Fn::Sub"]
    sample = json.loads((ROOT / "events" / "nightly_deadline.json").read_text())
    assert sample["detail"] == {"check": "commit-deadline"}
