"""A child process that opens and plays files for the fuzz tests, so a native crash or a hang in an
SDK or decoder fails one example instead of killing the test run (``isolated_open.IsolatedOpener``).

Reads one path per line on stdin; for each prints one JSON line on its stdout:
``{"outcome": "ok" | "bad" | "error" | "hang", "samples": n, "message": ..., "recovery": ...}``.
RealSense recordings go through ``open_source`` (``realtime=False``); video files through
``VideoSource`` without MediaPipe (the corruption is in the decoder, not in the hand tracker).
"""

import json
import os
import sys
import traceback

JOIN_TIMEOUT_S = float(os.environ.get("OPEN_WORKER_JOIN_S", "10"))


def play(path: str) -> dict:
    from app.sources.open import VIDEO_SUFFIXES, open_source
    from fusion.errors import BadInput

    counts = {"samples": 0}

    def sink(sample) -> None:
        counts["samples"] += 1

    try:
        if path.lower().endswith(VIDEO_SUFFIXES):
            from app.sources.video import VideoConfig, VideoSource

            source = VideoSource(VideoConfig(path=path, real_time=False, skeleton=False), sink=sink)
        else:
            source = open_source(path, sink=sink, realtime=False)
        source.start()
        source.join(timeout=JOIN_TIMEOUT_S)
        if not source.finished.is_set():
            source.stop()
            return {"outcome": "hang", "samples": counts["samples"]}
        return {"outcome": "ok", "samples": counts["samples"], "recovery": source.recovery}
    except BadInput as error:
        return {"outcome": "bad", "samples": counts["samples"], "message": str(error)}
    except Exception:  # noqa: BLE001 - the fuzz test reports it
        return {"outcome": "error", "samples": counts["samples"], "message": traceback.format_exc()}


def main() -> None:
    import app.sources.realsense_probe as probe

    probe.PROBE_TIMEOUT_S = float(os.environ.get("OPEN_WORKER_PROBE_S", probe.PROBE_TIMEOUT_S))
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the replies
    for line in sys.stdin:
        replies.write(json.dumps(play(line.rstrip("\n"))) + "\n")


if __name__ == "__main__":
    main()
