"""Sharded output: where the folder goes (symlinks followed), its modes, and the folders it refuses to touch."""

from __future__ import annotations

import os
import stat

import pytest
import zstandard

from corpus_tools.errors import OutputError
from corpus_tools.shards import ShardWriter


@pytest.fixture
def umask():
    previous = os.umask(0o022)
    os.umask(previous)
    yield os.umask
    os.umask(previous)


def test_shards_and_manifest_get_the_umask_modes_and_a_replaced_folder_keeps_its_mode(tmp_path, umask):
    umask(0o027)
    out = tmp_path / "out"
    with ShardWriter(f"{out}/", records=1) as writer:
        writer.write_line(b'{"text":"a"}\n')
        writer.write_line(b'{"text":"b"}\n')
        writer.finish({})
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o750
    assert sorted(os.listdir(out)) == ["manifest.json", "part-00000.jsonl.zst", "part-00001.jsonl.zst"]
    assert {stat.S_IMODE(os.stat(out / n).st_mode) for n in os.listdir(out)} == {0o640}
    os.chmod(out, 0o705)
    with ShardWriter(str(out), records=1) as writer:
        writer.write_line(b'{"text":"c"}\n')
        writer.finish({})
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o705
    assert sorted(os.listdir(out)) == ["manifest.json", "part-00000.jsonl.zst"]
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_sharded_output_through_a_symlinked_folder_replaces_the_folder_it_points_to(tmp_path):
    (tmp_path / "real").mkdir()
    link = tmp_path / "link"
    link.symlink_to("real")
    for text in ("a", "b"):
        with ShardWriter(f"{link}/") as writer:
            writer.write_line(b'{"text":"%s"}\n' % text.encode())
            writer.finish({})
    assert link.is_symlink() and os.readlink(link) == "real"
    assert sorted(os.listdir(tmp_path)) == ["link", "real"]
    data = (tmp_path / "real" / "part-00000.jsonl.zst").read_bytes()
    assert zstandard.ZstdDecompressor().stream_reader(data).read() == b'{"text":"b"}\n'


def test_shard_writer_into_a_file_or_a_foreign_folder_is_an_output_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(OutputError) as exc:
        ShardWriter(str(tmp_path / "afile"))
    assert str(exc.value) == f"{tmp_path / 'afile'}/: not a directory"
    with pytest.raises(OutputError, match="is not a previous corpus-tools output"):
        ShardWriter(f"{tmp_path / 'mine'}/")
    assert sorted(os.listdir(tmp_path)) == ["afile", "mine"]
