"""Every command shown in README.md and docs/ runs, in order, against a fresh node: nothing fails when pasted.

The convention (also in CONTRIBUTING.md, "Commands in the documentation"):

- A fenced block tagged ```sh (or ```shell, ```console, or untagged) holds commands. If some of its lines
  start with `$ `, only those are commands and the other lines are the output they print; otherwise every
  line is a command (`\\` continues a line; `#` starts a comment). Blocks with any other tag (```text for
  syntax summaries with placeholders, ```json, ```csv, ...) are never run.
- A block tagged with `file=NAME` (```json file=answers.json) is written to NAME in the working directory
  when the page reaches it, so later commands can read it.
- A command whose output names something later commands need says so in its comment:
  `puente rpl open ...   # (sets CASE_ID=.id)`: the JSON it prints, at `.id`, replaces the word CASE_ID
  (and `$CASE_ID`, `${CASE_ID}`, as a shell would) in every later command of the page. Readers substitute
  the value they see (or export it).
- `# expect-fail` marks a command shown failing on purpose: it must exit non-zero with one `puente: ...`
  line (never a traceback).
- `puente ... > FILE` writes the command's output to FILE (the only shell syntax supported; pipes are not).

How the test runs a page: in a fresh working directory (with `node/` and `docs/` of this checkout linked in,
so repository paths in the docs resolve), with PUENTE_DATA_DIR pointing at a fresh data directory and
PUENTE_DATABASE_URL at a fresh database (each page on SQLite and on PostgreSQL). `--data-dir` and
`--database-url` values in the docs are replaced by the test's own, and port 8080 by a free port. Unless the
page itself runs `puente init` first, the node is initialised before the page (every page but operator.md
assumes a node exists); a second `puente init` on a page (an alternative set-up, e.g. on PostgreSQL) gets a
fresh data directory. `puente` commands run in-process through node.cli.main (the `puente` entry point);
`puente serve` runs as a real process that the page's `curl` commands then talk to on 127.0.0.1, and it is
stopped at the end of the page.

Not run, on purpose (NOT_RUN below): `make run` / `make test` (they install the project and run the whole
suite; CI runs them) and `createdb` (an operator's PostgreSQL server; the test brings its own database).
Any other program in a command block fails the test, so nothing is silently skipped.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from node.cli import main

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted(["README.md", "CONTRIBUTING.md", *(p.relative_to(REPO).as_posix() for p in (REPO / "docs").rglob("*.md"))])
COMMAND_LANGS = {"", "sh", "shell", "bash", "console"}
NOT_RUN = {
    "make": "installs the project and runs the whole suite (`make run`, `make test`); CI runs it",
    "createdb": "creates a database on the operator's PostgreSQL server; the test brings its own database",
}
SETS = re.compile(r"\(sets ([A-Z][A-Z0-9_]*)=(\.[^)\s]*)\)")
DOC_PORT = "8080"


@dataclass
class Command:
    page: str
    line: int
    text: str  # as written (continuations joined, comment removed)
    comment: str = ""
    sets: dict[str, str] = field(default_factory=dict)

    @property
    def expect_fail(self) -> bool:
        return "expect-fail" in self.comment

    def where(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


@dataclass
class WriteFile:
    page: str
    line: int
    name: str
    content: str


# -- reading pages --------------------------------------------------------------------------------------

def split_comment(line: str) -> tuple[str, str]:
    """(command, comment): the first `#` outside quotes that starts a word begins the comment."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def blocks(text: str):
    """Fenced code blocks: (line number of the first content line, info string, lines)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = re.match(r"^(\s*)(```+|~~~+)(.*)$", lines[i])
        if not match:
            i += 1
            continue
        fence, info, start = match.group(2), match.group(3).strip(), i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        yield start + 1, info, lines[start:j]
        i = j + 1


def steps(page: str) -> list[Command | WriteFile]:
    out: list[Command | WriteFile] = []
    for first, info, lines in blocks((REPO / page).read_text(encoding="utf-8")):
        words = info.split()
        lang = words[0] if words and "=" not in words[0] else ""
        attrs = dict(w.split("=", 1) for w in words if "=" in w)
        if "file" in attrs:
            out.append(WriteFile(page, first, attrs["file"], "\n".join(lines) + "\n"))
            continue
        if lang not in COMMAND_LANGS:
            continue
        prompted = any(line.startswith("$ ") for line in lines)
        pending, pending_line, comments = "", 0, []
        for offset, raw in enumerate(lines):
            if prompted and not pending:
                if not raw.startswith("$ "):
                    continue  # output shown after a command
                raw = raw[2:]
            code, comment = split_comment(raw)
            if comment:
                comments.append(comment)
            if not pending:
                pending_line = first + offset
            if code.endswith("\\"):
                pending += code[:-1] + " "
                continue
            pending += code
            if pending.strip():
                comment_text = " ".join(comments)
                out.append(Command(page, pending_line, pending.strip(), comment_text, dict(SETS.findall(comment_text))))
            pending, comments = "", []
    return out


def test_every_page_is_read_and_the_convention_holds():
    """The parser finds the commands the pages show (a parser that finds nothing would pass every page)."""
    assert "README.md" in PAGES and "docs/operator.md" in PAGES
    found = {page: [s for s in steps(page) if isinstance(s, Command)] for page in PAGES}
    assert found["docs/operator.md"] and found["docs/issuer-guide.md"] and found["README.md"]
    for page, commands in found.items():
        for command in commands:
            tokens = shlex.split(command.text)
            assert not {"|", "||", "&&", ";", "<"} & set(tokens), f"{command.where()}: pipes and lists are not run; " \
                "show one command per line"


def test_parser_understands_the_convention(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text(
        "```sh\npuente a --x 'quoted # not a comment' \\\n    --y 1   # (sets CASE_ID=.id)\n# only a comment\n```\n"
        "```text\npuente synopsis [--opt]\n```\n"
        "```console\n$ puente b CASE_ID   # expect-fail\npuente: output line\n```\n"
        "```json file=in.json\n{\"a\": 1}\n```\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    parsed = steps("page.md")
    assert [type(s).__name__ for s in parsed] == ["Command", "Command", "WriteFile"]
    first, second, written = parsed
    assert first.text == "puente a --x 'quoted # not a comment'      --y 1" and first.sets == {"CASE_ID": ".id"}
    assert first.line == 2 and not first.expect_fail
    assert second.text == "puente b CASE_ID" and second.expect_fail
    assert written.name == "in.json" and json.loads(written.content) == {"a": 1}


# -- running pages ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def json_path(value, path: str):
    """`.a.b[0].c` in a JSON value."""
    for part in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", path):
        key, index = part
        value = value[int(index)] if index else value[key]
    return value


class PageRun:
    def __init__(self, page: str, workdir: Path, data_dir: Path, db_url: str, capsys, monkeypatch) -> None:
        self.page, self.workdir, self.data_dir, self.db_url, self.capsys = page, workdir, data_dir, db_url, capsys
        self.monkeypatch = monkeypatch
        self.initialised = False
        self.port = free_port()
        self.values: dict[str, str] = {}
        self.server: subprocess.Popen | None = None

    def argv(self, command: Command) -> list[str]:
        text = re.sub(rf"(?<=[:\s=]){DOC_PORT}\b", str(self.port), command.text)
        tokens = shlex.split(text)
        for name, value in self.values.items():  # after splitting: a value is one word wherever it lands
            tokens = [re.sub(rf"\$\{{{name}\}}|\$?\b{name}\b", lambda _m: value, t) for t in tokens]
        for option, value in (("--data-dir", str(self.data_dir)), ("--database-url", self.db_url)):
            for i, token in enumerate(tokens):
                if token == option and i + 1 < len(tokens):
                    tokens[i + 1] = value
                elif token.startswith(option + "="):
                    tokens[i] = f"{option}={value}"
        return tokens

    def run(self, command: Command) -> None:
        tokens = self.argv(command)
        program = tokens[0]
        if program in NOT_RUN:
            return
        out_file = None
        if len(tokens) >= 3 and tokens[-2] == ">":
            out_file, tokens = tokens[-1], tokens[:-2]
        if program == "puente":
            if "init" in tokens and self.initialised:  # another node: its own data directory
                previous = self.data_dir
                self.data_dir = self.data_dir.with_name(self.data_dir.name + "-again")
                self.monkeypatch.setenv("PUENTE_DATA_DIR", str(self.data_dir))
                # ... over the same database, so it is another host of the same node: it needs the node's
                # master key, which seals the keys in that database (docs/operator.md, key custody)
                (self.data_dir / "secrets").mkdir(mode=0o700, parents=True)
                shutil.copy2(previous / "secrets" / "master.key", self.data_dir / "secrets" / "master.key")
                tokens = self.argv(command)
            self.initialised = self.initialised or "init" in tokens
            code, out, err = self.puente(command, tokens[1:])
        elif program == "curl":
            code, out, err = self.curl(tokens)
        else:
            pytest.fail(f"{command.where()}: `{program}` is not a command this test knows how to run "
                        f"(run: puente, curl; not run: {', '.join(NOT_RUN)})")
        if command.expect_fail:
            assert code != 0, f"{command.where()}: documented to fail, but it exited 0\n{out}"
            assert err.strip().startswith("puente:") and "Traceback" not in err, f"{command.where()}: {err}"
            return
        assert code == 0, f"{command.where()}: exit {code}\nstderr: {err.strip()[-2000:]}\nstdout: {out[-1000:]}"
        if out_file:
            (self.workdir / out_file).write_text(out)
        for name, path in command.sets.items():
            try:
                self.values[name] = str(json_path(json.loads(out), path))
            except (ValueError, KeyError, IndexError, TypeError):
                pytest.fail(f"{command.where()}: its output has no {path} to set {name}:\n{out[:1000]}")

    def puente(self, command: Command, argv: list[str]) -> tuple[int, str, str]:
        if "serve" in argv and not argv[argv.index("serve") + 1:argv.index("serve") + 2] == ["--help"]:
            return self.serve(command, argv)
        self.capsys.readouterr()
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a usage error
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = self.capsys.readouterr()
        return code, out, err

    def serve(self, command: Command, argv: list[str]) -> tuple[int, str, str]:
        assert self.server is None, f"{command.where()}: a second `puente serve` on one page"
        if "--port" not in argv:
            argv = [*argv, "--port", str(self.port)]
        if "--host" not in argv:  # the test listens on loopback only
            argv = [*argv, "--host", "127.0.0.1"]
        self.port = int(argv[argv.index("--port") + 1])
        self.server = subprocess.Popen([sys.executable, "-m", "node", *argv], cwd=self.workdir, env=dict(os.environ),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                out, err = self.server.communicate()
                return self.server.returncode, out, err
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    return 0, "", ""
            except OSError:
                time.sleep(0.2)
        return 1, "", f"puente serve did not answer /health on port {self.port} within 60 s"

    def curl(self, tokens: list[str]) -> tuple[int, str, str]:
        if self.server is None:
            self.serve(Command(self.page, 0, "puente serve"), ["serve", "--host", "127.0.0.1", "--port", str(self.port)])
        proc = subprocess.run(["curl", "--silent", "--show-error", "--fail", "--max-time", "30", *tokens[1:]],
                              cwd=self.workdir, capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


def _initialises_itself(page_steps) -> bool:
    for step in page_steps:
        if isinstance(step, Command) and step.text.startswith("puente"):
            return "init" in shlex.split(step.text)
    return False


def _pages_with_commands() -> list[str]:
    pages = []
    for page in PAGES:
        try:
            if any(isinstance(s, Command) for s in steps(page)):
                pages.append(page)
        except ValueError:  # e.g. an unbalanced quote: let the page's own test report it
            pages.append(page)
    return pages


@pytest.mark.slow
@pytest.mark.parametrize("page", _pages_with_commands())
def test_documented_commands_run(page, db_url, tmp_path, monkeypatch, capsys):
    workdir = tmp_path / "work"
    workdir.mkdir()
    for name in ("node", "docs"):
        (workdir / name).symlink_to(REPO / name, target_is_directory=True)
    data_dir = tmp_path / "node"
    for name in [n for n in os.environ if n.startswith("PUENTE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PUENTE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PUENTE_DATABASE_URL", db_url)
    monkeypatch.setenv("PUENTE_WORKERS", "1")
    monkeypatch.chdir(workdir)
    run = PageRun(page, workdir, data_dir, db_url, capsys, monkeypatch)
    page_steps = steps(page)
    try:
        if not _initialises_itself(page_steps):
            run.run(Command(page, 0, f"puente init --jurisdiction GT --name 'Nodo de prueba' "
                                     f"--base-url http://127.0.0.1:{DOC_PORT}"))
        for step in page_steps:
            if isinstance(step, WriteFile):
                (workdir / step.name).write_text(step.content, encoding="utf-8")
            else:
                run.run(step)
    finally:
        run.stop()
