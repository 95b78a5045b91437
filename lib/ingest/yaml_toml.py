"""YAML and TOML as Python values, read safely, with errors that name the file's line.

Front matter (``lib.ingest.markdown``) and site configs (``lib.ingest.sites``) are both
written by hand: a broken block must point at the line its author has to fix, and a
block built to blow up (YAML aliases nested nine deep) must be refused, not expanded.
"""

from __future__ import annotations

import re
import tomllib

import yaml

from lib.ingest.records import IngestError

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)$")
_TOML_POSITION = re.compile(r"\s*\(at (?:line \d+, column \d+|end of document)\)$")
# YAML aliases share one node, and flattening the values they point at multiplies it: a
# 381-byte block of nine levels of nine aliases stands for 9^9 tags. Front matter that
# needs more nodes than this, aliases expanded, is refused.
MAX_YAML_NODES = 10_000


def _expanded_nodes(root: yaml.Node) -> tuple[int, bool]:
    """How many nodes the document holds with every alias expanded, counting up to the
    bound, and whether an alias was met (a node reached twice)."""
    count = 0
    seen: set[int] = set()
    stack: list[yaml.Node] = [root]
    while stack and count <= MAX_YAML_NODES:
        node = stack.pop()
        count += 1
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(item for pair in node.value for item in pair)
    return count, count > len(seen)


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader, but a timestamp Python cannot hold stays text.

    ``date: 0000-01-01`` or ``2024-02-30`` raised ``ValueError`` from inside the loader;
    as text, ``parse_date`` reads the first as a date out of range and names the line
    of the second.
    """

    def construct_yaml_timestamp(self, node: yaml.Node) -> object:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_yaml_int(self, node: yaml.Node) -> object:
        """An integer, or its text when it has more digits than Python converts (4,300)."""
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            return self.construct_scalar(node)


_FrontMatterLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _FrontMatterLoader.construct_yaml_timestamp
)
_FrontMatterLoader.add_constructor("tag:yaml.org,2002:int", _FrontMatterLoader.construct_yaml_int)


def load_yaml(block: str, first_line: int, source: str, what: str = "front matter") -> object:
    """YAML text as Python values, with errors naming ``what`` and the file's line."""
    loader = _FrontMatterLoader(block)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        count, aliased = _expanded_nodes(root)
        if count > MAX_YAML_NODES:
            how = (
                " through YAML aliases (&anchor / *alias): write the values out"
                if aliased
                else ": a post's front matter is not a data file"
            )
            raise IngestError(
                source, f"{what} holds more than {MAX_YAML_NODES:,} values{how}", line=first_line
            )
        return loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = first_line + mark.line if mark is not None else first_line
        message = f"{what} is not valid YAML: {exc.problem}"
        if exc.context and exc.context_mark is not None:
            message += f" ({exc.context} started on line {first_line + exc.context_mark.line})"
        raise IngestError(source, message, line=line) from exc
    except yaml.YAMLError as exc:
        raise IngestError(source, f"{what} is not valid YAML: {exc}", line=first_line) from exc
    except RecursionError as exc:
        raise IngestError(source, f"{what} nested too deeply", line=first_line) from exc
    finally:
        loader.dispose()


def load_toml(block: str, first_line: int, source: str, what: str = "front matter") -> object:
    """TOML text as Python values, with errors naming ``what`` and the file's line."""
    try:
        return tomllib.loads(block)
    except RecursionError as exc:
        raise IngestError(source, f"{what} nested too deeply", line=first_line) from exc
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, block, first_line, source, what) from exc
    except ValueError as exc:  # an integer of more than 4,300 digits, which Python refuses
        raise IngestError(
            source, f"{what} holds a number too long to read", line=first_line
        ) from exc


def _toml_error(
    exc: tomllib.TOMLDecodeError, block: str, first_line: int, source: str, what: str
) -> IngestError:
    # Python 3.11's tomllib only reports the position inside the message.
    message = str(exc)
    found = _TOML_LINE.search(message)
    # Without a line, the error is "at end of document": point at the closing +++.
    line = first_line + (int(found.group(1)) - 1 if found else block.count("\n"))
    reason = _TOML_POSITION.sub("", message)
    return IngestError(source, f"{what} is not valid TOML: {reason}", line=line)
