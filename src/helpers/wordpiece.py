"""Word-piece vocabularies for Korean BERTs: training a WordPiece, wrapping it, seeding its embeddings.

- :func:`train_wordpiece` — a cased WordPiece that keeps Hangul syllables whole, reproducible;
- :func:`make_bert_tokenizer` — the vocabulary as a transformers ``BertTokenizer``;
- :func:`kiwi_token_vectors` — starting vectors for word pieces from kiwipiepy's morpheme embeddings.

Used by :mod:`helpers.pretrain` (tiny-ko-bert) and lesson 09 (:mod:`helpers.tokenization`).
"""
from __future__ import annotations

import numpy as np

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_wordpiece(texts: list[str], vocab_size: int, min_char_count: int = 1):
    """Train a cased WordPiece :class:`tokenizers.Tokenizer` that keeps Hangul syllables whole.

    Reproducible across processes: ``tokenizers``' trainer numbers the ``##`` continuation pieces
    in hash-map order and uses those ids to break ties between equally frequent merges, so two
    runs on the same text can learn different vocabularies (huggingface/tokenizers issue #1794).
    Registering every ``##<char>`` up front, in sorted order, fixes their ids and the result.
    Characters seen fewer than ``min_char_count`` times are left out of the alphabet (a word
    holding one becomes ``[UNK]``), so rare symbols do not crowd out word pieces.
    Used by :mod:`helpers.pretrain` (tiny-ko-bert) and lesson 09 (:mod:`helpers.tokenization`).
    """
    from collections import Counter

    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece
    from tokenizers.trainers import WordPieceTrainer

    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    counts = Counter(ch for text in texts for ch in text if not ch.isspace())
    chars = sorted(ch for ch, n in counts.items() if n >= min_char_count)
    trainer = WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS + ["##" + ch for ch in chars],
                               min_frequency=1, show_progress=False, continuing_subword_prefix="##",
                               initial_alphabet=chars, limit_alphabet=len(chars))
    tok.train_from_iterator(sorted(texts), trainer=trainer)
    return tok


def make_bert_tokenizer(vocab: dict[str, int], max_len: int):
    """Wrap a trained vocabulary in transformers' ``BertTokenizer`` (cased, no accent stripping)."""
    from transformers import BertTokenizer

    return BertTokenizer(vocab=dict(vocab), do_lower_case=False, strip_accents=False,
                         tokenize_chinese_chars=True, model_max_length=max_len)


def kiwi_token_vectors(tokens: list[str], corpus: list[str], dim: int, anchors: int) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for word-piece ``tokens`` from kiwipiepy's CoNg morpheme embeddings.

    Kiwi exposes cosine similarities between morphemes, not the vectors themselves, so the
    vectors are recovered by a Nyström approximation: similarities to ``anchors`` frequent
    corpus morphemes, whitened by the anchors' own similarity matrix, then reduced to ``dim``
    by SVD. A token's vector is the mean of its morphemes' vectors (content morphemes weigh
    more). Returns ``(vectors [len(tokens), dim], covered mask)``.
    """
    from kiwipiepy import Kiwi

    kiwi = Kiwi(model_type="cong")
    counts: dict[int, int] = {}
    for sentence in corpus:
        for t in kiwi.tokenize(sentence):
            counts[t.id] = counts.get(t.id, 0) + 1

    usable: dict[int, bool] = {}

    def ok(mid: int) -> bool:
        if mid not in usable:
            try:
                kiwi.morpheme_similarity(mid, mid)
                usable[mid] = True
            except Exception:
                usable[mid] = False
        return usable[mid]

    ranked = sorted(counts, key=lambda m: (-counts[m], m))
    anchor_ids = [m for m in ranked if ok(m)][:anchors]
    sim = kiwi.morpheme_similarity

    def row(mid: int) -> np.ndarray:
        return np.array([sim(mid, a) for a in anchor_ids], dtype=np.float64)

    gram = np.stack([row(a) for a in anchor_ids])
    gram = (gram + gram.T) / 2
    evals, evecs = np.linalg.eigh(gram)
    keep = evals > 1e-6 * evals.max()
    whiten = evecs[:, keep] / np.sqrt(evals[keep])

    content = ("NN", "VV", "VA", "MA", "MM", "XR", "IC", "SL", "SN", "NR", "NP")
    cache: dict[int, np.ndarray] = {}
    token_vecs = np.zeros((len(tokens), whiten.shape[1]))
    covered = np.zeros(len(tokens), dtype=bool)
    analyses = [kiwi.tokenize(t[2:] if t.startswith("##") else t) for t in tokens]
    for i, (tok, morphs) in enumerate(zip(tokens, analyses)):
        if tok in SPECIAL_TOKENS:
            continue
        acc, weight = 0.0, 0.0
        for m in morphs:
            if not ok(m.id):
                continue
            if m.id not in cache:
                cache[m.id] = row(m.id) @ whiten
            w = 1.0 if str(m.tag).startswith(content) else 0.3
            acc = acc + w * cache[m.id]
            weight += w
        if weight:
            token_vecs[i] = acc / weight
            covered[i] = True
    # reduce to the model width with an SVD over the covered tokens
    centered = token_vecs[covered] - token_vecs[covered].mean(0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    reduced = np.zeros((len(tokens), dim))
    k = min(dim, vt.shape[0])
    reduced[covered, :k] = centered @ vt[:k].T
    return reduced, covered
