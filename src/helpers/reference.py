"""Build ``tiny-ko-bert``: the offline reference Korean BERT, made from Chatbot_data.

What is built (all deterministic for a given machine, data file and library versions):

1. a cased WordPiece tokenizer trained with :mod:`tokenizers` on the chatbot sentences
   (no lowercasing / accent stripping, which would split Hangul syllables into jamo);
2. word-piece embeddings seeded from the morpheme embeddings of kiwipiepy's CoNg model
   (trained on a large Korean corpus), so the small model starts with knowledge of Korean
   that 12k sentences cannot give it (switch off with ``kiwi_init=False``);
3. a small BERT pretrained with masked language modelling plus a next-sentence style pair
   objective on question/answer pairs, so its pooler is trained rather than random.

The result is saved with ``save_pretrained`` (config, safetensors weights with the MLM and
pair heads, tokenizer files) plus ``build_report.json`` (size, time, held-out masked-token
accuracy, fill-mask examples) and ``manifest.json`` (sha256 of every file). It loads through
the same ``from_pretrained`` path as any hub checkpoint.

Command line: ``python -m helpers.reference`` (what ``make model`` runs). Used by every lesson
through :func:`helpers.models.load_model`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import load_chatbot_data, sha256_file
from .paths import cache_dir

REFERENCE_NAME = "tiny-ko-bert"
BUILD_FORMAT = 2  # bump when the build code changes in a way that changes the weights
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True)
class ReferenceConfig:
    """Everything the reference build depends on (part of the cache key)."""

    vocab_size: int = 8000
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 512
    max_len: int = 64
    batch_size: int = 64
    steps: int = 1200
    learning_rate: float = 1e-3
    warmup_ratio: float = 0.06
    mlm_probability: float = 0.15
    heldout_questions: int = 400
    kiwi_init: bool = True
    kiwi_anchors: int = 384
    seed: int = 42
    threads: int = 2

    @classmethod
    def fast(cls) -> "ReferenceConfig":
        """A seconds-long build with the same code path (tests, ``--fast``)."""
        return cls(vocab_size=2000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=128, steps=30, batch_size=16, heldout_questions=50,
                   kiwi_anchors=64)


class ReferenceBuildError(RuntimeError):
    """The reference model could not be built; the message says why."""


# --------------------------------------------------------------------------- cache keys
def _library_versions() -> dict:
    import tokenizers
    import torch
    import transformers

    try:
        import kiwipiepy
        kiwi_version = kiwipiepy.__version__
    except Exception:  # pragma: no cover - kiwipiepy is a hard dependency
        kiwi_version = None
    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "kiwipiepy": kiwi_version,
        "numpy": np.__version__,
    }


def cache_key(config: ReferenceConfig, data_sha256: str) -> str:
    """Hash of what the artifact is built from: data checksum, config, code and library versions."""
    payload = {
        "format": BUILD_FORMAT,
        "config": dataclasses.asdict(config),
        "data_sha256": data_sha256,
        "versions": _library_versions(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _write_manifest(directory: Path, key: str) -> None:
    files = {p.name: sha256_file(p) for p in sorted(directory.iterdir()) if p.is_file() and p.name != "manifest.json"}
    (directory / "manifest.json").write_text(json.dumps({"key": key, "files": files}, indent=1))


def verify_artifact(directory: Path, key: str | None = None) -> bool:
    """True when ``directory`` holds a complete build whose files match its manifest (and ``key``)."""
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        return False
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if key is not None and manifest.get("key") != key:
        return False
    files = manifest.get("files") or {}
    needed = {"config.json", "model.safetensors", "tokenizer.json", "build_report.json"}
    if not needed <= set(files):
        return False
    for name, digest in files.items():
        path = directory / name
        if not path.is_file() or sha256_file(path) != digest:
            return False
    return True


# --------------------------------------------------------------------------- pieces
def _set_determinism(config: ReferenceConfig) -> None:
    import random

    import torch

    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)


def split_heldout(df, n_heldout: int, seed: int = 42):
    """Split rows by *question text*: the held-out questions are never seen in training.

    Chosen by a hash of the text (not by position), so the split is stable.
    Returns ``(train_df, heldout_questions)``.
    """
    questions = sorted(set(df["question"]))
    ranked = sorted(questions, key=lambda q: hashlib.sha256(f"{seed}:{q}".encode()).hexdigest())
    heldout = sorted(ranked[:n_heldout])
    held = set(heldout)
    return df[~df["question"].isin(held)].reset_index(drop=True), heldout


def train_wordpiece(texts: list[str], vocab_size: int):
    """Train a cased WordPiece :class:`tokenizers.Tokenizer` that keeps Hangul syllables whole.

    Reproducible across processes: ``tokenizers``' trainer numbers the ``##`` continuation pieces
    in hash-map order and uses those ids to break ties between equally frequent merges, so two
    runs on the same text can learn different vocabularies (huggingface/tokenizers issue #1794).
    Registering every ``##<char>`` up front, in sorted order, fixes their ids and the result.
    Used by :mod:`helpers.reference` (tiny-ko-bert) and lesson 06 (:mod:`helpers.tokenization`).
    """
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece
    from tokenizers.trainers import WordPieceTrainer

    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    chars = sorted({ch for text in texts for ch in text if not ch.isspace()})
    trainer = WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS + ["##" + ch for ch in chars],
                               min_frequency=1, show_progress=False, continuing_subword_prefix="##")
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


def _mask_tokens(input_ids, special_mask, vocab_size: int, probability: float, generator):
    """BERT masking: choose ``probability`` of the tokens; of those 80 % [MASK], 10 % random, 10 % kept."""
    import torch

    labels = input_ids.clone()
    probs = torch.full(labels.shape, probability)
    probs.masked_fill_(special_mask, 0.0)
    chosen = torch.bernoulli(probs, generator=generator).bool()
    labels[~chosen] = -100
    masked = input_ids.clone()
    to_mask = torch.bernoulli(torch.full(labels.shape, 0.8), generator=generator).bool() & chosen
    masked[to_mask] = 4  # [MASK]
    to_random = torch.bernoulli(torch.full(labels.shape, 0.5), generator=generator).bool() & chosen & ~to_mask
    masked[to_random] = torch.randint(len(SPECIAL_TOKENS), vocab_size, labels.shape, generator=generator)[to_random]
    return masked, labels


def masked_accuracy(model, tokenizer, sentences: list[str], seed: int = 0, probability: float = 0.15) -> dict:
    """Top-1 / top-5 accuracy of predicting masked word pieces in ``sentences``.

    Each sentence gets ~15 % of its word pieces replaced by [MASK] (at least one), chosen with a
    fixed seed. Used for the reference model's report and in lesson 01.
    """
    import torch

    rng = np.random.default_rng(seed)
    top1 = top5 = total = 0
    model.eval()
    for start in range(0, len(sentences), 64):
        batch = tokenizer(sentences[start:start + 64], padding=True, truncation=True, return_tensors="pt")
        ids = batch["input_ids"].clone()
        labels = torch.full_like(ids, -100)
        for i in range(ids.shape[0]):
            positions = [j for j, t in enumerate(ids[i].tolist()) if t not in tokenizer.all_special_ids]
            if not positions:
                continue
            n = max(1, round(probability * len(positions)))
            for j in rng.choice(positions, size=n, replace=False):
                labels[i, j] = ids[i, j]
                ids[i, j] = tokenizer.mask_token_id
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=batch["attention_mask"],
                           token_type_ids=batch.get("token_type_ids")).logits
        where = labels != -100
        best = logits[where].topk(5, dim=-1).indices
        gold = labels[where].unsqueeze(-1)
        top1 += int((best[:, :1] == gold).any(-1).sum())
        top5 += int((best == gold).any(-1).sum())
        total += int(where.sum())
    return {"top1": round(top1 / max(total, 1), 4), "top5": round(top5 / max(total, 1), 4), "masked_tokens": total}


def _pretraining_loss(model, input_ids, attention_mask, token_type_ids, labels, pair_labels):
    """MLM + pair loss of a ``BertForPreTraining``, with the vocabulary projection computed only
    at the masked positions (~15 % of tokens): same loss as ``model(..., labels=...)``, ~1.5x faster."""
    import torch.nn.functional as F

    out = model.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
    where = labels != -100
    mlm_logits = model.cls.predictions(out.last_hidden_state[where])
    pair_logits = model.cls.seq_relationship(out.pooler_output)
    return F.cross_entropy(mlm_logits, labels[where]) + F.cross_entropy(pair_logits, pair_labels)


FILL_MASK_EXAMPLES = [
    "오늘 [MASK] 너무 좋다",
    "헤어진 [MASK] 보고 싶어",
    "같이 [MASK] 보러 갈래?",
    "좋아하는 [MASK] 생겼어",
]


def _fill_mask_examples(model, tokenizer) -> list[dict]:
    import torch

    out = []
    for text in FILL_MASK_EXAMPLES:
        enc = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits
        pos = int((enc["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0])
        probs = logits[0, pos].softmax(-1)
        top = probs.topk(5)
        out.append({"text": text, "top5": [[tokenizer.convert_ids_to_tokens(int(i)), round(float(p), 3)]
                                           for p, i in zip(top.values, top.indices)]})
    return out


# --------------------------------------------------------------------------- the build
def build_reference_model(out_dir: str | os.PathLike, config: ReferenceConfig | None = None, *,
                          data_path: str | os.PathLike | None = None, log=print) -> dict:
    """Build the reference model into ``out_dir`` (must not exist yet) and return its report."""
    import torch
    from transformers import BertConfig, BertForPreTraining

    config = config or ReferenceConfig()
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    prev_threads = torch.get_num_threads()
    prev_det = torch.are_deterministic_algorithms_enabled()
    _set_determinism(config)
    try:
        df = load_chatbot_data(data_path)
        train_df, heldout = split_heldout(df, config.heldout_questions, config.seed)
        questions = train_df["question"].tolist()
        answers = train_df["answer"].tolist()
        texts = sorted(set(questions) | set(answers))

        wp = train_wordpiece(texts, config.vocab_size)
        vocab = wp.get_vocab()
        tokenizer = make_bert_tokenizer(vocab, config.max_len)
        log(f"[tiny-ko-bert] tokenizer: {len(tokenizer)} word pieces ({time.perf_counter() - t0:.1f}s)")

        bert_config = BertConfig(
            vocab_size=len(tokenizer), hidden_size=config.hidden_size,
            num_hidden_layers=config.num_hidden_layers, num_attention_heads=config.num_attention_heads,
            intermediate_size=config.intermediate_size, max_position_embeddings=max(128, config.max_len),
            type_vocab_size=2, pad_token_id=tokenizer.pad_token_id,
        )
        model = BertForPreTraining(bert_config)
        coverage = None
        if config.kiwi_init:
            tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
            vecs, covered = kiwi_token_vectors(tokens, texts, config.hidden_size, config.kiwi_anchors)
            scale = 0.02 / max(vecs[covered].std(), 1e-8)
            with torch.no_grad():
                emb = model.bert.embeddings.word_embeddings.weight
                emb[torch.from_numpy(covered)] = torch.from_numpy(vecs[covered] * scale).float()
            coverage = round(float(covered.mean()), 4)
            log(f"[tiny-ko-bert] kiwi-seeded embeddings for {coverage:.0%} of word pieces "
                f"({time.perf_counter() - t0:.1f}s)")

        # pair data: (question, its answer) or (question, another answer)
        q_enc = tokenizer(questions, add_special_tokens=False)["input_ids"]
        a_enc = tokenizer(answers, add_special_tokens=False)["input_ids"]
        gen = torch.Generator().manual_seed(config.seed)
        opt = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
        warm = max(1, int(config.warmup_ratio * config.steps))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (config.steps - s) / max(1, config.steps - warm))))
        model.train()
        n = len(questions)
        half = (config.max_len - 3) // 2
        order = torch.randperm(n, generator=gen)
        cursor = 0
        losses = []
        for step in range(config.steps):
            if cursor + config.batch_size > n:
                order, cursor = torch.randperm(n, generator=gen), 0
            idx = order[cursor:cursor + config.batch_size].tolist()
            cursor += config.batch_size
            swap = torch.rand(len(idx), generator=gen) < 0.5
            other = torch.randint(0, n, (len(idx),), generator=gen).tolist()
            seqs, types, nsp = [], [], []
            for k, i in enumerate(idx):
                j = other[k] if bool(swap[k]) and answers[other[k]] != answers[i] else i
                a, b = q_enc[i][:half], a_enc[j][:half]
                seqs.append([2] + a + [3] + b + [3])
                types.append([0] * (len(a) + 2) + [1] * (len(b) + 1))
                nsp.append(0 if j == i else 1)
            width = max(map(len, seqs))
            ids = torch.tensor([s + [0] * (width - len(s)) for s in seqs])
            tt = torch.tensor([t + [0] * (width - len(t)) for t in types])
            att = (ids != 0).long()
            special = (ids == 0) | (ids == 2) | (ids == 3)
            masked, labels = _mask_tokens(ids, special, len(tokenizer), config.mlm_probability, gen)
            loss = _pretraining_loss(model, masked, att, tt, labels, torch.tensor(nsp))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            if (step + 1) % max(1, config.steps // 6) == 0:
                log(f"[tiny-ko-bert] step {step + 1}/{config.steps} loss {np.mean(losses[-50:]):.3f} "
                    f"({time.perf_counter() - t0:.0f}s)")
        model.eval()
        train_s = time.perf_counter() - t0

        from transformers import BertForMaskedLM  # evaluate through the public MLM class

        out_dir.mkdir(parents=True, exist_ok=False)
        model.config.architectures = ["BertForPreTraining"]
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
        mlm = BertForMaskedLM.from_pretrained(out_dir)
        report = {
            "name": REFERENCE_NAME,
            "config": dataclasses.asdict(config),
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "vocab_size": len(tokenizer),
            "kiwi_coverage": coverage,
            "train_rows": n,
            "heldout_questions": len(heldout),
            "build_seconds": round(train_s, 1),
            "final_loss": round(float(np.mean(losses[-50:])), 4),
            "heldout_masked_accuracy": masked_accuracy(mlm, tokenizer, heldout, seed=config.seed),
            "fill_mask_examples": _fill_mask_examples(mlm, tokenizer),
            "versions": _library_versions(),
        }
        (out_dir / "heldout_questions.txt").write_text("\n".join(heldout) + "\n", encoding="utf-8")
        (out_dir / "build_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        return report
    finally:
        torch.use_deterministic_algorithms(prev_det)
        torch.set_num_threads(prev_threads)


def ensure_reference_model(config: ReferenceConfig | None = None, *, data_path=None, root=None,
                           log=print) -> Path:
    """Return the directory of a verified reference build, building it first if needed.

    The directory name carries the cache key (data checksum, config, build format, library
    versions): a changed input gives a new key and a new build. A directory whose files do not
    match its manifest (interrupted or corrupted) is removed and rebuilt, never loaded.
    The build happens in a temporary directory that is renamed into place only when complete.
    """
    config = config or ReferenceConfig()
    from .data import resolve_data_path

    data_sha = sha256_file(resolve_data_path(data_path))
    key = cache_key(config, data_sha)
    base = Path(root) if root is not None else cache_dir() / "models"
    base.mkdir(parents=True, exist_ok=True)
    target = base / f"{REFERENCE_NAME}-{key}"
    if target.exists():
        if verify_artifact(target, key):
            return target
        log(f"[tiny-ko-bert] cached build failed verification; rebuilding")
        shutil.rmtree(target)
    log(f"[tiny-ko-bert] building the offline reference model (once; cached afterwards)")
    tmp = Path(tempfile.mkdtemp(prefix=f".{REFERENCE_NAME}-", dir=base))
    try:
        build_reference_model(tmp / "model", config, data_path=data_path, log=log)
        _write_manifest(tmp / "model", key)
        try:
            os.replace(tmp / "model", target)
        except OSError:
            if not verify_artifact(target, key):  # another process did not finish either
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.reference", description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="tiny seconds-long build (for trying things out)")
    parser.add_argument("--no-kiwi", action="store_true", help="do not seed embeddings from kiwipiepy")
    parser.add_argument("--steps", type=int, help="override the number of training steps")
    parser.add_argument("--out", help="build into this new directory instead of the cache")
    parser.add_argument("--report", action="store_true", help="print the build report as JSON")
    args = parser.parse_args(argv)
    config = ReferenceConfig.fast() if args.fast else ReferenceConfig()
    if args.no_kiwi:
        config = dataclasses.replace(config, kiwi_init=False)
    if args.steps:
        config = dataclasses.replace(config, steps=args.steps)
    if args.out:
        report = build_reference_model(args.out, config)
        path = Path(args.out)
    else:
        path = ensure_reference_model(config)
        report = json.loads((path / "build_report.json").read_text(encoding="utf-8"))
    acc = report["heldout_masked_accuracy"]
    print(f"{REFERENCE_NAME}: {report['parameters']:,} parameters, built in {report['build_seconds']}s, "
          f"held-out masked-token accuracy top-1 {acc['top1']:.1%} top-5 {acc['top5']:.1%}")
    if args.report:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
