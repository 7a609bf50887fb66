"""helpers.textfiles: the one reader for data-set files and the TSVs users pass to ``eval`` commands."""
import pytest

from helpers.textfiles import read_rows, read_text


class Bad(ValueError):
    pass


FIX = "Fix: do the thing."


def test_read_text_drops_a_bom_and_refuses_missing_binary_and_blank_files(tmp_path):
    good = tmp_path / "good.txt"
    good.write_bytes("\ufeff안녕\n".encode("utf-8"))
    assert read_text(good, Bad, FIX) == "안녕\n"
    cases = {"missing.txt": (None, "no such file"), "cp949.txt": ("안녕".encode("cp949"), "not UTF-8"),
             "blank.txt": (b"\xef\xbb\xbf  \r\n", "is empty")}
    for name, (content, needle) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(Bad, match=needle) as info:
            read_text(tmp_path / name, Bad, FIX)
        assert str(info.value).endswith(FIX)


def test_read_rows_keeps_the_asked_columns_and_real_line_numbers(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text('id\ttext\tlabel\n1\t "따옴표" 그대로 \t1\n\n2\t둘\t0\n', encoding="utf-8")
    assert read_rows(path, ("label", "text"), Bad, FIX) == [
        (2, {"label": "1", "text": '"따옴표" 그대로'}), (4, {"label": "0", "text": "둘"})]


@pytest.mark.parametrize("content, needle", [
    ("text\tlabel\n", "no rows"),
    ("text\tlab\n좋다\t1\n", "no column 'label'"),
    ("text\tlabel\n좋다\t1\n\n나쁨\n", "line 4: 1 tab-separated fields"),
])
def test_read_rows_refuses_malformed_tables_with_a_fix(tmp_path, content, needle):
    path = tmp_path / "t.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(Bad, match=needle) as info:
        read_rows(path, ("text", "label"), Bad, FIX)
    assert "Fix:" in str(info.value)
