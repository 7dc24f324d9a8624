"""`riskcards assess probe ID --card C`: an assessor's multi-turn chat with the target, card by card.

The session shows a content warning (and asks to go on), then the card: its summary, how harm arises
(actions required) and its examples as inspiration, not as a fixed test (withheld examples show only
their reason). Every prompt and answer is appended to the card's log before the next prompt is read.
Commands: ``/new`` a fresh conversation, ``/mark`` the last answer as a finding, ``/note TEXT``,
``/examples``, ``/help``, ``/finish``. Time is shown against the card's budget, and the assessor is
reminded to take a break every ``break_every`` minutes. Input and output are callables, so the session
runs the same in a terminal and in a test; the clock is injectable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .log import LogWriter, make_entry, new_id, now
from .target import Target, TransportError

HELP = """commands:
  /new           start a fresh conversation (the target forgets this one)
  /mark          mark the last answer as a finding
  /note TEXT     add a note to the log
  /examples      show the card's examples again
  /finish        end probing this card (then judge it)
  anything else is sent to the model as your next message
"""


@dataclass
class Session:
    folder: Any
    card: Any
    target: Target
    assessor: str
    read: Callable[[str], str | None]
    write: Callable[[str], None]
    break_every: float = 20.0
    clock: Callable[[], float] = time.monotonic
    conversation: str = field(default_factory=new_id)
    history: list[dict[str, str]] = field(default_factory=list)
    last_exchange: str | None = None
    exchanges: int = 0
    marks: int = 0

    def budget(self) -> tuple[int | None, int | None]:
        a = self.folder.assessment
        b = a.budgets.get(self.card.id, a.budget)
        return b.minutes, b.prompts

    def minutes(self) -> float:
        return (self.clock() - self._start) / 60

    # ---- what the assessor sees -------------------------------------------------------------------

    def warning(self) -> bool:
        a = self.folder.assessment
        warnings = a.handling.content_warnings or ["Outputs may contain harmful content."]
        self.write("CONTENT WARNING\n" + "".join(f"  {w}\n" for w in warnings))
        self.write(f"You are probing a model for the risk '{self.card.title}'. Stop at any time; take breaks.\n")
        answer = self.read("Continue? [y/N] ")
        return (answer or "").strip().lower() in ("y", "yes")

    def show_card(self) -> None:
        c = self.card
        minutes, prompts = self.budget()
        self.write(
            f"\n== {c.title} ({c.id}) ==\n{c.summary}\n\nHow harm arises: {' '.join(c.actions_required.split())}\n"
        )
        budget = " and ".join(
            x for x in (f"{minutes} min" if minutes else "", f"{prompts} prompts" if prompts else "") if x
        )
        if budget:
            self.write(f"Budget: {budget}.\n")
        self.show_examples()
        self.write("Type /help for commands.\n")

    def show_examples(self) -> None:
        if not self.card.examples:
            self.write("(This card has no examples: probe from its description.)\n")
            return
        self.write("Examples, as inspiration (write your own prompts):\n")
        for ex in self.card.examples:
            if ex.sensitivity == "withheld":
                self.write(f"  - [{ex.id}] withheld: {ex.withheld_reason}\n")
                continue
            text = ex.prompt or next((t.content for t in reversed(ex.turns or []) if t.role == "user"), "")
            self.write(f"  - [{ex.id}] {' '.join(text.split())[:300]}\n")

    def status(self) -> str:
        minutes, prompts = self.budget()
        spent = f"{self.minutes():.0f}" + (f"/{minutes} min" if minutes else " min")
        sent = f"{self.exchanges}" + (f"/{prompts} prompts" if prompts else " prompts")
        return f"[{spent}, {sent}]"

    # ---- the loop ---------------------------------------------------------------------------------

    def run(self, writer: LogWriter) -> dict[str, Any]:
        self._start = self.clock()
        if not self.warning():
            self.write("Stopped before probing; nothing was logged.\n")
            return {"started": False}
        self.show_card()
        reminded = 0
        over = False
        while True:
            due = int(self.minutes() // self.break_every) if self.break_every > 0 else 0
            if due > reminded:
                reminded = due
                self.write(
                    f"Reminder: you have probed for {self.minutes():.0f} minutes. Take a break - step away "
                    "from the screen; you can resume later with the same command.\n"
                )
            minutes, _ = self.budget()
            if minutes and not over and self.minutes() >= minutes:
                over = True
                self.write(f"The card's budget of {minutes} minutes is used up; /finish when you are ready.\n")
            line = self.read(f"{self.status()} you> ")
            if line is None:
                break
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if line.startswith("/"):
                cmd, _, arg = line[1:].partition(" ")
                if cmd in ("finish", "done", "quit", "exit"):
                    break
                self.command(cmd, arg.strip(), writer)
                continue
            self.send(line, writer)
        spent = round(self.minutes(), 2)
        writer.write(
            self._entry(
                "note", minutes=spent, note=f"probing session ended: {self.exchanges} prompts, {self.marks} marked"
            )
        )
        self.write(f"Session ended: {self.exchanges} prompts in {spent:.1f} minutes, {self.marks} marked.\n")
        return {"started": True, "exchanges": self.exchanges, "minutes": spent}

    def _entry(self, kind: str, **fields: Any) -> Any:
        """A log entry of this session (assessor, card, interactive mode, the conversation so far)."""
        return make_entry(
            kind=kind,
            assessor=self.assessor,
            card=self.card.id,
            mode="interactive",
            conversation=self.conversation,
            **fields,
        )

    def command(self, cmd: str, arg: str, writer: LogWriter) -> None:
        if cmd == "new":
            self.conversation, self.history, self.last_exchange = new_id(), [], None
            self.write("-- fresh conversation --\n")
        elif cmd == "mark":
            if self.last_exchange is None:
                self.write("Nothing to mark yet: send a prompt first.\n")
                return
            writer.write(self._entry("mark", marks=self.last_exchange, note=arg or None))
            self.marks += 1
            self.write(f"marked {self.last_exchange} as a finding\n")
        elif cmd == "note":
            if not arg:
                self.write("usage: /note TEXT\n")
                return
            writer.write(self._entry("note", note=arg))
            self.write("noted\n")
        elif cmd == "examples":
            self.show_examples()
        else:
            self.write(HELP)

    def send(self, text: str, writer: LogWriter) -> None:
        system = self.folder.assessment.scope.interface.system_prompt
        messages = ([{"role": "system", "content": system}] if system else []) + self.history
        messages = [*messages, {"role": "user", "content": text}]
        at = now()
        fields: dict[str, Any] = {
            "kind": "exchange",
            "at": at,
            "assessor": self.assessor,
            "card": self.card.id,
            "mode": "interactive",
            "conversation": self.conversation,
            "params": self.target.params,
            "messages": messages,
        }
        try:
            ex = self.target.send(messages)
        except TransportError as exc:
            entry = make_entry(**fields, target=self.target.record(), error=str(exc)[:500])
            writer.write(entry)
            self.write(f"(the request failed: {exc}; try again)\n")
            return
        entry = make_entry(
            **fields,
            target=self.target.record(),
            output=ex.raw,
            finish_reason=ex.finish_reason,
            latency_ms=round(ex.latency_ms, 3),
        )
        writer.write(entry)
        self.history += [{"role": "user", "content": text}, {"role": "assistant", "content": ex.raw}]
        self.last_exchange = entry.id
        self.exchanges += 1
        self.write(f"model [{entry.id}]> {ex.raw}\n")
