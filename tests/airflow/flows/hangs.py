"""A layer that hangs past its timeout: the try is stopped and the run fails.

``register(timeout=2)`` becomes the task's ``execution_timeout``; the shim stops the attempt
itself too. Reaching the line after the sleep would leave a marker in $LAMINAR_TEST_MARKERS.
"""

import os
import time

from laminar import Flow, Layer


class HangsFlow(Flow): ...


@HangsFlow.register(timeout=2)
class Hang(Layer):
    def __call__(self) -> None:
        time.sleep(120)
        open(os.path.join(os.environ["LAMINAR_TEST_MARKERS"], "hang-finished"), "w").close()


@HangsFlow.register
class After(Layer):
    def __call__(self, hang: Hang) -> None:
        self.done = True
