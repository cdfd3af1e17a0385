"""An Airflow DAG that runs flowetl nightly, one task per source.

Copy it into your dags folder and set SOURCES to the NAMEs of your [source.NAME]
sections. Each task runs `flowetl run NAME`, so the sources load in parallel and
fail, retry and skip on their own. flowetl's exit codes map to task states:

    0        success
    1        some stream failed (the others were loaded): failed, retried
    2        usage or configuration error: failed (a retry will not help, but is harmless)
    3        the warehouse could not be reached: failed, retried
    4        another flowetl run was loading the source: skipped (skip_on_exit_code)
    5        loaded, but the source's verification (verify = fail) found differences:
             failed; the data is committed, see `flowetl verify NAME` and `flowetl status`
    143/130  stopped by SIGTERM/SIGINT (Airflow's own kill): failed, retried

Retries are safe: runs are idempotent and continue from the last committed
checkpoint. Secrets come from the environment (the config names them ${NAME}):
here from Airflow Variables, passed in `env` and never on the command line.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

FLOWETL = "/usr/local/bin/flowetl"
CONFIG = "/etc/flowetl/flowetl.conf"
# NAME of each [source.NAME] section, and the environment variables its config uses.
SOURCES = {
    "posiflora_main": ["POSIFLORA_PASSWORD"],
    "goflow_main": ["GOFLOW_TOKEN"],
    "flowwow_main": ["FLOWWOW_TOKEN"],
    "flowretail_main": ["FLOWRETAIL_TOKEN"],
}
EXIT_SKIPPED = 4  # another run holds the source: not a failure


def source_env(names):
    """The environment of one task: its secrets from Airflow Variables, read when the
    task runs (a template), not when the DAG file is parsed."""
    env = {name: "{{ var.value.%s }}" % name.lower() for name in names}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env


with DAG(
    dag_id="flowetl",
    description="Load the retail APIs into the warehouse with flowetl",
    schedule="15 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=10),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=6),
    },
    tags=["flowetl", "etl"],
) as dag:
    loads = [
        BashOperator(
            task_id=f"load_{name}",
            bash_command=f"{FLOWETL} -q -c {CONFIG} run {name}",
            env=source_env(secrets),
            append_env=False,
            skip_on_exit_code=EXIT_SKIPPED,
        )
        for name, secrets in SOURCES.items()
    ]

    # The status of every stream after the loads: fails (exit 1) on a stream whose
    # data is older than its error_after, whichever task loaded it.
    freshness = BashOperator(
        task_id="status",
        bash_command=f"{FLOWETL} -c {CONFIG} status",
        trigger_rule="all_done",
    )
    loads >> freshness
