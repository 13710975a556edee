"""Find the shell commands of the documentation's pages (see ``test_docs_commands.py``)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

#: The shell the docs' commands are typed into.
BASH = shutil.which("bash") or "/bin/bash"
DOCS = Path(__file__).resolve().parents[2] / "docs"
#: Pages that are not the quickstart or a guide: generated, or reference only.
NOT_GUIDES = frozenset({"changelog.rst", "reference.rst", "cli-reference.rst"})
#: Code blocks whose lines are shell input.
SHELL_LANGUAGES = frozenset({"console", "bash", "sh", "shell", "shell-session"})

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. (?:code-block|code|sourcecode)::[ \t]*"
                        r"(?P<language>\S*)[ \t]*$")
_LITERAL_INTRO = re.compile(r"::[ \t]*$")
_DIRECTIVE_LINE = re.compile(r"^[ \t]*\.\. ")
#: A line of a bash block that says the block is a file's contents: a shebang, or a
#: comment that names the file's path (``# /etc/…``, ``# ~/…``).
_FILE_MARK = re.compile(r"^(?:#!|#\s*[/~]\S)")
#: The opening of a Markdown fenced block: three backticks and the block's language.
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<language>[\w-]*)(?:[ \t].*)?$")


def pages(docs: Path = DOCS) -> list[Path]:
    """Return the README, then the quickstart and guide pages: ``docs/*.rst`` but the
    reference ones."""
    return [docs.parent / "README.md", *sorted(
        path for path in docs.glob("*.rst")
        if path.name not in NOT_GUIDES and not path.name.startswith("_"))]


@dataclass(frozen=True)
class Block:
    """A literal block of a page: a ``code-block`` (``language`` set) or a ``::`` block."""

    page: str
    line: int  #: the 1-based line of the block's first content line
    language: str | None  #: ``None`` for a ``::`` literal block
    lines: tuple[str, ...]  #: the content, dedented, trailing blank lines dropped


@dataclass(frozen=True)
class Command:
    """One command a page shows, with the output the page shows after it."""

    page: str
    line: int  #: the 1-based line where the command starts in the page
    text: str  #: as typed, on one line: no prompt, no trailing comment, continuations joined
    output: tuple[str, ...] = ()  #: the lines the page shows after it (prompted blocks)
    block: int = 0  #: the line of its block, to group the commands of one block

    @property
    def id(self) -> str:
        """``page:line``: a failing test names where the command is, never what it printed."""
        return f"{self.page}:{self.line}"

    @property
    def first_output(self) -> str | None:
        """The first non-blank documented output line, if any."""
        return next((line for line in self.output if line.strip()), None)


def blocks(path: Path) -> Iterator[Block]:
    """Yield every literal block of the page at ``path``, in document order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".md":
        yield from _fenced(path.name, lines)
        return
    index = 0
    while index < len(lines):
        text = lines[index]
        directive = _DIRECTIVE.match(text)
        is_literal = (directive is None and _LITERAL_INTRO.search(text) is not None
                      and not _DIRECTIVE_LINE.match(text))
        if directive is None and not is_literal:
            index += 1
            continue
        indent = _indent(text) if directive is None else len(directive["indent"])
        start, content = _body(lines, index + 1, indent, options=directive is not None)
        index = start + len(content)
        if content:
            margin = min(_indent(line) for line in content if line.strip())
            yield Block(path.name, start + 1,
                        None if directive is None else directive["language"].lower(),
                        tuple(line[margin:] for line in content))


def _fenced(page: str, lines: Sequence[str]) -> Iterator[Block]:
    """Yield the fenced code blocks of a Markdown page (`````console`` … `````).

    Raises:
        ValueError: a fence is never closed (every later block would be misread).
    """
    opening: re.Match[str] | None = None
    start = 0
    for number, text in enumerate(lines, start=1):
        if opening is None:
            opening = _FENCE.match(text)
            start = number + 1
            continue
        fence = opening["fence"]
        closing = text.strip()
        if closing.startswith(fence) and set(closing) == {fence[0]}:  # as long, or longer
            margin = len(opening[0]) - len(opening[0].lstrip(" "))
            content = [line[margin:] if line[:margin].isspace() else line.lstrip(" ")
                       for line in lines[start - 1:number - 1]]
            while content and not content[-1].strip():
                content.pop()
            if content:
                yield Block(page, start, opening["language"].lower(), tuple(content))
            opening = None
    if opening is not None:
        raise ValueError(f"{page}:{start - 1}: a fence ({opening['fence']}) is never closed")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _body(lines: Sequence[str], index: int, indent: int, *, options: bool,
          ) -> tuple[int, list[str]]:
    """Return where a block's content starts and its lines (indented more than ``indent``)."""
    # A directive's options (":linenos:") come first, then a blank line.
    while options and index < len(lines) and lines[index].strip().startswith(":") \
            and _indent(lines[index]) > indent:
        index += 1
    while index < len(lines) and not lines[index].strip():
        index += 1
    end = index
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
        end += 1
    content = list(lines[index:end])
    while content and not content[-1].strip():
        content.pop()
    if content and _indent(content[0]) <= indent:  # no indented content: not a block
        return index, []
    return index, content


def is_file_block(block: Block) -> bool:
    """Whether a shell block shows a file to save (a script, an env file), not input."""
    return (block.language in SHELL_LANGUAGES and block.language != "console"
            and bool(block.lines) and _FILE_MARK.match(block.lines[0]) is not None)


def block_commands(block: Block) -> list[Command]:
    """Return the commands of a shell block.

    With ``$ `` prompts, a command is a prompted line (and its ``\\`` continuations) and
    the lines after it until the next prompt are its output; without prompts, every
    non-blank line that is not a ``#`` comment is a command.
    """
    prompted = is_prompted(block)
    found: list[Command] = []
    index = 0
    while index < len(block.lines):
        line = block.lines[index]
        start = index
        if prompted and not line.startswith("$ "):
            index += 1
            continue
        if not prompted and (not line.strip() or line.lstrip().startswith("#")):
            index += 1
            continue
        parts = [line[2:] if prompted else line]
        while parts[-1].rstrip().endswith("\\") and index + 1 < len(block.lines):
            index += 1
            parts[-1] = parts[-1].rstrip()[:-1].rstrip()
            parts.append(block.lines[index].strip())
        index += 1
        output: list[str] = []
        while prompted and index < len(block.lines) and not block.lines[index].startswith("$ "):
            output.append(block.lines[index])
            index += 1
        text = strip_comment(" ".join(part for part in parts if part))
        if text:
            found.append(Command(block.page, block.line + start, text,
                                 tuple(_trim(output)), block.line))
    return found


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def strip_comment(text: str) -> str:
    """Return ``text`` without its trailing ``# comment`` (a ``#`` inside quotes stays)."""
    quote: str | None = None
    escaped = False
    for position, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or text[position - 1] in " \t"):
            return text[:position].rstrip()
    return text.strip()


def is_prompted(block: Block) -> bool:
    """Whether a block has ``$ `` prompts: a shell session, whatever its language says."""
    return any(line == "$" or line.startswith("$ ") for line in block.lines)


def is_session(block: Block) -> bool:
    """Whether a block holds commands: a shell block that is not a file, or a transcript."""
    if block.language in SHELL_LANGUAGES:
        return not is_file_block(block)
    return is_prompted(block)  # a ``text`` or ``::`` block that shows a prompted transcript


def commands(path: Path) -> list[Command]:
    """Return every command of the page at ``path``, in document order."""
    return [command for block in blocks(path) if is_session(block)
            for command in block_commands(block)]

