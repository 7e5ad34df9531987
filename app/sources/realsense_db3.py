"""A check of a RealSense ``.db3`` recording (a ROS 2 bag: SQLite) before the SDK opens it.

librealsense (2.59) trusts the file's tables. Fuzzing found two ways a damaged file takes the whole
process down inside ``rs.context().load_device``, where Python cannot catch or interrupt it:

- a topic row with an empty (NULL) field, or a message of a topic that does not exist: SIGSEGV;
- an option topic (``/device_0/sensor_0/option/<Name>/value``) naming an option this SDK does not
  know: ``load_device`` spins forever, holding the GIL.

``check_db3`` reads the tables with Python's sqlite3 first (read-only) and refuses such a file with
one ``BadInput`` line. It reads the small topics table and one pass over the messages' columns,
never their data. (Damaged pages elsewhere are left to the SDK, which reports them as SQLite errors:
a frame it can still read is not refused for a damaged page it does not need.)
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Collection
from urllib.parse import quote

from fusion.errors import BadInput

OPTION_TOPIC = re.compile(r"/device_\d+/sensor_\d+/option/([^/]*)/(value|description)")


def check_db3(path: str | Path, *, option_names: Collection[str]) -> None:
    """BadInput unless ``path`` is a SQLite file whose topics and messages the SDK can read safely.
    ``option_names``: the SDK's option names as it writes them ("Frames Queue Size")."""
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
        try:
            problem = _problem(con, set(option_names))
        finally:
            con.close()
    except sqlite3.Error as error:  # not a database, truncated, damaged pages read, missing tables
        problem = f"SQLite: {error}"
    except UnicodeDecodeError:  # a damaged name in the schema
        problem = "a table or index name is not UTF-8 text"
    if problem:
        raise BadInput(f"{path}: not a readable RealSense recording ({problem})")


def _problem(con: sqlite3.Connection, option_names: set[str]) -> str | None:
    topics = con.execute("SELECT id, name, type, serialization_format FROM topics").fetchall()
    if not topics:
        return "no topics"
    for row in topics:
        if not isinstance(row[0], int) or not all(isinstance(v, str) and v for v in row[1:]):
            return f"topic {row[0]!r:.20} has an empty or foreign field"
        match = OPTION_TOPIC.fullmatch(row[1])
        if match and match.group(1).replace("_", " ") not in option_names:
            return f"an option this RealSense SDK does not know: {match.group(1)!r:.60}"
    if len({row[0] for row in topics}) != len(topics):
        return "two topics share an id"
    broken = con.execute(
        "SELECT count(*) FROM messages WHERE typeof(topic_id) != 'integer' OR typeof(timestamp) != 'integer' "
        "OR typeof(data) != 'blob' OR topic_id NOT IN (SELECT id FROM topics)").fetchone()[0]
    if broken:
        return f"{broken} message(s) with a foreign topic, time or body"
    return None
