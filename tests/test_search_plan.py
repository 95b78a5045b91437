"""How a query becomes words to search (``lib.search_plan``), seen through Browse's ranking."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib import queries
from lib.filters import Filters
from lib.store import connect_read_only
from tests.helpers import build_store

POSTS = [
    {
        "title": "决策树的剪枝",
        "body": "决策树一直分下去会过拟合，预剪枝和后剪枝都是为了让树小一些。",
        "url": "https://zh.example.cn/tree",
        "date": "2021-12-30",
    },
    {
        "title": "支持向量机与核技巧",
        "body": "支持向量机寻找间隔最大的超平面，核函数把数据映射到高维空间。",
        "url": "https://zh.example.cn/svm",
        "date": "2021-11-23",
    },
    {
        "title": "LSTM 的三个门",
        "body": "循环神经网络的梯度会消失，LSTM 用遗忘门、输入门和输出门控制信息。",
        "url": "https://zh.example.cn/lstm",
        "date": "2022-05-02",
    },
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(Path(tmp_path_factory.mktemp("plan")) / "posts.duckdb", POSTS)


@pytest.mark.parametrize(
    ("q", "url"),
    [
        ("decision tree", "https://zh.example.cn/tree"),  # a dictionary name alone
        ("decision tree overfitting", "https://zh.example.cn/tree"),  # inside a longer query
        ("support vector machine kernel", "https://zh.example.cn/svm"),
        ("recurrent neural network gates", "https://zh.example.cn/lstm"),
    ],
)
def test_a_dictionary_name_keeps_its_other_names_inside_a_longer_query(db, q, url) -> None:
    con = connect_read_only(db)
    try:
        cards = queries.cards(con, Filters(q=q), queries.RELEVANCE, 3)
    finally:
        con.close()
    assert [c["url"] for c in cards][:1] == [url]
