"""The README's code is run, so the tour cannot drift from the code."""

import re
from pathlib import Path

import numpy as np

import vhls
from vhls.ir.printer import print_program
from vhls.model import Model

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_python_blocks_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 3
    ns: dict = {}
    for block in blocks:  # later blocks may use names from earlier ones, as a reader would
        exec(block, ns)
        assert isinstance(ns["model"], Model)


def test_ir_block_round_trips_and_runs() -> None:
    (text,) = re.findall(r"```\n(def .*?)```", README, re.S)
    program = vhls.parse(text)
    assert print_program(program) == text
    assert Model(program).run(np.array([1.0, -2.0, 3.0, 0.5])) == 4.5  # relu then sum
