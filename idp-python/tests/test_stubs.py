"""The stubs match the compiled module: CI fails when _native.pyi, the native module, the core's
api::METHODS and the Python classes drift apart."""

import ast
import inspect
from pathlib import Path

import idp
import idp.aio
from idp import _native

PKG = Path(idp.__file__).parent
STUB = ast.parse((PKG / "_native.pyi").read_text())


def stub_names():
    names = set()
    for node in STUB.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    return names


def stub_class(name):
    return next(n for n in STUB.body if isinstance(n, ast.ClassDef) and n.name == name)


def public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def test_native_stub_names_every_public_name_of_the_module():
    assert {n for n in stub_names() if not n.startswith("_")} == public(_native)
    assert _native.__version__ == idp.__version__


def test_one_version_for_the_extension_the_package_and_the_workspace():
    import importlib.metadata
    import pathlib
    import re

    cargo = (pathlib.Path(__file__).resolve().parents[2] / "Cargo.toml").read_text()
    package = cargo.split("[workspace.package]")[1]
    workspace = re.search(r'^version = "([^"]+)"$', package, re.M).group(1)
    assert idp.__version__ == workspace
    assert importlib.metadata.version("idp") == workspace


def test_native_stub_names_every_member_of_platform_with_its_parameters():
    cls = stub_class("Platform")
    stubbed = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    assert set(stubbed) == public(_native.Platform)
    for name, f in stubbed.items():
        runtime = getattr(_native.Platform, name)
        if isinstance(runtime, property) or not callable(runtime):
            continue
        params = [a.arg for a in f.args.args if a.arg != "self"]
        real = [p for p in inspect.signature(runtime).parameters if p != "self"]
        assert params == real, name


def test_every_core_method_is_typed_the_same_in_sync_and_async_platform():
    methods = set(_native.METHODS)
    constructors = {"from_dir", "default", "workspace", "call", "sync"}
    assert public(idp.Platform) - constructors == methods
    assert public(idp.aio.Platform) - constructors == methods
    for m in methods:
        sync, aio = getattr(idp.Platform, m), getattr(idp.aio.Platform, m)
        assert inspect.iscoroutinefunction(aio), m
        assert list(inspect.signature(sync).parameters) == list(inspect.signature(aio).parameters), m
        assert inspect.signature(sync).return_annotation == inspect.signature(aio).return_annotation, m


def test_the_package_is_typed():
    assert (PKG / "py.typed").exists()
