"""``lib.ingest.readable`` (and the HTML it hands to ``htmltext``): what a reader reads.

Each construct below is one that real Jekyll, Hexo and Hugo blogs use and that leaked into
excerpts and topics before: it must leave its prose and nothing of its markup.
"""

from __future__ import annotations

import time

import pytest

from lib.ingest.htmltext import html_to_text
from lib.ingest.readable import markdown_code, markdown_text, markup_found
from lib.ingest.sourcetext import code_names
from lib.text import CODE_MARK, MATH_MARK


@pytest.mark.parametrize(
    ("markdown", "reads", "not_there"),
    [
        ("## 原理\n\n> 引用 **加粗** 和 *斜体*", ["原理", "引用 加粗 和 斜体"], ["#", "*", ">"]),
        (
            "见 [论文](https://arxiv.org/abs/1) 与 ![示意图](a.png)",
            ["见 论文 与"],
            ["arxiv", "a.png", "示意图"],
        ),
        (
            "参考 [链接][ref]。\n\n[ref]: https://example.com/x",
            ["参考 链接。"],
            ["example.com", "[ref]"],
        ),
        ("正文[^note]。\n\n[^note]: 脚注的内容", ["正文。", "脚注的内容"], ["[^", "note]"]),
        (
            "其中 $d_k$ 是维度，$\\mathbf{x}_i$ 是向量",
            ["其中 d_k 是维度", f"{MATH_MARK} 是向量"],
            ["mathbf", "$"],
        ),
        (
            "$$\n\\left( \\boldsymbol{\\theta} \\right)\n$$",
            [MATH_MARK],
            ["left", "theta", "boldsymbol"],
        ),
        (
            "前文\n\n\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}\n\n后文",
            ["前文", MATH_MARK, "后文"],
            ["begin", "align", "&="],
        ),
        (
            "```python\nclass M(nn.Module):\n    def __init__(self, d_model):\n"
            "        self.batch_size = 1\n```",
            [CODE_MARK],
            ["self", "__init__", "d_model", "```"],
        ),
        (
            "段落\n\n    input_ids = tok(x)\n    y = model(input_ids)\n",
            ["段落", CODE_MARK],
            ["input_ids"],
        ),
        ("~~~\nbatch_size = 8\n~~~", [CODE_MARK], ["batch_size"]),
        ("调用 `torch.compile` 即可", ["调用 torch.compile 即可"], ["`"]),
        (
            '<div class="flex-item icon-mask"><p>卡片 &quot;文字&quot;&nbsp;说明</p></div>',
            ['卡片 "文字" 说明'],
            ["flex-item", "icon-mask", "&quot;", "&nbsp;", "\xa0"],
        ),
        (
            '<div class="mxgraph" data-mxgraph="{&quot;highlight&quot;:&quot;#0000ff&quot;,'
            "&quot;xml&quot;:&quot;&lt;mxfile&gt;&lt;diagram&gt;&lt;mxGraphModel&gt;&lt;root&gt;"
            '&lt;mxCell id=&quot;0&quot;/&gt;&lt;mxGeometry x=&quot;1&quot;/&gt;&quot;}"></div>'
            "\n\n之后的文字",
            ["之后的文字"],
            ["mxgraph", "mxCell", "mxGeometry", "quot", "parent"],
        ),
        (
            "{% highlight python linenos %}\ndef f(self):\n    return self.x\n"
            "{% endhighlight %}\n\n说明",
            [CODE_MARK, "说明"],
            ["highlight", "self", "{%"],
        ),
        ("{% raw %}\n模板原文 {{ x }}\n{% endraw %}", ["模板原文 {{ x }}"], ["{%", "raw"]),
        (
            "图片 {% asset_img arch.png 架构图 %} 在此，访问 {{ site.baseurl }}/about",
            ["图片 在此，访问 /about"],
            ["asset_img", "site.baseurl", "{{"],
        ),
        (
            '{{< gallery dir="/img/a" >}}\n\n{{% note %}}\n要点在这里\n{{% /note %}}',
            ["要点在这里"],
            ["gallery", "{{<", "{{%", "note"],
        ),
        ("{% note info %}\n提示内容\n{% endnote %}", ["提示内容"], ["note", "{%"]),
        ("| 模型 | 参数 |\n|---|---|\n| LLaMA | 7B |", ["模型 参数", "LLaMA 7B"], ["|", "---"]),
        (
            "第一行中文\n第二行中文\nEnglish line\nnext",
            ["第一行中文第二行中文 English line next"],
            [],
        ),
        ("<!-- 注释 -->\n\n正文", ["正文"], ["注释", "<!--"]),
        # The list item {:toc} replaces is never shown: "目录", "TOC", "content".
        ('{: class="toc"}\n* 目录\n{:toc}\n\n正文 {: .note}', ["正文"], ["{:", "toc", "目录"]),
        (
            "切成 $$S \\times S$$ 个格子，每格预测 $$B$$ 个框",
            [f"切成 {MATH_MARK} 个格子，每格预测 B 个框"],
            ["times", "$$"],
        ),
        ("- [x] 已完成\n- [ ] 待办", ["已完成", "待办"], ["[x]", "[ ]"]),
        (
            '{{< figure src="/a.png" alt="图" caption="外层循环遍历 key/value 块" >}}',
            ["外层循环遍历 key/value 块"],
            ["figure", "a.png"],
        ),
        (
            '{{< highlight python "linenos=table" >}}\nspeculative_step(x)\n'
            "{{< /highlight >}}\n\n后",
            [CODE_MARK, "后"],
            ["speculative_step", "highlight"],
        ),
        (
            "$$\n\\begin{align}\na &= \\mathbf{b} \\\\\n\\end{align}\n$$\n\n后文",
            [MATH_MARK, "后文"],
            ["$$", "mathbf", "begin"],
        ),
    ],
    ids=[
        "heading-quote-emphasis",
        "link-image",
        "reference-link",
        "footnote",
        "inline-math",
        "display-math",
        "latex-environment",
        "fenced-code",
        "indented-code",
        "tilde-fence",
        "inline-code",
        "html-entities-classes",
        "drawio-diagram",
        "liquid-highlight",
        "liquid-raw",
        "hexo-tag-liquid-output",
        "hugo-shortcodes",
        "hexo-note",
        "table",
        "soft-breaks",
        "html-comment",
        "kramdown-ial",
        "kramdown-inline-math",
        "task-list",
        "hugo-figure",
        "hugo-highlight",
        "environment-inside-dollars",
    ],
)
def test_a_construct_reads_as_its_prose(
    markdown: str, reads: list[str], not_there: list[str]
) -> None:
    text = markdown_text(markdown)
    for expected in reads:
        assert expected in text, (expected, text)
    for leaked in not_there:
        assert leaked not in text, (leaked, text)


@pytest.mark.parametrize(
    "hostile",
    [
        "[" * 200_000,
        "".join("`" * i + "\n" for i in range(1, 2001)),
        "\\begin{align}\n" * 20_000,
        "{%" * 100_000,
        "{{<" * 70_000,
        "$" * 200_000,
        "<" * 200_000,
        "*a" * 100_000,
        "[a](" * 50_000,
    ],
    ids=[
        "brackets",
        "growing-fences",
        "unclosed-environments",
        "unclosed-liquid",
        "unclosed-shortcodes",
        "dollars",
        "angles",
        "stars",
        "open-links",
    ],
)
def test_pathological_markdown_is_read_in_linear_time(hostile: str) -> None:
    started = time.process_time()
    markdown_text(hostile)
    assert time.process_time() - started < 10  # was over 300 s for the first two


@pytest.mark.parametrize(
    ("html", "reads", "not_there"),
    [
        (
            "<p>看 <code>batch_size</code></p><pre><code>def f(self): pass</code></pre>",
            ["看 batch_size", CODE_MARK],
            ["self", "def"],
        ),
        (
            '<p>公式 <span class="katex"><span class="katex-mathml"><math><mi>x</mi></math>'
            '</span><span class="katex-html">x</span></span> 后</p>',
            [f"公式 {MATH_MARK} 后"],
            ["mi", "katex"],
        ),
        ("<p>$$\\mathbf{W}$$ 与 \\(x^2\\)</p>", [f"{MATH_MARK} 与 {MATH_MARK}"], ["mathbf", "x^2"]),
        (
            '<p>正文</p><script src="/assets/js/APlayer.min.js" cla',
            ["正文"],
            ["script", "APlayer", "cla"],
        ),
        (
            '<script type="math/tex; mode=display">\\sum_i x_i</script><p>之后</p>',
            [MATH_MARK, "之后"],
            ["sum"],
        ),
        (
            "<p>其中 $\\mathbf{s}^{(j)}$ 是第 $j$ 块，$O(N^2)$，价格 $5 和 $10</p>",
            [f"其中 {MATH_MARK} 是第 j 块，{MATH_MARK}，价格 $5 和 $10"],
            ["mathbf"],
        ),
    ],
    ids=["code", "katex", "mathjax-delimiters", "cut-mid-tag", "mathjax-script", "inline-dollars"],
)
def test_html_reads_as_its_prose(html: str, reads: list[str], not_there: list[str]) -> None:
    text = html_to_text(html) or ""
    for expected in reads:
        assert expected in text, (expected, text)
    for leaked in not_there:
        assert leaked not in text, (leaked, text)


@pytest.mark.parametrize(
    "hostile",
    ["<li>" + "<p>x</p>" * 200_000, "<ol>" + "<li><p>x</p>" * 100_000, "<li>" + " " * 400_000],
    ids=["one-item-many-paragraphs", "many-items", "blank-item"],
)
def test_pathological_html_lists_are_read_in_linear_time(hostile: str) -> None:
    started = time.process_time()
    html_to_text(hostile)
    assert time.process_time() - started < 10  # an item re-read its text at every paragraph


@pytest.mark.parametrize(
    ("value", "markup"),
    [
        ("显存不够时拆小 batch。\n第二行接着写。\n\n第二段。", False),
        ("价格从 $5 涨到 $10，[代码] 和 snake_case 都是原文。", False),
        ("**加粗**", True),
        ("# 标题", True),
        ("见 [论文](https://a.example/p)", True),
        ("用 `d_model`", True),
        ("方差约为 $\\sqrt{L}$", True),
        ("- 列表项", True),
        ("正文[^1]\n\n[^1]: 脚注", True),
    ],
)
def test_markup_is_what_the_parser_finds_beyond_paragraphs_of_text(
    value: str, markup: bool
) -> None:
    assert bool(markup_found(value)) is markup


def test_a_posts_code_is_its_fenced_and_indented_blocks_not_its_formulas() -> None:
    post = (
        "正文用 `inline_name`。\n\n```python\ndef f(d_model):\n    pass\n```\n\n"
        "```math\nx^2\n```\n\n    accum_steps = 4\n"
    )
    assert markdown_code(post) == ["def f(d_model):\n    pass\n", "accum_steps = 4\n"]
    assert code_names(post, "markdown") == ["def", "d_model", "pass", "accum_steps"]
    html = "<p>见 <code>inline_name</code></p><pre><code>torch.nn.LayerNorm(d)</code></pre>"
    assert code_names(html, "html") == ["torch.nn.LayerNorm", "torch", "nn", "LayerNorm"]
    assert code_names(post, "text") == []


def test_a_jekyll_figure_include_reads_as_its_caption_and_other_includes_go() -> None:
    text = markdown_text(
        '见下图。\n\n{% include figure.html image="/img/loss.png" caption="图 2：验证集损失" %}\n\n'
        "{% include toc.html %}\n"
    )
    assert text == "见下图。\n\n图 2：验证集损失"
