"""A diamond: A feeds B and C, and D joins both."""

from laminar import Flow, Layer


class DiamondFlow(Flow): ...


@DiamondFlow.register
class A(Layer):
    def __call__(self) -> None:
        self.value = 10


@DiamondFlow.register
class B(Layer):
    def __call__(self, a: A) -> None:
        self.value = a.value + 1


@DiamondFlow.register
class C(Layer):
    def __call__(self, a: A) -> None:
        self.value = a.value * 2


@DiamondFlow.register
class D(Layer):
    def __call__(self, b: B, c: C) -> None:
        self.total = b.value + c.value
        print(b.value, c.value, self.total)


if flow := DiamondFlow():
    flow()
