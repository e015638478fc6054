#!/usr/bin/env python3
"""Pretrains the teacher on a GPU with PyTorch, from what `fedprompt pretrain --prepare-only` wrote.

Input (the prepared folder): config.json, the tokenizer files, and tokens/train.u16 + tokens/held-out.u16 (little-endian
uint16 ids, each document followed by end-of-text).
Output: an ordinary Hugging Face GPT-2 folder (config.json, BF16 safetensors in shards of at most --shard-mb, the index,
the tokenizer files) that `fedprompt` loads, plus train_report.json (held-out curve, throughput, what ran where).

The model is GPT-2 written out below with Hugging Face's tensor names and layouts (Conv1D weights are [in, out],
the LM head is tied to wte), so the saved folder is exactly what the project's loader reads, initialised as GPT-2 is
(normal 0.02, residual projections scaled by 1/sqrt(2 layers), biases 0, layer norms 1). Training: AdamW
(betas 0.9/0.95), linear warm-up then cosine decay to 10 %, gradient clipping at 1, bf16 autocast on CUDA with float32
weights, random windows of the training stream drawn from a seeded generator. The folder holds the step with the lowest
held-out loss so far (several epochs over 22 M tokens can overfit); it is rewritten at each improvement, so a run stopped
early still leaves a whole folder.

This script runs on the device machine only (bench/teacher/README.md); nothing in the product or its tests needs it.
Written for torch >= 1.13 (Debian's, for a CPU check) and 2.x (the device's).
"""
import argparse, json, math, os, shutil, struct, sys, time

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------- safetensors

DTYPES = {"F32": (torch.float32, 4), "BF16": (torch.bfloat16, 2), "F16": (torch.float16, 2)}


def read_safetensors(path):
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, _ = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).float()
    return tensors


def write_safetensors(path, tensors):
    """BF16, names sorted, 8-byte aligned header, as the safetensors format specifies."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        raw = tensors[name].detach().to("cpu", torch.bfloat16).contiguous().view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": "BF16", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def save_sharded(out_dir, tensors, shard_bytes):
    """Greedy shards in name order; one file and no index when everything fits one shard."""
    names, shards, size = sorted(tensors), [[]], 0
    for name in names:
        nbytes = tensors[name].numel() * 2
        if shards[-1] and size + nbytes > shard_bytes:
            shards.append([])
            size = 0
        shards[-1].append(name)
        size += nbytes
    for stale in os.listdir(out_dir):
        if stale.startswith("model") and stale.endswith((".safetensors", ".index.json")):
            os.remove(os.path.join(out_dir, stale))
    if len(shards) == 1:
        write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
        return
    weight_map = {}
    for i, shard in enumerate(shards):
        file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_safetensors(os.path.join(out_dir, file), {n: tensors[n] for n in shard})
        weight_map.update({n: file for n in shard})
    total = sum(t.numel() * 2 for t in tensors.values())
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)

# ---------------------------------------------------------------------------------------------- the model


def initial_tensors(config, generator):
    """GPT-2's initialisation under Hugging Face's names (no lm_head: it is tied to wte)."""
    d, layers, vocab, positions = config["n_embd"], config["n_layer"], config["vocab_size"], config["n_positions"]
    inner = config.get("n_inner") or 4 * d
    normal = lambda *shape, std=0.02: torch.randn(*shape, generator=generator) * std
    tensors = {"transformer.wte.weight": normal(vocab, d), "transformer.wpe.weight": normal(positions, d, std=0.01),
               "transformer.ln_f.weight": torch.ones(d), "transformer.ln_f.bias": torch.zeros(d)}
    residual = 0.02 / math.sqrt(2 * layers)
    for i in range(layers):
        h = f"transformer.h.{i}."
        tensors.update({
            h + "ln_1.weight": torch.ones(d), h + "ln_1.bias": torch.zeros(d),
            h + "attn.c_attn.weight": normal(d, 3 * d), h + "attn.c_attn.bias": torch.zeros(3 * d),
            h + "attn.c_proj.weight": normal(d, d, std=residual), h + "attn.c_proj.bias": torch.zeros(d),
            h + "ln_2.weight": torch.ones(d), h + "ln_2.bias": torch.zeros(d),
            h + "mlp.c_fc.weight": normal(d, inner), h + "mlp.c_fc.bias": torch.zeros(inner),
            h + "mlp.c_proj.weight": normal(inner, d, std=residual), h + "mlp.c_proj.bias": torch.zeros(d),
        })
    return tensors


class Gpt2(torch.nn.Module):
    """GPT-2 holding Hugging Face's tensors by name: transformer.wte.weight, transformer.h.0.attn.c_attn.weight [in, 3in] ..."""

    def __init__(self, config, tensors, dropout):
        super().__init__()
        self.layers, self.heads = config["n_layer"], config["n_head"]
        self.eps = config.get("layer_norm_epsilon", 1e-5)
        self.dropout = dropout
        key = lambda name: name if name.startswith("transformer.") else "transformer." + name
        self.params = torch.nn.ParameterDict({key(n).replace(".", "/"): torch.nn.Parameter(t.clone())
                                              for n, t in tensors.items() if not n.startswith("lm_head.")})

    def p(self, name):
        return self.params["transformer/" + name.replace(".", "/")]

    def named_tensors(self):
        return {n.replace("/", "."): t for n, t in self.params.items()}

    def forward(self, ids):
        batch, length = ids.shape
        x = self.p("wte.weight")[ids] + self.p("wpe.weight")[:length]
        x = F.dropout(x, self.dropout, self.training)
        for i in range(self.layers):
            h = lambda name: self.p(f"h.{i}.{name}")
            y = F.layer_norm(x, x.shape[-1:], h("ln_1.weight"), h("ln_1.bias"), self.eps)
            q, k, v = (y @ h("attn.c_attn.weight") + h("attn.c_attn.bias")).split(x.shape[-1], dim=-1)
            q, k, v = (t.view(batch, length, self.heads, -1).transpose(1, 2) for t in (q, k, v))
            y = attention(q, k, v, self.dropout if self.training else 0.0)
            y = y.transpose(1, 2).reshape(batch, length, -1) @ h("attn.c_proj.weight") + h("attn.c_proj.bias")
            x = x + F.dropout(y, self.dropout, self.training)
            y = F.layer_norm(x, x.shape[-1:], h("ln_2.weight"), h("ln_2.bias"), self.eps)
            y = F.gelu(y @ h("mlp.c_fc.weight") + h("mlp.c_fc.bias"), approximate="tanh")   # gelu_new
            y = y @ h("mlp.c_proj.weight") + h("mlp.c_proj.bias")
            x = x + F.dropout(y, self.dropout, self.training)
        x = F.layer_norm(x, x.shape[-1:], self.p("ln_f.weight"), self.p("ln_f.bias"), self.eps)
        return x @ self.p("wte.weight").t()   # tied head


def attention(q, k, v, dropout):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
    length = q.shape[-2]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    mask = torch.ones(length, length, dtype=torch.bool, device=q.device).tril()
    weights = F.dropout(scores.masked_fill(~mask, float("-inf")).softmax(-1), dropout, True)
    return weights @ v

# ---------------------------------------------------------------------------------------------- training


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prepared", required=True, help="folder written by fedprompt pretrain --prepare-only")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, help="optimizer steps; default: as many as --minutes allows, measured over --calibrate steps")
    ap.add_argument("--minutes", type=float, default=6.0, help="training time budget when --steps is not given")
    ap.add_argument("--max-epochs", type=float, default=16.0, help="cap on passes over the training tokens when --steps is not given")
    ap.add_argument("--calibrate", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-tokens", type=int, default=1 << 20)
    ap.add_argument("--shard-mb", type=float, default=15.0, help="largest weight file (the device tool returns files of at most 16 MiB)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--check", metavar="MODEL_DIR", help="only print the held-out loss of a saved folder (checks a round trip)")
    args = ap.parse_args()

    started = time.time()
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    config = json.load(open(os.path.join(args.prepared, "config.json")))
    context, vocab = config["n_positions"], config["vocab_size"]
    load = lambda name: torch.from_numpy(np.fromfile(os.path.join(args.prepared, "tokens", name), dtype="<u2").astype(np.int64)).to(device)
    train, held_out = load("train.u16"), load("held-out.u16")
    assert int(train.max()) < vocab and int(held_out.max()) < vocab, "token id outside the vocabulary"
    if args.check:
        tensors = {}
        for file in sorted(os.listdir(args.check)):
            if file.endswith(".safetensors"):
                tensors.update(read_safetensors(os.path.join(args.check, file)))
    else:
        tensors = initial_tensors(config, torch.Generator().manual_seed(args.seed))
    model = Gpt2(config, tensors, args.dropout).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"{parameters:,} parameters; {train.numel():,} training and {held_out.numel():,} held-out tokens; "
          f"context {context}, batch {args.batch_size}; torch {torch.__version__} on {device}"
          f"{' (' + torch.cuda.get_device_name() + ')' if device.type == 'cuda' else ''}", flush=True)

    decay = [p for n, p in model.params.items() if p.dim() >= 2 and "wpe" not in n]
    no_decay = [p for n, p in model.params.items() if not (p.dim() >= 2 and "wpe" not in n)]
    adamw = dict(lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    if device.type == "cuda":
        adamw["fused"] = True
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], **adamw)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    generator = torch.Generator(device=device)
    generator.manual_seed(args.seed)
    offsets = torch.arange(context + 1, device=device)

    eval_windows = held_out[: (min(args.eval_tokens, held_out.numel() - 1) // (context + 1)) * (context + 1)].view(-1, context + 1)

    @torch.no_grad()
    def held_out_loss():
        model.eval()
        total, count = 0.0, 0
        for chunk in eval_windows.split(256):
            with autocast:
                logits = model(chunk[:, :-1])
            total += F.cross_entropy(logits.float().reshape(-1, vocab), chunk[:, 1:].reshape(-1), reduction="sum").item()
            count += chunk[:, 1:].numel()
        model.train()
        return total / count

    def step(index, steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(index, steps, args.lr, args.warmup)
        starts = torch.randint(0, train.numel() - context - 1, (args.batch_size,), device=device, generator=generator)
        windows = train[starts[:, None] + offsets]
        with autocast:
            logits = model(windows[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, vocab), windows[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    initial = held_out_loss()
    print(f"{'held-out loss of ' + args.check if args.check else 'initial held-out loss'} {initial:.4f} "
          f"(perplexity {math.exp(initial):.2f}; ln vocab {math.log(vocab):.4f})", flush=True)
    if args.check:
        return 0
    steps = args.steps
    first = 0
    if steps is None:
        # Time a few steps (warm-up included) and fix the step count, so the schedule is a plain function of the step.
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        for i in range(3):
            step(i, 10 ** 9).item()
        sync()
        t0 = time.time()
        for i in range(3, 3 + args.calibrate):
            step(i, 10 ** 9)
        sync()
        per_step = (time.time() - t0) / args.calibrate
        first = 3 + args.calibrate
        epoch_steps = train.numel() / (args.batch_size * context)
        steps = max(first + 1, min(int(args.minutes * 60 / per_step), int(args.max_epochs * epoch_steps)))
        print(f"{per_step * 1000:.1f} ms per step: {steps} steps (at most {args.minutes} minutes and {args.max_epochs} epochs) "
              f"({steps * args.batch_size * context / train.numel():.1f} epochs)", flush=True)

    def save(tensors, curve, step_saved):
        """The best folder so far, written beside and then renamed over the last: a run stopped at any moment leaves a whole one."""
        partial = args.out.rstrip("/") + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        for name in os.listdir(args.prepared):
            if os.path.isfile(os.path.join(args.prepared, name)):
                shutil.copy(os.path.join(args.prepared, name), partial)    # config.json and the tokenizer files
        save_sharded(partial, tensors, int(args.shard_mb * 1024 * 1024))
        best = min(curve, key=lambda p: p["held_out_loss"])
        report = {
            "parameters": parameters, "train_tokens": train.numel(), "held_out_tokens": held_out.numel(),
            "steps": steps, "batch_size": args.batch_size, "context": context, "lr": args.lr, "warmup": args.warmup,
            "weight_decay": args.weight_decay, "dropout": args.dropout, "seed": args.seed,
            "epochs": steps * args.batch_size * context / train.numel(), "saved_step": step_saved,
            "held_out_perplexity": math.exp(best["held_out_loss"]), "curve": curve,
            "train_seconds": time.time() - t_train, "total_seconds": time.time() - started,
            "torch": torch.__version__, "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        }
        json.dump(report, open(os.path.join(partial, "train_report.json"), "w"), indent=2)
        shutil.rmtree(args.out, ignore_errors=True)
        os.rename(partial, args.out)

    curve, best = [{"step": 0, "held_out_loss": initial}], initial
    t_train = time.time()
    for i in range(first, steps):
        loss = step(i, steps)
        if (i + 1) % args.eval_every == 0 or i + 1 == steps:
            train_loss = loss.item()
            value = held_out_loss()
            curve.append({"step": i + 1, "train_loss": train_loss, "held_out_loss": value})
            rate = (i + 1 - first) * args.batch_size * context / (time.time() - t_train)
            print(f"step {i + 1}/{steps}  train {train_loss:.4f}  held-out {value:.4f} (ppl {math.exp(value):.2f})  "
                  f"{rate:,.0f} tokens/s  {time.time() - started:.0f} s", flush=True)
            if value < best:
                best = value
                save(model.named_tensors(), curve, i + 1)
    print(f"saved step {min(curve, key=lambda p: p['held_out_loss'])['step']} (held-out perplexity {math.exp(best):.2f}) "
          f"to {args.out}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
