"""Inputs that would hang or exhaust the reader: named pipes, devices, hostile YAML."""

from __future__ import annotations

import os
import threading

import pytest

from workbench.errors import ConfigError, InputError
from workbench.tables.mapping import MAX_YAML_BYTES, ColumnMapping, read_yaml
from workbench.tables.readers import read_table
from workbench.tables.validate import load_table


def _fifo(tmp_path, name):
    path = tmp_path / name
    os.mkfifo(path)
    return path


def _returns_without_a_writer(call):
    """Run ``call`` in a thread; a reader that opens a pipe with no writer never returns.

    The thread's outcome is what is checked; the join's timeout only keeps a broken reader
    from hanging the test suite (it is not a measured time).
    """
    outcome = {}

    def target():
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what was raised
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():  # unblock the reader so the thread can end, then fail
        fd = os.open(call.path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail(f"the reader waited on {call.path}")
    return outcome.get("error")


class _Call:
    def __init__(self, function, path):
        self.function, self.path = function, path

    def __call__(self):
        self.function(self.path)


@pytest.mark.parametrize("name", ["ratings.csv", "ratings.xlsx", "ratings.parquet"])
def test_a_named_pipe_table_is_refused_not_waited_on(tmp_path, name):
    error = _returns_without_a_writer(_Call(read_table, _fifo(tmp_path, name)))
    assert isinstance(error, InputError)
    assert "not a regular file (a named pipe)" in str(error)


@pytest.mark.parametrize("reader", [
    lambda p: read_yaml(p, what="engagement file"),
    ColumnMapping.from_yaml,
])
def test_a_named_pipe_yaml_is_refused_not_waited_on(tmp_path, reader):
    error = _returns_without_a_writer(_Call(reader, _fifo(tmp_path, "mapping.yaml")))
    assert isinstance(error, ConfigError)
    assert "not a regular file (a named pipe)" in str(error)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} is not on this system")
    with pytest.raises(InputError, match=r"not a regular file \(a device\)"):
        load_table(device, "ratings")
    with pytest.raises(ConfigError, match=r"not a regular file \(a device\)"):
        read_yaml(device)


def _laughs(levels: int, width: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("payload, message", [
    (_laughs(9, 9), "expands to more than"),          # 387 M values in 400 bytes
    (_laughs(30, 2), "expands to more than"),         # 2**30 values, long and narrow
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "levels deep"),
    ("a: " + "{b: " * 80 + "1" + "}" * 80 + "\n", "levels deep"),
    ("- &loop [*loop]\n", "not valid YAML|a loop"),
    ("columns: x\n" + "# padding\n" * (MAX_YAML_BYTES // 10 + 1), "larger than"),
])
def test_hostile_yaml_is_refused_quickly_and_small(tmp_path, payload, message):
    path = tmp_path / "mapping.yaml"
    path.write_text(payload)
    with pytest.raises(ConfigError, match=message):
        read_yaml(path, what="column mapping file")


def test_yaml_within_the_limits_reads_as_before(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("base: &b {Employee: ratee}\ncolumns:\n  ratings: *b\n  people: {ID: person}\n")
    assert read_yaml(path) == {"base": {"Employee": "ratee"},
                               "columns": {"ratings": {"Employee": "ratee"},
                                           "people": {"ID": "person"}}}
    # the nesting a real engagement file has is far below the limit
    nested = tmp_path / "nested.yaml"
    nested.write_text("a: " + "[" * 40 + "1" + "]" * 40 + "\n")
    value = read_yaml(nested)["a"]
    for _ in range(40):
        value = value[0]
    assert value == 1
