"""A seeded synthetic corpus that looks like the blog: Chinese ML notes with English terms.

Ten years of posts whose volume grows over time, a few categories with one that
dominates (as ``Large Model`` does), tags drawn from the same terms as the text,
and links. The same seed gives the same corpus, so benchmark figures compare.

    python -m bench.corpus --posts 1000000 --out bench/out/corpus.parquet
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TERMS = (
    "FlashAttention LoRA QLoRA MoE RLHF DPO PPO GRPO Transformer KV cache DeepSeek-V3 Qwen3-VL "
    "Llama-3 Mamba SSM RWKV vLLM SGLang Megatron DeepSpeed ZeRO FSDP NCCL AllReduce CUDA Triton "
    "FP8 BF16 INT4 GPTQ AWQ RoPE ALiBi GQA MQA Medusa EAGLE Speculative Decoding Diffusion VAE "
    "VQVAE CLIP ViT SigLIP PyTorch JAX TensorFlow Python asyncio pandas DuckDB"
).split()
ZH_TERMS = (
    "大模型 显存 分布式训练 梯度检查点 混合精度 量化 蒸馏 微调 预训练 强化学习 奖励模型 "
    "自注意力 多头注意力 位置编码 长上下文 推理加速 投机解码 扩散模型 多模态 视觉语言模型 "
    "数据并行 张量并行 流水线并行 集群通信 优化器 学习率 损失函数 向量数据库 检索增强生成 "
    "思维链 智能体 分词 结构化输出"
).split()
# A long tail of terms, as a real blog has: compounds of Chinese morphemes and model names
# with versions. Terms are drawn by Zipf's law, so a few are everywhere and most are rare.
ZH_PREFIXES = (
    "分布式 稀疏 动态 层次 自适应 增量 多尺度 低秩 离线 在线 联邦 对比 因果 条件 双向 "
    "局部 全局 分组 滑动窗口 门控 残差 量化感知 知识 语义 向量 图 序列 多任务 跨模态 零样本"
).split()
ZH_HEADS = (
    "注意力 训练 推理 检索 路由 采样 编码器 解码器 蒸馏 剪枝 对齐 调度 缓存 索引 归一化 "
    "优化器 嵌入 预测 正则化 聚类 生成 规划 评估 微调 搜索 压缩 融合 建模 表示 学习"
).split()
EN_FAMILIES = (
    "Qwen Llama Mistral Gemma Phi DeepSeek Baichuan ChatGLM InternLM Yi Falcon Bloom Mixtral "
    "Claude GPT T5 BERT RoBERTa Whisper SAM DINO Stable-Diffusion Flux Sora Kimi MiniCPM "
    "Grok Jamba Command-R OLMo"
).split()
EN_VERSIONS = ("", "-2", "-3", "-7B", "-13B", "-70B", "-VL", "-Coder", "-Chat", "2.5", "-MoE")
VOCABULARY = tuple(
    dict.fromkeys(
        [*TERMS, *ZH_TERMS, *(p + h for p in ZH_PREFIXES for h in ZH_HEADS),
         *(f + v for f in EN_FAMILIES for v in EN_VERSIONS)]
    )
)  # fmt: skip
OPENERS = ("简介", "概述", "背景", "引言", "前言", "")
PHRASES = (
    "本文介绍{a}的基本原理,并结合{b}给出一个可以运行的例子。",
    "在训练{a}时,{b}往往成为瓶颈,尤其是显存占用。",
    "{a}的关键在于减少{b}带来的开销,从而提升吞吐。",
    "我们对比了{a}和{b}在不同批大小下的表现。",
    "使用{a}之后,{b}的训练时间缩短了将近一半。",
    "很多人把{a}和{b}混为一谈,其实两者解决的问题不同。",
    "下面从实现细节出发,逐步推导{a}中的{b}。",
    "{a} is often combined with {b} to cut memory without hurting quality.",
)
CATEGORIES = (("Large Model", 55), ("NLP", 15), ("Python", 10), ("Generative Model", 10),
              ("杂七杂八", 5), (None, 5))  # fmt: skip
START = date(2016, 1, 1)
DAYS = 3650


def _zipf_order(seed: int) -> tuple[str, ...]:
    order = list(VOCABULARY)
    random.Random(seed).shuffle(order)  # which terms are common is itself seeded
    return tuple(order)


def _text(rng: random.Random, sentences: int, order: tuple[str, ...]) -> tuple[str, list[str]]:
    # A post keeps coming back to its main term; the others come from the long tail.
    main = order[int(len(order) ** rng.random()) - 1]
    used: list[str] = []
    parts = [rng.choice(OPENERS)]
    for _ in range(sentences):
        b = order[int(len(order) ** rng.random()) - 1]
        a = main if rng.random() < 0.5 else order[int(len(order) ** rng.random()) - 1]
        used += [a, b]
        parts.append(rng.choice(PHRASES).format(a=a, b=b))
    return " ".join(p for p in parts if p), [main, *used]


def _day(rng: random.Random) -> date:
    # Volume grows over the decade: the square root of a uniform skews late.
    return START + timedelta(days=int(DAYS * rng.random() ** 0.5))


def generate(posts: int, seed: int = 42) -> pa.Table:
    rng = random.Random(seed)
    names, weights = zip(*CATEGORIES, strict=True)
    rows: dict[str, list[object]] = {
        k: [] for k in ("title", "excerpt", "body", "category", "tags", "date", "url")
    }
    order = _zipf_order(seed)
    for i in range(posts):
        body, used = _text(rng, rng.randint(6, 14), order)
        main = used[0]
        rows["title"].append(f"{main} 笔记 {i}: {used[1]}与{used[2]}")
        rows["excerpt"].append(body[:200] + "...")
        rows["body"].append(body)
        rows["category"].append(rng.choices(names, weights)[0])
        rows["tags"].append(sorted(set(used[:3])))
        rows["date"].append(_day(rng))
        rows["url"].append(f"https://blog.example.com/posts/{i}/")
    return pa.table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench/out/corpus.parquet"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(generate(args.posts, args.seed), args.out)
    print(f"{args.posts:,} posts written to {args.out}")


if __name__ == "__main__":
    main()
