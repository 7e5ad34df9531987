import subprocess
import sys

from tests.conftest import ROOT

import main


def test_help_lists_every_command(capsys):
    parser = main.build_parser()
    text = parser.format_help()
    for command in ("demo", "replay", "record", "train", "eval", "export", "bench", "model-info"):
        assert command in text


def test_unknown_command_is_usage_error():
    result = subprocess.run([sys.executable, "main.py", "nonsense"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
