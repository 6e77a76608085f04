"""Airflow DAG: the weekly customer-journey report of one client (an example to copy).

Copy this file into the Airflow ``dags/`` folder and set the three constants below. The task
runs the ``journey`` command of the project's virtual environment; Airflow only schedules it,
so the project does not depend on Airflow and Airflow does not import journeylib.

Why it is safe to retry and to backfill:

* the run id is the DAG run's logical date (``{{ ds_nodash }}``), so a retry of the same DAG run
  uses the same id: when an earlier try already published the report, ``journey run`` does
  nothing and exits 0; when it failed, the run starts again from scratch (the failed attempt in
  ``reports/<client>/_failed/<run_id>/`` is replaced);
* ``--as-of {{ ds }}`` fixes the observation date, so a backfill
  (``airflow dags backfill -s 2025-01-06 -e 2025-03-31 journey_report_acme``) rebuilds each
  week's report as it would have looked then; ``latest`` keeps pointing at the report with the
  latest ``as_of``;
* ``max_active_runs=1``: runs of one client never overlap (they share the processed tables).

Exit codes of ``journey run`` (any non-zero fails the task): 0 ok or already published,
1 a notebook failed or a cell ran past ``report.cell_timeout_seconds``, 2 bad config or data,
3 personal data found in the report. Retries help with 1 (a transient failure); 2 and 3 need a
person, the retries then fail the same way (cheaply: bad data stops before any notebook).

With ``schedule="0 2 * * 1"`` a DAG run's ``ds`` is the start of the week it covers (Airflow's
data interval); to report up to the last complete day instead, use
``--as-of {{ macros.ds_add(data_interval_end | ds, -1) }}`` (and keep ``--run-id {{ ds_nodash }}``).
"""

from __future__ import annotations

import datetime as dt

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

CLIENT = "acme"
PROJECT = "/srv/journeylib"  # the checkout with .venv/ and configs/
ENV_FILE = f"/etc/journeylib/{CLIENT}.env"  # chmod 600; holds: export JOURNEY_ID_KEY=...

with DAG(
    dag_id=f"journey_report_{CLIENT}",
    description=f"Weekly customer-journey report for {CLIENT}",
    schedule="0 2 * * 1",  # Mondays 02:00 (the scheduler's time zone)
    start_date=dt.datetime(2025, 1, 6),
    catchup=False,  # backfills are explicit: airflow dags backfill ...
    max_active_runs=1,
    default_args={
        "owner": "analytics",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=15),
        # a whole run; each notebook cell has its own limit (report.cell_timeout_seconds)
        "execution_timeout": dt.timedelta(hours=3),
    },
    tags=["journeylib", CLIENT],
) as dag:
    BashOperator(
        task_id="journey_run",
        # --log-lines: timestamped lines in the task log; the report's own log is
        # reports/<client>/<run_id>/logs/run.log (or _failed/<run_id>/logs/run.log)
        bash_command=(
            f"set -euo pipefail; cd {PROJECT} && . {ENV_FILE} && "
            f".venv/bin/journey --log-lines run configs/{CLIENT}.yaml "
            "--as-of {{ ds }} --run-id {{ ds_nodash }}"
        ),
    )
