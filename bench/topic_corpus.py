# ruff: noqa: E501 - the corpus is tables of phrases, one subject to a line
"""Corpora made to resemble real ML blogs, for judging topics (``bench.topics_quality``).

Four blogs: two Chinese (LLM notes; recommender and vision notes), two English (an
LLM engineering blog; a GPU systems blog). Each post is about one subject, with a
second subject mentioned in passing, written the way such posts are: Chinese prose
with English terms mixed in, a subject named in either language (``大模型`` or
``LLM``), the boilerplate every post of a blog shares, code blocks full of ``self``
and ``return``, LaTeX remnants and markup left over from the export. Each post keeps
the subject it was written about, so grouping can be scored against it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

# subject -> (names, in any language, of which a post uses some; words of its text)
ZH_LLM = {
    "LoRA 微调": (
        ["LoRA", "微调", "fine-tuning", "QLoRA"],
        ["低秩", "适配器", "秩", "冻结", "参数高效", "PEFT", "rank", "adapter"],
    ),
    "RAG 检索增强": (
        ["RAG", "检索增强", "检索增强生成"],
        ["召回", "向量数据库", "chunk", "重排", "embedding", "知识库", "BM25", "rerank"],
    ),
    "Agent 智能体": (
        ["Agent", "智能体", "agents"],
        ["工具调用", "规划", "ReAct", "记忆", "function calling", "多智能体", "反思", "MCP"],
    ),
    "量化": (
        ["量化", "quantization"],
        ["INT8", "INT4", "GPTQ", "AWQ", "校准", "权重量化", "精度损失", "GGUF"],
    ),
    "分布式训练": (
        ["分布式", "distributed"],
        ["FSDP", "DeepSpeed", "ZeRO", "张量并行", "流水线并行", "Megatron", "通信", "NCCL"],
    ),
    "注意力机制": (
        ["注意力", "attention", "注意力机制"],
        ["FlashAttention", "softmax", "多头", "位置编码", "RoPE", "KV cache", "稀疏注意力", "GQA"],
    ),
    "RLHF 对齐": (
        ["RLHF", "对齐", "alignment"],
        ["奖励模型", "PPO", "DPO", "偏好数据", "GRPO", "人类反馈", "reward", "KL散度"],
    ),
}
ZH_RECSYS = {
    "推荐系统": (
        ["推荐系统", "推荐", "recommendation"],
        ["召回", "排序", "CTR", "用户画像", "协同过滤", "特征交叉", "DeepFM", "冷启动"],
    ),
    "图神经网络": (
        ["图神经网络", "GNN"],
        ["节点", "邻居聚合", "GraphSAGE", "GCN", "消息传递", "异构图", "图卷积", "边"],
    ),
    "目标检测": (
        ["目标检测", "detection"],
        ["YOLO", "锚框", "NMS", "边界框", "mAP", "DETR", "特征金字塔", "检测头"],
    ),
    "扩散模型": (
        ["扩散模型", "diffusion"],
        ["去噪", "采样", "DDPM", "Stable Diffusion", "噪声调度", "UNet", "潜空间", "文生图"],
    ),
    "多模态": (
        ["多模态", "multimodal"],
        ["CLIP", "图文对齐", "视觉编码器", "LLaVA", "跨模态", "对比学习", "ViT", "图像描述"],
    ),
    "时间序列": (
        ["时间序列", "time series"],
        ["预测", "LSTM", "季节性", "滑动窗口", "Informer", "异常检测", "趋势", "ARIMA"],
    ),
}
EN_LLM = {
    "fine-tuning": (
        ["fine-tuning", "LoRA", "finetuning"],
        ["adapter", "rank", "QLoRA", "PEFT", "frozen", "learning rate", "instruction", "SFT"],
    ),
    "RAG": (
        ["RAG", "retrieval"],
        [
            "vector database",
            "chunking",
            "reranker",
            "embeddings",
            "BM25",
            "hybrid search",
            "recall",
            "knowledge base",
        ],
    ),
    "agents": (
        ["agents", "agent", "LLM agents"],
        [
            "tool calling",
            "planning",
            "ReAct",
            "memory",
            "MCP",
            "orchestration",
            "multi-agent",
            "function calling",
        ],
    ),
    "evaluation": (
        ["evaluation", "benchmarks", "benchmark"],
        [
            "MMLU",
            "leaderboard",
            "contamination",
            "LLM-as-judge",
            "HumanEval",
            "metrics",
            "eval harness",
            "GSM8K",
        ],
    ),
    "prompting": (
        ["prompt", "prompting", "prompts"],
        [
            "chain-of-thought",
            "few-shot",
            "system prompt",
            "prompt injection",
            "jailbreak",
            "template",
            "in-context",
            "CoT",
        ],
    ),
    "alignment": (
        ["alignment", "RLHF"],
        [
            "reward model",
            "PPO",
            "DPO",
            "preference data",
            "GRPO",
            "constitutional",
            "KL penalty",
            "red teaming",
        ],
    ),
}
EN_SYSTEMS = {
    "CUDA kernels": (["CUDA", "kernels"], ["warp", "shared memory", "occupancy", "coalescing", "Triton", "tensor cores", "SM", "registers"]),
    "inference serving": (["inference", "serving"], ["vLLM", "KV cache", "PagedAttention", "batching", "throughput", "latency", "speculative decoding", "TensorRT"]),
    "distributed training": (["distributed training", "distributed"], ["FSDP", "DeepSpeed", "ZeRO", "tensor parallelism", "pipeline parallelism", "NCCL", "all-reduce", "Megatron"]),
    "compilers": (["compiler", "compilers"], ["torch.compile", "XLA", "MLIR", "graph capture", "operator fusion", "TorchInductor", "codegen", "IR"]),
    "quantization": (["quantization", "quantize"], ["INT8", "FP8", "GPTQ", "AWQ", "calibration", "outliers", "SmoothQuant", "bitsandbytes"]),
    "mixture of experts": (["MoE", "mixture of experts"], ["router", "expert parallelism", "load balancing", "top-k gating", "DeepSeek", "Mixtral", "capacity factor", "token dropping"]),
}  # fmt: skip

BLOGS = {
    "zh-llm-notes": ("zh", ZH_LLM),
    "zh-recsys-cv": ("zh", ZH_RECSYS),
    "en-llm-eng": ("en", EN_LLM),
    "en-gpu-systems": ("en", EN_SYSTEMS),
}

ZH_FILLER = [
    "本文记录一下最近的学习笔记和踩坑经验。", "先简单介绍一下背景，然后给出实验结果。",
    "这里的实现细节比较多，欢迎留言讨论。", "整体来看效果还不错，但仍有一些问题需要解决。",
    "下面结合代码说明具体的实现过程。", "参考了官方文档和几篇论文的做法。", "实验在单机八卡上完成。",
    "如果有不对的地方请指正。", "性能和显存占用都有明显改善。", "模型训练和推理的细节见下文。",
]  # fmt: skip
EN_FILLER = [
    "In this post I walk through what I learned.", "Here is the setup and the results.",
    "The details matter more than you would think.", "Thanks for reading, feedback welcome.",
    "Let me explain the approach step by step.", "This is a quick note for my future self.",
    "The code is on GitHub if you want to try it.", "Performance improved quite a bit overall.",
    "We ran every experiment on a single node with eight GPUs.", "Below is the full config.",
]  # fmt: skip
CODE = [
    "```python\nclass Block(nn.Module):\n    def __init__(self, dim):\n        super().__init__()\n"
    "        self.proj = nn.Linear(dim, dim)\n    def forward(self, x):\n        return self.proj(x)\n```",
    "```python\nimport torch\nfor step, batch in enumerate(loader):\n    loss = model(**batch).loss\n"
    "    loss.backward()\n    optimizer.step()\nprint(f'step {step} loss {loss.item():.4f}')\n```",
    '```json\n{"name": "config", "description": "default", "type": "string", "value": null}\n```',
    "```bash\npip install -U transformers accelerate\npython train.py --bytes 1024 --config cfg.yaml\n```",
]
LATEX = [
    r"$$\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V$$",
    r"$\mathbf{W} = \mathbf{W}_0 + \mathbf{B}\mathbf{A}$",
    r"$\sum_{i=1}^{n} \alpha_i \cdot x_i$",
    r"$$\mathcal{L} = -\log \sigma(\beta \cdot \hat{r})$$",
]
MARKUP = [
    '<div class="highlight"><span style="color:#333">',
    "&nbsp;&amp;&nbsp;",
    '<img src="fig.png" alt="">',
]


def _zh_sentence(rng: random.Random, names: list[str], words: list[str]) -> str:
    a, b = rng.sample(words, 2)
    name = rng.choice(names)
    forms = [
        f"{name}的核心在于{a}，同时要注意{b}。", f"我们用{a}和{b}改进了{name}的效果。",
        f"在{name}里，{a}决定了最终的质量，{b}影响速度。", f"对比了{a}与{b}两种做法在{name}上的表现。",
    ]  # fmt: skip
    return rng.choice(forms)


def _en_sentence(rng: random.Random, names: list[str], words: list[str]) -> str:
    a, b = rng.sample(words, 2)
    name = rng.choice(names)
    forms = [
        f"For {name}, {a} matters most, and {b} comes second.", f"We combined {a} with {b} to improve {name}.",
        f"The {a} step of {name} is where {b} shows up.", f"Comparing {a} and {b} for {name} was instructive.",
    ]  # fmt: skip
    return rng.choice(forms)


def _post(rng: random.Random, language: str, subjects: dict, subject: str) -> dict:
    names, words = subjects[subject]
    aside = rng.choice([s for s in subjects if s != subject])
    sentence = _zh_sentence if language == "zh" else _en_sentence
    filler = ZH_FILLER if language == "zh" else EN_FILLER
    parts = [rng.choice(filler)]
    parts += [sentence(rng, names, words) for _ in range(rng.randint(4, 9))]
    parts.append(sentence(rng, *subjects[aside]))  # a second subject in passing
    parts += rng.sample(filler, 2)
    if rng.random() < 0.6:
        parts.append(rng.choice(CODE))
    if rng.random() < 0.4:
        parts.append(rng.choice(LATEX))
    if rng.random() < 0.3:
        parts.insert(1, rng.choice(MARKUP))
    word = rng.choice(words)
    name = rng.choice(names)
    if language == "zh":
        title = rng.choice(
            [f"{name}实践：{word}", f"{word}与{name}笔记", f"深入理解{name}中的{word}"]
        )
    else:
        title = rng.choice(
            [f"{name}: notes on {word}", f"Understanding {word} in {name}", f"{word} for {name}"]
        )
    return {"title": title, "body": "\n\n".join(parts), "tags": [name], "subject": subject}


def blog_posts(blog: str, posts: int, seed: int = 7) -> list[dict]:
    """``posts`` posts of ``blog``, each with its ``subject``, dated over three years."""
    language, subjects = BLOGS[blog]
    rng = random.Random(f"{blog}-{seed}")
    start = date(2023, 1, 1)
    out = []
    for i in range(posts):
        post = _post(rng, language, subjects, rng.choice(list(subjects)))
        post.update(
            id=f"{blog}-{i}",
            url=f"https://{blog}.example.org/posts/{i}",
            published=(start + timedelta(days=rng.randrange(3 * 365))).isoformat(),
            category=blog,
        )
        out.append(post)
    return out
