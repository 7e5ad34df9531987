"""scripts/tune_online.py: the grid is scored on worker processes, the best point is the one a serial
scoring finds, and --write stores it where main.py eval and the app read it."""

import json
import sys

import pytest

from fusion.checkpoint import load_checkpoint, save_checkpoint
from fusion.evaluate import online_config_of
from fusion.metrics import evaluate_online
from fusion.online import OnlineConfig, recognize
from tests.app.engine_fixtures import tiny_checkpoint
from tests.conftest import load_script
from tests.fusion.train_data import write_tiny_dataset

SMALL_GRID = {"start_threshold": (0.3, 0.6), "ema_tau_s": (0.0, 0.2), "static_hold_s": (0.2, 0.8)}


@pytest.fixture
def tune_online(monkeypatch):
    module = load_script("tune_online", monkeypatch)  # the workers unpickle its _score by name
    monkeypatch.setattr(module, "GRID", SMALL_GRID)
    return module


def test_best_settings_are_found_on_workers_and_written(tune_online, tmp_path, monkeypatch, capsys):
    val = write_tiny_dataset(tmp_path / "val", clips=0, streams=2)
    model = tiny_checkpoint(tmp_path / "m.pt")
    monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(val), "--workers", "2", "--write"])
    assert tune_online.main() == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    # the same grid scored serially in this process, on the logits the script computed
    best = max(tune_online._score(values)[0] for values in tune_online.itertools.product(*SMALL_GRID.values()))
    chosen = {k: report["settings"][k] for k in SMALL_GRID}
    cfg = OnlineConfig(from_logits=True, **chosen)
    m = evaluate_online([(segs, recognize(cfg, tune_online._LABELS, logits, times), dur)
                         for logits, times, segs, dur in tune_online._DATA])
    assert m.levenshtein - m.false_triggers_per_hour / 1000.0 == pytest.approx(best)
    assert report["best"]["levenshtein"] == pytest.approx(round(m.levenshtein, 3))

    _, meta = load_checkpoint(model)
    assert online_config_of(meta) == OnlineConfig(from_logits=True, **meta.training["online"])
    assert {k: meta.training["online"][k] for k in SMALL_GRID} == chosen
    assert meta.training["online_tuned_on"]["streams"] == 2


def _made_up_metrics(cfg):
    """Figures that make the limit matter: a low threshold calls more (Levenshtein) and falsely more."""
    from types import SimpleNamespace

    return SimpleNamespace(levenshtein=1 - cfg.start_threshold + cfg.static_hold_s / 10,
                           false_triggers_per_hour=100 * (1 - cfg.start_threshold) + 100 * cfg.ema_tau_s)


@pytest.mark.parametrize("limit, levenshtein, false_per_hour, kept", [
    (50.0, 0.48, 40.0, True),    # start 0.6, no smoothing, the longer hold: the best within 50 per hour
    (30.0, 0.78, 70.0, False),   # none within: the whole grid's score decides (start 0.3, no smoothing)
])
def test_a_false_trigger_limit_picks_the_best_levenshtein_within_it(tune_online, tmp_path, monkeypatch, capsys,
                                                                    limit, levenshtein, false_per_hour, kept):
    val = write_tiny_dataset(tmp_path / "val", clips=0, streams=1)
    model = tiny_checkpoint(tmp_path / "m.pt")
    net, meta = load_checkpoint(model)  # settings of its own, which the report scores too
    save_checkpoint(model, net, labels=meta.labels, training={**meta.training, "online": {"start_threshold": 0.4}})
    monkeypatch.setattr(tune_online, "_metrics", _made_up_metrics)
    monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(val), "--workers", "1",
                                      "--max-false-per-hour", str(limit)])
    assert tune_online.main() == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["best"] == {"levenshtein": levenshtein, "false_triggers_per_hour": false_per_hour}
    assert report["kept_to_it"] is kept and report["max_false_per_hour"] == limit
    assert report["fewest_false"]["false_triggers_per_hour"] == 40.0
    assert report["fewest_false"]["settings"]["static_hold_s"] == 0.8  # of the fewest, the best Levenshtein
    stored = OnlineConfig(start_threshold=0.4)  # the defaults but for it
    assert report["stored"] == {"levenshtein": round(0.6 + stored.static_hold_s / 10, 3),
                                "false_triggers_per_hour": round(60 + 100 * stored.ema_tau_s, 1)}


@pytest.mark.parametrize("limit", ["-1", "nan"])
def test_a_false_trigger_limit_below_zero_is_one_line_and_exit_2(tune_online, tmp_path, monkeypatch, capsys, limit):
    model = tiny_checkpoint(tmp_path / "m.pt")
    monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(tmp_path / "none"),
                                      "--max-false-per-hour", limit])
    assert tune_online.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--max-false-per-hour needs" in err[0]
    assert not (tmp_path / "none").exists()  # refused before any validation streams are made


def test_try_scores_the_changed_settings_lists_false_triggers_and_writes_nothing(tune_online, tmp_path, monkeypatch,
                                                                                 capsys):
    val = write_tiny_dataset(tmp_path / "val", clips=0, streams=2)
    model = tiny_checkpoint(tmp_path / "m.pt")
    before = model.read_bytes()
    monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(val), "--workers", "1",
                                      "--try", "{}", "--try", '{"start_threshold": 0.95, "end_threshold": 0.9}'])
    assert tune_online.main() == 0
    lines = capsys.readouterr().out.strip().splitlines()
    headers = [line for line in lines if not line.startswith("  ")]
    assert [h.split(": Levenshtein")[0] for h in headers] == ["{}", '{"start_threshold": 0.95, "end_threshold": 0.9}']
    for header, changes in zip(headers, ({}, {"start_threshold": 0.95, "end_threshold": 0.9})):
        cfg = OnlineConfig(from_logits=True, **changes)
        m = evaluate_online([(segs, recognize(cfg, tune_online._LABELS, logits, times), dur)
                             for logits, times, segs, dur in tune_online._DATA])
        assert f"Levenshtein {m.levenshtein:.3f}, false triggers {m.false_triggers} " in header
    listed = [line for line in lines if line.startswith("  stream")]
    assert len(listed) == sum(int(h.split("false triggers ")[1].split()[0]) for h in headers)
    assert model.read_bytes() == before  # nothing written


@pytest.mark.parametrize("changes", ["not json", '{"no_such_setting": 1}', '{"start_threshold": 2}', "[1]"])
def test_try_with_bad_settings_is_one_line_and_exit_2(tune_online, tmp_path, monkeypatch, capsys, changes):
    val = write_tiny_dataset(tmp_path / "val", clips=0, streams=1)
    model = tiny_checkpoint(tmp_path / "m.pt")
    monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(val), "--try", changes])
    assert tune_online.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tune_online: --try needs")


def test_save_as_writes_a_copy_holding_the_tried_settings(tune_online, tmp_path, monkeypatch, capsys):
    val = write_tiny_dataset(tmp_path / "val", clips=0, streams=1)
    model = tiny_checkpoint(tmp_path / "m.pt")
    before = model.read_bytes()
    copy = tmp_path / "m2.pt"
    monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(val), "--workers", "1",
                                      "--try", '{"start_threshold": 0.8, "cooldown_s": 0.25}', "--save-as", str(copy)])
    assert tune_online.main() == 0
    assert model.read_bytes() == before
    _, meta = load_checkpoint(copy)
    _, original = load_checkpoint(model)
    expected = OnlineConfig(from_logits=True, **{**(original.training.get("online") or {}),
                                                  "start_threshold": 0.8, "cooldown_s": 0.25})
    assert online_config_of(meta) == expected
    assert "online_tuned_on" not in meta.training


@pytest.mark.parametrize("tries", [[], ["--try", "{}", "--try", "{}"]])
def test_save_as_without_exactly_one_try_is_one_line_and_exit_2(tune_online, tmp_path, monkeypatch, capsys, tries):
    val = write_tiny_dataset(tmp_path / "val", clips=0, streams=1)
    model = tiny_checkpoint(tmp_path / "m.pt")
    copy = tmp_path / "m2.pt"
    monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(val), *tries, "--save-as", str(copy)])
    assert tune_online.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--save-as needs exactly one --try" in err[0]
    assert not copy.exists()


SKELETON = dict(fusion="none", modalities=("skeleton",))


def _held_file(path, n=6):
    """A readings file of ``n`` hands (fist, no_gesture, open_palm in turn), as make_readings writes one."""
    import numpy as np

    from fusion.data.readings import save_readings

    rng = np.random.default_rng(3)
    read = (rng.normal(0.0, 0.08, (n, 21, 3)) + [0.5, 0.5, 0.0]).astype(np.float32)
    label = np.array([("fist", "no_gesture", "open_palm")[i % 3] for i in range(n)])
    save_readings(path, read, np.array(["Right"] * n), label, (640, 480))
    return path


def test_held_readings_are_scored_and_enter_the_choice(tune_online, tmp_path, monkeypatch, capsys):
    val = write_tiny_dataset(tmp_path / "val", clips=0, streams=2)
    model = tiny_checkpoint(tmp_path / "m.pt", **SKELETON)
    held = _held_file(tmp_path / "held.npz")
    monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(val), "--workers", "2",
                                      "--held", str(held), "--write"])
    assert tune_online.main() == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["held"] == {"file": str(held), "readings": 6} and len(tune_online._HELD) == 6
    assert [e for _, _, e in tune_online._HELD] == ["fist", None, "open_palm"] * 2
    assert all(len(logits) == 45 for logits, _, _ in tune_online._HELD)  # 1.5 s at the model's 30 fps

    # each held reading scored by hand: its first call against its label (nothing, for no_gesture)
    chosen = OnlineConfig(from_logits=True, **{k: report["settings"][k] for k in SMALL_GRID})
    right = 0
    for logits, times, expected in tune_online._HELD:
        events = recognize(chosen, tune_online._LABELS, logits, times)
        right += (events[0].label if events else None) == expected
    assert report["best"]["held_right"] == round(right / 6, 3)
    best = max(tune_online._score(values)[0] for values in tune_online.itertools.product(*SMALL_GRID.values()))
    m = tune_online._metrics(chosen)
    assert m.levenshtein + right / 6 - m.false_triggers_per_hour / 1000.0 == pytest.approx(best)
    _, meta = load_checkpoint(model)
    assert meta.training["online_tuned_on"]["held_right"] == report["best"]["held_right"]


def test_the_held_share_can_change_the_choice(tune_online, tmp_path, monkeypatch, capsys):
    val = write_tiny_dataset(tmp_path / "val", clips=0, streams=1)
    model = tiny_checkpoint(tmp_path / "m.pt", **SKELETON)
    held = _held_file(tmp_path / "held.npz")
    monkeypatch.setattr(tune_online, "_metrics", _made_up_metrics)
    chosen = {}
    for with_held in (False, True):
        # made up: the held hands are all right only at the higher threshold
        monkeypatch.setattr(tune_online, "_held_right",
                            lambda cfg: float(cfg.start_threshold >= 0.6) if tune_online._HELD else 0.0)
        monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(val), "--workers", "1",
                                          *(["--held", str(held)] if with_held else [])])
        assert tune_online.main() == 0
        chosen[with_held] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["settings"]
    assert chosen[False]["start_threshold"] == 0.3  # the streams' made-up figures alone
    assert chosen[True]["start_threshold"] == 0.6


def test_held_readings_for_a_model_with_images_or_a_bad_file_are_one_line_and_exit_2(tune_online, tmp_path,
                                                                                   monkeypatch, capsys):
    val = write_tiny_dataset(tmp_path / "val", clips=0, streams=1)
    held = _held_file(tmp_path / "held.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    cases = [(tiny_checkpoint(tmp_path / "mmtm.pt"), held, "--held is for a skeleton model"),
             (tiny_checkpoint(tmp_path / "s.pt", **SKELETON), bad, "not a readings file")]
    for model, path, message in cases:
        monkeypatch.setattr(sys, "argv", ["tune_online.py", str(model), "--val", str(val), "--held", str(path)])
        assert tune_online.main() == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]
