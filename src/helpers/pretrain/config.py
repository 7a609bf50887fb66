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
    steps: int = 14000
    learning_rate: float = 1e-3
    warmup_steps: int = 500
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
    threads: int = 2  # a machine setting: a resumed build may use another count (float sums may differ)

    @classmethod
    def tiny(cls) -> "PretrainConfig":
        """Seconds-long build on the same code path (unit tests, ``--tiny``)."""
        return cls(vocab_size=1500, min_char_count=5, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=128, batch_size=16, steps=24, warmup_steps=4, kiwi_init=False,
                   max_reviews=3000, eval_sentences=500, eval_every=12, checkpoint_every=8)
