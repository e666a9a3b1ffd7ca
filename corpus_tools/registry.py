"""The registry: every step, in pipeline order. ``clean``, the single commands, the config tables, ``explain``,
``check``'s schema, ``stats`` and the docs are all built from it.

Adding a built-in step is one module and one line in :data:`BUILTIN`. A step shipped in another package registers
through the entry-point group ``corpus_tools.steps`` (``name = "package.module:StepClass"``); its ``order`` places
it in ``clean``. Step modules are imported when a step is used, so start-up does not pay for ftfy or MinHash.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from corpus_tools.errors import ConfigError

if TYPE_CHECKING:
    from corpus_tools.step import Step

#: The built-in steps, in pipeline order: name -> "module:Class".
BUILTIN: dict[str, str] = {
    "normalize": "corpus_tools.normalize:Normalize",
    "credits": "corpus_tools.credits:Credits",
    "residue": "corpus_tools.residue:Residue",
    "teasers": "corpus_tools.teasers:Teasers",
    "dedup": "corpus_tools.dedup:Dedup",
}

#: The entry-point group through which other packages add steps.
ENTRY_POINT_GROUP = "corpus_tools.steps"


def _load(target: str, what: str) -> type[Step]:
    module_name, _, attribute = target.partition(":")
    try:
        step = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"step {what} ({target}) cannot be loaded: {exc}") from None
    return step


@cache
def plugin_targets() -> tuple[tuple[str, str], ...]:
    """(name, "module:Class") of every step registered through :data:`ENTRY_POINT_GROUP`."""
    from importlib.metadata import entry_points

    found = [(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN]
    return tuple(sorted(set(found)))


def step_names() -> tuple[str, ...]:
    """Every step's name in pipeline order, without importing any step module but the plugins'."""
    return tuple(step.name for step in steps())


@cache
def steps() -> tuple[type[Step], ...]:
    """Every step class, in pipeline order (built-ins keep their place; plugins go by ``order``, then name)."""
    found = [_load(target, name) for name, target in BUILTIN.items()]
    found += [_load(target, name) for name, target in plugin_targets()]
    builtin_rank = {name: k for k, name in enumerate(BUILTIN)}
    return tuple(sorted(found, key=lambda s: (s.order, builtin_rank.get(s.name, len(BUILTIN)), s.name)))


def step_named(name: str) -> type[Step]:
    """The step called ``name``, importing only its own module."""
    if name in BUILTIN:
        return _load(BUILTIN[name], name)
    for plugin, target in plugin_targets():
        if plugin == name:
            return _load(target, name)
    raise ConfigError(f"no step named {name!r} (steps: {', '.join(step_names())})")


def cli_names() -> tuple[str, ...]:
    """The step names the CLI registers single commands for, known without importing the built-in steps."""
    return (*BUILTIN, *(name for name, _ in plugin_targets()))
