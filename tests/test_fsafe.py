"""fsafe: writes and removals in a folder a pole controls never go through a link and never
overwrite (real folders, real links, real descriptors)."""

from __future__ import annotations

import os

import pytest

from ptce_pipeline import fsafe


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "inbox" / "P" / "retours").mkdir(parents=True)
    (tmp_path / "ailleurs").mkdir()
    return tmp_path


def test_a_file_is_written_under_its_name_with_nothing_left_behind(tree):
    with fsafe.open_dir(tree / "inbox", "P", "retours") as fd:
        assert fsafe.write_new(fd, "a.html", b"bonjour") is True
    assert os.listdir(tree / "inbox/P/retours") == ["a.html"]
    assert (tree / "inbox/P/retours/a.html").read_bytes() == b"bonjour"


def test_the_same_bytes_again_are_already_written_and_other_bytes_are_refused(tree):
    with fsafe.open_dir(tree / "inbox", "P", "retours") as fd:
        fsafe.write_new(fd, "a.html", b"v1")
        assert fsafe.write_new(fd, "a.html", b"v1") is False
        with pytest.raises(FileExistsError):
            fsafe.write_new(fd, "a.html", b"v2")
    assert (tree / "inbox/P/retours/a.html").read_bytes() == b"v1"
    assert os.listdir(tree / "inbox/P/retours") == ["a.html"]


def test_a_link_under_the_name_is_neither_followed_nor_replaced(tree):
    target = tree / "ailleurs" / "cible"
    target.write_bytes(b"secret")
    os.symlink(target, tree / "inbox/P/retours/a.html")
    with fsafe.open_dir(tree / "inbox", "P", "retours") as fd, pytest.raises(FileExistsError):
        fsafe.write_new(fd, "a.html", b"secret")
    assert target.read_bytes() == b"secret"
    assert (tree / "inbox/P/retours/a.html").is_symlink()


@pytest.mark.parametrize("where", ["retours", "pole"])
def test_a_folder_that_is_a_link_is_refused_not_followed(tree, where):
    if where == "retours":
        (tree / "inbox/P/retours").rmdir()
        os.symlink(tree / "ailleurs", tree / "inbox/P/retours")
    else:
        (tree / "inbox/P/retours").rmdir()
        (tree / "inbox/P").rmdir()
        os.symlink(tree / "ailleurs", tree / "inbox/P")
    with pytest.raises(fsafe.UnsafePath, match="lien symbolique : refusé, non suivi"):  # noqa: SIM117
        with fsafe.open_dir(tree / "inbox", "P", "retours", create=True) as fd:
            fsafe.write_new(fd, "a.html", b"x")
    assert os.listdir(tree / "ailleurs") == []


def test_a_file_in_place_of_the_folder_is_refused(tree):
    (tree / "inbox/P/retours").rmdir()
    (tree / "inbox/P/retours").write_bytes(b"un fichier")
    with pytest.raises(fsafe.UnsafePath, match="« retours » est un fichier"):  # noqa: SIM117
        with fsafe.open_dir(tree / "inbox", "P", "retours", create=True):
            pass
    assert (tree / "inbox/P/retours").read_bytes() == b"un fichier"


def test_a_folder_swapped_for_a_link_after_opening_still_gets_nothing_through_the_link(tree):
    with fsafe.open_dir(tree / "inbox", "P", "retours") as fd:
        os.rename(tree / "inbox/P/retours", tree / "inbox/P/ancien")
        os.symlink(tree / "ailleurs", tree / "inbox/P/retours")
        fsafe.write_new(fd, "a.html", b"x")
    assert os.listdir(tree / "ailleurs") == []
    assert os.listdir(tree / "inbox/P/ancien") == ["a.html"]  # the folder that was checked


def test_a_missing_retours_is_created_as_a_plain_folder(tree):
    (tree / "inbox/P/retours").rmdir()
    with fsafe.open_dir(tree / "inbox", "P", "retours", create=True) as fd:
        fsafe.write_new(fd, "a.html", b"x")
    assert (tree / "inbox/P/retours/a.html").read_bytes() == b"x"


def test_unlink_removes_only_that_very_file_never_a_link(tree):
    path = tree / "inbox/P/suivi.xlsx"
    path.write_bytes(b"v1")
    st = os.stat(path)
    same = {"ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    with fsafe.open_dir(tree / "inbox", "P") as fd:
        path.write_bytes(b"v2 plus long")
        assert fsafe.unlink_same(fd, "suivi.xlsx", **same) is False
        assert path.exists()
        path.unlink()
        os.symlink(tree / "ailleurs", path)
        assert fsafe.unlink_same(fd, "suivi.xlsx", **same) is False
        assert path.is_symlink()
        path.unlink()
        path.write_bytes(b"v1")
        st = os.stat(path)
        fresh = {"ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        assert fsafe.unlink_same(fd, "suivi.xlsx", **fresh) is True
        assert fsafe.unlink_same(fd, "suivi.xlsx", **fresh) is False  # gone: not an error
    assert not path.exists()


def test_sweep_removes_our_temporary_files_only(tree):
    retours = tree / "inbox/P/retours"
    (retours / ".a.html.123.tmp").write_bytes(b"x")
    (retours / "a.html").write_bytes(b"x")
    with fsafe.open_dir(tree / "inbox", "P", "retours") as fd:
        assert fsafe.sweep_temps(fd) == 1
    assert os.listdir(retours) == ["a.html"]


@pytest.mark.parametrize("name", ["", ".", "..", "a/b"])
def test_names_are_single_components(tree, name):
    with pytest.raises(ValueError, match="single path component"):  # noqa: SIM117
        with fsafe.open_dir(tree / "inbox", name):
            pass
