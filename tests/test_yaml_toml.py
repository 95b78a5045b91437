"""Front matter past the bound on values: the message says why, aliases or not."""

from __future__ import annotations

import pytest

from lib.ingest import IngestError
from lib.ingest.yaml_toml import MAX_YAML_NODES, load_yaml


def test_a_long_front_matter_without_aliases_is_not_called_an_alias_bomb() -> None:
    """It was refused as expanding "through YAML aliases", which it holds none of."""
    block = "".join(f"key{i}: value\n" for i in range(MAX_YAML_NODES))
    with pytest.raises(IngestError, match=r"post\.md:2: .*not a data file") as caught:
        load_yaml(block, 2, "post.md")
    assert "alias" not in str(caught.value)


def test_a_self_referring_alias_is_refused_as_an_alias() -> None:
    with pytest.raises(IngestError, match=r"post\.md:2: .*YAML aliases"):
        load_yaml("tags: &a [*a]\n", 2, "post.md")
