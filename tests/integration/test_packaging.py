"""What a non-editable install ships: every subpackage, and the shipped weights."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def test_every_subpackage_is_in_the_wheel():
    listed = set(_setup_cfg()["options"]["packages"].split())
    on_disk = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "keras_dqn").rglob("__init__.py")}
    assert on_disk - listed == set(), "add these to setup.cfg's packages: a wheel would leave them out"
    assert listed - on_disk == {"keras_dqn.pretrained"}  # weights/, mapped by package_dir

