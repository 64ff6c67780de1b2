"""Pods sized by hooks (issue 25): a submission hook sizes each task of a ForEach from its
upstream layer (1000 MB per letter of its element), a retry hook doubles memory before each
retry. Argo and Airflow's Kubernetes operator give each pod, on each try, what they decide."""

from __future__ import annotations

from laminar import Container, Flow, ForEach, Layer, Parameter, Retry
from laminar.configurations import hooks
from laminar.types import unwrap


class Sized(Flow): ...


@Sized.register
class A(Layer):
    def __call__(self) -> None:
        self.shard(baz=["a", "bb", "ccc"])


@Sized.register(
    foreach=ForEach(parameters=[Parameter(layer=A, attribute="baz")]),
    container=Container(cpu=1, memory=500),
    retry=Retry(attempts=3, delay=0),
)
class B(Layer):
    def __call__(self, a: A) -> None:
        self.memory = self.configuration.container.memory

    @hooks.submission
    def size(self, a: A) -> None:
        self.configuration.container.memory = len(a.baz[unwrap(self.index)]) * 1000

    @hooks.retry
    def grow(self) -> None:
        self.configuration.container.memory = self.configuration.container.memory * 2
