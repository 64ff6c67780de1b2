"""Apache Airflow: one DAG file per flow, one task per job, dynamic task mapping for ForEach.

Each job's operator in Airflow's terms is an ``AirflowTask`` (``tasks.py``); the DAG file is
rendered from its template, with the schedule and catch-up, in ``dagfile.py``.

What differs from the other targets, and why:

* Airflow imports every DAG file again and again (scheduler, DAG processor, each task), so the
  generated file imports only Airflow and the standard library: never laminar or the user's
  flow. Each task runs the runtime shim.
* ``--operator python`` (the default) makes each task a ``PythonOperator`` whose callable runs
  ``python -m laminar ...`` with the worker's own interpreter (``sys.executable``), where
  laminar and the flow's code are installed. A Python callable rather than a ``BashOperator``:
  a planning task returns a real list through XCom; run-time values (run id, leg) travel as
  environment variables without any shell quoting; and the shim commands sit in a module-level
  table that Airflow never renders with Jinja, so a ``{{`` in a path or an env value stays
  literal. ``--operator kubernetes`` makes each task a ``KubernetesPodOperator`` running the
  shim in ``--image``; its templated fields get user strings wrapped in ``literal()``.
  Each operator kind has its own template (``templates/airflow/``).
* A ``PLAN`` job returns the leg numbers (small integers) and the ``MAPPED`` job is expanded
  over them; a fan-out after a layer that runs once is planned by that layer's task, which
  returns them (``backends/fusion.py``), so it has no planning task. The number of legs is
  capped by ``[core] max_map_length`` read where the DAG runs (``--max-map-length`` overrides
  it), the shim batching tasks into legs, so a fan-out of any size runs on any deployment.
* An empty mapped input marks the mapped task *skipped*, and Airflow's default trigger rule
  (``all_success``) would skip everything downstream. Every task uses ``none_failed`` instead:
  it runs when no upstream failed, so an empty fan-out lets the flow go on, while a failure
  still marks dependants ``upstream_failed`` and fails the run.
* A layer skipped at run time (an entry hook returned False, or a layer before it was
  skipped) ends in Airflow's own ``skipped`` state. The shim decides, as everywhere: a layer
  with an entry hook has a planning task that returns no legs, so its mapped task is skipped;
  any other task asks the shim, which exits with ``SKIPPED_STATUS`` (99) when the layer was
  skipped, and the task raises ``AirflowSkipException`` (a pod: ``skip_on_exit_code``).
  With ``none_failed`` everywhere, every task after a skip still starts and asks, so a join
  with an entry hook runs and anything else is skipped, exactly as ``laminar run`` decides.
* The Airflow run id is the execution id: clearing a failed task and re-running it resumes
  from the committed results.
"""

from __future__ import annotations

from dataclasses import replace

from laminar.backends.airflow.dagfile import dag_file
from laminar.backends.airflow.options import AirflowOptions
from laminar.backends.airflow.tasks import AirflowTask, in_workdir, task_variables
from laminar.backends.dialect import Dialect
from laminar.backends.jobs import Job, JobGraph, JobKind, OutputKind
from laminar.backends.kubernetes import quantities, toleration_fields
from laminar.backends.naming import NameRule
from laminar.backends.sizing import sizes_pods
from laminar.backends.traits import Traits
from laminar.contract import ENV_MAX_LEGS, ENV_OUTPUT, SKIPPED_STATUS, PlanFormat, file_named_by
from laminar.errors import CompileError

#: Where a KubernetesPodOperator's container writes its XCom (read by the xcom sidecar).
K8S_XCOM_PATH = "/airflow/xcom/return.json"


class AirflowDialect(Dialect):
    target = "airflow"
    description = "Apache Airflow DAG file (Airflow 3; 2.10 imports as fallback)"
    chaining = (
        "a TriggerDagRunOperator as the last task of this DAG (trigger_dag_id: the next "
        "DAG, conf: its inputs)"
    )
    options_class = AirflowOptions
    TRAITS = Traits(
        # Airflow's KEY_REGEX ^[\w.-]+$ and 250 characters; ASCII only, so ids read the same
        # everywhere (logs, URLs, the CLI).
        name_rule=NameRule(
            allowed="A-Za-z0-9_.-", max_length=250, separator="_", first="[A-Za-z0-9_]"
        ),
        # A JSON list of leg numbers, which the mapped task expands over.
        plan_format=PlanFormat.LIST,
        # A python task's callable gives the shim a temporary file (its content becomes
        # the XCom); a pod writes the xcom sidecar's file (see ``traits``).
        output_path=file_named_by(ENV_OUTPUT),
        # The shim decides skips in each task and says so by its exit status.
        native_skips=False,
        # A fan-out after a layer that runs once expands over that layer's task's XCom.
        fuse_plans=True,
        # The exit task (trigger rule all_done) is the DAG's only leaf: it fails the run.
        exit_reports_run=True,
        skipped_status=SKIPPED_STATUS,
        # The cap on legs is [core] max_map_length, handed over when the task runs
        # ($LAMINAR_MAX_LEGS): no --max-legs in the commands.
    )
    settings: AirflowOptions
    #: Each job's Python variable in the DAG file (set by ``render``, read by each job).
    variables: dict[str, str]

    @property
    def traits(self) -> Traits:
        if not self.kubernetes:
            return self.TRAITS
        # A pod asks for what the layer's hooks decide (the plan's legs carry it).
        return replace(
            self.TRAITS,
            needs_image=True,
            output_path=K8S_XCOM_PATH,
            sized_pods=True,
            gpu_resource=self.settings.gpu_resource,
        )

    @property
    def kubernetes(self) -> bool:
        return self.settings.operator == "kubernetes"

    def dropped(self) -> dict[str, str]:
        queue = "send its tasks to suitable workers with Container(queue=...)"
        if self.kubernetes:
            return {"runs_on": queue}
        pod = "compile with --operator kubernetes to run each task in a pod of its own"
        names = ("image", "cpu", "memory", "gpu", "node_selector", "tolerations", "workdir")
        return {**dict.fromkeys(names, pod), "command": pod, "runs_on": queue}

    def run_time_env(self) -> dict[str, str]:
        # The planning task's cap: --max-map-length, else [core] max_map_length's default.
        return {ENV_MAX_LEGS: str(self.settings.max_map_length or 1024)}

    def where(self) -> str:
        return "" if self.kubernetes else "with the python operator (tasks run on the workers)"

    # -- one method per kind of job ---------------------------------------------------------
    def run_job(self, graph: JobGraph, job: Job) -> AirflowTask:
        return self.task(job, upstream=job.after)

    def plan_job(self, graph: JobGraph, job: Job) -> AirflowTask:
        return self.task(job, upstream=job.after)

    def mapped_job(self, graph: JobGraph, job: Job) -> AirflowTask:
        assert job.plan is not None
        # Expanding over the plan's XCom makes the plan an upstream; a layer following
        # another's legs also waits for that layer's tasks.
        upstream = tuple(after for after in job.after if after != job.plan)
        return self.task(job, upstream=upstream, expand_over=job.plan)

    def task(
        self,
        job: Job,
        *,
        upstream: tuple[str, ...],
        expand_over: str | None = None,
    ) -> AirflowTask:
        retry = job.retry
        backoff = None if retry is None or float(retry.backoff) == 1.0 else float(retry.backoff)
        return AirflowTask(
            job=job,
            var=self.variables[job.id],
            args=job.argv[job.executable :],
            pod_command=in_workdir(job.argv, job.workdir),
            upstream=tuple(self.variables[u] for u in upstream),
            expand_over=self.variables[expand_over] if expand_over else None,
            plans=bool(job.outputs_of(OutputKind.LEGS)),
            sized=job.kind is JobKind.MAPPED and sizes_pods(job.spec, self.traits),
            retries=0 if retry is None else retry.attempts - 1,
            retry_delay=0.0 if retry is None else float(retry.delay),
            retry_exponential_backoff=backoff,
            execution_timeout=job.timeout,
            max_active_tis_per_dagrun=job.concurrency,
            container_resources=quantities(job.resources, self.settings.gpu_resource),
            node_selector=dict(job.placement.node_selector),
            tolerations=tuple(map(toleration_fields, job.placement.tolerations)),
        )

    # -- the DAG file -----------------------------------------------------------------------
    def render(self, graph: JobGraph) -> str:
        self.variables = task_variables(graph)
        tasks = [self.translate(graph, job) for job in graph.jobs]
        if graph.exit is not None:  # after every task, whatever happened (all_done)
            tasks.append(self.task(graph.exit, upstream=tuple(j.id for j in graph.jobs)))
        if self.kubernetes and not graph.datastore:
            raise CompileError(
                "Kubernetes pods need a datastore they can all reach: pass --datastore, such "
                "as s3://BUCKET/PREFIX."
            )
        return dag_file(self.settings, graph, tasks, self.TRAITS.name_rule)


__all__ = ["AirflowDialect", "AirflowOptions"]
