"""``@hooks.submission`` and ``@hooks.retry`` (issue 25), as the original laminar library's docs
use them: a submission hook sizes each task of a ForEach from its upstream layer, a retry hook
doubles memory before each retry. The values are what ``__call__`` sees and what the task's log
records, locally and in a task an orchestrator retries; targets that cannot give them to the
pods say so at compile time."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import laminar

from laminar import Container, Flow, Layer
from laminar.backends import generate
from laminar.cli.inprocess import call
from laminar.configurations import hooks
from laminar.contract import ENV_ATTEMPT
from laminar.errors import CompileWarning, FlowDefinitionError
from laminar.model.loader import load_flow

SIZED = """
from laminar import Flow, Layer
from laminar.configurations import hooks, layers
from laminar.types import unwrap


class HookFlow(Flow): ...


@HookFlow.register
class A(Layer):
    def __call__(self) -> None:
        self.shard(baz=["a", "b", "c"])


@HookFlow.register(foreach=layers.ForEach(parameters=[layers.Parameter(layer=A, attribute="baz")]))
class B(Layer):
    def __call__(self, a: A) -> None:
        print(a.baz, self.configuration.container.memory)
        self.memory = self.configuration.container.memory

    @hooks.submission
    def configure_container(self, a: A) -> None:
        memory = {"a": 1000, "b": 1500, "c": 2000}
        self.configuration.container.memory = memory[a.baz[unwrap(self.index)]]


if flow := HookFlow():
    flow()
"""

GROWING = """
from laminar import Container, Flow, Layer, Retry
from laminar.configurations import hooks


class Growing(Flow): ...


@Growing.register(container=Container(cpu=1, memory=1000), retry=Retry(attempts=3, delay=0))
class Train(Layer):
    def __call__(self) -> None:
        self.memory = self.configuration.container.memory
        if self.memory < 4000:
            raise MemoryError(f"out of memory at {self.memory}")

    @hooks.retry
    def more_memory(self) -> None:
        self.configuration.container.memory = self.configuration.container.memory * 2
"""


def test_a_submission_hook_sizes_each_task_of_a_foreach(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow(SIZED, "sized.py")
    done = subprocess.run(
        [sys.executable, str(path), "--datastore", str(tmp_path), "--execution", "e"],
        cwd=path.parent, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.splitlines() == ["a 1000", "b 1500", "c 2000"]  # the original's output
    assert "B[1] asks for memory=1500 (decided by its hooks)" in done.stderr
    results = load_flow(str(path)).results("e", str(tmp_path))
    assert list(results["B"].memory) == [1000, 1500, 2000]
    logs = laminar("logs", str(path), "B[2]", "--execution", "e", "--datastore", str(tmp_path),
                   cwd=path.parent).stdout  # fmt: skip
    assert "asks for memory=2000" in logs


def test_a_retry_hook_doubles_memory_before_each_retry(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow(GROWING, "growing.py")
    flow = load_flow(str(path))
    done = flow(datastore=str(tmp_path))()
    assert done.layer("Train").memory == 4000  # 1000, then 2000, then 4000: it fits


def test_a_task_the_orchestrator_retries_replays_the_retry_hooks(
    write_flow: Callable[[str, str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Airflow and Argo start the task again: attempt 3 asks for what a local third try does."""
    path = write_flow(GROWING, "growing.py")
    env = {"LAMINAR_EXECUTION": "run-1", "LAMINAR_DATASTORE": str(tmp_path)}
    assert call(["task", str(path), "--layer=Train"], env={**env, ENV_ATTEMPT: "2"}) == 1
    assert "out of memory at 2000" in capsys.readouterr().err
    assert call(["task", str(path), "--layer=Train"], env={**env, ENV_ATTEMPT: "3"}) == 0
    assert "Train asks for cpu=1 memory=4000" in capsys.readouterr().err
    assert load_flow(str(path)).results("run-1", str(tmp_path))["Train"].memory == 4000


def _flow_with(hook: Callable[..., object]) -> type[Flow]:
    class Hooked(Flow): ...

    @Hooked.register(container=Container(memory=1000))
    class Work(Layer):
        def __call__(self) -> None:
            self.memory = self.configuration.container.memory

    Work.resize = hooks.submission(hook)  # type: ignore[attr-defined]
    return Hooked


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("memory", "lots", r"Container\(memory='lots'\) must be megabytes"),
        ("cpu", -1, r"Container\(cpu=-1\)"),
        ("image", "other:1", "hooks may set cpu, memory, gpu"),
    ],
)
def test_what_a_hook_sets_is_checked_and_the_task_fails_at_the_users_line(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    def resize(self: Layer) -> None:
        setattr(self.configuration.container, field, value)

    flow = _flow_with(resize)
    message = rf"Layer Work: its @hooks\.submission hook resize set a resource .*{message}"
    with pytest.raises(Exception, match=message) as info:
        flow(datastore=str(tmp_path))()
    assert any(entry.name == "resize" for entry in info.traceback)  # the user's hook


def test_the_layers_own_settings_stay_as_declared(tmp_path: Path) -> None:
    def resize(self: Layer) -> None:
        self.configuration.container.memory = 3000

    flow = _flow_with(resize)
    done = flow(datastore=str(tmp_path))()
    assert done.layer("Work").memory == 3000
    assert flow.ir().spec("Work").settings.container.memory == 1000  # type: ignore[union-attr]


def test_a_generator_submission_hook_is_refused() -> None:
    class Yielding(Flow): ...

    @Yielding.register
    class Work(Layer):
        @hooks.submission
        def resize(self) -> object:
            yield

    with pytest.raises(FlowDefinitionError, match=r"Submission hook Work\.resize is a generator"):
        Yielding.ir()


@pytest.mark.parametrize(
    ("target", "options"),
    [
        ("airflow", {}),  # the python operator: tasks run on the workers
        ("github", {}),
    ],
)
def test_targets_that_keep_declared_resources_say_so(target: str, options: dict[str, str]) -> None:
    Sized = _sized_flow()
    told, _ = _compiled(target, Sized, options)
    for kind in ("submission", "retry"):
        assert any(
            m.startswith(
                f"Layer B: {target} does not give its tasks the resources its "
                f"@hooks.{kind} hook decides"
            )
            for m in told
        ), told


def _sized_flow() -> type[Flow]:
    from flows.sized import Sized

    return Sized


def _compiled(target: str, flow: type[Flow], options: dict[str, str]) -> tuple[list[str], str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = generate(target, flow.ir(), flow_ref="sized.py", **options)
    return [str(w.message) for w in caught if w.category is CompileWarning], text


@pytest.mark.parametrize(
    ("target", "options", "applied"),
    [
        ("argo", {}, "podSpecPatch"),
        ("airflow", {"operator": "kubernetes"}, "SizedPodOperator"),
    ],
)
def test_targets_that_size_pods_do_not_warn(
    target: str, options: dict[str, str], applied: str
) -> None:
    """Their plans decide the resources and each pod gets its own (tests/argo, tests/airflow)."""
    options = {**options, "image": "i:1", "datastore": "s3://b/p"}
    told, text = _compiled(target, _sized_flow(), options)
    assert not [m for m in told if "@hooks." in m], told
    assert applied in text


BAD_SIZE = GROWING.replace(
    "self.configuration.container.memory * 2", '"lots" if self.attempt else 0'
)


def test_a_plan_whose_hook_sets_a_bad_size_fails_naming_the_layer_and_hook(
    write_flow: Callable[[str, str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan runs the retry hooks ahead for every try: a value no pod could ask for fails it."""
    path = write_flow(BAD_SIZE, "bad.py")
    env = {"LAMINAR_EXECUTION": "run-1", "LAMINAR_DATASTORE": str(tmp_path / "store")}
    sizes = tmp_path / "sizes.json"
    argv = ["plan", str(path), "--layer=Train", "--resources-output", str(sizes)]
    assert call(argv, env=env) != 0
    err = capsys.readouterr().err
    assert "Layer Train: its @hooks.retry hook more_memory set a resource" in err
    assert "Container(memory='lots') must be megabytes" in err
    assert not sizes.exists()


def test_the_plan_writes_each_try_s_resources(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow(GROWING, "growing.py")
    env = {"LAMINAR_EXECUTION": "run-1", "LAMINAR_DATASTORE": str(tmp_path / "store")}
    sizes = tmp_path / "sizes.json"
    argv = ["plan", str(path), "--layer=Train", "--format", "sized", "--output", str(sizes)]
    assert call(argv, env=env) == 0
    assert sizes.read_text() == (
        '[{"leg":0,"resources":[{"cpu":"1","memory":"1000M"},{"cpu":"1","memory":"2000M"},'
        '{"cpu":"1","memory":"4000M"}]}]\n'
    )


def test_plan_resources_must_name_a_layer_and_a_file(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow(GROWING, "growing.py")
    done = laminar(
        "task", str(path), "--layer=Train",
        "--then-plan=B", "--plan-output=x", "--plan-resources=x",
        "--execution", "e", "--datastore", str(tmp_path), cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "--plan-resources=x must be LAYER=FILE" in done.stderr
