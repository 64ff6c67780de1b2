"""Bad input gets an error that names the layer, the attribute and the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import laminar

from laminar import Flow, Layer
from laminar.configurations.layers import Container, ForEach, Parameter, Retry
from laminar.errors import ArtifactError, ConfigurationError, FlowDefinitionError
from laminar.runtime.executor import execute
from laminar.store.datastore import Datastore


def test_cycle_is_named() -> None:
    class F(Flow): ...

    @F.register
    class A(Layer):
        def __call__(self, c: C) -> None: ...

    @F.register
    class B(Layer):
        def __call__(self, a: A) -> None: ...

    @F.register
    class C(Layer):
        def __call__(self, b: B) -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"cycle: A -> B -> C -> A"):
        F.ir()


def test_annotation_that_is_not_a_registered_layer() -> None:
    class F(Flow): ...

    class Stray(Layer):
        def __call__(self) -> None: ...

    @F.register
    class A(Layer):
        def __call__(self, stray: Stray) -> None: ...

    with pytest.raises(
        FlowDefinitionError, match=r"argument 'stray' is annotated Stray.*@F.register"
    ):
        F.ir()


def test_unannotated_argument() -> None:
    class F(Flow): ...

    @F.register
    class A(Layer):
        def __call__(self, upstream) -> None:  # type: ignore[no-untyped-def]
            ...

    with pytest.raises(FlowDefinitionError, match=r"'upstream' has no annotation"):
        F.ir()


def test_two_layers_with_the_same_name() -> None:
    class F(Flow): ...

    def make() -> type[Layer]:
        class Same(Layer):
            def __call__(self) -> None: ...

        return Same

    F.register(make())
    F.register(make())
    with pytest.raises(FlowDefinitionError, match=r"Two layers of F are named Same.*rename one"):
        F.ir()


def test_parameter_naming_a_missing_attribute() -> None:
    class F(Flow): ...

    @F.register
    class S(Layer):
        def __call__(self) -> None:
            self.shard(foo=[1])

    @F.register(foreach=ForEach(parameters=[Parameter(layer=S, attribute="fooo")]))
    class P(Layer):
        def __call__(self, s: S) -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"S never sets self.fooo \(it sets: foo\)"):
        F.ir()


def test_parameter_naming_a_layer_that_is_not_upstream() -> None:
    class F(Flow): ...

    class Elsewhere(Layer):
        def __call__(self) -> None:
            self.x = 1

    @F.register(foreach=ForEach(parameters=[Parameter(layer=Elsewhere, attribute="x")]))
    class P(Layer):
        def __call__(self) -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"Elsewhere is not registered in F"):
        F.ir()

    class G(Flow): ...

    class Later(Layer):
        def __call__(self) -> None:
            self.x = 1

    @G.register(foreach=ForEach(parameters=[Parameter(layer=Later, attribute="x")]))
    class Early(Layer):
        def __call__(self) -> None:
            self.y = 1

    @G.register
    class Later2(Layer):
        def __call__(self, early: Early) -> None:
            self.x = 1

    G.register(Later)
    Later.__call__ = Later2.__call__  # type: ignore[method-assign]  # Later now reads Early
    with pytest.raises(FlowDefinitionError, match=r"cycle: Early -> Later -> Early"):
        G.ir()


def test_index_none_over_a_layer_without_foreach() -> None:
    class F(Flow): ...

    @F.register
    class S(Layer):
        def __call__(self) -> None:
            self.shard(foo=[1])

    @F.register(foreach=ForEach(parameters=[Parameter(layer=S, attribute="foo", index=None)]))
    class P(Layer):
        def __call__(self, s: S) -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"S is not a ForEach layer.*Drop index=None"):
        F.ir()


def test_configuration_values_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="attempts"):
        Retry(attempts=0)
    with pytest.raises(ConfigurationError, match="backoff"):
        Retry(backoff=0.5)
    with pytest.raises(ConfigurationError, match="memory"):
        Container(memory="lots")
    with pytest.raises(ConfigurationError, match="cpu"):
        Container(cpu="-1")
    with pytest.raises(ConfigurationError, match="values must be strings"):
        Container(env={"A": 1})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="at least one"):
        ForEach(parameters=[])
    with pytest.raises(ConfigurationError, match="index is 0"):
        Parameter(layer=Layer, attribute="x", index=3)
    with pytest.raises(ConfigurationError, match="register"):

        class F(Flow): ...

        F.register(retry=3)  # type: ignore[call-overload]
    assert Container(cpu="500m", memory="1Gi", env={"B": "2", "A": "1"}).env == {"A": "1", "B": "2"}


def _run(flow: type[Flow], tmp_path: Path) -> None:
    execute(flow.ir(), Datastore(str(tmp_path)), "e1")


def test_shard_of_a_non_iterable(tmp_path: Path) -> None:
    class F(Flow): ...

    @F.register
    class S(Layer):
        def __call__(self) -> None:
            self.shard(foo=5)  # type: ignore[arg-type]

    with pytest.raises(Exception, match=r"Layer S: self.shard\(foo=...\) got a int, which is not"):
        _run(F, tmp_path)
    assert not list(tmp_path.rglob("*.manifest"))


def test_reading_an_attribute_never_set(tmp_path: Path) -> None:
    class F(Flow): ...

    @F.register
    class A(Layer):
        def __call__(self) -> None:
            self.real = 1

    @F.register
    class B(Layer):
        def __call__(self, a: A) -> None:
            self.x = a.missing

    with pytest.raises(
        ArtifactError, match=r"B read A.missing, but A never set self.missing \(it set: real\)"
    ):
        _run(F, tmp_path)


def test_unpicklable_attribute_names_layer_and_fix(tmp_path: Path) -> None:
    import threading

    class F(Flow): ...

    @F.register
    class A(Layer):
        def __call__(self) -> None:
            self.lock = threading.Lock()

    with pytest.raises(ArtifactError, match=r"Layer A set self.lock .*self._lock"):
        _run(F, tmp_path)
    assert not list(tmp_path.rglob("*.manifest"))


def test_flow_files_with_no_or_several_flows(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    none = write_flow("from laminar import Layer\nx = 1\n", "none.py")
    result = laminar("run", str(none), cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "defines no Flow subclass" in result.stderr
    assert "Traceback" not in result.stderr

    several = write_flow(
        "from laminar import Flow\nclass One(Flow): ...\nclass Two(Flow): ...\n", "several.py"
    )
    result = laminar("graph", str(several), cwd=tmp_path, check=False)
    assert "several flows (One, Two); choose one with" in result.stderr
    assert laminar("graph", f"{several}:Two", cwd=tmp_path, check=False).returncode == 2
    missing = laminar("run", "nope.py", cwd=tmp_path, check=False)
    assert "No flow file at 'nope.py'" in missing.stderr


def test_error_in_flow_file_points_at_the_users_line(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow("from laminar import Flow\n\nclass F(Flow): ...\n\n1 / 0\n")
    result = laminar("graph", str(path), cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert f'File "{path}", line 5' in result.stderr
    assert "ZeroDivisionError" in result.stderr


def test_unknown_execution_id(tmp_path: Path) -> None:
    from conftest import EXAMPLES

    laminar("run", str(EXAMPLES / "diamond.py"), "--execution", "known", cwd=tmp_path)
    result = laminar(
        "show", str(EXAMPLES / "diamond.py"), "--execution", "nope", cwd=tmp_path, check=False
    )
    assert result.returncode == 2
    assert "Unknown execution 'nope' of DiamondFlow" in result.stderr
    assert "recent: known" in result.stderr


def test_a_read_refused_inside_a_hook_shows_only_the_users_lines(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """The traceback of a task that read a skipped layer ends at the user's line: laminar's
    frames below it (the datastore read that refused) are not the user's to change."""
    flow = write_flow(
        "from laminar import Flow, Layer\n"
        "from laminar.configurations import hooks\n"
        "class F(Flow): ...\n"
        "@F.register\n"
        "class A(Layer):\n"
        "    def __call__(self) -> None:\n"
        "        self.x = 1\n"
        "    @hooks.entry\n"
        "    def never(self) -> bool:\n"
        "        return False\n"
        "@F.register\n"
        "class B(Layer):\n"
        "    @hooks.entry\n"
        "    def reads(self, a: A) -> bool:\n"
        "        return a.x == 1  # the user's line\n",
        "refused.py",
    )
    result = laminar("run", str(flow), cwd=tmp_path, check=False)
    assert result.returncode == 1
    frames = [line for line in result.stderr.splitlines() if line.startswith('  File "')]
    assert frames == [f'  File "{flow}", line 15, in reads'], result.stderr
    assert "A did not finish (entry hook never returned False)" in result.stderr


def test_layer_names_differing_only_in_case_are_refused() -> None:
    """Each layer has a folder in the datastore; Load and LOAD would share one on macOS."""

    class F(Flow):
        pass

    @F.register
    class Load(Layer):
        def __call__(self) -> None: ...

    @F.register
    class LOAD(Layer):
        def __call__(self) -> None: ...

    with pytest.raises(
        FlowDefinitionError, match=r"Layers Load \(.*\) and LOAD \(.*\) of F differ only in case"
    ):
        F.ir()
