"""Where a layer runs: a secret only one layer sees, and a GPU layer placed on GPU nodes.

Pull takes a slot of the Airflow pool "warehouse", reads the secret WAREHOUSE_TOKEN from its
environment and stores only facts about it (never the value); Train checks that it does not
see the secret. Run where WAREHOUSE_TOKEN is set (locally: the environment; Airflow: a
Variable; Argo: the --env-secret Secret; GitHub: a repository secret).
"""

from __future__ import annotations

import hashlib
import os

from laminar import Container, Flow, Layer


class Ranking(Flow):
    """Loads the warehouse every night and trains the ranking model."""


@Ranking.register(container=Container(secrets=["WAREHOUSE_TOKEN"], pool="warehouse"))
class Pull(Layer):
    """Pulls the rows with the warehouse token."""

    def __call__(self) -> None:
        token = os.environ["WAREHOUSE_TOKEN"]
        self.token_digest = hashlib.sha256(token.encode()).hexdigest()[:12]
        self.rows = [1, 2, 3]


@Ranking.register(
    container=Container(
        gpu=1,
        node_selector={"pool": "gpu"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
)
class Train(Layer):
    def __call__(self, pull: Pull) -> None:
        self.sees_token = "WAREHOUSE_TOKEN" in os.environ
        self.total = sum(pull.rows)
