"""One home per setting: ``register(...)`` and the Flow class's keywords make one frozen
settings value, validated where it is written, carried whole to the IR, the running layer
(``self.configuration``) and ``laminar graph --format json``."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest

from laminar import Container, Flow, ForEach, Layer, Parameter, Retry
from laminar.cli.graph import to_json
from laminar.configurations.catch import Catch
from laminar.configurations.settings import (
    FlowOptions,
    FlowSettings,
    LayerOptions,
    LayerSettings,
)
from laminar.errors import ConfigurationError


@pytest.mark.parametrize(
    ("options", "settings"), [(LayerOptions, LayerSettings), (FlowOptions, FlowSettings)]
)
def test_the_keywords_users_type_are_the_settings_fields(options: type, settings: type) -> None:
    """The TypedDict that types ``register(**...)`` lists exactly the settings' fields."""
    assert set(typing.get_type_hints(options)) == {f.name for f in dataclasses.fields(settings)}


def test_a_setting_of_the_wrong_kind_names_the_setting_and_the_fix() -> None:
    class F(Flow): ...

    with pytest.raises(ConfigurationError) as error:
        F.register(retry=3)  # type: ignore[typeddict-item]
    assert str(error.value) == (
        "register(retry=3): it takes a Retry; write retry=Retry(attempts=3), or leave it out."
    )
    with pytest.raises(ConfigurationError, match="unknown setting 'retries'; the settings are"):
        F.register(retries=Retry())  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="unknown setting 'colour'"):

        class G(Flow, colour="red"):  # type: ignore[call-arg]
            ...


def test_settings_are_carried_whole_to_the_ir_and_the_running_layer() -> None:
    class F(Flow): ...

    @F.register
    class Source(Layer):
        def __call__(self) -> None:
            self.shard(items=[1, 2])

    retry = Retry(attempts=2, delay=0)
    container = Container(image="python:3.11", cpu=2)

    @F.register(
        foreach=ForEach(parameters=[Parameter(layer=Source, attribute="items")]),
        retry=retry,
        container=container,
        catch=Catch(KeyError),
    )
    class Fan(Layer):
        def __call__(self, source: Source) -> None:
            self.seen = self.configuration

    settings = F.ir().spec("Fan").settings
    assert (settings.retry, settings.container, settings.catch) == (
        retry,
        container,
        Catch(KeyError),
    )
    execution = F(datastore="memory://settings")()
    seen = execution.layer(Fan).seen
    assert [s.retry for s in seen] == [retry, retry]
    assert [s.container.cpu for s in seen] == [2, 2]
    assert seen[0] == settings
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.retry = None  # type: ignore[misc]


def test_graph_json_dumps_every_setting_without_listing_them() -> None:
    class F(Flow): ...

    @F.register(retry=Retry(attempts=2, jitter=0.5), container=Container(workdir="/app"))
    class A(Layer):
        def __call__(self) -> None: ...

    layer = json.loads(to_json(F.ir()))["layers"][0]
    assert layer["retry"] == {"attempts": 2, "delay": 1.0, "backoff": 1.0, "jitter": 0.5}
    assert layer["container"]["workdir"] == "/app"  # the graph JSON missed it before
    assert layer["catch"] is None
    settings = {f.name for f in dataclasses.fields(LayerSettings)} - {"foreach"}
    assert settings <= set(layer)


def test_a_flow_inherits_the_settings_of_the_flows_it_derives_from() -> None:
    """Composition keeps the bases' settings; a class's own keywords win."""

    class Base(Flow): ...

    class Derived(Base): ...

    assert Derived._flow_settings == Base._flow_settings == FlowSettings()
