"""read_labelled_csv(): clear errors that name the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from classify.train import Example, read_labelled_csv
from models.errors import InvalidInput

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free


def write(tmp_path: Path, content: str, name: str = "data.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + content.encode("utf-8"))
    return path


def test_reads_text_and_label_ignoring_other_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id,label,text,village\n"
        "1,power,村里停电了,东岙村\n"
        '2,transport,"The road, near the school, has potholes",Hexi\n',
    )
    assert read_labelled_csv([path]) == [
        Example("村里停电了", "power"),
        Example("The road, near the school, has potholes", "transport"),
    ]


def test_bom_and_multiple_files(tmp_path: Path) -> None:
    a = write(tmp_path, "text,label\n河水很臭,environment\n", "a.csv", bom=True)
    b = write(tmp_path, "text,label\nNo buses,transport\n", "b.csv")
    assert [e.label for e in read_labelled_csv([a, b])] == ["environment", "transport"]


def test_empty_texts_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "text,label\n,power\n   ,other\n\n停电,power\n")
    assert read_labelled_csv([path]) == [Example("停电", "power")]


def test_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "text,category\n停电,power\n")
    with pytest.raises(InvalidInput) as info:
        read_labelled_csv([path])
    assert str(path) in info.value.detail
    assert "missing column(s) label" in info.value.detail


def test_unknown_label_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'text,label\n停电,power\n"two\nlines",transport\n河水,water\n')
    with pytest.raises(InvalidInput) as info:
        read_labelled_csv([path])
    assert f"{path}, line 5" in info.value.detail
    assert "unknown label 'water'" in info.value.detail


def test_missing_label_value(tmp_path: Path) -> None:
    path = write(tmp_path, "text,label\n停电\n")
    with pytest.raises(InvalidInput, match="line 2: no label"):
        read_labelled_csv([path])


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(InvalidInput, match="the file is empty") as info:
        read_labelled_csv([path])
    assert str(path) in info.value.detail


def test_header_only(tmp_path: Path) -> None:
    path = write(tmp_path, "text,label\n")
    with pytest.raises(InvalidInput, match="no data rows"):
        read_labelled_csv([path])


def test_missing_file_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="file not found"):
        read_labelled_csv([tmp_path / "nope.csv"])
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("text,label\n停电,power\n".encode("gbk"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_labelled_csv([gbk])


def test_no_paths() -> None:
    with pytest.raises(InvalidInput):
        read_labelled_csv([])
