# %% [markdown]
# # Appendix · Glossary: notation, English ↔ 中文, and every myth the course corrects
#
# **What you will find**
# - the **notation**: every symbol the lessons use, what it means, and the name it has in `tutor_lib`
#   code, with the few letters that mean two things depending on the lesson;
# - the **terms** of the source article (a Chinese blog post on making LLMs cheaper) next to their
#   English names, each linked to the lesson that teaches it;
# - an **index of every "Myth vs fact" and "Imprecise → precise" box** of the course, with the
#   measurement that settles it. The index is not typed by hand: the cell that prints it reads the
#   executed lessons, and a test fails when a lesson's boxes change and this notebook was not re-run.
#
# **Prerequisites:** none; come back to it from any lesson.
#
# **Runtime:** under a second on a 2-core laptop CPU (`make report`: 0.2 s, plus the kernel's start);
# no torch and no plots: it reads the other notebooks.

# %%
from IPython.display import Markdown, display
from tutor_lib.costs import GPT3_175B, MISTRAL_7B_LIKE
from tutor_lib.glossary import box_index_markdown, course_boxes

# %% [markdown]
# ## 1. Notation
#
# One name per concept, in prose, code, widget labels and plots. Shapes follow PyTorch:
# `q (..., n_q, d_k)`, `k (..., n_k, d_k)`, `v (..., n_k, d_v)`, leading (batch, head) dimensions
# first. Masks are boolean, **True = may attend**. The last column is the lesson that introduces it.
#
# **A model and its input**
#
# | symbol | meaning | in `tutor_lib` | lesson |
# |---|---|---|---|
# | n | sequence length in tokens (queries and keys from one sequence) | `n` | [00][00] |
# | n_q, n_k | number of queries, of keys; one decoding step has n_q = 1 | `n_q`, `n_k` (shapes) | [01][01] |
# | t | tokens already in the KV cache while decoding | `tokens`, `context` | [00][00] |
# | b | batch size: sequences processed together | `batch` | [00][00] |
# | d, d_model | model width: each token's vector between layers | `d_model` | [00][00] |
# | d_k, d_v | width of one query/key vector, of one value vector (one head) | `d_k`, `d_v` | [01][01] |
# | h | number of (query) heads | `num_heads`; `n_heads` in `ModelShape` | [01][01] |
# | d_h | width of one head, d_model / h (d_k = d_v = d_h in the usual layer) | `d_head` | [01][01] |
# | n_kv | key/value heads of grouped-query attention (n_kv = h without) | `n_kv_heads` | [00][00] |
# | L | number of layers | `n_layers`, `layers` | [00][00] |
# | m, d_ff | FFN hidden width (4·d in GPT-3) | `d_ff` | [02][02] |
# | V | vocabulary size | `vocab_size` | [00][00] |
# | N | parameter count (about 2N FLOPs per generated token) | `param_count(shape)` | [00][00] |
# | E, k | experts of a Mixture of Experts, and how many a token uses | `num_experts`, `top_k` | [02][02] |
#
# **Attention itself**
#
# | symbol | meaning | in `tutor_lib` | lesson |
# |---|---|---|---|
# | Q, K, V | queries, keys, values: x W_Q, x W_K, x W_V | `q`, `k`, `v`; `w_q`, `w_k`, `w_v` | [01][01] |
# | S | scores Q Kᵀ / √d_k, an n_q × n_k matrix | — | [01][01] |
# | P | probabilities softmax(S), row by row (the "attention weights") | `return_weights=True` | [01][01] |
# | M, mask | M_ij = True: query i may read key j | `mask` | [01][01] |
# | scale | the factor on the scores, 1/√d_k by default | `scale` | [01][01] |
#
# **Sparse patterns** (lesson [04][04]; key j is allowed for query i when the condition holds)
#
# | symbol | meaning | in `tutor_lib.masks` |
# |---|---|---|
# | left, right | offsets −left ≤ j − i ≤ right (right = 0: a causal sliding window) | `left`, `right` |
# | w | Longformer's window: w/2 keys on each side, w + 1 in all | `left = right = w // 2` |
# | W | Mistral's causal window: keys i − W … i | `left = W, right = 0` |
# | dilation | every `dilation`-th offset: the window reaches `dilation` times further | `dilation` |
# | l, stride | Sparse Transformer stride: the strided head reads (i − j) mod l = 0 | `stride` |
# | c | summary tokens at the end of every block (the "fixed" pattern) | `summary` |
# | block | tokens per block (block-diagonal, BigBird, tiles of a kernel) | `block` |
# | g | global tokens: they read every key, every query reads them | `tokens` |
# | r | random keys per query (BigBird) | `num_random` |
#
# **Memory-efficient, linear, compressed and chunked attention** (code names from the curriculum's
# API contract)
#
# | symbol | meaning | in `tutor_lib` | lesson |
# |---|---|---|---|
# | B_q, B_k | query, key block sizes of tiled attention (paper: B_r, B_c) | `block_q`, `block_k` | [05][05] |
# | m, ℓ | running maximum and running normalizer of the online softmax | `"max"`, `"normalizer"` | [05][05] |
# | M | on-chip memory (SRAM) size in FlashAttention's count of memory traffic | — | [05][05] |
# | φ | feature map of linear attention (elu(x) + 1, or random features) | `feature_map` | [06][06] |
# | m | Performer's number of random features | `num_features` | [06][06] |
# | bits | bits per stored number (16, 8, 4, 2) | `bits` | [08][08] |
# | s, z | quantization step and zero point: x ≈ s·(q − z) | `scale`, `zero_point` | [08][08] |
# | chunk, overlap | tokens per chunk, tokens shared by neighbouring chunks | `chunk`, `overlap` | [09][09] |
# | P | devices of ring attention | `num_devices` | [09][09] |
# | budget | bytes one layer's attention may keep (forward peak or saved bytes) | `budget` | [10][10] |
#
# **Letters with two meanings.** m is the FFN width (lesson 02), the running maximum (05) and the
# number of random features (06); M is a mask (01, 04) and the SRAM size (05); P is the probability
# matrix and, in lesson 09, the number of devices. Lesson 07 quotes Korthikanti et al. in *their*
# letters: s = sequence length, b = batch, **h = d_model** (not the heads) and a = heads. Each lesson
# says which one it means where it uses it.
#
# [00]: 00_why_llms_are_expensive.ipynb
# [01]: 01_self_attention.ipynb
# [02]: 02_feed_forward.ipynb
# [03]: 03_long_sequences.ipynb
# [04]: 04_sparse_patterns.ipynb
# [05]: 05_memory_efficient_attention.ipynb
# [06]: 06_linear_attention.ipynb
# [07]: 07_training_memory.ipynb
# [08]: 08_compression.ipynb
# [09]: 09_sequence_chunking.ipynb
# [10]: 10_choosing_a_method.ipynb
#
# The same symbols with the values of two real models (a `ModelShape` carries them):

# %%
print(f"{'':>16} | {'L':>3} | {'d_model':>7} | {'h':>3} | {'d_h':>4} | {'n_kv':>4} | {'d_ff':>6} | {'V':>6}")
for shape in (GPT3_175B, MISTRAL_7B_LIKE):
    assert shape.d_head * shape.n_heads == shape.d_model  # d_h = d_model / h
    print(
        f"{shape.name:>16} | {shape.n_layers:>3} | {shape.d_model:>7} | {shape.n_heads:>3} | "
        f"{shape.d_head:>4} | {shape.kv_heads:>4} | {shape.d_ff:>6} | {shape.vocab_size:>6}"
    )

# %% [markdown]
# ## 2. English ↔ 中文
#
# The source article's own terms, as it writes them, each with the lesson that teaches it. Where the
# article's term is loose or wrong, the lesson says so (section 3 lists every correction).
#
# | 中文 (the article) | English | what it is here | lesson |
# |---|---|---|---|
# | 自注意力 | self-attention | every query against every key: softmax(QKᵀ/√d_k)V | [01][01] |
# | 前馈神经网络 | feed-forward network (FFN) | per-token two-layer network; 16nd² FLOPs (m = 4d) | [02][02] |
# | 稀疏注意力 | sparse attention | attention restricted by a fixed mask: a different model | [04][04] |
# | 局部窗口注意力 | local window attention | keys in a window around (or before) the query | [04][04] |
# | 扩展窗口注意力 | dilated window attention | a window of keys `dilation` apart (Longformer) | [04][04] |
# | 区域注意力 | block attention | chunks, block-sparse masks or exact tiling | [04][04], [05][05], [09][09] |
# | 条带注意力 | strided attention | Sparse Transformer stripes, (i − j) mod l = 0: not a band | [04][04] |
# | 散射注意力 | scattered (random) attention | BigBird's random keys, with a window and globals | [04][04] |
# | 线性注意力 | linear attention | φ(Q)(φ(K)ᵀV): a different model, no n × n matrix | [06][06] |
# | 内存高效注意力 | memory-efficient attention | exact attention, block by block, online softmax | [05][05] |
# | 可逆注意力 | reversible attention | reversible layers: inputs recomputed from outputs | [07][07] |
# | 内存压缩 | memory compression | fewer bits (quantization) or fewer key/value vectors | [08][08] |
# | 序列分块 | sequence chunking | attention within chunks, and ways back across them | [09][09] |
#
# Other terms the course uses, with their usual Chinese names (not necessarily the article's wording):
#
# | 中文 | English | lesson |
# |---|---|---|
# | 大语言模型 | large language model (LLM) | [00][00] |
# | 键值缓存 | KV cache | [00][00], [03][03] |
# | 梯度消失 / 梯度爆炸 | vanishing / exploding gradients | [00][00] |
# | 多头注意力 | multi-head attention | [01][01] |
# | 分组查询注意力 | grouped-query attention (GQA) | [01][01] |
# | 因果掩码 | causal mask | [01][01] |
# | 混合专家 | Mixture of Experts (MoE) | [02][02] |
# | 长序列 | long sequences | [03][03] |
# | 滑动窗口注意力 | sliding window attention | [04][04] |
# | 全局注意力 | global attention | [04][04], [09][09] |
# | 随机注意力 | random attention | [04][04] |
# | 在线 softmax | online softmax | [05][05] |
# | 随机特征 | random features (Performer) | [06][06] |
# | 梯度检查点 | gradient (activation) checkpointing | [07][07] |
# | 混合精度 | mixed precision | [07][07] |
# | 量化 | quantization | [08][08] |
# | 离群值 | outliers | [08][08] |
# | 环形注意力 | ring attention | [09][09] |
# | 精确 / 近似 | exact / approximate: does a method change the model? | [10][10] |
# | 帕累托前沿 | Pareto front: the methods no other beats on every axis | [10][10] |
# | 预填充 / 解码 | prefill / decode: the prompt at once, then one token at a time | [03][03], [10][10] |
#
# [00]: 00_why_llms_are_expensive.ipynb
# [01]: 01_self_attention.ipynb
# [02]: 02_feed_forward.ipynb
# [03]: 03_long_sequences.ipynb
# [04]: 04_sparse_patterns.ipynb
# [05]: 05_memory_efficient_attention.ipynb
# [06]: 06_linear_attention.ipynb
# [07]: 07_training_memory.ipynb
# [08]: 08_compression.ipynb
# [09]: 09_sequence_chunking.ipynb
# [10]: 10_choosing_a_method.ipynb

# %% [markdown]
# ## 3. Every myth the course corrects, and the measurement that settles it
#
# **How the index is made.** A lesson writes a box as a Markdown blockquote that starts
# `> **Myth:** "…" **Fact:** …` when the claim is wrong, or `> **Imprecise:** "…" **Precise:** …`
# when it is true shorthand that hides something. The **first code cell after the box** is the
# measurement that settles it (that is the house rule: the box is followed by the cell that shows
# the fact). The cell below reads every executed lesson in this folder with
# `tutor_lib.glossary.course_boxes` and prints, for each box, the claim, the first sentence of the
# fact, and that cell's printed text as the executed lesson stores it. Strict nbval re-runs every
# lesson and compares exactly that text, so the quoted numbers are what a fresh run prints. A
# settling cell whose numbers depend on the machine (marked `# NBVAL_IGNORE_OUTPUT`) is named, not
# quoted; one that only draws is named as a figure.
#
# **How it stays in sync.** `tests/test_glossary.py` builds the same index from the lessons and
# compares it with the one stored below: add, change or remove a box in any lesson without
# re-running this notebook and `make test` fails, naming the command that fixes it
# (`make notebooks LESSONS=lessons/appendix_glossary.py`).

# %%
boxes = course_boxes(".")  # the executed lessons next to this notebook
display(Markdown(box_index_markdown(boxes)))

# %% [markdown]
# ## Summary
#
# - One name per concept; where a letter means two things (m, M, P, h in lesson 07), the lesson says
#   which.
# - The article's terms map onto the lessons above; 区域注意力 ("block attention") is the one that
#   names three different ideas, and 内存压缩 ("memory compression") names two.
# - Every box of the course is in section 3 with the numbers that settle it; a box is a "Myth" only
#   when the claim is wrong.
