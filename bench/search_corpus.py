"""A judged corpus for search quality: long ML blog posts, Chinese and English, and the
queries a reader would type for each, with the post they mean.

Written to reproduce what ranks long blogs badly: many compounds of common words
(识别 in 人脸识别, 字符识别, 意图识别; 意图 inside 示意图), near-synonyms (编码 and 嵌入,
RoPE and 旋转位置嵌入), families of names (LoRA, QLoRA; attention, FlashAttention) and
overview posts that mention everything. Posts are built deterministically from each
post's own sentences, repeated and interleaved with shared filler, so that they are long
the way real posts are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Post:
    key: str
    title: str
    category: str
    tags: tuple[str, ...]
    sentences: tuple[str, ...]  # the post's own subject, repeated through it
    mentions: tuple[str, ...] = ()  # said in passing, a few times each


FILLER_ZH = (
    "下面结合代码说明实现细节。",
    "实验在一张显卡上完成,批大小为 32。",
    "这部分内容参考了原论文和社区的讨论。",
    "读者可以先跳过公式,直接看结论。",
    "训练曲线如下,损失在前一千步下降很快。",
    "需要注意的是,超参数对结果影响很大。",
    "本节最后给出一个小结。",
)
FILLER_EN = (
    "Let us walk through the code step by step.",
    "The experiments ran on a single GPU with batch size 32.",
    "Feel free to skip the maths and jump to the results.",
    "Hyper-parameters matter more than one would expect here.",
    "The loss curve drops quickly during the first thousand steps.",
)

POSTS: tuple[Post, ...] = (
    Post(
        "recog",
        "识别与检测:两个常被混淆的任务",
        "CV",
        ("识别", "检测"),
        (
            "识别回答的是这是什么,检测回答的是它在哪里。",
            "识别的输出是类别,识别模型通常以分类头结尾。",
            "很多人把识别和检测混为一谈,其实评价指标完全不同。",
            "识别的准确率与检测的 mAP 不能直接比较。",
        ),
    ),
    Post(
        "face",
        "人脸识别实战:从人脸检测到特征比对",
        "CV",
        ("人脸识别", "ArcFace"),
        (
            "人脸识别系统先做人脸检测,再做对齐,最后提取特征。",
            "ArcFace 的损失让人脸识别的特征在角度空间更可分。",
            "人脸识别的特征向量通常是 512 维。",
            "在门禁场景中,人脸识别需要活体检测配合。",
        ),
    ),
    Post(
        "ocr",
        "字符识别(OCR)模型演进:CRNN 与 CTC",
        "CV",
        ("OCR", "字符识别"),
        (
            "字符识别也叫 OCR,把图片中的文字转成文本。",
            "CRNN 用卷积提取特征,再用循环网络做序列建模,CTC 负责对齐。",
            "OCR 的难点在于弯曲文本和手写体的字符识别。",
        ),
    ),
    Post(
        "intent",
        "对话系统中的意图识别与槽位填充",
        "NLP",
        ("意图识别", "对话系统"),
        (
            "意图识别判断用户想做什么,槽位填充抽取关键信息。",
            "意图识别本质上是文本分类,常用 BERT 微调。",
            "意图的类别体系要先和业务方对齐。",
            "当意图不明确时,对话系统应该主动澄清。",
        ),
    ),
    Post(
        "speech",
        "语音识别入门:CTC、注意力与 Whisper",
        "Speech",
        ("语音识别", "Whisper"),
        (
            "语音识别把声学特征转成文字,经典流程包括声学模型和语言模型。",
            "Whisper 是一个端到端的语音识别模型。",
            "语音识别的评价指标是字错误率。",
        ),
    ),
    Post(
        "cv_overview",
        "计算机视觉任务全景:一张示意图看懂",
        "CV",
        ("综述",),
        (
            "本文梳理计算机视觉的主要任务。",
            "人脸识别、字符识别、车牌识别、手势识别、行人重识别、动作识别、姿态识别都属于识别任务。",
            "目标检测、图像分割和图像分类是最基础的三类任务。",
            "下面的示意图展示了各任务之间的关系。",
        ),
        (
            "人脸识别",
            "字符识别",
            "车牌识别",
            "手势识别",
            "动作识别",
            "示意图",
            "意图识别",
            "语音识别",
        ),
    ),
    Post(
        "diagram",
        "如何画一张清晰的网络结构示意图",
        "Tools",
        ("示意图", "可视化"),
        (
            "一张好的示意图只表达一个意思。",
            "画网络结构示意图时,张量的形状要标在箭头上。",
            "示意图的配色建议不超过三种。",
            "我常用 draw.io 和 TikZ 画示意图。",
        ),
    ),
    Post(
        "rope",
        "RoPE 详解:旋转位置嵌入为什么有效",
        "Large Model",
        ("RoPE", "位置嵌入"),
        (
            "RoPE 用旋转矩阵把位置信息乘到 query 和 key 上。",
            "RoPE 的内积只依赖相对位置,这是它外推性的来源。",
            "旋转位置嵌入 RoPE 被 LLaMA 和 Qwen 采用。",
            "RoPE 的频率基数决定了能支持的上下文长度。",
            "NTK 插值通过调整 RoPE 的基数扩展上下文。",
        ),
    ),
    Post(
        "pe_overview",
        "位置编码综述:绝对位置编码、相对位置编码与 ALiBi",
        "Large Model",
        ("位置编码", "Transformer"),
        (
            "Transformer 本身不感知顺序,所以需要位置编码。",
            "绝对位置编码有正弦位置编码和可学习的位置编码。",
            "相对位置编码把距离加到注意力分数上,ALiBi 是其中最简单的一种。",
            "位置编码的选择影响长度外推能力。",
        ),
        ("旋转", "RoPE"),
    ),
    Post(
        "embedding",
        "词嵌入:从 Word2Vec 到上下文 embedding",
        "NLP",
        ("词嵌入", "embedding"),
        (
            "词嵌入把离散的词映射到稠密向量,也叫 embedding。",
            "Word2Vec 的 skip-gram 用中心词预测上下文来学习词嵌入。",
            "上下文 embedding 让同一个词在不同句子里有不同向量。",
            "embedding 的维度通常在 256 到 4096 之间。",
        ),
    ),
    Post(
        "encoder",
        "编码器-解码器结构与 Seq2Seq",
        "NLP",
        ("编码器", "解码器"),
        (
            "编码器把输入序列压缩成表示,解码器据此逐个生成输出。",
            "编码器和解码器之间通过交叉注意力连接。",
            "T5 是典型的编码器-解码器模型。",
        ),
        ("编码", "注意力"),
    ),
    Post(
        "lora",
        "LoRA 原理:低秩适配为何省显存",
        "Large Model",
        ("LoRA", "微调"),
        (
            "LoRA 冻结原始权重,只训练两个低秩矩阵。",
            "LoRA 的秩 r 通常取 8 或 16,低秩假设来自权重更新的内在维度。",
            "推理时 LoRA 的权重可以合并回原矩阵,没有额外延迟。",
            "LoRA 的 alpha 参数控制更新的缩放。",
        ),
        ("显存", "微调"),
    ),
    Post(
        "qlora",
        "QLoRA:4bit 量化加 LoRA 的单卡微调",
        "Large Model",
        ("QLoRA", "量化"),
        (
            "QLoRA 把基座模型量化成 4bit NF4,再在上面训练 LoRA。",
            "QLoRA 的双重量化进一步压缩了量化常数。",
            "分页优化器让 QLoRA 在显存峰值时不至于崩溃。",
            "用 QLoRA 可以在一张 24G 显卡上微调 33B 模型。",
        ),
        ("LoRA", "量化", "显存"),
    ),
    Post(
        "peft",
        "参数高效微调总览:Adapter、Prefix Tuning、LoRA 与 QLoRA",
        "Large Model",
        ("PEFT", "微调"),
        (
            "参数高效微调只训练很少的参数,却能接近全量微调的效果。",
            "Adapter 在层间插入小网络,Prefix Tuning 在输入前加可训练向量。",
            "LoRA 和 QLoRA 是目前最流行的参数高效微调方法。",
            "参数高效微调降低了显存和存储成本。",
        ),
        ("LoRA", "QLoRA", "Adapter"),
    ),
    Post(
        "attention",
        "Attention from scratch: queries, keys and values",
        "Large Model",
        ("attention", "Transformer"),
        (
            "Attention lets every token look at every other token.",
            "Scaled dot-product attention divides the scores by the square root of the key size.",
            "Multi-head attention runs several attention heads in parallel.",
            "Self-attention is attention where queries, keys and values come from one sequence.",
        ),
        ("softmax",),
    ),
    Post(
        "flash",
        "FlashAttention 原理:IO 感知的精确注意力",
        "Large Model",
        ("FlashAttention", "CUDA"),
        (
            "FlashAttention 把注意力计算切块,在 SRAM 中完成 softmax。",
            "FlashAttention 不保存注意力矩阵,反向传播时重新计算。",
            "FlashAttention 的加速来自减少 HBM 读写,即 IO 感知。",
            "FlashAttention-2 进一步优化了并行划分。",
        ),
        ("attention", "显存"),
    ),
    Post(
        "kv",
        "KV cache 与 PagedAttention:推理显存管理",
        "Large Model",
        ("KV cache", "vLLM"),
        (
            "KV cache 保存已生成 token 的 key 和 value,避免重复计算。",
            "PagedAttention 把 KV cache 分页管理,像操作系统的虚拟内存。",
            "vLLM 借助 PagedAttention 提升了吞吐。",
        ),
        ("attention", "显存"),
    ),
    Post(
        "moe",
        "Mixture of Experts explained: routing, gating and load balancing",
        "Large Model",
        ("MoE", "experts"),
        (
            "A mixture of experts layer sends each token to a few experts chosen by a router.",
            "MoE models grow parameters without growing compute per token.",
            "The gating network scores experts and keeps the top k.",
            "An auxiliary loss keeps the load balanced across experts in MoE training.",
        ),
    ),
    Post(
        "quant",
        "模型量化:INT8、GPTQ 与 AWQ",
        "Large Model",
        ("量化", "GPTQ"),
        (
            "量化把浮点权重映射到低比特整数,减少显存和带宽。",
            "GPTQ 逐层求解量化误差最小的权重。",
            "AWQ 根据激活值保护重要的权重通道再量化。",
            "INT8 量化几乎无损,INT4 量化需要更精细的方法。",
        ),
        ("显存",),
    ),
    Post(
        "distill",
        "知识蒸馏:让小模型学会大模型的本事",
        "Large Model",
        ("蒸馏",),
        (
            "知识蒸馏用教师模型的软标签训练学生模型。",
            "温度越高,教师的概率分布越平滑,蒸馏信号越丰富。",
            "大模型时代的蒸馏常常直接用教师生成的数据。",
        ),
    ),
    Post(
        "rlhf",
        "RLHF and DPO: aligning language models with preferences",
        "Large Model",
        ("RLHF", "DPO"),
        (
            "RLHF trains a reward model on human preferences and optimises the policy with PPO.",
            "DPO skips the reward model and optimises preferences directly.",
            "Preference data pairs a chosen answer with a rejected one.",
        ),
    ),
    Post(
        "tokenizer",
        "分词器:BPE、WordPiece 与 SentencePiece",
        "NLP",
        ("分词", "BPE"),
        (
            "BPE 从字符开始,反复合并最常见的相邻符号对。",
            "分词器决定了模型看到的基本单位,中文分词尤其影响效率。",
            "SentencePiece 把空格也当作普通符号处理。",
        ),
    ),
    Post(
        "spec",
        "投机解码:用小模型加速大模型推理",
        "Large Model",
        ("投机解码", "推理加速"),
        (
            "投机解码先用草稿模型猜多个 token,再由大模型一次验证。",
            "投机解码的接受率决定了加速比。",
            "Medusa 用多个解码头代替草稿模型来做投机解码。",
        ),
    ),
    Post(
        "memory",
        "显存优化实战:梯度检查点与混合精度",
        "Large Model",
        ("显存", "梯度检查点"),
        (
            "梯度检查点用重新计算换显存,只保存部分激活。",
            "混合精度训练用 BF16 计算,FP32 保存主权重。",
            "显存占用主要来自参数、梯度、优化器状态和激活。",
            "显存优化的第一步是看清显存都花在了哪里。",
        ),
    ),
    Post(
        "finetune_gpu",
        "Fine-tuning a 7B model on a single GPU",
        "Large Model",
        ("fine-tuning", "GPU"),
        (
            "Fine-tuning a 7B model on a single consumer GPU is possible with the right tricks.",
            "We combine QLoRA, gradient checkpointing and a paged optimizer.",
            "A single GPU with 24 GB of memory is enough for fine-tuning.",
        ),
        ("LoRA", "QLoRA"),
    ),
    Post(
        "rag",
        "检索增强生成(RAG)从零搭建",
        "Large Model",
        ("RAG", "向量数据库"),
        (
            "检索增强生成先检索相关文档,再让模型基于文档回答。",
            "RAG 的效果很大程度取决于切块和召回。",
            "向量数据库存储文档的 embedding,支持近似最近邻检索。",
        ),
        ("embedding",),
    ),
    Post(
        "detection",
        "目标检测:从 R-CNN 到 YOLO",
        "CV",
        ("目标检测", "YOLO"),
        (
            "目标检测同时预测物体的类别和位置。",
            "YOLO 把目标检测变成一次回归,速度很快。",
            "两阶段的目标检测先产生候选框再分类。",
        ),
        ("识别",),
    ),
    Post(
        "classify",
        "图像分类与 ResNet 残差网络",
        "CV",
        ("图像分类", "ResNet"),
        (
            "图像分类是计算机视觉最基础的任务。",
            "ResNet 的残差连接让很深的网络也能训练。",
            "ImageNet 上的图像分类准确率推动了整个领域。",
        ),
    ),
    Post(
        "rl",
        "强化学习基础:从策略梯度到 PPO",
        "RL",
        ("强化学习", "PPO"),
        (
            "强化学习让智能体通过与环境交互学习策略。",
            "PPO 通过裁剪概率比限制每次策略更新的幅度。",
            "策略梯度方法直接对期望回报求导。",
        ),
    ),
    Post(
        "clip",
        "CLIP 与多模态对比学习",
        "Multimodal",
        ("CLIP", "多模态"),
        (
            "CLIP 用对比学习把图像和文本映射到同一空间。",
            "多模态模型的零样本分类来自 CLIP 的文本编码器。",
            "CLIP 的训练数据是四亿对图文。",
        ),
        ("编码器",),
    ),
    Post(
        "llm_overview",
        "2024 大模型技术全景",
        "Large Model",
        ("大模型", "综述"),
        (
            "这一年大模型技术在训练、推理和对齐上都有进展。",
            "大模型的全景可以分为预训练、微调、推理和应用四层。",
        ),
        (
            "LoRA",
            "QLoRA",
            "FlashAttention",
            "attention",
            "RoPE",
            "位置编码",
            "MoE",
            "RLHF",
            "DPO",
            "量化",
            "蒸馏",
            "KV cache",
            "投机解码",
            "RAG",
            "显存",
            "识别",
            "embedding",
        ),
    ),
    Post(
        "illustrated",
        "The illustrated Transformer: encoder, decoder and attention",
        "NLP",
        ("Transformer",),
        (
            "The Transformer stacks encoder and decoder layers built from attention.",
            "Positional encoding adds order information to token embeddings.",
            "Each encoder layer has self-attention followed by a feed-forward network.",
        ),
        ("attention", "embedding"),
    ),
)

# The query, and the key of the post a reader typing it means.
JUDGED: tuple[tuple[str, str], ...] = (
    ("识别", "recog"),
    ("人脸识别", "face"),
    ("字符识别", "ocr"),
    ("OCR", "ocr"),
    ("意图识别", "intent"),
    ("意图", "intent"),
    ("示意图", "diagram"),
    ("语音识别", "speech"),
    ("旋转位置编码 RoPE", "rope"),
    ("RoPE", "rope"),
    ("旋转位置编码", "rope"),
    ("位置编码", "pe_overview"),
    ("编码器", "encoder"),
    ("词嵌入", "embedding"),
    ("embedding", "embedding"),
    ("LoRA", "lora"),
    ("QLoRA", "qlora"),
    ("低秩", "lora"),
    ("LoRA 量化", "qlora"),
    ("参数高效微调", "peft"),
    ("attention", "attention"),
    ("self-attention", "attention"),
    ("FlashAttention", "flash"),
    ("flash attention", "flash"),
    ("KV cache", "kv"),
    ("PagedAttention", "kv"),
    ("MoE", "moe"),
    ("mixture of experts", "moe"),
    ("专家混合", "moe"),
    ("量化", "quant"),
    ("GPTQ", "quant"),
    ("知识蒸馏", "distill"),
    ("蒸馏", "distill"),
    ("RLHF", "rlhf"),
    ("DPO 偏好", "rlhf"),
    ("分词", "tokenizer"),
    ("BPE", "tokenizer"),
    ("投机解码", "spec"),
    ("speculative decoding", "spec"),
    ("显存 优化", "memory"),
    ("梯度检查点", "memory"),
    ("single GPU fine-tuning", "finetune_gpu"),
    ("检索增强生成", "rag"),
    ("RAG", "rag"),
    ("目标检测", "detection"),
    ("图像分类", "classify"),
    ("强化学习 PPO", "rl"),
    ("CLIP 多模态", "clip"),
    ("大模型 全景", "llm_overview"),
    ("transformer encoder decoder", "illustrated"),
)


def _body(post: Post, rng: random.Random) -> str:
    """A long post: its own sentences many times over, filler between, mentions scattered."""
    english = post.sentences[0].isascii()
    filler = FILLER_EN if english else FILLER_ZH
    paragraphs = []
    for _ in range(12):
        lines = [rng.choice(post.sentences) for _ in range(3)]
        lines += [rng.choice(filler) for _ in range(2)]
        if post.mentions:
            said = rng.choice(post.mentions)
            lines.append(f"Compare {said}." if english else f"另见{said}。")
        rng.shuffle(lines)
        paragraphs.append(" ".join(lines) if english else "".join(lines))
    return "\n\n".join(paragraphs)


def rows() -> list[dict[str, object]]:
    """The posts as JSON Lines records for ``lib.ingest`` (the url carries the key)."""
    rng = random.Random(18)
    first = date(2024, 1, 1)
    return [
        {
            "title": post.title,
            "body": _body(post, rng),
            "category": post.category,
            "tags": list(post.tags),
            "date": (first + timedelta(days=9 * i)).isoformat(),
            "url": f"https://blog.example/{post.key}",
        }
        for i, post in enumerate(POSTS)
    ]
