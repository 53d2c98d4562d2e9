"""The README's example must run as printed."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_ten_line_example_runs_and_prints_what_the_readme_says(capsys):
    text = README.read_text()
    section = text.split("## A ten-line example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    exec(compile(code, str(README), "exec"), {})
    printed = capsys.readouterr().out
    claimed = re.search(r"# (\S+)\.\.\., (\(.*\))", code)
    assert printed.startswith(claimed.group(1)) and claimed.group(2) in printed


def test_the_command_synopsis_lists_every_verb():
    from nnscratch.cli import VERBS

    section = README.read_text().split("## The `nnscratch` command", 1)[1]
    synopsis = re.search(r"```\n(.*?)```", section, re.S).group(1)
    listed = set(re.findall(r"^nnscratch (\w+)", synopsis, re.M))
    assert listed == {verb for verb, _, _ in VERBS}
