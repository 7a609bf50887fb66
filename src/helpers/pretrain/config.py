"""The recipe of a tiny-ko-bert build (:class:`PretrainConfig`); part of :mod:`helpers.pretrain`."""
from __future__ import annotations

from dataclasses import dataclass

from ..splits import HELD_OUT_MOVIE_PERCENT  # share of NSMC movies (by hash of movie_id) that nothing pretrains on


@dataclass(frozen=True)
class PretrainConfig:
    """Everything a build depends on (saved beside every checkpoint; a resume must match it)."""

    vocab_size: int = 8000
    min_char_count: int = 20  # rarer characters are left out of the alphabet (their words -> [UNK])
    hidden_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 512
    max_len: int = 64
    batch_size: int = 64
    steps: int = 40000
    learning_rate: float = 1e-3
    warmup_steps: int = 1000
    weight_decay: float = 0.01
    dropout: float = 0.0  # during pretraining; the saved config carries 0.1 for fine-tuning
    mlm_probability: float = 0.15
    heldout_movie_percent: int = HELD_OUT_MOVIE_PERCENT
    heldout_questions: int = 400
    kiwi_init: bool = False  # measured: seeding slowed early MLM learning (model card, runs)
    kiwi_anchors: int = 384
    kiwi_sample: int = 60000
    max_reviews: int | None = None  # cap on NSMC reviews (tiny recipe)
    eval_sentences: int = 2000
    eval_every: int = 500
    checkpoint_every: int = 250
    seed: int = 42
    # "fp32", "bf16" (autocast; on a CPU only where it has bf16 instructions) or "auto" (the runtime's
    # choice for the device: bf16/fp16 on a GPU, fp32 on a CPU). Part of the recipe: it changes the result.
    precision: str = "fp32"
    threads: int = 2  # a machine setting: a resumed build may use another count (float sums may differ)

    @classmethod
    def recipe(cls, name: str) -> "PretrainConfig":
        """A named recipe of :data:`RECIPES` (``python -m helpers.pretrain --recipe NAME``, ``make model RECIPE=NAME``)."""
        if name not in RECIPES:
            raise ValueError(f"Unknown recipe {name!r}. Fix: choose one of {', '.join(RECIPES)}.")
        return RECIPES[name]()

    @classmethod
    def tiny(cls) -> "PretrainConfig":
        """Seconds-long build on the same code path (unit tests, ``--tiny``)."""
        return cls(vocab_size=1500, min_char_count=5, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=128, batch_size=16, steps=24, warmup_steps=4, kiwi_init=False,
                   max_reviews=3000, eval_sentences=500, eval_every=12, checkpoint_every=8)


RECIPES = {
    # the shipped tiny-ko-bert (model card: run v2): 2 layers x 128, 40,000 steps, about 100 min on 2 idle CPU cores
    "reference": PretrainConfig,
    # seconds, same code path (unit tests, --tiny)
    "tiny": PretrainConfig.tiny,
    # For a GPU, through `accelerate launch`. Never run by this project (it has no GPU); times are FLOP
    # estimates (6 x non-embedding parameters x tokens at helpers.runtime's T4 throughput, about 20 TFLOP/s).
    # 6 layers x 512 (19 M non-embedding parameters), 128 pieces, batch 128, 100,000 steps: about 3 h on a T4
    "gpu-6x512": lambda: PretrainConfig(
        hidden_size=512, num_hidden_layers=6, num_attention_heads=8, intermediate_size=2048, max_len=128,
        batch_size=128, steps=100_000, learning_rate=5e-4, warmup_steps=2_000, eval_every=2_000,
        checkpoint_every=1_000, precision="auto"),
    # the BERT-base shape (12 layers x 768, 85 M non-embedding parameters), same corpus and vocabulary,
    # batch 128 x 128 pieces, 100,000 steps: about 12 h on a T4
    "gpu-base": lambda: PretrainConfig(
        hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, max_len=128,
        batch_size=128, steps=100_000, learning_rate=1e-4, warmup_steps=10_000, eval_every=5_000,
        checkpoint_every=2_000, precision="auto"),
}
