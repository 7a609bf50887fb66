"""Korean tokenization strategies, trained on the chatbot corpus and measured side by side.

Used by lesson 09. Four families, after Park et al. (2020), "An Empirical Study of Tokenization
Strategies for Various Korean NLP Tasks" (arXiv 2010.02534):

- **syllable** (character): every Hangul syllable / character is a token;
- **WordPiece** (subword) at a chosen vocabulary size, trained with :mod:`tokenizers`
  (settings as tiny-ko-bert's, made reproducible: :func:`train_wordpiece_stable`);
- **morpheme**: kiwipiepy's morphological analysis, one token per morpheme form;
- **morpheme -> WordPiece** (morpheme-aware subword): morphemes first, then WordPiece trained on
  the morpheme-separated text (the paper used MeCab-ko then BPE; here kiwipiepy then WordPiece).

Every strategy has a finite vocabulary learned from the training texts; anything outside it
becomes ``[UNK]``. For WordPiece a word that cannot be built from the vocabulary becomes *one*
``[UNK]`` as a whole (BERT's rule), which is why the rate of [UNK] is worth measuring.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from .classify import scores, tfidf_logreg
from .wordpiece import train_wordpiece

UNK = "[UNK]"
# The lecture's "gibberish" sentence: real Hangul syllables, but words no corpus contains.
GIBBERISH = "깟뻬뜨랑 리뿔이 뜨럽거 므리커럭이 케쇽 냐왜쇼 우뤼갸 쳥쇼섀료다혀뚜여"


class MorphemeAnalyzer:
    """kiwipiepy morphological analysis with a per-text cache: ``analyzer(text) -> [morpheme forms]``.

    Kiwi restores the dictionary form of each morpheme, so ``"헤어진"`` becomes
    ``["헤어지", "ᆫ"]`` (verb stem + the final-consonant ending ``ᆫ``); the forms are therefore not
    always substrings of the text. ``with_tags=True`` gives ``"헤어지/VV"``-style tokens.
    """

    def __init__(self, model_type: str = "cong", with_tags: bool = False):
        from kiwipiepy import Kiwi

        self.kiwi = Kiwi(model_type=model_type)
        self.with_tags = with_tags
        self._cache: dict[str, list[str]] = {}

    def _forms(self, tokens) -> list[str]:
        if self.with_tags:
            return [f"{t.form}/{t.tag}" for t in tokens]
        return [t.form for t in tokens]

    def analyze_many(self, texts: Iterable[str]) -> list[list[str]]:
        """Analyse many texts at once (batched by kiwipiepy, cached)."""
        texts = list(texts)
        todo = sorted({t for t in texts if t not in self._cache})
        if todo:
            for text, tokens in zip(todo, self.kiwi.tokenize(todo)):
                self._cache[text] = self._forms(tokens)
        return [list(self._cache[t]) for t in texts]

    def __call__(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"MorphemeAnalyzer expects a str, got {type(text).__name__}.")
        return self.analyze_many([text])[0]


@dataclass
class Strategy:
    """A trained tokenization strategy: ``tokenize(text) -> tokens`` (out-of-vocabulary -> ``[UNK]``)."""

    name: str
    family: str
    vocab_size: int
    tokenize: Callable[[str], list[str]]

    def __call__(self, text: str) -> list[str]:
        return self.tokenize(text)


# --------------------------------------------------------------------------- the four families
def syllable_strategy(texts: Iterable[str], min_count: int = 1) -> Strategy:
    """Character tokens (spaces dropped); the vocabulary is every character seen ``min_count`` times."""
    counts = Counter(ch for text in texts for ch in text if not ch.isspace())
    vocab = {ch for ch, c in counts.items() if c >= min_count}
    if not vocab:
        raise ValueError("syllable_strategy got no characters to learn from. Fix: pass non-empty texts.")

    def tokenize(text: str) -> list[str]:
        return [ch if ch in vocab else UNK for ch in text if not ch.isspace()]

    return Strategy("syllable (음절)", "syllable", len(vocab) + 1, tokenize)


def train_wordpiece_stable(texts: list[str], vocab_size: int):
    """WordPiece with tiny-ko-bert's settings, the same vocabulary in every process.

    Kept as a name of its own for lesson 09; the implementation (and the note on why a fixed
    order is needed, huggingface/tokenizers #1794) is :func:`helpers.wordpiece.train_wordpiece`.
    """
    return train_wordpiece(texts, vocab_size)


def wordpiece_strategy(texts: Iterable[str], vocab_size: int, name: str | None = None) -> Strategy:
    """WordPiece trained on ``texts`` (cased, whole Hangul syllables, like tiny-ko-bert's tokenizer)."""
    train_wordpiece = train_wordpiece_stable
    texts = sorted(set(texts))
    if not texts:
        raise ValueError("wordpiece_strategy got no texts. Fix: pass the training sentences.")
    if vocab_size < 10:
        raise ValueError(f"vocab_size={vocab_size} is too small. Fix: use a few thousand, e.g. 2000 or 8000.")
    wp = train_wordpiece(texts, vocab_size)

    def tokenize(text: str) -> list[str]:
        return wp.encode(text, add_special_tokens=False).tokens

    size = wp.get_vocab_size()
    return Strategy(name or f"WordPiece {_k(vocab_size)}", "wordpiece", size, tokenize)


def morpheme_strategy(texts: Iterable[str], analyzer: MorphemeAnalyzer, min_count: int = 1,
                      name: str = "morpheme (형태소, kiwi)") -> Strategy:
    """One token per kiwipiepy morpheme; the vocabulary is every morpheme seen ``min_count`` times."""
    counts = Counter(m for morphs in analyzer.analyze_many(texts) for m in morphs)
    vocab = {m for m, c in counts.items() if c >= min_count}
    if not vocab:
        raise ValueError("morpheme_strategy got no morphemes to learn from. Fix: pass non-empty texts.")

    def tokenize(text: str) -> list[str]:
        return [m if m in vocab else UNK for m in analyzer(text)]

    return Strategy(name, "morpheme", len(vocab) + 1, tokenize)


def morpheme_wordpiece_strategy(texts: Iterable[str], analyzer: MorphemeAnalyzer, vocab_size: int,
                                name: str | None = None) -> Strategy:
    """Morphemes first, then WordPiece trained on the morpheme-separated text (each morpheme is a 'word')."""
    train_wordpiece = train_wordpiece_stable

    texts = sorted(set(texts))
    joined = [" ".join(m) for m in analyzer.analyze_many(texts)]
    wp = train_wordpiece(joined, vocab_size)

    def tokenize(text: str) -> list[str]:
        return wp.encode(" ".join(analyzer(text)), add_special_tokens=False).tokens

    return Strategy(name or f"morpheme->WordPiece {_k(vocab_size)}", "morpheme+wordpiece", wp.get_vocab_size(),
                    tokenize)


def model_strategy(tokenizer, name: str) -> Strategy:
    """A Hugging Face tokenizer (e.g. the lesson model's) as a :class:`Strategy`, for the same table.

    ``tokenize`` is ``tokenizer.tokenize`` (no [CLS]/[SEP]); the vocabulary size is ``len(tokenizer)``.
    Its ``[UNK]`` is the tokenizer's own ``unk_token`` mapped to :data:`UNK`, so the rates compare.
    """
    unk = getattr(tokenizer, "unk_token", None) or UNK

    def tokenize(text: str) -> list[str]:
        return [UNK if t == unk else t for t in tokenizer.tokenize(text)]

    return Strategy(name, "model", len(tokenizer), tokenize)


def _k(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def build_strategies(texts: Iterable[str], analyzer: MorphemeAnalyzer | None = None,
                     wordpiece_sizes=(2000, 8000), morpheme_wordpiece_size: int = 4000) -> list[Strategy]:
    """Train the five strategies of lesson 09 on ``texts``: syllable, WordPiece x2, morpheme, morpheme->WordPiece."""
    texts = sorted(set(texts))
    analyzer = analyzer or MorphemeAnalyzer()
    analyzer.analyze_many(texts)  # one batched pass fills the cache
    out = [syllable_strategy(texts)]
    out += [wordpiece_strategy(texts, size) for size in wordpiece_sizes]
    out.append(morpheme_strategy(texts, analyzer))
    out.append(morpheme_wordpiece_strategy(texts, analyzer, morpheme_wordpiece_size))
    return out


# --------------------------------------------------------------------------- measuring
def show_tokens(strategies: list[Strategy], sentences: list[str], sep: str = " ") -> pd.DataFrame:
    """A table: one row per (sentence, strategy) with the tokens joined by ``sep`` and their count."""
    rows = []
    for s in sentences:
        for st in strategies:
            toks = st(s)
            rows.append({"sentence": s, "strategy": st.name, "n": len(toks), "tokens": sep.join(toks)})
    return pd.DataFrame(rows)


def unk_stats(strategy: Strategy, sentences: Iterable[str]) -> dict:
    """Mean tokens per sentence, share of ``[UNK]`` tokens, share of sentences with at least one ``[UNK]``.

    Note that one WordPiece ``[UNK]`` can hide a whole word, so equal rates do not mean equal loss."""
    sentences = list(sentences)
    if not sentences:
        raise ValueError("unk_stats needs at least one sentence.")
    n_tok = n_unk = hit = 0
    lengths = []
    for s in sentences:
        toks = strategy(s)
        k = sum(t == UNK for t in toks)
        n_tok += len(toks)
        n_unk += k
        hit += k > 0
        lengths.append(len(toks))
    return {"tokens_per_sentence": float(np.mean(lengths)), "unk_token_rate": n_unk / max(n_tok, 1),
            "unk_sentence_rate": hit / len(sentences)}


def comparison_table(strategies: list[Strategy], heldout: list[str], gibberish: str = GIBBERISH) -> pd.DataFrame:
    """Per strategy: vocabulary size, tokens per held-out sentence, [UNK] rates (held-out, gibberish)."""
    rows = []
    for st in strategies:
        held = unk_stats(st, heldout)
        gib = st(gibberish)
        rows.append({
            "strategy": st.name,
            "vocab_size": st.vocab_size,
            "tokens_per_sentence": held["tokens_per_sentence"],
            "unk_token_rate": held["unk_token_rate"],
            "unk_sentence_rate": held["unk_sentence_rate"],
            "gibberish_tokens": len(gib),
            "gibberish_unk_rate": sum(t == UNK for t in gib) / max(len(gib), 1),
        })
    return pd.DataFrame(rows)


def downstream_scores(strategies: list[Strategy], train_texts, train_labels, test_texts, test_labels,
                      ngram_range=(1, 2)) -> pd.DataFrame:
    """Lesson 05's task with each tokenization: TF-IDF over its tokens (n-grams) + logistic regression."""
    rows = []
    for st in strategies:
        model = tfidf_logreg(train_texts, train_labels, analyzer=st.tokenize, ngram_range=ngram_range)
        sc = scores(test_labels, model.predict(list(test_texts)))
        rows.append({"strategy": st.name, "accuracy": sc["accuracy"], "macro_f1": sc["macro_f1"]})
    return pd.DataFrame(rows)


def plot_comparison(table: pd.DataFrame, columns=("tokens_per_sentence", "unk_token_rate", "macro_f1"),
                    titles=None):
    """One figure, one bar panel per metric, strategies on the y axis."""
    import matplotlib.pyplot as plt

    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the table; available: {list(table.columns)}")
    titles = titles or columns
    fig, axes = plt.subplots(1, len(columns), figsize=(4 * len(columns), 0.55 * len(table) + 1.5), sharey=True)
    axes = np.atleast_1d(axes)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, col, title in zip(axes, columns, titles):
        vals = table[col].to_numpy(dtype=float)
        ax.barh(table["strategy"], vals, color=[colors[i % len(colors)] for i in range(len(table))])
        for y, v in enumerate(vals):
            ax.text(v, y, f" {v:.3g}", va="center", fontsize=8)
        ax.set_title(title)
        ax.set_xlim(0, max(vals.max() * 1.25, 1e-3))
        ax.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig
