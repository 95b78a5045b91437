"""``lib.safe_text``: post text made inert for Markdown, highlighted, clipped; links checked."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.safe_text import MAX_RENDER_CHARS, clip, escape_markdown, highlighted, safe_link


def mark(escaped: str) -> str:
    """How ``highlighted`` marks one (already escaped) match."""
    return f":orange-background[**{escaped}**]"


def unescape(markdown: str) -> str:
    """Read escaped Markdown back, failing on any punctuation left unescaped."""
    out: list[str] = []
    chars = iter(markdown)
    for ch in chars:
        if ch == "\\":
            following = next(chars, "")
            assert following in string.punctuation, f"stray backslash in {markdown!r}"
            out.append(following)
        else:
            assert ch not in string.punctuation, f"unescaped {ch!r} in {markdown!r}"
            out.append(ch)
    return "".join(out)


def test_every_ascii_punctuation_character_is_escaped() -> None:
    assert escape_markdown(string.punctuation) == "".join("\\" + c for c in string.punctuation)


def test_letters_digits_and_cjk_are_left_alone() -> None:
    text = "LoRA 微调 Qwen1 57B 显存 abcXYZ 0123456789 ，。“”"
    assert escape_markdown(text) == text


def test_whitespace_runs_become_one_space() -> None:
    assert escape_markdown("a \n\n b\tc\r\nd") == "a b c d"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<script>alert(1)</script>", r"\<script\>alert\(1\)\<\/script\>"),
        ("[x](javascript:alert(1))", r"\[x\]\(javascript\:alert\(1\)\)"),
        (":red[x]", r"\:red\[x\]"),
        (":material/home:", r"\:material\/home\:"),
        ("$x$", r"\$x\$"),
        ("![img](https://e.x/a.png)", "\\!\\[img\\]\\(https\\:\u200b\\/\\/e\\.x\\/a\\.png\\)"),
        ("**bold** _it_ `code` ~~s~~", r"\*\*bold\*\* \_it\_ \`code\` \~\~s\~\~"),
        ("# heading", r"\# heading"),
        ("&lt; &#60;", r"\&lt\; \&\#60\;"),
        ("C:\\path", r"C\:\\path"),
    ],
)
def test_markup_is_escaped(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


@given(st.text())
def test_escaped_text_reads_back_as_the_original(text: str) -> None:
    # Zero-width spaces are the only thing added (to stop autolinks); nothing else changes.
    read_back = unescape(escape_markdown(text)).replace("\u200b", "")
    assert read_back == re.sub(r"\s+", " ", text).replace("\u200b", "")


def test_highlight_is_case_insensitive_and_keeps_the_original_case() -> None:
    text = "FlashAttention beats flashattention? FLASHATTENTION!"
    assert highlighted(text, ["flashATTENTION"]) == (
        f"{mark('FlashAttention')} beats {mark('flashattention')}\\? {mark('FLASHATTENTION')}\\!"
    )


def test_highlight_escapes_the_rest_and_the_match() -> None:
    text = "<b>C++</b> and [c++](javascript:x)"
    result = highlighted(text, ["c++"])
    assert result == (
        r"\<b\>" + mark(r"C\+\+") + r"\<\/b\> and \[" + mark(r"c\+\+") + r"\]\(javascript\:x\)"
    )
    # Take the highlighting away and what is left is inert, escaped text.
    plain = result.replace(":orange-background[**", "").replace("**]", "")
    assert unescape(plain) == text


def test_a_word_is_marked_with_or_without_separators() -> None:
    text = "FlashAttention, Flash Attention and flash-attention; 显存 and 显 存"
    marked = highlighted(text, ["flash attention", "显存"])
    hyphenated = mark(r"flash\-attention")
    assert marked == (
        f"{mark('FlashAttention')}\\, {mark('Flash Attention')} and {hyphenated}"
        f"\\; {mark('显存')} and 显 存"
    )
    assert highlighted("KV Cache", ["kvcache"]) == mark("KV Cache")


def test_longer_words_win_over_their_prefixes() -> None:
    assert highlighted("FlashAttention", ["flash", "flashattention"]) == mark("FlashAttention")


def test_words_with_regex_characters_are_literal() -> None:
    assert highlighted("a.b axb (x)", ["a.b", "(x)"]) == (mark(r"a\.b") + " axb " + mark(r"\(x\)"))


def test_no_words_means_plain_escaped_text() -> None:
    text = "see [docs](http://x) *now*"
    assert highlighted(text, []) == highlighted(text, ["", "  "]) == escape_markdown(text)
    assert highlighted(None, ["x"]) == highlighted("", ["x"]) == ""


def test_clip_at_the_limit() -> None:
    assert clip("x" * 10, 10) == "x" * 10
    assert clip("x" * 11, 10) == "x" * 10 + " …"
    assert clip("abcd    efgh", 8) == "abcd …"
    assert clip("y" * (MAX_RENDER_CHARS + 1)) == "y" * MAX_RENDER_CHARS + " …"


def test_highlight_clips_the_raw_text_before_escaping() -> None:
    assert highlighted("<" * 30, [], limit=10) == "\\<" * 10 + " …"
    assert highlighted("lora " * 10, ["LoRA"], limit=9) == f"{mark('lora')} {mark('lora')} …"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "https://example.com/posts/1?ref=a&b=c#top",
        "http://example.com/x",
        "HTTPS://EXAMPLE.COM/",
    ],
)
def test_safe_link_accepts_absolute_http_links(url: str) -> None:
    assert safe_link(url) == url


def test_safe_link_drops_a_user_part_that_dresses_up_the_host() -> None:
    assert safe_link("https://user@example.com:8443/路径") == "https://example.com:8443/路径"
    assert safe_link("https://google.com@evil.example/x") == "https://evil.example/x"


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "javascript://example.com/%0aalert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "mailto:someone@example.com",
        "/relative/path",
        "relative/path",
        "//example.com/no-scheme",
        "https:example.com",
        "https:///no-host",
        " https://example.com",
        "https://example.com ",
        "https://exa mple.com",
        "java\tscript:alert(1)",
        "https://example.com/\nx",
        "https://example.com/\x00",
        "https://example.com/\u2028",
        "https://[oops/unbalanced-ipv6-bracket",
    ],
)
def test_safe_link_rejects_everything_else(url: str | None) -> None:
    assert safe_link(url) is None


def test_bare_links_and_addresses_cannot_autolink() -> None:
    from lib.safe_text import escape_markdown

    out = escape_markdown("see https://example.invalid/x.png, www.example.com, me@example.com")
    assert "https\\:\u200b\\/\\/example" in out
    assert "www\u200b\\.example" in out
    assert "me\\@\u200bexample" in out


def test_a_post_keeps_its_paragraphs_and_each_stays_inert() -> None:
    body = "Measuring it\n\nBin the predictions by **confidence**.\n\n# not a heading"
    shown = highlighted(body, ["confidence"], paragraphs=True)
    assert shown.split("\n\n")[:2] == [
        "Measuring it",
        "Bin the predictions by \\*\\*:orange-background[**confidence**]\\*\\*\\.",
    ]
    assert shown.endswith("\n\n\\# not a heading")
    assert "\n\n" not in highlighted(body, ["confidence"])  # cards stay one paragraph


def test_a_post_keeps_its_list_items_on_their_own_lines() -> None:
    body = "Three bugs:\n\n- softmax in fp16\n- clipping before unscaling\n\nKeep fp32."
    shown = highlighted(body, [], paragraphs=True)
    # Markdown joins lines of a paragraph with a space; two spaces before the break keep it.
    assert shown.split("\n\n")[1] == "\\- softmax in fp16  \n\\- clipping before unscaling"
    assert "  \n" not in highlighted(body, [])  # cards stay one paragraph
