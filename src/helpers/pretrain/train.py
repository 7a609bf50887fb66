"""Stage 4 of the build: the model, the loss at masked positions, checkpoints and the training loop."""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
import types
import warnings
from pathlib import Path

import numpy as np
import torch

from ..lesson import quiet_libraries, running_in_ci
from ..mlm_accuracy import masked_accuracy
from ..training import optimizer_step
from ..wordpiece import kiwi_token_vectors
from .config import PretrainConfig
from .corpus import _read_jsonl, corpus_texts
from .units import Units


def new_model(config: PretrainConfig, tokenizer, work: Path, log=print):
    """A fresh ``BertForPreTraining`` for the tokenizer (word-piece embeddings kiwi-seeded if configured)."""
    from transformers import BertConfig, BertForPreTraining

    bert_config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=config.hidden_size, num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads, intermediate_size=config.intermediate_size,
        max_position_embeddings=max(128, config.max_len), type_vocab_size=2, pad_token_id=tokenizer.pad_token_id,
        hidden_dropout_prob=config.dropout, attention_probs_dropout_prob=config.dropout,
    )
    torch.manual_seed(config.seed)
    model = BertForPreTraining(bert_config)
    if config.kiwi_init:
        texts = corpus_texts(work)
        sample = [texts[i] for i in np.random.default_rng(config.seed).permutation(len(texts))[: config.kiwi_sample]]
        tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        vecs, covered = kiwi_token_vectors(tokens, sorted(sample), config.hidden_size, config.kiwi_anchors)
        scale = 0.02 / max(vecs[covered].std(), 1e-8)
        with torch.no_grad():
            emb = model.bert.embeddings.word_embeddings.weight
            emb[torch.from_numpy(covered)] = torch.from_numpy(vecs[covered] * scale).float()
        log(f"[pretrain] kiwi-seeded embeddings for {covered.mean():.0%} of word pieces")
    return model


def pretraining_loss(model, batch):
    """MLM loss (vocabulary projection only at masked positions) + pair loss on the pooler.

    Same value as ``BertForPreTraining(...)(labels=..., next_sentence_label=...).loss``, computed
    ~1.5x faster because 85 % of the positions never reach the 8k-way softmax.
    Returns ``(loss, mlm_loss, pair_loss)``.
    """
    import torch.nn.functional as F

    out = model.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                     token_type_ids=batch["token_type_ids"])
    where = batch["labels"] != -100
    mlm = F.cross_entropy(model.cls.predictions(out.last_hidden_state[where]), batch["labels"][where])
    pair = F.cross_entropy(model.cls.seq_relationship(out.pooler_output), batch["next_sentence_label"])
    return mlm + pair, mlm, pair


def new_optimizer(model, config: PretrainConfig):
    """AdamW with ``config.learning_rate``; ``config.weight_decay`` on every weight but biases and LayerNorms."""

    decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
    no_decay = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
    return torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=config.learning_rate)


def _lr_lambda(config: PretrainConfig):
    def f(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        return max(0.0, (config.steps - step) / max(1, config.steps - config.warmup_steps))
    return f


def _save_checkpoint(work: Path, model, opt, step: int, history: list) -> None:
    """Weights + AdamW state as safetensors and the step as JSON, published atomically."""
    from safetensors.torch import save_file

    tmp = work / "checkpoint.tmp"
    if tmp.exists():
        import shutil
        shutil.rmtree(tmp)
    tmp.mkdir()
    model.save_pretrained(tmp)
    names = {id(p): n for n, p in model.named_parameters()}
    tensors, steps = {}, {}
    for group in opt.param_groups:
        for p in group["params"]:
            state = opt.state.get(p)
            if not state:
                continue
            n = names[id(p)]
            tensors[f"{n}.exp_avg"] = state["exp_avg"].contiguous()
            tensors[f"{n}.exp_avg_sq"] = state["exp_avg_sq"].contiguous()
            steps[n] = float(state["step"])
    save_file(tensors, str(tmp / "optimizer.safetensors"))
    (tmp / "state.json").write_text(json.dumps({"step": step, "adam_steps": steps, "history": history}))
    final = work / "checkpoint"
    old = work / "checkpoint.old"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        import shutil
        shutil.rmtree(old)


def _load_checkpoint(work: Path, model, opt):
    from safetensors.torch import load_file

    ckpt = work / "checkpoint"
    if not ckpt.exists() and (work / "checkpoint.old").exists():  # stopped between two renames
        os.replace(work / "checkpoint.old", ckpt)
    if not (ckpt / "state.json").is_file():
        return 0, []
    weights = load_file(str(ckpt / "model.safetensors"))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or [m for m in missing if "decoder" not in m]:
        raise RuntimeError(f"checkpoint does not fit the model: missing {missing}, unexpected {unexpected}")
    state = json.loads((ckpt / "state.json").read_text())
    opt_t = load_file(str(ckpt / "optimizer.safetensors"))
    for n, p in model.named_parameters():
        if n in state["adam_steps"]:
            opt.state[p] = {"step": torch.tensor(state["adam_steps"][n]), "exp_avg": opt_t[f"{n}.exp_avg"],
                            "exp_avg_sq": opt_t[f"{n}.exp_avg_sq"]}
    return int(state["step"]), state["history"]


class Objective(torch.nn.Module):
    """The pretraining objective as a module (:func:`pretraining_loss` on ``model``), so that the forward pass
    goes through what ``accelerate`` prepared: its autocast (bf16/fp16) and, under ``accelerate launch``
    on several GPUs, DistributedDataParallel's gradient synchronisation."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, **batch):
        return pretraining_loss(self.model, batch)


def train(config: PretrainConfig, work: Path, tokenizer, log=print, stop_after: int | None = None) -> list:
    """Run (or resume) the training stage; returns the evaluation history.

    Through ``accelerate``: the device is :func:`helpers.runtime.choose_device`'s (a GPU if there is one;
    ``KO_BERT_DEVICE`` overrides), mixed precision is ``config.precision`` (``"auto"``: the runtime's choice
    for the device), and ``accelerate launch`` on several GPUs splits every batch across them. On
    ``config.threads`` torch threads with deterministic algorithms (:func:`helpers.runtime.execution`;
    both restored afterwards). Every step is a function of the recipe and the step number, so an
    interrupted build resumes bit for bit on the same device.
    """
    from .. import runtime

    quiet_libraries(ci=False)
    device = runtime.choose_device()
    with runtime.execution(threads=config.threads, deterministic=True, device=device):
        return _train(config, work, tokenizer, log, stop_after, device)


def training_precision(config: PretrainConfig, device) -> str:
    """``config.precision`` for ``device``: ``"auto"`` is the runtime's choice (bf16/fp16 on a GPU that has it)."""
    from .. import runtime

    return runtime.choose_precision(device) if config.precision == "auto" else config.precision


@dataclasses.dataclass
class Run:
    """One prepared training run (:func:`prepare_run`): the model and its AdamW state (plain, for checkpoints),
    what ``accelerate`` prepared from them, the batch source and where the run resumes."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    objective: torch.nn.Module
    prepared_optimizer: object
    prepared_scheduler: object
    accelerator: object
    collator: object
    units: Units
    start: int
    history: list


def prepare_run(config: PretrainConfig, work: Path, tokenizer, device, log=print) -> Run:
    """Model, AdamW, schedule (resumed from ``work/checkpoint`` if there is one) prepared by ``accelerate``
    for ``device`` and ``config.precision``."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from transformers import DataCollatorForLanguageModeling

    from .. import runtime

    model = new_model(config, tokenizer, work, log)
    opt = new_optimizer(model, config)
    start, history = _load_checkpoint(work, model, opt)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(config))
    with warnings.catch_warnings():  # fast-forwarding the schedule to the resumed step is intended
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(start):
            sched.step()
    AcceleratorState._reset_state(reset_partial_state=True)  # one Accelerator per run, as Trainer does
    accelerator = Accelerator(step_scheduler_with_optimizer=False,
                              **runtime.accelerator_kwargs(device, training_precision(config, device)))
    # the model (and the AdamW state loaded above) go to the device; the objective runs under its autocast
    objective, prepared_opt, prepared_sched = accelerator.prepare(Objective(model), opt, sched)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=config.mlm_probability,
                                               seed=config.seed, return_tensors="pt")
    return Run(model, opt, objective, prepared_opt, prepared_sched, accelerator, collator,
               Units(work, config, tokenizer), start, history)


def run_step(run: Run, config: PretrainConfig, step: int):
    """Optimisation step number ``step``: its batch (this process's share), masked by a generator seeded
    with the step, then loss, backward, clipping, AdamW and the schedule. Returns ``(loss, mlm, pair)``."""
    from .. import runtime

    run.collator.generator = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
    torch.manual_seed(config.seed * 7919 + step)  # dropout (if any) is a function of the step too
    acc = run.accelerator
    features = run.units.batch_features(step)[acc.process_index::acc.num_processes]
    batch = runtime.to_device(run.collator(features), acc.device)
    loss, mlm, pair = run.objective(**batch)
    optimizer_step(run.objective, loss, run.prepared_optimizer, run.prepared_scheduler, max_grad_norm=1.0,
                   accelerator=acc)
    return loss, mlm, pair


def _train(config: PretrainConfig, work: Path, tokenizer, log, stop_after: int | None, device) -> list:
    from tqdm.auto import tqdm

    run = prepare_run(config, work, tokenizer, device, log)
    start, history, model = run.start, run.history, run.model
    if start:
        log(f"[pretrain] resuming at step {start}")
    heldout = [r["text"] for r in _read_jsonl(work / "heldout.jsonl")]
    main = run.accelerator.is_main_process
    run.objective.train()
    end = config.steps if stop_after is None else min(config.steps, stop_after)
    bar = tqdm(range(start, end), initial=start, total=config.steps, desc="tiny-ko-bert", file=sys.stderr,
               disable=running_in_ci() or not main, mininterval=10.0)
    # training seconds so far (a resumed run continues the count from its last evaluation)
    t0 = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)
    recent: list[float] = []
    for step in bar:
        _, mlm, pair = run_step(run, config, step)
        recent.append(float(mlm.detach()))
        recent = recent[-100:]
        bar.set_postfix(mlm=f"{np.mean(recent):.3f}", pair=f"{float(pair.detach()):.3f}", refresh=False)
        done = step + 1
        if main and (done % config.eval_every == 0 or done == config.steps):
            model.eval()
            acc = heldout_accuracy(model, tokenizer, heldout, config.seed)
            model.train()
            history.append({"step": done, "mlm_loss": round(float(np.mean(recent)), 4), **acc,
                            "seconds": round(time.perf_counter() - t0, 1)})
            log(f"[pretrain] step {done}: {history[-1]}")
        if done % config.checkpoint_every == 0 or done == end:
            if main:
                _save_checkpoint(work, model, run.optimizer, done, history)
            run.accelerator.wait_for_everyone()
    bar.close()
    model.eval()
    return history


def heldout_accuracy(model, tokenizer, sentences: list[str], seed: int) -> dict:
    """Masked-token top-1/top-5 on held-out sentences (fixed masks; the MLM head of a pretraining model)."""

    class _MLM:  # BertForPreTraining -> the logits of its MLM head, as masked_accuracy expects
        def __init__(self, m):
            self.m = m
            self.device = m.device  # where batched_forward puts the batches

        def eval(self):
            return self

        def __call__(self, **kw):
            return types.SimpleNamespace(logits=self.m(**kw).prediction_logits)

    with torch.no_grad():
        return masked_accuracy(_MLM(model), tokenizer, sentences, seed=seed)
