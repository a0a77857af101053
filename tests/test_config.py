"""Settings read from the environment: who records a correction."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys

from helpers.workbooks import make_home, q

from ptce_pipeline.config import load_settings, recording_user

SYSTEM_USER = pwd.getpwuid(os.getuid()).pw_name


def test_the_author_is_ptce_user_then_the_system_user_then_user():
    assert recording_user({"PTCE_USER": "Lou", "USER": "x"}) == "Lou"
    # the password database beats a forged or stale $USER / $LOGNAME
    assert recording_user({"USER": "quelquun", "LOGNAME": "autre"}) == SYSTEM_USER
    assert recording_user({}) == SYSTEM_USER != "inconnu"
    assert recording_user({"PTCE_USER": "  "}) == SYSTEM_USER


def test_a_correction_without_user_or_logname_records_the_system_user(tmp_path):
    home = make_home(tmp_path / "home")
    assert (
        subprocess.run(
            [sys.executable, "-m", "ptce_pipeline.cli.parser", "init", "--home", str(home.home)],
            capture_output=True,
        ).returncode
        == 0
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("USER", "LOGNAME", "PTCE_USER") and not k.startswith("PTCE_")
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ptce_pipeline.cli.parser",
            "campaign",
            "close",
            "2024",
            "--home",
            str(home.home),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert q(home.live_db, "SELECT action, by_user FROM audit") == [("campaign_close", SYSTEM_USER)]
    assert load_settings(env, home=home.home).user == SYSTEM_USER
