"""The files people have: BOMs, UTF-16, CSV dialects, JSON Lines, compression; file or stdin."""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from fclf_edge.runtime.cli import main as edge
from fclf_edge.runtime.errors import EXIT_USAGE

EXCEL_UTF16 = "temp_f\tcity\r\n33\tOslo\r\n-40\tNome\r\n"

# (name, file bytes, extra arguments, labels printed)
GOOD_FILES: list[tuple[str, bytes, list[str], str]] = [
    (
        "csv with a UTF-8 BOM",
        b"\xef\xbb\xbftemp_f,city\n33,Oslo\n32,Rome\n",
        ["-c", "temp_f"],
        "10",
    ),
    ("lines with a UTF-8 BOM", b"\xef\xbb\xbf33\n32\n", [], "10"),
    (
        "Excel 'Unicode text' (UTF-16 LE, tabs)",
        EXCEL_UTF16.encode("utf-16"),
        ["-c", "temp_f"],
        "10",
    ),
    (
        "UTF-16 BE with BOM",
        codecs.BOM_UTF16_BE + EXCEL_UTF16.encode("utf-16-be"),
        ["-c", "temp_f"],
        "10",
    ),
    ("UTF-16 lines", "33\n32\n".encode("utf-16"), [], "10"),
    (
        "';' and a decimal comma",
        b"temp;city\n32,5;Oslo\n31,9;Rome\n",
        ["-c", "temp", "--decimal-comma"],
        "10",
    ),
    ("decimal comma, no header", b"32,5;Oslo\n31,9;Rome\n", ["-c", "0", "--decimal-comma"], "10"),
    ("decimal comma lines", b"32,5\n-3,0\n", ["--decimal-comma"], "10"),
    (
        "quoted fields with the delimiter and quotes inside",
        b'city,temp_f\n"Oslo, Norway",33\n"Rome, ""Italy""",32\n',
        ["-c", "temp_f"],
        "10",
    ),
    ("a quoted field over two lines", b'note,temp_f\n"two\nlines",33\nx,32\n', ["-c", "1"], "10"),
    ("quoted temperature", b'city;temp_f\nOslo;"33"\nRome;"32"\n', ["-c", "temp_f"], "10"),
    ("pipes", b"temp_f|city\n33|a\n32|b\n", ["-c", "temp_f"], "10"),
    (
        "tab given as --delimiter tab",
        b"temp_f\tcity,x\n33\ta,b\n32\tc,d\n",
        ["-c", "temp_f", "-d", "tab"],
        "10",
    ),
    ("CRLF csv", b"temp_f,city\r\n33,a\r\n32,b\r\n", ["-c", "temp_f"], "10"),
    (
        "JSON Lines",
        b'{"ts": 1, "temp_f": 33.2}\n{"ts": 2, "temp_f": -40}\n',
        ["-c", "temp_f"],
        "10",
    ),
    (
        "JSON Lines, a number in a string",
        b'{"temp_f": "33"}\n{"temp_f": "32"}\n',
        ["-c", "temp_f"],
        "10",
    ),
    (
        # A blank line is no record (as jq reads JSON Lines): nothing to label or skip.
        "JSON Lines, CRLF and blank first",
        b'\r\n  {"t": 33}\r\n{"t": 32}\r\n',
        ["-c", "t"],
        "10",
    ),
    ("JSON Lines forced", b'{"t": 33}\n', ["-c", "t", "--input-format", "jsonl"], "1"),
    ("csv forced on a one-column file", b"33\n32\n", ["-c", "0", "--input-format", "csv"], "10"),
    ("multi-member gzip", gzip.compress(b"33\n") + gzip.compress(b"32\n"), [], "10"),
    ("gzip of UTF-16 csv", gzip.compress(EXCEL_UTF16.encode("utf-16")), ["-c", "temp_f"], "10"),
    ("a header named 'BZh' is not bz2", b"BZh91\n33\n32\n", ["-c", "BZh91"], "10"),
]

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}


def run(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(edge, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def labels(stdout: str) -> str:
    return "".join(stdout.split())


@pytest.mark.parametrize(
    ("data", "args", "expected"),
    [pytest.param(d, a, e, id=name) for name, d, a, e in GOOD_FILES],
)
def test_real_world_files(tmp_path: Path, data: bytes, args: list[str], expected: str) -> None:
    path = tmp_path / "input"
    path.write_bytes(data)
    code, out, err = run(["predict", "-i", str(path), *args])
    assert code == 0, err
    assert labels(out) == expected
    # The same bytes on stdin: detection never depends on a file name.
    code, out, err = run(["predict", "-", *args], stdin=data)
    assert (code, labels(out)) == (0, expected), err


@pytest.mark.parametrize("kind", COMPRESSORS)
@pytest.mark.parametrize("source", ["file", "stdin"])
def test_compressed_input(tmp_path: Path, kind: str, source: str) -> None:
    csv_text = b"\xef\xbb\xbfcity;temp_f\nOslo;33\nRome;32\nNome;-40,5\n"
    data = COMPRESSORS[kind](csv_text)
    args = ["predict", "-c", "temp_f", "--decimal-comma", "-f", "jsonl"]
    if source == "file":
        path = tmp_path / "temps.csv.data"  # no telling suffix: the magic bytes decide
        path.write_bytes(data)
        code, out, err = run([*args, "-i", str(path)])
    else:
        code, out, err = run([*args, "-"], stdin=data)
    assert code == 0, err
    assert out.splitlines() == [
        '{"line": 2, "fahrenheit": 33.0, "label": 1}',
        '{"line": 3, "fahrenheit": 32.0, "label": 0}',
        '{"line": 4, "fahrenheit": -40.5, "label": 0}',
    ]


def test_line_numbers_count_physical_lines() -> None:
    data = b'note,temp_f\n"two\nlines",abc\nx,32\n'
    code, _, err = run(["predict", "-", "-c", "temp_f"], stdin=data)
    assert code == EXIT_USAGE and "line 2: 'abc' is not a number" in err
    code, out, _ = run(["predict", "-", "-c", "temp_f", "--on-invalid", "skip", "-f", "csv"], data)
    assert out.splitlines()[1:] == ["2,,skipped", "4,32.0,0"]


# (name, file bytes, extra arguments, words the one-line error must contain)
BAD_FILES: list[tuple[str, bytes, list[str], list[str]]] = [
    (
        "JSON Lines field missing",
        b'{"temp_f": 33}\n{"ts": 2}\n',
        ["-c", "temp_f"],
        ["line 2", "no field 'temp_f'"],
    ),
    ("JSON Lines null", b'{"temp_f": null}\n', ["-c", "temp_f"], ["line 1", "null"]),
    ("JSON Lines bool", b'{"temp_f": true}\n', ["-c", "temp_f"], ["line 1", "boolean"]),
    (
        "JSON Lines word",
        b'{"temp_f": "warm"}\n',
        ["-c", "temp_f"],
        ["line 1", "'warm'", "not a number"],
    ),
    ("JSON Lines list", b'{"temp_f": [33]}\n', ["-c", "temp_f"], ["line 1", "a list"]),
    ("JSON Lines NaN", b'{"temp_f": NaN}\n', ["-c", "temp_f"], ["line 1", "NaN"]),
    ("JSON Lines too cold", b'{"temp_f": -500}\n', ["-c", "temp_f"], ["line 1", "absolute zero"]),
    (
        "JSON Lines huge int",
        b'{"temp_f": 1' + b"0" * 400 + b"}\n",
        ["-c", "temp_f"],
        ["line 1", "infinity"],
    ),
    (
        "JSON Lines not an object",
        b'{"temp_f": 33}\n[33]\n',
        ["-c", "temp_f"],
        ["line 2", "not a JSON object"],
    ),
    (
        "JSON Lines broken",
        b'{"temp_f": 33}\n{"temp_f": \n',
        ["-c", "temp_f"],
        ["line 2", "not valid JSON"],
    ),
    ("JSON Lines without --column", b'{"temp_f": 33}\n', [], ["needs --column"]),
    (
        "decimal comma with comma delimiter",
        b"temp,city\n32,Oslo\n",
        ["-c", "temp", "--decimal-comma"],
        ["delimiter other than ','"],
    ),
    (
        "decimal comma with --delimiter ,",
        b"t;c\n1;2\n",
        ["-c", "t", "--decimal-comma", "-d", ","],
        ["delimiter other than ','"],
    ),
    (
        "point under a decimal comma",
        b"t;c\n32.5;x\n",
        ["-c", "t", "--decimal-comma"],
        ["line 2", "decimal point"],
    ),
    (
        "decimal comma without the flag",
        b"t;c\n32,5;x\n",
        ["-c", "t"],
        ["line 2", "--decimal-comma"],
    ),
    (
        "semicolons read as lines",
        b"temp;city\n33;Oslo\n",
        [],
        ["line 1", "';' separators", "--column"],
    ),
    ("bad UTF-8 in lines", b"33\n\xff\xfe\n", [], ["line 2", "not valid UTF-8"]),
    (
        "bad UTF-8 in a CSV row",
        b"t,c\n33,Oslo\n32,\xe9t\xe9\n",
        ["-c", "t"],
        ["line 3", "not valid UTF-8"],
    ),
    (
        "bad UTF-8 in JSON Lines",
        b'{"t": 33}\n{"t": "\xff"}\n',
        ["-c", "t"],
        ["line 2", "not valid UTF-8"],
    ),
    (
        "unpaired UTF-16 surrogate",
        codecs.BOM_UTF16_LE + "33\n".encode("utf-16-le") + b"\x00\xd8\n\x00",
        [],
        ["line 2", "UTF-16"],
    ),
    (
        "UTF-16 cut in a character",
        codecs.BOM_UTF16_LE + "33\n3".encode("utf-16-le")[:-1],
        [],
        ["line 2", "UTF-16"],
    ),
    ("truncated gzip", gzip.compress(b"33\n" * 1000)[:-12], [], ["gzip"]),
    ("gzip of binary", gzip.compress(b"33\n\0\1\2"), [], ["line 2", "binary"]),
    ("zip archive", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", [], ["line 1", "binary"]),
    ("missing column", b"t,c\n33,x\n", ["-c", "temp"], ["'temp'", "not in the header"]),
    ("unknown delimiter", b"t,c\n33,x\n", ["-c", "t", "-d", "ab"], ["delimiter"]),
    ("delimiter on JSON Lines", b'{"t": 33}\n', ["-c", "t", "-d", ";"], ["CSV"]),
    (
        "column with --input-format lines",
        b"33\n",
        ["-c", "t", "--input-format", "lines"],
        ["column"],
    ),
]


@pytest.mark.parametrize(
    ("data", "args", "words"),
    [pytest.param(d, a, w, id=name) for name, d, a, w in BAD_FILES],
)
def test_bad_files_give_one_clear_line(
    tmp_path: Path, data: bytes, args: list[str], words: list[str]
) -> None:
    path = tmp_path / "input"
    path.write_bytes(data)
    code, _, err = run(["predict", "-i", str(path), *args])
    assert code == EXIT_USAGE, err
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err


def test_jsonl_invalid_rows_skip_with_their_reasons() -> None:
    data = (
        b'{"temp_f": 33}\n{"ts": 2}\n{"temp_f": null}\n{"temp_f": false}\n'
        b'{"temp_f": "31,5"}\n{"temp_f": " 32 "}\n\n'
    )
    code, out, err = run(["predict", "-", "-c", "temp_f", "--on-invalid", "skip"], data)
    assert code == 0
    # Line 7 is blank: no record (as jq reads JSON Lines), so no row and nothing skipped.
    assert out.split() == ["1", "skipped", "skipped", "skipped", "skipped", "0"]
    for line, word in ((2, "no field"), (3, "null"), (4, "boolean"), (5, "'31,5'")):
        assert f"skipped line {line}: " in err and word in err
    assert "skipped line 7" not in err
    assert "4 of 6 lines skipped" in err


def test_a_long_line_in_the_middle_is_one_invalid_row() -> None:
    data = b"33\n" + b"1" * 70_000 + b"\n32\n"
    code, out, err = run(["predict", "-", "--on-invalid", "skip"], data)
    assert (code, out.split()) == (0, ["1", "skipped", "0"])
    assert "skipped line 2: longer than 65,536 bytes" in err
    csv_data = b"t,c\n33,a\n" + b"1" * 70_000 + b",b\n32,c\n"
    code, out, err = run(["predict", "-", "-c", "t"], csv_data)
    assert code == EXIT_USAGE and "line 3: longer than 65,536 bytes" in err


def test_delimiter_detection() -> None:
    from fclf_edge.runtime.reader.delimited import detect_delimiter

    assert detect_delimiter("a,b,c") == ","
    assert detect_delimiter("a;b;c,d") == ";"
    assert detect_delimiter('"x;y;z",b') == ","  # quoted delimiters do not count
    assert detect_delimiter("a\tb|c") == "\t"  # a tie goes to the earlier in , ; TAB |
    assert detect_delimiter("a|b|c") == "|"
    assert detect_delimiter("temp") == ","
    assert detect_delimiter("32,5;Oslo", decimal_comma=True) == ";"
    assert detect_delimiter("temp,city", decimal_comma=True) == ","  # then refused


def readme_examples() -> list[tuple[str, str]]:
    """(command, expected output) pairs from docs/predict.md's "Your files" console block."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "predict.md").read_text()
    section = page.split("\n## Your files\n", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    examples: list[tuple[str, str]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            examples.append((line[2:], ""))
        else:
            command, output = examples[-1]
            examples[-1] = (command, output + line + "\n")
    return examples


@pytest.mark.parametrize(("command", "expected"), readme_examples())
def test_readme_your_files_examples(tmp_path: Path, command: str, expected: str) -> None:
    import os
    import subprocess
    import sys

    from .conftest import cli_env

    env = cli_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} 2>&1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == expected
