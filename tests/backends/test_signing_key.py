"""The datastore's signing key reaches every task as a secret on each target, never as text
in a generated file, and a layer cannot set it in Container(env=...)."""

from __future__ import annotations

import pytest
import yaml

from laminar import Container, Flow, Layer
from laminar.backends import generate
from laminar.errors import CompileError


class Signed(Flow): ...


@Signed.register
class Only(Layer):
    def __call__(self) -> None:
        self.value = 1


def test_github_passes_the_repository_secret_to_the_shim() -> None:
    doc = yaml.safe_load(generate("github", Signed.ir(), flow_ref="f.py", signing_key=True))
    (shim,) = [s for s in doc["jobs"]["Only"]["steps"] if s.get("id") == "shim"]
    assert shim["env"]["LAMINAR_SIGNING_KEY"] == "${{ secrets.LAMINAR_SIGNING_KEY }}"
    plain = yaml.safe_load(generate("github", Signed.ir(), flow_ref="f.py"))
    assert "LAMINAR_SIGNING_KEY" not in str(plain)


def test_airflow_pods_mount_the_kubernetes_secret() -> None:
    text = generate(
        "airflow", Signed.ir(), flow_ref="f.py", image="i:1", datastore="s3://b/p",
        operator="kubernetes", signing_key_secret="laminar-signing",
    )  # fmt: skip
    assert (
        'Secret("env", "LAMINAR_SIGNING_KEY", \'laminar-signing\', "LAMINAR_SIGNING_KEY")' in text
    )
    assert "secrets=SECRETS," in text
    with pytest.raises(CompileError, match="needs --operator kubernetes"):
        generate("airflow", Signed.ir(), flow_ref="f.py", signing_key_secret="laminar-signing")


def test_argo_pods_read_the_key_from_the_secret() -> None:
    doc = yaml.safe_load(
        generate(
            "argo",
            Signed.ir(),
            flow_ref="f.py",
            image="i:1",
            datastore="s3://b/p",
            signing_key_secret="laminar-signing",
        )
    )
    (template,) = [t for t in doc["spec"]["templates"] if t["name"] == "only"]
    (var,) = [v for v in template["container"]["env"] if v["name"] == "LAMINAR_SIGNING_KEY"]
    assert var == {
        "name": "LAMINAR_SIGNING_KEY",
        "valueFrom": {"secretKeyRef": {"name": "laminar-signing", "key": "LAMINAR_SIGNING_KEY"}},
    }


@pytest.mark.parametrize("target", ["argo", "airflow", "github"])
def test_a_layer_cannot_put_the_key_in_a_generated_file(target: str) -> None:
    class Leaky(Flow): ...

    @Leaky.register(container=Container(env={"LAMINAR_SIGNING_KEY": "hunter2"}))
    class Step(Layer):
        def __call__(self) -> None:
            pass

    with pytest.raises(CompileError, match="LAMINAR_SIGNING_KEY"):
        generate(target, Leaky.ir(), flow_ref="f.py", image="i:1", datastore="s3://b/p")
