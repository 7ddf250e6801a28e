"""``harness list tasks --data-root``: never fails, shows long-text sets as built or not, and
answers in under 5 s (issue 14). Measured: about 1.7 s of CPU for the table once mteb is
imported; the whole command, with the imports, about 5 s of CPU."""

from __future__ import annotations

import time

from support import cli, write_files

from harness.listing import tasks_table
from harness.longtext import LONGTEXT_SETS, longtext_dir
from harness.longtext.build import MANIFEST


def test_list_tasks_with_a_data_root_is_fast_and_never_fails(tmp_path, capsys):
    root = tmp_path / "data"
    built, *unbuilt = LONGTEXT_SETS.names()
    write_files(longtext_dir(root, built), {MANIFEST: "{}"})
    write_files(root, {
        "mteb/sts12-sts/README.md": "---\nconfigs: [\n",  # a broken card is still "local"
        "mteb/sts12-sts/.harness-import.json": "{not json",
        "mteb/biosses-sts": "a file where a folder belongs",
        f"harness-longtext/{unbuilt[0]}/corpus.jsonl": "",  # half-built: no manifest
    })
    started = time.process_time()  # CPU time: the test machine's other load does not count
    table = tasks_table(root)
    assert time.process_time() - started < 5
    data = {(row.list, row.task): row.data for row in table.itertuples()}
    assert data[("longtext", built)] == "built"
    assert all(data[("longtext", name)] == "not built (harness longtext build)"
               for name in unbuilt)
    assert data[("quick", "STS12")] == "local"
    assert data[("quick", "BIOSSES")] == "importable"
    assert data[("mteb_eng_v1", "SICK-R")] == "importable"  # the generic sts format

    code, out, err = cli(capsys, "list", "tasks", "--data-root", str(root))
    assert (code, err) == (0, "") and f"| {built}" in out
