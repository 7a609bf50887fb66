"""Lesson 02's stored outputs: the figures its prose used to assert inside the lesson.

The lesson prints its comparisons from the results (``helpers.verdict``); what a run on the default
checkpoint showed (tiny-ko-bert and the shipped tiny-ko-sbert) is a regression check and lives here.
This reads the stored notebook (no execution): raw vectors are anisotropic (high random-pair
baseline, pooler highest), a high pooler cosine can sit below most random pairs, this model puts the
gibberish sentence far from sentence 1, centering flips the 이순신 / gibberish pair, re-aligning the
space barely changes nearest-neighbour labels, and on KorSTS test the Sentence-BERT beats its base's
raw vectors but not character TF-IDF; and the verdict sentences agree with the printed tables.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import stored_outputs

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_sentence_similarity.ipynb"
NUMBER = r"-?\d+\.\d+"


def _output(marker: str) -> str:
    return stored_outputs.cell_text(NOTEBOOK, marker)


def _frame(marker: str, columns: int) -> dict[str, list[float]]:
    """The rows of a printed DataFrame (label, then ``columns`` numbers)."""
    pattern = re.compile(r"^(\S.*?)" + rf"\s+({NUMBER})" * columns + r"\s*$")
    rows = {}
    for line in _output(marker).splitlines():
        m = pattern.match(line)
        if m:
            rows[m.group(1)] = [float(v) for v in m.groups()[1:]]
    return rows


@pytest.fixture(scope="module", autouse=True)
def stored_run_is_the_default():
    if "model: tiny-ko-bert " not in _output('helpers.setup("02")'):
        pytest.skip("the stored outputs are not from tiny-ko-bert")


@pytest.fixture(scope="module")
def baseline() -> dict[str, float]:
    found = dict(re.findall(rf"^\s*(\w+): mean cosine between random chatbot questions = ({NUMBER})$",
                            _output("baseline = {p: mean_pairwise_cosine(v)"), re.M))
    assert set(found) == {"pooler", "cls", "mean"}, found
    return {k: float(v) for k, v in found.items()}


@pytest.fixture(scope="module")
def above() -> dict[str, dict[str, float]]:   # pair -> pooling -> % of random pairs below
    rows = _frame("baseline = {p: mean_pairwise_cosine(v)", 3)
    assert len(rows) == 4, rows
    return {pair: dict(zip(("pooler", "cls", "mean"), values)) for pair, values in rows.items()}


@pytest.fixture(scope="module")
def cosines() -> dict[str, dict[str, float]]:  # pair -> pooling -> cosine
    rows = _frame("pair_table = pd.DataFrame(", 3)
    assert len(rows) == 4, rows
    return {pair: dict(zip(("pooler", "cls", "mean"), values)) for pair, values in rows.items()}


@pytest.fixture(scope="module")
def korsts() -> dict[str, float]:
    rows = {name: values[0] for name, values in _frame("korsts_table = pd.DataFrame(", 1).items()}
    assert {"[CLS]", "pooler", "mean", "whitened mean", "char TF-IDF", "Sentence-BERT (tiny-ko-sbert)"} <= set(rows), rows
    return rows


def test_raw_vectors_are_anisotropic(baseline):
    assert min(baseline.values()) > 0.5 and baseline["pooler"] == max(baseline.values())


def test_pairs_read_against_random_pairs(cosines, above):
    assert cosines["1 vs 이순신 (1,3)"]["pooler"] > 0.5 and above["1 vs 이순신 (1,3)"]["pooler"] < 50
    assert all(v > 95 for v in above["paraphrases (1,2)"].values())
    assert all(v < 5 for v in above["1 vs gibberish (1,4)"].values())
    text = _output("def reading(percent)")
    assert "주의 (pooler) 1 vs 이순신 (1,3): 코사인" in text, text  # the verdict says what the asserts used to


def test_centering_leaves_the_unrelated_out_of_domain_pair_high():
    text = _output("raw, centered = view_sims[")
    pairs = {m[0].strip(): (float(m[1]), float(m[2]))
             for m in re.findall(rf"^(.+?)\s+raw\s+({NUMBER}) -> centered\s+({NUMBER})$", text, re.M)}
    centered = {name: after for name, (_, after) in pairs.items()}
    unrelated = {k: v for k, v in centered.items() if k != "paraphrases (1,2)"}
    assert max(unrelated, key=unrelated.get) == "이순신 vs gibberish (3,4)" and unrelated["이순신 vs gibberish (3,4)"] > 0.5
    assert "centering 뒤 관계없는 쌍 가운데 가장 높은 쌍: 이순신 vs gibberish (3,4)" in text, text
    assert ("centering으로 가장 크게 오른 쌍" in text) == any(b > a for a, b in pairs.values()), text


def test_realigning_barely_changes_neighbour_labels():
    text = _output("agreement = {name: nearest_neighbour_agreement(")
    chance = float(re.search(rf"chance level ({NUMBER})", text).group(1))
    agreement = {k: float(v) for k, v in re.findall(rf"^\s*(\w+): nearest-neighbour label agreement = ({NUMBER})$", text, re.M)}
    assert set(agreement) == {"raw", "centered", "whitened"}, agreement
    assert min(agreement.values()) > chance and max(agreement.values()) - agreement["raw"] < 0.05


def test_korsts_sentence_bert_against_its_baselines(korsts):
    sbert = korsts["Sentence-BERT (tiny-ko-sbert)"]
    assert sbert > max(korsts["[CLS]"], korsts["pooler"], korsts["mean"])
    assert korsts["char TF-IDF"] > sbert
    text = _output("print(verdict.ranking_sentence(table, ")
    measured = {k: v for k, v in korsts.items() if not k.startswith("published")}
    best = max(measured, key=measured.get)
    assert f"1위: {best} {measured[best]:.2f}" in text, text


def test_sentence_order_is_reported_as_measured():
    text = _output("to_first = {")
    cos = {pair: float(v) for pair, v in re.findall(rf"^(.+?)\s+cosine\s+({NUMBER}) \|", text, re.M)}
    expected = cos["paraphrases (1,2)"] > cos["1 vs 이순신 (1,3)"] > cos["1 vs gibberish (1,4)"]
    assert ("기대하는 순서(paraphrase > 이순신 > gibberish)와 같습니다" in text) == expected, text
    assert "False" not in text and "True" not in text


def test_lecture_figures_beside_this_run():
    """Section 1's table: the lecture's four printed mBERT cosines in the order it printed them, and this
    run's cosines for the same pairs, equal to the matrix section 1 printed; the readings match the numbers."""
    text = _output("LECTURE_PRINTED = {")
    rows = {m[0]: (float(m[1]), float(m[2]))
            for m in re.findall(rf"^(cos\(\d,\d\))\s+.+?\s+({NUMBER})\s+({NUMBER})\s*$", text, re.M)}
    assert list(rows) == ["cos(1,2)", "cos(2,3)", "cos(3,4)", "cos(1,4)"], rows
    assert [lecture for lecture, _ in rows.values()] == [0.9757, 0.6075, 0.6089, 0.9459]
    matrix = [[float(v) for v in line.split("|")[0].split()] for line in _output("cos = nn.CosineSimilarity(dim=1)").splitlines()
              if "|" in line]
    for pair, (_, this_run) in rows.items():
        i, j = int(pair[4]) - 1, int(pair[6]) - 1
        assert abs(this_run - matrix[i][j]) < 6e-4, (pair, this_run, matrix[i][j])
    assert "강의 (mBERT): paraphrase 0.976 → 다른 세 쌍 모두보다 높음 (가장 높은 다른 쌍보다 +0.030)" in text, text
    assert "문장 1 vs gibberish 0.946 > paraphrase 2 vs 이순신" in text and "네 값의 범위 0.608 … 0.976" in text, text
    ours = rows["cos(1,2)"][1] > max(v for p, (_, v) in rows.items() if p != "cos(1,2)")
    assert (f"이번 실행 (tiny-ko-bert): paraphrase {rows['cos(1,2)'][1]:.3f} → 다른 세 쌍 모두보다 높음" in text) == ours, text
