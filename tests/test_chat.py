"""`bepro chat` as a person uses it: a real pseudo-terminal, typed lines, Ctrl-C and Ctrl-D."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from rich.console import Console

from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.pack import Pack
from bepro.retrieval.search import Retriever
from bepro.surfaces.chat import ChatSession, _read_line

from .conftest import ROOT, invoke_bepro

PROMPT = "bepro> "
EXPECT_TIMEOUT_S = 60  # generous for a loaded CI machine; a healthy reply takes well under 2 s
StartChat = Callable[..., pexpect.spawn]


def _spawn(index_dir: Path, pace: str, extra_env: dict[str, str]) -> pexpect.spawn:
    env = {
        **os.environ,
        "BEPRO_INDEX_DIR": str(index_dir),
        "TERM": "dumb",
        "COLUMNS": "120",
        **extra_env,
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bepro", "chat", "--pace", pace],
        env=env,
        cwd=str(ROOT),
        encoding="utf-8",
        timeout=EXPECT_TIMEOUT_S,
        dimensions=(40, 120),
    )
    child.logfile_read = io.StringIO()  # the whole transcript, for the no-traceback check
    child.expect_exact(PROMPT)
    return child


@pytest.fixture
def start_chat(index_dir: Path, retriever: Retriever, tmp_path: Path) -> Iterator[StartChat]:
    """Starts chats over the session's built index (each test with its own state folder for the
    history, and `cat` as the pager), and ends any still running."""
    children: list[pexpect.spawn] = []
    state = {"XDG_STATE_HOME": str(tmp_path / "state"), "PAGER": "cat"}

    def start(pace: str = "0") -> pexpect.spawn:
        children.append(_spawn(index_dir, pace, state))
        return children[-1]

    yield start
    for child in children:
        if child.isalive():
            child.terminate(force=True)


def _exit_code(child: pexpect.spawn) -> int | None:
    """Waits for the chat to end; it must never have shown a traceback."""
    child.expect(pexpect.EOF)
    child.close()
    assert "Traceback" not in child.logfile_read.getvalue()
    return child.exitstatus


@pytest.mark.integration  # a pseudo-terminal
def test_questions_and_commands_in_one_session(start_chat: StartChat) -> None:
    chat = start_chat()
    chat.sendline("how do I make a payment call safe to retry?")
    chat.expect_exact("1. idempotency: Safe retries with idempotency keys")
    chat.expect_exact("rules: idempotency")
    chat.expect_exact(PROMPT)

    chat.sendline("/action secure")
    chat.expect_exact("action: secure")
    chat.expect_exact(PROMPT)

    chat.sendline("/rules timeouts")
    chat.expect_exact("timeouts: Set per dependency; no unbounded waits")
    chat.expect_exact("Why it matters")
    chat.expect_exact(PROMPT)

    chat.sendline("/file no/such/file.py")
    chat.expect_exact("error: no such file: no/such/file.py")
    chat.expect_exact(PROMPT)

    chat.sendline("is hardcoding an API key in settings.py ok?")
    chat.expect_exact("action secure (chosen)")
    chat.expect_exact(PROMPT)

    chat.sendline("/history")
    chat.expect_exact("1. how do I make a payment call safe to retry?  [implement, inferred]")
    chat.expect_exact("2. is hardcoding an API key in settings.py ok?  [secure, chosen]")
    chat.expect_exact(PROMPT)

    chat.sendline("/quit")
    chat.expect_exact("bye")
    assert _exit_code(chat) == 0


@pytest.mark.integration  # a pseudo-terminal
def test_attached_file_is_reviewed_with_the_next_question(
    start_chat: StartChat, tmp_path: Path
) -> None:
    code = tmp_path / "client.py"
    code.write_text("import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n")
    chat = start_chat()
    chat.sendline(f"/file {code}")
    chat.expect_exact("attached")
    chat.expect_exact(PROMPT)
    chat.sendline("is this ready for production?")
    chat.expect_exact("Findings in your code")
    chat.expect_exact("client.py:5")
    chat.expect_exact("timeouts")
    chat.expect_exact(PROMPT)
    chat.sendeof()
    assert _exit_code(chat) == 0


@pytest.mark.integration  # a pseudo-terminal
def test_ctrl_c_stops_the_answer_and_the_chat_goes_on(start_chat: StartChat) -> None:
    chat = start_chat(pace="1")  # slow enough that the answer is still printing
    chat.sendline("how do I make a payment call safe to retry?")
    chat.expect_exact("Rules that apply")
    chat.sendintr()
    chat.expect_exact("(stopped)")
    chat.expect_exact(PROMPT)
    chat.sendline("/action review")
    chat.expect_exact("action: review")
    chat.expect_exact(PROMPT)

    chat.sendintr()  # at the prompt: asks first
    chat.expect_exact("press Ctrl-C again to quit")
    # A person presses again once the prompt is back. Sent sooner, the signal can land after
    # Python's last check and before CPython's readline blocks in select(), which then waits
    # for a key whatever the signal (a race in the interpreter, seen under CI load); a press
    # while the note is written is _NoteInterruptedTerminal's case below.
    chat.expect_exact(PROMPT)
    chat.sendintr()
    chat.expect_exact("bye")
    assert _exit_code(chat) == 0


class _NoteInterruptedTerminal(io.StringIO):
    """A terminal where the second Ctrl-C lands while the "again to quit" note is written."""

    pressed = False

    def write(self, text: str) -> int:
        if "again to quit" in text and not self.pressed:
            self.pressed = True
            raise KeyboardInterrupt
        return super().write(text)


def test_a_second_ctrl_c_while_the_note_prints_quits(
    paths: Paths, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cause of a flaky exit: the second press came before the prompt was back."""
    presses = iter([KeyboardInterrupt])

    def first_press(prompt: str) -> str:
        raise next(presses)  # a second read would mean the second press was lost

    monkeypatch.setattr("builtins.input", first_press)
    session = ChatSession(Pack(paths, catalogue), Console(file=_NoteInterruptedTerminal()), 0)
    try:
        assert _read_line(session) is None
    except KeyboardInterrupt:
        pytest.fail("the second Ctrl-C escaped the chat")


def test_an_unknown_starting_action_is_a_one_line_error() -> None:
    result = invoke_bepro("chat", "--action", "deploy")
    assert result.returncode == 2
    assert "unknown action 'deploy'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration  # a pseudo-terminal
def test_pasted_code_between_fences_is_one_message(start_chat: StartChat, tmp_path: Path) -> None:
    chat = start_chat()
    paste = ("is this ok?", "```python", "import requests", "", "requests.get(url)", "```")
    chat.send("\r".join(paste) + "\r")  # a paste: every line at once
    chat.expect_exact("Findings in your code")
    chat.expect_exact("snippet.py:3")
    chat.expect_exact("timeouts")
    chat.expect_exact(PROMPT)
    chat.sendline("/history")
    chat.expect_exact("1. is this ok? + snippet.py  [")
    chat.expect_exact(PROMPT)
    assert "2. " not in chat.before  # the code lines were not questions of their own

    chat.sendline("/last")
    chat.expect_exact("Findings in your code")  # the answer again, through the pager
    chat.expect_exact(PROMPT)
    chat.sendline("/rules")
    chat.expect_exact("timeouts           P2  Set per dependency; no unbounded waits")
    chat.expect_exact(PROMPT)
    chat.sendline("/quit")
    assert _exit_code(chat) == 0

    history = tmp_path / "state" / "bepro" / "chat_history"
    assert "is this ok?" in history.read_text(encoding="utf-8")  # kept for the next session


@pytest.mark.integration  # a pseudo-terminal
def test_a_typed_fence_goes_on_until_it_closes(start_chat: StartChat) -> None:
    chat = start_chat()
    chat.sendline("```python")  # typed a line at a time: the fence keeps the message open
    chat.expect_exact("...")
    chat.sendline("import requests")
    chat.sendline("requests.get(url)")
    chat.sendline("```")
    chat.expect_exact("Findings in your code")
    chat.expect_exact(PROMPT)
    chat.sendline("/history")
    chat.expect_exact("1. Review this code. + snippet.py  [")
    chat.expect_exact(PROMPT)
    chat.sendeof()
    assert _exit_code(chat) == 0
