"""Credentials in a datastore URL are refused everywhere, with where they belong, and the
secret is never printed: not in the error, not in progress lines, not in ``laminar show``."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLES, laminar

from laminar.contract import check_datastore_url, redact_url
from laminar.errors import LaminarError
from laminar.store.datastore import Datastore

SECRET = "wJalrXUtnFEMI-K7MDENG"
URLS = [
    f"s3://AKIAEXAMPLE:{SECRET}@bucket/prefix",
    f"s3://:{SECRET}@bucket/prefix",
    f"simplecache::s3://AKIAEXAMPLE:{SECRET}@bucket/prefix",
    f"https://user:{SECRET}@example.com/store",
    f"s3://AKIA:{SECRET}@with@at@bucket/p",
]


@pytest.mark.parametrize("url", URLS)
def test_check_datastore_url_refuses_credentials(url: str) -> None:
    with pytest.raises(LaminarError) as caught:
        check_datastore_url(url, "--datastore")
    message = str(caught.value)
    assert SECRET not in message
    assert message.startswith("--datastore '")
    assert "holds credentials" in message
    for where in ("AWS_PROFILE", "--s3-secret", "--secret", "Airflow connection"):
        assert where in message


@pytest.mark.parametrize("url", URLS)
def test_datastore_refuses_credentials(url: str) -> None:
    with pytest.raises(LaminarError, match="holds credentials") as caught:
        Datastore(url)
    assert SECRET not in str(caught.value)


def test_datastore_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMINAR_DATASTORE", URLS[0])
    with pytest.raises(LaminarError, match=r"^\$LAMINAR_DATASTORE 's3://\*\*\*@bucket/prefix'"):
        Datastore()


@pytest.mark.parametrize(
    "url", ["s3://bucket/prefix", "/tmp/x", "file:///mnt/x", "s3://user@bucket/p", "memory://x"]
)
def test_urls_without_a_password_pass(url: str) -> None:
    assert check_datastore_url(url, "--datastore") == url
    # A user name alone is accepted (sftp://user@host), but never shown either.
    assert redact_url(url) == url.replace("user@", "***@")


@pytest.mark.parametrize("url", ["", " ", "a\nb", "s3://bucket/p\x1b[31m", "caf\udce9"])
def test_unusable_datastore_urls(url: str) -> None:
    with pytest.raises(LaminarError, match=r"--datastore '.*' is not (a usable|valid UTF-8)"):
        check_datastore_url(url, "--datastore")


@pytest.mark.parametrize(
    "args",
    [
        ("run", "{flow}", "--datastore", "{url}"),
        ("run", "{flow}", "--datastore={url}"),
        ("run", "{flow}", "--datas", "{url}"),  # argparse accepts abbreviations
        ("show", "{flow}", "--datastore", "{url}"),
        ("plan", "{flow}", "--layer=A", "--execution=x", "--datastore", "{url}"),
        ("task", "{flow}", "--layer=A", "--execution=x", "--datastore", "{url}"),
        ("compile", "{flow}", "--target", "argo", "--datastore", "{url}", "-o", "out.yaml"),
        ("compile", "{flow}", "--target", "airflow", "--datastore={url}", "-o", "dag.py"),
        ("compile", "{flow}", "--target", "github", "--datastore", "{url}", "-o", "wf.yml"),
    ],
)
def test_cli_refuses_credentials_and_never_prints_them(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    flow = str(EXAMPLES / "diamond.py")
    url = URLS[0]
    argv = [a.replace("{flow}", flow).replace("{url}", url) for a in args]
    result = laminar(*argv, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr
    assert "laminar: error: --datastore 's3://***@bucket/prefix' holds credentials" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no datastore, no generated file


@pytest.mark.parametrize("command", [("run",), ("show",), ("task", "--layer=A", "--execution=x")])
def test_credentials_in_the_environment(tmp_path: Path, command: tuple[str, ...]) -> None:
    flow = str(EXAMPLES / "diamond.py")
    env = {"LAMINAR_DATASTORE": URLS[0]}
    result = laminar(command[0], flow, *command[1:], cwd=tmp_path, env=env, check=False)
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr
    assert "$LAMINAR_DATASTORE 's3://***@bucket/prefix' holds credentials" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_s3_endpoint_with_a_password_is_refused(tmp_path: Path) -> None:
    result = laminar(
        "compile", str(EXAMPLES / "diamond.py"), "--target", "argo", "--image", "img:1",
        "--datastore", "s3://bucket/p", "--s3-endpoint", f"http://minio:{SECRET}@minio:9000",
        "-o", "wf.yaml", cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--s3-endpoint 'http://***@minio:9000' holds credentials" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


#: Secrets as real ones look (half of AWS secret keys hold a "/"), each in every URL form.
SECRETS = [
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
    "abc+def=ghi==",
    "p@ss@word",
    "abc%2Fdef%40ghi",
    "a?b#c",
    "a::b",
]
FORMS = [
    "s3://AKIAEXAMPLE:{s}@bucket/prefix",
    "s3://:{s}@bucket/prefix",
    "simplecache::s3://AKIAEXAMPLE:{s}@bucket/prefix",
    "https://user:{s}@example.com/store",
    "gcs://user:{s}@bucket/p",
    "s3://AKIAEXAMPLE:{s}@bucket/prefix/with@at",
]
EVERY = [form.format(s=secret) for secret in SECRETS for form in FORMS]


@pytest.mark.parametrize("url", EVERY)
def test_every_form_of_credentials_is_refused_and_redacted(url: str) -> None:
    secret = next(s for s in SECRETS if s in url)
    assert secret not in redact_url(url)
    with pytest.raises(LaminarError, match="holds credentials") as caught:
        check_datastore_url(url, "--datastore")
    assert secret not in str(caught.value)
    with pytest.raises(LaminarError) as opened:
        Datastore(url)
    assert secret not in str(opened.value)


@pytest.mark.parametrize(
    "url", ["https://store.example.com/p?X-Amz-Signature=0123abcd", "abfs://c@a/p?sig=0123abcd"]
)
def test_secret_query_parameters_are_credentials(url: str) -> None:
    assert "0123abcd" not in redact_url(url)
    with pytest.raises(LaminarError, match="holds credentials") as caught:
        check_datastore_url(url, "--datastore")
    assert "0123abcd" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["s3://bucket/v@1/data", "/home/me/@work", "file:///home/me/@work", "s3://b/a:b@c"]
)
def test_an_at_sign_in_a_path_is_not_a_credential(url: str) -> None:
    assert check_datastore_url(url, "--datastore") == url
    assert redact_url(url) == url


@pytest.mark.parametrize("target", ["argo", "airflow", "github"])
@pytest.mark.parametrize("secret", SECRETS[:3])
def test_no_generated_file_holds_a_secret_with_a_slash(
    tmp_path: Path, target: str, secret: str
) -> None:
    url = f"s3://AKIAEXAMPLE:{secret}@bucket/prefix"
    result = laminar(
        "compile", str(EXAMPLES / "diamond.py"), "--target", target, "--image", "img:1",
        "--datastore", url, "-o", "out", cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert secret not in result.stdout + result.stderr
    assert "'s3://***@bucket/prefix' holds credentials" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing generated


def test_laminar_sync_never_prints_the_password(tmp_path: Path) -> None:
    secret = SECRETS[0]
    env = {"LAMINAR_DATASTORE": f"s3://AKIAEXAMPLE:{secret}@bucket/prefix"}
    for action in (("snapshot", "--to", "s.json"), ("changed", "--since", "s", "--into", "d")):
        result = laminar("sync", *action, cwd=tmp_path, env=env, check=False)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert secret not in result.stdout + result.stderr
        assert "'s3://***@bucket/prefix'" in result.stderr


def test_a_user_name_is_not_shown_in_datastore_errors(tmp_path: Path) -> None:
    result = laminar(
        "run", str(EXAMPLES / "diamond.py"), "--datastore", "nosuch://someone@host/p",
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Cannot open datastore 'nosuch://***@host/p'" in result.stderr
    assert "someone" not in result.stderr
