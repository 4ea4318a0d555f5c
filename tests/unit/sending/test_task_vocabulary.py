"""The task vocabulary, declared once in broadcaster.delivery.broker: every task the workers
declare is named there, routed by its one queue table, and every periodic job is on beat's
schedule at its setting's interval. The wire names are a contract with running fleets (a worker
started with `-Q live` from an older release), so they are spelled out here, once."""

import ast
from pathlib import Path

from broadcaster.config import Settings
from broadcaster.delivery.broker import PERIODIC_JOBS, QUEUE_OF, Queue, TaskName, make_app

ROOT = Path(__file__).resolve().parents[3]


def test_the_wire_names_are_the_deployed_ones():
    assert [q.value for q in Queue] == ["live", "bulk", "reconcile"]
    assert {t.value for t in TaskName} == {
        "broadcaster.send_chunk", "broadcaster.fan_out", "broadcaster.sweep", "broadcaster.reconcile",
        "broadcaster.social_tick", "broadcaster.maintenance_due", "broadcaster.update_reminders",
        "broadcaster.alert_holding_due", "broadcaster.stop_embedded_worker", "broadcaster.wake"}


def test_every_task_has_a_queue_and_the_workers_declare_every_task():
    from workers.app import celery_app
    from workers.tasks import send_chunk  # noqa: F401 - registers the tasks

    assert set(QUEUE_OF) == set(TaskName)
    declared = {name for name in celery_app.tasks if name.startswith("broadcaster.")}
    assert declared == {t.value for t in TaskName}
    for task, queue in QUEUE_OF.items():
        assert celery_app.amqp.router.route({}, task.value)["queue"].name == queue.value


def test_beat_runs_every_periodic_job_at_its_settings_interval():
    settings = Settings(_env_file=None, sweep_interval_seconds=7, social_pull_interval_seconds=30,
                        update_reminder_interval_seconds=45, alert_holding_check_seconds=20)
    schedule = make_app(settings).conf.beat_schedule
    assert {name: (entry["task"], entry["schedule"], entry["options"]["expires"])
            for name, entry in schedule.items()} == {
        job.name: (job.task.value, job.seconds(settings), max(job.seconds(settings), 10)) for job in PERIODIC_JOBS}
    # A run waits for a busy worker at least 10 s before it is dropped (the sweep at 7 s too), else
    # at most its interval (social at 30 s, reminders at 45 s).
    assert schedule["sweep"]["options"]["expires"] == 10 and schedule["reminders"]["options"]["expires"] == 45
    assert schedule["maintenance"]["schedule"] == 7 and schedule["social"]["schedule"] == 30
    assert schedule["reminders"]["schedule"] == 45 and schedule["alert holding"]["schedule"] == 20
    assert {job.task for job in PERIODIC_JOBS} == {TaskName.SWEEP, TaskName.SOCIAL_TICK, TaskName.MAINTENANCE_DUE,
                                                   TaskName.UPDATE_REMINDERS, TaskName.ALERT_HOLDING_DUE}


def _spelled(path: Path) -> set[str]:
    """Task names written as string literals (a logger may share a name: `broadcaster.sweep`), and
    queue names where a queue is meant: a `queue=`/`queues=` argument, a `"queue":` entry, a
    comma-separated list of queues."""
    tasks, queues = {t.value for t in TaskName}, {q.value for q in Queue}
    tree = ast.parse(path.read_text())
    loggers = {id(node.args[0]) for node in ast.walk(tree) if isinstance(node, ast.Call) and node.args
               and getattr(node.func, "attr", getattr(node.func, "id", "")) == "getLogger"}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in loggers:
            if node.value in tasks or (set(node.value.split(",")) <= queues and "," in node.value):
                found.add(node.value)
        queue_values = []
        if isinstance(node, ast.keyword) and node.arg in ("queue", "queues"):
            queue_values.append(node.value)
        if isinstance(node, ast.Dict):
            queue_values += [v for k, v in zip(node.keys, node.values, strict=True)
                             if isinstance(k, ast.Constant) and k.value == "queue"]
        for value in queue_values:
            for leaf in ast.walk(value):
                if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                    found |= set(leaf.value.split(",")) & queues
    return found


def test_no_task_name_or_queue_is_spelled_outside_the_vocabulary():
    vocabulary = ROOT / "broadcaster" / "delivery" / "broker.py"
    spelled = {}
    for top in ("broadcaster", "workers", "bench"):
        for path in (ROOT / top).rglob("*.py"):
            if path != vocabulary and "migrations" not in path.parts and (found := _spelled(path)):
                spelled[str(path.relative_to(ROOT))] = sorted(found)
    assert spelled == {}


def test_the_checker_finds_a_spelled_task_or_queue(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('import logging\nlogging.getLogger("broadcaster.sweep")\nkind = "live"\n'
                      'app.send_task("broadcaster.wake", queue="live")\nroutes = {"queue": "bulk"}\n'
                      'default = "live,bulk"\n')
    assert _spelled(sample) == {"broadcaster.wake", "live", "bulk", "live,bulk"}
