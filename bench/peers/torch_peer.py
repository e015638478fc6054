#!/usr/bin/python3
"""The PyTorch peer of `fedprompt bench peer`: the project's prompted classification, soft-prompt tuning step and
DP-SGD step, written as a PyTorch user would write them, on the same weights, token ids, prompt and threads.

Needs only Debian's PyTorch (`apt-get install python3-torch`, run with /usr/bin/python3); never the project's tests.
`fedprompt bench peer` writes the model folder (config.json + safetensors, Hugging Face layout) and the inputs file
(token ids as the project's PromptedClassifier builds them, labels, the label words' token ids, the starting prompt),
runs this script and the project's own worker alternately, and compares their JSON. Run alone:

    /usr/bin/python3 bench/peers/torch_peer.py --model DIR --inputs inputs.json --threads 2 --out torch.json

The models follow Hugging Face's GPT2LMHeadModel and LlamaForCausalLM (eager attention: PyTorch 1.13 has no
scaled_dot_product_attention), as the project's Gpt2Model and LlamaModel do; the script checks nothing itself, the
benchmark compares both sides' class scores and tuned prompts.
"""
import argparse
import json
import math
import os
import struct
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


# ---- weights ---------------------------------------------------------------------------------------------------

def read_safetensors(model_dir):
    """Every tensor of the folder's model.safetensors (or the shards its index names), read straight into place."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    tensors = {}
    for name in files:
        with open(os.path.join(model_dir, name), "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
            base = 8 + length
            for key, entry in header.items():
                if key == "__metadata__":
                    continue
                start, end = entry["data_offsets"]
                stored = torch.empty(entry["shape"], dtype=DTYPES[entry["dtype"]])
                f.seek(base + start)
                f.readinto(memoryview(stored.view(torch.uint8).numpy()).cast("B"))
                assert stored.numel() * stored.element_size() == end - start, key
                tensors[key] = stored.float() if stored.dtype != torch.float32 else stored
    return tensors


# ---- models ----------------------------------------------------------------------------------------------------

def causal_padding_mask(mask, length):
    """[B,1,T,T], 0 where a query may attend (earlier real keys, and always itself, as the project does), else -inf;
    made once per pass and added to every layer's scores."""
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    allowed = (causal & mask.bool()[:, None, None, :]) | torch.eye(length, dtype=torch.bool)
    return torch.zeros(allowed.shape).masked_fill(~allowed, float("-inf"))


def attention(q, k, v, additive_mask):
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + additive_mask
    return scores.softmax(-1) @ v


def conv1d(x, weight, bias):
    """OpenAI's Conv1D as Hugging Face computes it: one addmm over the flattened rows, weight stored [in, out]."""
    return torch.addmm(bias, x.reshape(-1, x.shape[-1]), weight).view(*x.shape[:-1], weight.shape[1])


class Gpt2:
    def __init__(self, config, w):
        self.c, self.w = config, w
        self.layers = config["n_layer"]
        self.heads = config["n_head"]
        self.eps = config.get("layer_norm_epsilon", 1e-5)
        self.wte = w["transformer.wte.weight"]

    def embed(self, ids):
        return F.embedding(ids, self.wte)

    def hidden(self, x, mask, positions):
        w, eps = self.w, self.eps
        x = x + F.embedding(positions, w["transformer.wpe.weight"])
        attend = causal_padding_mask(mask, x.shape[1])
        b, t, h = x.shape
        for i in range(self.layers):
            p = f"transformer.h.{i}."
            a = F.layer_norm(x, (h,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
            qkv = conv1d(a, w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"]).view(b, t, 3, self.heads, h // self.heads)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)
            y = attention(q, k, v, attend).transpose(1, 2).reshape(b, t, h)
            x = x + conv1d(y, w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"])
            m = F.layer_norm(x, (h,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
            m = F.gelu(conv1d(m, w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"]), approximate="tanh")
            x = x + conv1d(m, w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"])
        return F.layer_norm(x, (h,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)

    def head(self, hidden):
        return F.linear(hidden, self.w.get("lm_head.weight", self.wte))


class Llama:
    def __init__(self, config, w):
        self.c, self.w = config, w
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.kv_heads = config.get("num_key_value_heads", self.heads)
        self.head_dim = config.get("head_dim", config["hidden_size"] // self.heads)
        self.eps = config.get("rms_norm_eps", 1e-6)
        theta = config.get("rope_theta", 10000.0)
        self.inv_freq = torch.tensor([1.0 / theta ** (2.0 * i / self.head_dim) for i in range(self.head_dim // 2)], dtype=torch.float32)
        self.embed_tokens = w["model.embed_tokens.weight"]

    def embed(self, ids):
        return F.embedding(ids, self.embed_tokens)

    def rms(self, x, weight):
        return weight * (x * (x.pow(2).mean(-1, keepdim=True) + self.eps).rsqrt())

    @staticmethod
    def rotate(x, cos, sin):
        x1, x2 = x.chunk(2, -1)
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def hidden(self, x, mask, positions):
        w = self.w
        freqs = positions.float()[..., None] * self.inv_freq
        angles = torch.cat([freqs, freqs], -1)[:, None]
        cos, sin = angles.cos(), angles.sin()
        attend = causal_padding_mask(mask, x.shape[1])
        b, t, _ = x.shape
        group = self.heads // self.kv_heads
        for i in range(self.layers):
            p = f"model.layers.{i}."
            a = self.rms(x, w[p + "input_layernorm.weight"])
            q = F.linear(a, w[p + "self_attn.q_proj.weight"]).view(b, t, self.heads, self.head_dim).transpose(1, 2)
            k = F.linear(a, w[p + "self_attn.k_proj.weight"]).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            v = F.linear(a, w[p + "self_attn.v_proj.weight"]).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = self.rotate(q, cos, sin), self.rotate(k, cos, sin)
            if group > 1:
                k, v = k.repeat_interleave(group, 1), v.repeat_interleave(group, 1)
            y = attention(q, k, v, attend).transpose(1, 2).reshape(b, t, self.heads * self.head_dim)
            x = x + F.linear(y, w[p + "self_attn.o_proj.weight"])
            m = self.rms(x, w[p + "post_attention_layernorm.weight"])
            m = F.linear(F.silu(F.linear(m, w[p + "mlp.gate_proj.weight"])) * F.linear(m, w[p + "mlp.up_proj.weight"]),
                         w[p + "mlp.down_proj.weight"])
            x = x + m
        return self.rms(x, w["model.norm.weight"])

    def head(self, hidden):
        return F.linear(hidden, self.w.get("lm_head.weight", self.embed_tokens))


def load_model(model_dir):
    config = json.load(open(os.path.join(model_dir, "config.json")))
    # What the two classes above implement; anything else would be timed wrong, so it is refused.
    expected = ({"activation_function": "gelu_new"} if config["model_type"] == "gpt2"
                else {"hidden_act": "silu", "rope_scaling": None, "attention_bias": False, "mlp_bias": False})
    for key, value in expected.items():
        if config.get(key, value) != value:
            raise SystemExit(f"{model_dir}/config.json: {key} = {config[key]!r}; this peer implements only {value!r}")
    weights = read_safetensors(model_dir)
    for t in weights.values():
        t.requires_grad_(False)
    return (Gpt2 if config["model_type"] == "gpt2" else Llama)(config, weights)


# ---- prompted classification -----------------------------------------------------------------------------------

class Classifier:
    """[BOS] [soft prompt] ids, right-padded; class score = mean logit of the class's label tokens at the last real position."""

    def __init__(self, model, bos_id, label_token_ids):
        self.model, self.bos_id = model, bos_id
        self.labels = [torch.tensor(ids, dtype=torch.long) for ids in label_token_ids]

    def class_scores(self, rows, prompt):
        b, width = len(rows), max(len(r) for r in rows)
        ids = torch.zeros(b, width, dtype=torch.long)
        row_mask = torch.zeros(b, width, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
            row_mask[i, :len(r)] = 1
        parts = []
        if self.bos_id is not None:
            parts.append(self.model.embed(torch.full((b, 1), self.bos_id, dtype=torch.long)))
        parts.append(prompt if prompt.dim() == 3 else prompt.unsqueeze(0).expand(b, -1, -1))
        parts.append(self.model.embed(ids))
        lead = (1 if self.bos_id is not None else 0) + prompt.shape[-2]
        mask = torch.cat([torch.ones(b, lead, dtype=torch.long), row_mask], 1)
        positions = (mask.cumsum(1) - 1).clamp_min(0)
        hidden = self.model.hidden(torch.cat(parts, 1), mask, positions)
        last = torch.tensor([lead + len(r) - 1 for r in rows])
        logits = self.model.head(hidden[torch.arange(b), last])
        return torch.stack([logits.index_select(1, ids).mean(1) for ids in self.labels], 1)


# ---- the three workloads ---------------------------------------------------------------------------------------

def reset_peak():
    """Resets this process's peak resident set (VmHWM) to its current size."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def memory_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def forward(classifier, prompt, work):
    rows, size = work["rows"], work["batch_size"]
    seconds, predictions, scores = [], [], None
    with torch.no_grad():
        for start in range(0, len(rows), size):
            clock = time.perf_counter()
            batch_scores = classifier.class_scores(rows[start:start + size], prompt)
            predictions += batch_scores.argmax(1).tolist()
            seconds.append(time.perf_counter() - clock)
            if scores is None:
                scores = batch_scores.tolist()
    return {"batch_seconds": seconds, "first_batch_scores": scores, "predictions": predictions}


def tune(classifier, start, work):
    """Adam on the cross-entropy of the class scores, one batch per step."""
    prompt = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([prompt], lr=work["adam_lr"])
    labels = torch.tensor(work["labels"])
    seconds, losses = [], []
    for _ in range(work["steps"]):
        clock = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(classifier.class_scores(work["rows"], prompt), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        seconds.append(time.perf_counter() - clock)
    return {"step_seconds": seconds, "losses": losses, "final_prompt": prompt.detach().flatten().tolist()}


def dp_step(classifier, start, work, generator):
    """DP-SGD (Abadi et al.): per-example gradients from per-example prompt copies, each clipped to C, summed, plus
    N(0, σ²C²), divided by the expected batch size; plain SGD."""
    prompt = start.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([prompt], lr=work["sgd_lr"])
    labels = torch.tensor(work["labels"])
    clip, sigma = work["clip_norm"], work["noise_multiplier"]
    seconds, losses = [], []
    for _ in range(work["steps"]):
        clock = time.perf_counter()
        optimizer.zero_grad()
        copies = prompt.detach().unsqueeze(0).repeat(len(labels), 1, 1).requires_grad_(True)
        loss_sum = F.cross_entropy(classifier.class_scores(work["rows"], copies), labels, reduction="sum")
        loss_sum.backward()
        flat = copies.grad.reshape(len(labels), -1)
        factors = (clip / (flat.norm(dim=1, keepdim=True) + 1e-12)).clamp_max(1.0)
        total = (flat * factors).sum(0).reshape(prompt.shape)
        prompt.grad = (total + torch.randn(prompt.shape, generator=generator) * (sigma * clip)) / work["expected_batch_size"]
        optimizer.step()
        losses.append(loss_sum.item() / len(labels))
        seconds.append(time.perf_counter() - clock)
    return {"step_seconds": seconds, "losses": losses}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="model folder: config.json + safetensors")
    parser.add_argument("--inputs", required=True, help="inputs JSON written by fedprompt bench peer")
    parser.add_argument("--threads", type=int, required=True, help="intra-op threads (OPENBLAS_NUM_THREADS should match)")
    parser.add_argument("--out", required=True, help="where to write the results JSON")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    inputs = json.load(open(args.inputs))
    result = {"side": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
              "blas": "MKL" if torch.backends.mkl.is_available() else "generic (the system BLAS)"}
    result["rss_before_load_mib"] = memory_mib("VmRSS")
    clock = time.perf_counter()
    model = load_model(args.model)
    result["load_seconds"] = time.perf_counter() - clock
    result["load_peak_rss_mib"] = memory_mib("VmHWM")
    result["rss_after_load_mib"] = memory_mib("VmRSS")

    classifier = Classifier(model, inputs["bos_id"], inputs["label_token_ids"])
    prompt = torch.tensor(inputs["prompt"], dtype=torch.float32)
    workloads = [("forward", lambda: forward(classifier, prompt, inputs["forward"])),
                 ("tuning", lambda: tune(classifier, prompt, inputs["training"])),
                 ("dp", lambda: dp_step(classifier, prompt, inputs["training"], torch.Generator().manual_seed(inputs["seed"])))]
    for name, run in workloads:
        reset_peak()
        part = run()
        part["peak_rss_mib"] = memory_mib("VmHWM")
        result[name] = part
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
