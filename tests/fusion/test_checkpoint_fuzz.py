"""Fuzzing checkpoints: whatever the bytes, ``load_checkpoint`` gives a working model or one BadInput line.

- byte mutations (truncation, bit flips, overwritten runs) of a real tiny checkpoint;
- mutations of its pickle inside a zip whose checksums are recomputed (past the zip layer);
- every ModelConfig / InputSpec field set to each hostile value (wrong types, NaN, Infinity, huge,
  negative, zero, missing), then Hypothesis-generated JSON values;
- pickles that try to run code (a marker file shows whether any did).

A model that loads must compute finite scores: non-finite scores are the failure item 4 names.
"""

import io
import json
import os
import pickle
import zipfile

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusion.build import build_model
from fusion.checkpoint import FORMAT, CheckpointMeta, load_checkpoint, save_checkpoint
from fusion.errors import BadInput
from fusion.model_config import ModelConfig
from fusion.preprocess import InputSpec
from tests.fusion.tiny import randomise, tiny_config, tiny_inputs

LABELS = ("no_gesture", "fist", "swipe_left", "swipe_right", "push")
HOSTILE = (None, "x", "", [], {}, True, False, -1, 0, 0.5, 1e308, float("inf"), float("-inf"), float("nan"),
           10**30, -10**30, 10**400, [float("nan")], [10**400], [1, "a"], {"a": 1})
MISSING = object()


def fuzz(examples: int) -> settings:
    """Reproducible and bounded for CI: fixed examples, no deadline on a loaded machine, no database."""
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Hundreds of tiny forwards: one thread each is several times faster than two on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A real tiny checkpoint (streaming, MMTM, random weights): its path, bytes and payload."""
    path = tmp_path_factory.mktemp("good") / "good.pt"
    save_checkpoint(path, randomise(build_model(tiny_config())).eval(), labels=LABELS)
    return path, path.read_bytes(), torch.load(path, weights_only=True)


def loads_cleanly(path) -> bool:
    """True when ``path`` loads into a model with finite scores; False when it is refused in one line."""
    try:
        model, meta = load_checkpoint(path)
    except BadInput as error:
        message = str(error)
        assert message.startswith(str(path)) and "\n" not in message and len(message) < 400
        return False
    with torch.inference_mode():
        logits = model(tiny_inputs(meta.config, batch=1)).logits
    assert logits.shape == (1, len(meta.labels)) and torch.isfinite(logits).all()
    return True


# --- bytes ------------------------------------------------------------------------------------------

@st.composite
def mutated(draw, data: bytes) -> bytes:
    out = bytearray(data)
    kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert"]))
    if kind == "truncate":
        return bytes(out[: draw(st.integers(0, len(out) - 1))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(out) - 1))
            out[at] ^= 1 << draw(st.integers(0, 7))
        return bytes(out)
    at = draw(st.integers(0, len(out)))
    junk = draw(st.binary(min_size=1, max_size=64))
    if kind == "insert":
        return bytes(out[:at] + junk + out[at:])
    return bytes(out[:at] + junk + out[at + len(junk):])


@fuzz(80)
@given(data=st.data())
def test_byte_mutations_load_or_fail_in_one_line(good, tmp_path_factory, data):
    _, raw, _ = good
    path = tmp_path_factory.getbasetemp() / "mutated.pt"
    path.write_bytes(data.draw(mutated(raw)))
    loads_cleanly(path)


def _rezipped(raw: bytes, change) -> bytes:
    """The checkpoint's zip with ``change(name, data)`` applied to each member; checksums recomputed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
    return out.getvalue()


@fuzz(60)
@given(data=st.data())
def test_pickle_mutations_behind_valid_checksums_load_or_fail_in_one_line(good, tmp_path_factory, data):
    _, raw, _ = good
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        name = next(n for n in z.namelist() if n.endswith("data.pkl"))
        pkl = z.read(name)
    bad = data.draw(mutated(pkl))
    path = tmp_path_factory.getbasetemp() / "mutated.pt"
    path.write_bytes(_rezipped(raw, lambda n, d: bad if n == name else d))
    loads_cleanly(path)


# --- metadata ---------------------------------------------------------------------------------------

FIELDS = ([("model", f) for f in ModelConfig.__dataclass_fields__ if f != "input"]
          + [("model", "input", f) for f in InputSpec.__dataclass_fields__] + [("labels",), ("training",)])


def _with(meta: dict, where: tuple, value) -> str:
    out = json.loads(json.dumps(meta))
    table = out
    for key in where[:-1]:
        table = table[key]
    if value is MISSING:
        table.pop(where[-1], None)
    else:
        table[where[-1]] = value
    return json.dumps(out)  # NaN and Infinity as JSON's extensions, as json.loads reads them


def meta_loads_cleanly(good, folder, text: str) -> bool:
    """``loads_cleanly`` for a checkpoint with metadata ``text``; the metadata is read first (as
    ``read_checkpoint`` reads it), the file written and loaded only when it is accepted (fast)."""
    try:
        CheckpointMeta.from_json(text, source="crafted.pt")
    except BadInput as error:
        assert str(error).startswith("crafted.pt: ") and "\n" not in str(error) and len(str(error)) < 400
        return False
    path = folder / "crafted.pt"
    torch.save(dict(good[2], metadata=text), path)
    return loads_cleanly(path)


def test_every_field_set_to_each_hostile_value_loads_or_fails_in_one_line(good, tmp_path):
    meta = json.loads(good[2]["metadata"])
    outcomes = {True: 0, False: 0}
    for where in FIELDS:
        for value in HOSTILE + (MISSING,):
            outcomes[meta_loads_cleanly(good, tmp_path, _with(meta, where, value))] += 1
    assert outcomes[False] > 0.9 * len(FIELDS) * len(HOSTILE)  # nearly all refused; a few are harmless
    print(f"{len(FIELDS)} fields x {len(HOSTILE) + 1} values: {outcomes[True]} loaded, {outcomes[False]} refused")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
    | st.sampled_from([0, -1, 2**31, 2**63, 10**300, 10**400, 1e-300, 5e-324, 4096, 4097, 8, 7]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@fuzz(150)
@given(where=st.sampled_from(FIELDS), value=json_values)
def test_generated_json_in_any_field_loads_or_fails_in_one_line(good, tmp_path_factory, where, value):
    meta = json.loads(good[2]["metadata"])
    meta_loads_cleanly(good, tmp_path_factory.getbasetemp(), _with(meta, where, value))


@fuzz(100)
@given(text=st.text(max_size=200) | st.binary(max_size=100).map(lambda b: b.decode("latin-1")))
def test_any_metadata_text_loads_or_fails_in_one_line(good, tmp_path_factory, text):
    meta_loads_cleanly(good, tmp_path_factory.getbasetemp(), text)


# --- pickles that try to run code -------------------------------------------------------------------

class _Runs:
    """Unpickling calls ``func(*args)``: a stand-in for any code a hostile file would run."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _hostile_files(marker) -> dict[str, bytes]:
    touch = f"touch {marker}"
    evil = _Runs(os.system, touch)
    files = {f"raw pickle protocol {p}": pickle.dumps(evil, protocol=p) for p in range(6)}
    files["eval"] = pickle.dumps(_Runs(eval, f"__import__('os').system({touch!r})"))
    files["exec"] = pickle.dumps(_Runs(exec, f"import os; os.system({touch!r})"))
    files["legacy torch format"] = _legacy({"format": FORMAT, "metadata": evil, "state_dict": {}})
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "metadata": evil, "state_dict": {}}, buf)
    files["torch zip, metadata"] = buf.getvalue()
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "metadata": "{}", "state_dict": {"w": evil}}, buf)
    files["torch zip, a weight"] = buf.getvalue()
    return files


def _legacy(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def test_pickles_that_try_to_run_code_are_refused_and_run_nothing(good, tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Runs(os.system, f"touch {tmp_path / 'control'}")))  # the payload is real
    assert (tmp_path / "control").exists()
    _, raw, _ = good
    files = _hostile_files(marker)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        name = next(n for n in z.namelist() if n.endswith("data.pkl"))
    files["checkpoint with its data.pkl replaced"] = _rezipped(
        raw, lambda n, d: pickle.dumps(_Runs(os.system, f"touch {marker}"), protocol=2) if n == name else d)
    for label, data in files.items():
        path = tmp_path / "hostile.pt"
        path.write_bytes(data)
        with pytest.raises(BadInput, match="not a readable mmtm-live checkpoint"):
            load_checkpoint(path)
        assert not marker.exists(), f"{label}: code ran"
