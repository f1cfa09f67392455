"""`bepro chat`: a terminal chat over the offline engine, answers printed paragraph by paragraph.

Commands: /action NAME|auto, /file PATH, /rules [ID], /last, /history, /help, /quit. Ctrl-D quits.
Ctrl-C while an answer prints stops that answer and returns to the prompt. Ctrl-C at the prompt
asks for confirmation: a second Ctrl-C in a row quits, anything else carries on.

Lines pasted together are one message, and so is a message that opens a ``` fence, up to the
fence's end: pasted code is reviewed with the question it came with. Typed lines are kept across sessions in
the user's state folder (CHAT_HISTORY_FILE), for the arrow keys.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text

from bepro.agent.ask import read_context_file
from bepro.catalogue.model import Catalogue
from bepro.errors import BeproError, UsageError
from bepro.pack import Pack
from bepro.surfaces.answering import Snippet, answer, parse_message, split_blocks
from bepro.surfaces.wording import error_text

PROMPT = "bepro> "
MORE_PROMPT = "  ...  "  # inside a ``` fence that is not closed yet
FENCE = "```"
HISTORY_LINES = 1000
# Lines that follow within this gap were pasted with the line before (typing is slower).
PASTE_GAP_S = 0.05
AUTO = "auto"
INTERRUPTED = 130
HELP = """\
Type a question, or a command:
  /action NAME   answer as plan, design, build, implement, review, fix, optimize, refactor,
                 debug, secure or scale; /action auto infers it from the question
  /file PATH     attach a code file to the next question (it is reviewed and used as context)
  /rules [ID]    list the rules, or show one with its reference, e.g. /rules timeouts
  /last          the last answer again, in a pager (scroll with the arrows, q to leave)
  /history       the questions of this session
  /help          this help
  /quit          leave (Ctrl-D does too)
Paste code between ``` fences: the message ends when the fence closes.
Ctrl-C stops an answer while it prints; at the prompt, press it twice to leave."""


@dataclass(frozen=True)
class Exchange:
    question: str
    action: str
    inferred: bool
    rules: list[str]
    attached: str | None


@dataclass
class ChatSession:
    pack: Pack
    console: Console
    pace: float
    action: str | None = None
    attached: Snippet | None = None
    history: list[Exchange] = field(default_factory=list)
    last_answer: str = ""

    @property
    def catalogue(self) -> Catalogue:
        return self.pack.catalogue

    def handle(self, line: str) -> bool:
        """Act on one input line; False when the user wants to leave."""
        text = line.strip()
        if not text:
            return True
        if not text.startswith("/") or "\n" in text:
            self.ask(text)
            return True
        name, _, argument = text.partition(" ")
        if name in ("/quit", "/exit"):
            return False
        command = self._commands().get(name)
        if command is None:
            self.error(f"unknown command {name}; /help lists the commands")
        else:
            command(argument.strip())
        return True

    def _commands(self) -> dict[str, Callable[[str], None]]:
        return {
            "/action": self.set_action,
            "/file": self.attach,
            "/rules": self.show_rule,
            "/last": lambda _: self.show_last(),
            "/history": lambda _: self.show_history(),
            "/help": lambda _: self.console.print(HELP, markup=False, highlight=False),
        }

    def ask(self, text: str) -> None:
        question = parse_message(text, self.action)  # its ```python blocks are code to review
        if self.attached is not None:
            question = replace(question, snippets=(self.attached, *question.snippets))
        self.attached = None
        try:
            reply = answer(question, self.pack, llm="auto")
        except BeproError as error:
            self.error(error.message)
            return
        result = reply.result
        attached = ", ".join(s.filename for s in question.snippets) or None
        self.history.append(
            Exchange(question.text, result.action, result.action_inferred, result.rules, attached)
        )
        self.last_answer = reply.text
        self.print_progressively(reply.text)
        how = "inferred" if result.action_inferred else "chosen"
        rules = ", ".join(result.rules) or "none"
        self.note(f"action {result.action} ({how}) · rules: {rules}")

    def print_progressively(self, markdown: str) -> None:
        """Block by block, like a stream (Ctrl-C stops it: see run_chat)."""
        for number, block in enumerate(split_blocks(markdown)):
            if number:
                self.console.print()  # the gap a whole-document render puts between blocks
            self.console.print(Markdown(block))
            time.sleep(self.pace)

    def set_action(self, name: str) -> None:
        choice = name.lower()
        if choice == AUTO:
            self.action = None
        elif self.catalogue.action(choice) is not None:
            self.action = choice
        else:
            choices = ", ".join((*self.catalogue.action_names, AUTO))
            self.error(f"unknown action {name!r}; choose one of: {choices}")
            return
        self.note(f"action: {self.action or 'auto (inferred from each question)'}")

    def attach(self, argument: str) -> None:
        if not argument:
            self.error("/file needs a path, e.g. /file app/payments.py")
            return
        path = Path(argument).expanduser()
        try:
            code = read_context_file(path)
        except UsageError as error:
            self.error(error.message)
            return
        self.attached = Snippet(code, path.name)
        self.note(f"attached {path} ({len(code.encode())} bytes): it goes with your next question")

    def show_rule(self, rule_id: str) -> None:
        if not rule_id:
            self.list_rules()
            return
        try:
            rule = self.pack.rule(rule_id, codes=False)
        except BeproError as error:
            self.error(error_text(error, "chat"))
            return
        self.note(f"{rule.id}: {rule.summary} · {rule.category} · priority {rule.priority}")
        self.console.print(Markdown(rule.reference_text or f"(no reference yet: {rule.reference})"))

    def list_rules(self) -> None:
        for rule in self.catalogue.rules:  # priority order
            self.console.print(
                f"{rule.id:<18} P{rule.priority}  {rule.summary}", markup=False, highlight=False
            )
        self.note("/rules ID shows one with its reference")

    def show_last(self) -> None:
        if not self.last_answer:
            self.note("no answer yet")
            return
        with self.console.pager(styles=True):
            self.console.print(Markdown(self.last_answer))

    def show_history(self) -> None:
        if not self.history:
            self.note("no questions yet")
            return
        for number, item in enumerate(self.history, start=1):
            how = "inferred" if item.inferred else "chosen"
            with_file = f" + {item.attached}" if item.attached else ""
            rules = ", ".join(item.rules) or "none"
            self.console.print(
                f"{number}. {item.question}{with_file}  [{item.action}, {how}] -> {rules}",
                markup=False,
                highlight=False,
            )

    def note(self, message: str) -> None:
        self.console.print(Text(message, style="dim"))

    def error(self, message: str) -> None:
        self.console.print(Text(f"error: {message}", style="red"))


def history_file() -> Path:
    """Where typed lines are kept between sessions: the user's state folder."""
    from platformdirs import user_state_path

    return user_state_path("bepro") / "chat_history"


def _enable_line_editing() -> bool:
    """Arrow keys and history for input() when a person is typing; True when they are on."""
    if not sys.stdin.isatty():
        return False
    try:
        import readline
    except ImportError:  # some platforms ship Python without readline
        return False
    readline.set_history_length(HISTORY_LINES)
    with contextlib.suppress(OSError):  # no history yet, or an unreadable one: start anew
        readline.read_history_file(history_file())
    return True


def _save_history() -> None:
    """Write the history to a temporary file beside it, then rename: never half a file."""
    import readline

    target = history_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".chat_history.", dir=target.parent)
        os.close(handle)
        readline.write_history_file(temporary)
        os.replace(temporary, target)
    except OSError:
        return  # losing the history must not spoil leaving the chat


def _read_line(session: ChatSession) -> str | None:
    """The next message; None when the user leaves (Ctrl-D, or Ctrl-C twice). A message that
    opens a ``` fence goes on until the fence closes (or Ctrl-D ends it)."""
    try:
        line = input(PROMPT)
    except EOFError:
        session.console.print()
        return None
    except KeyboardInterrupt:
        return _confirm_quit(session)
    return _complete(line)


def _complete(message: str) -> str:
    """The rest of a message: lines pasted with it (they arrive in one burst, where typed lines
    come a keypress at a time) and, inside an open ``` fence, the lines up to its end."""
    lines = [message]
    while _open_fence("\n".join(lines)) or _pasted_more():
        try:
            lines.append(input(MORE_PROMPT))
        except EOFError:
            break
    return "\n".join(lines)


def _pasted_more() -> bool:
    """Whether more of a paste is already waiting on the terminal (never for piped input)."""
    if not sys.stdin.isatty():
        return False
    ready, _, _ = select.select([sys.stdin], [], [], PASTE_GAP_S)
    return bool(ready)


def _open_fence(message: str) -> bool:
    """Whether the message has a ``` fence that is not closed yet."""
    fences = sum(line.lstrip().startswith(FENCE) for line in message.splitlines())
    return fences % 2 == 1


def _confirm_quit(session: ChatSession) -> str | None:
    """After a first Ctrl-C at the prompt: the next line, or None if a second Ctrl-C (or Ctrl-D)
    comes. The note is printed inside the try, because a person presses Ctrl-C again as soon as
    they read it, and that press may land before the prompt is back: it must quit, wherever it
    lands, not escape as a traceback."""
    try:
        session.console.print()
        session.note("press Ctrl-C again to quit, or type a question")
        return input(PROMPT)
    except (EOFError, KeyboardInterrupt):
        session.console.print()
        return None


def run_chat(pack: Pack, action: str | None, pace: float) -> int:
    """The chat loop; returns the exit code (0 when the user leaves)."""
    start = pack.action(action) if action is not None else None
    console = Console(highlight=False)
    try:
        pack.open_index()
    except KeyboardInterrupt:
        return INTERRUPTED
    session = ChatSession(pack, console, pace)
    session.action = start
    session.note(
        f"bepro chat: offline answers from {len(pack.catalogue.rules)} rules; "
        f"action {session.action or AUTO}. /help for commands, /quit or Ctrl-D to leave."
    )
    editing = _enable_line_editing()
    try:
        while (line := _read_line(session)) is not None:
            try:
                if not session.handle(line):
                    break
            except KeyboardInterrupt:  # stops the answer (or listing) being printed, not the chat
                console.print()
                session.note("(stopped)")
    finally:
        if editing:
            _save_history()
    session.note("bye")
    return 0
