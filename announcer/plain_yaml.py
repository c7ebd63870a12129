"""YAML as people write it for settings: plain values, lists and mappings, checked before anything is built.

`yaml.safe_load` expands aliases, so 459 bytes of nested `&a [*a, *a, ...]` grow into gigabytes, and it recurses once
per nesting level, so 20,000 `[` end in RecursionError. Settings need neither: an alias is refused, and so is
nesting deeper than MAX_DEPTH, both as a YAMLError with the line, as any other YAML mistake is reported.
"""
from __future__ import annotations

import yaml

MAX_DEPTH = 32
"""Mappings and lists inside each other, at most (a template uses three)."""


class RefusedYAML(yaml.MarkedYAMLError):
    """YAML that parses but is refused before anything is built from it."""


class _PlainLoader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise RefusedYAML(problem=f"an alias (*{event.anchor}) repeats another part; write the value out instead",
                              problem_mark=event.start_mark)
        if self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise RefusedYAML(problem=f"nested more than {MAX_DEPTH} levels deep", problem_mark=self.peek_event().start_mark)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)


def load_plain_yaml(text: str):
    """The value `text` holds (None for an empty document); yaml.YAMLError for YAML that is broken or refused."""
    loader = _PlainLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


__all__ = ["MAX_DEPTH", "RefusedYAML", "load_plain_yaml"]
