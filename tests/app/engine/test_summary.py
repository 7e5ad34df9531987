"""The summary line: contract 2's fields for one source, the same fields pooled for several."""

import io

from app.engine import Engine, EngineConfig
from app.engine.source_names import unique_key
from fusion.data.recording import LabelSegment
from tests.app.engine.fakes import FakeHandSource, FakeRunner

# one source: the keys (and their order) of the last JSON line, as the command line prints them
ONE_SOURCE = ["type", "frames", "dropped", "decisions", "latency_ms", "latency_of", "stages_ms", "skipped", "events",
              "accuracy", "frame_sets", "reference", "missing", "duplicates", "skew_ms", "overwritten_unread",
              "damaged", "recovery", "fps", "model", "mode", "deterministic", "wall_s"]
SEVERAL = ["type", "frames", "dropped", "decisions", "latency_ms", "latency_of", "stages_ms", "skipped", "events",
           "accuracy", "frame_sets", "fps", "model", "mode", "deterministic", "batches", "wall_s", "sources"]
EACH = ["source", "frames", "dropped", "decisions", "skipped", "events", "accuracy", "latency_ms", "frame_sets",
        "reference", "missing", "duplicates", "damaged", "recovery", "fps", "wall_s"]


class LabelledHands(FakeHandSource):
    """A labelled recording's stand-in: the swipe of frames 20-50 (at 100 fps) is its one label."""

    def __init__(self, sink, **kw):
        super().__init__(sink, **kw)
        self.labels = [LabelSegment("swipe_left", start_ns=int(self.start_ / self.fps * 1e9),
                                    end_ns=int(self.end_ / self.fps * 1e9))]
        self.recovery = "complete: test"


def run(extra=(), make=LabelledHands):
    engine = Engine(EngineConfig(source="a", extra_sources=tuple(extra), deterministic=True), out=io.StringIO(),
                    runner=FakeRunner(), make_source=lambda name, sink, realtime: make(sink, n=60))
    return engine.run()


def test_one_source_has_exactly_the_contract_fields():
    summary = run()
    assert list(summary) == ONE_SOURCE
    assert summary["frames"] == {"skeleton": 60} and summary["decisions"] == 60 and summary["frame_sets"] == 60
    assert summary["accuracy"] == {"levenshtein": 1.0, "true": 1, "called": 1}  # from the source's labels
    assert summary["recovery"] == "complete: test" and summary["damaged"] == 0
    assert set(summary["latency_ms"]) == {"p50", "p95", "p99", "max"} and summary["mode"] == "streaming"


def test_several_sources_pool_the_same_fields_and_keep_each_ones_beside():
    summary = run(extra=("a",))
    assert list(summary) == SEVERAL
    assert list(summary["sources"]) == ["a", unique_key("a", {"a"})]
    assert all(list(one) == EACH for one in summary["sources"].values())
    assert summary["frames"] == {"skeleton": 120} and summary["decisions"] == 120 and summary["frame_sets"] == 120
    assert summary["accuracy"] == {"levenshtein": 1.0, "true": 2, "called": 2}  # pooled over both
    for one in summary["sources"].values():
        assert one["frames"] == {"skeleton": 60} and one["accuracy"]["true"] == 1


def test_a_source_without_labels_has_no_accuracy():
    assert run(make=FakeHandSource)["accuracy"] is None
