"""Hand-made mail for the removal tests (issue 12): words found nowhere else, so a removed
message's subject, sender or body showing up anywhere is caught by a plain text search.

- `Q1` (root, personal data) and its reply `Q2` (a thread whose root is removed);
- `W1`, `W2`: a thread removed whole;
- `Y1` and `H1` reuse one Message-ID for two different messages (only `Y1` is removed);
- `P1`: an unrelated thread that stays.
"""

from __future__ import annotations

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def mail(
    msgid: str,
    sender: str,
    subject: str,
    day: int,
    body: str,
    reply_to: str = "",
    extra: str = "",
) -> str:
    """One mbox entry (From_ line included) dated March `day`, 2020."""
    head = [
        f"From {msgid}@mid.example Mon Jan  1 00:00:00 2001",
        *([extra] if extra else []),
        f"Message-ID: <{msgid}@mid.example>",
        f"From: {sender}",
        "To: alpha@lists.example",
        f"Subject: {subject}",
        f"Date: {_DAYS[(day + 5) % 7]}, {day:02d} Mar 2020 09:30:00 +0000",
    ]
    if reply_to:
        head += [f"In-Reply-To: <{reply_to}@mid.example>", f"References: <{reply_to}@mid.example>"]
    return "\n".join([*head, "", body, "", ""])


XIMENA = "Ximena Torvaldsen <ximena@erased.example>"
PAULA = "Paula Openshaw <paula@open.example>"
OSCAR = "Oscar Plainview <oscar@open.example>"

Q1 = mail("q1", XIMENA, "Quokka marzipan plan", 3, "Call me at 555-0199, quokkasecret.")
Q2 = mail("q2", PAULA, "Follow-up on the plan", 4, "Sure, count me in.", reply_to="q1")
W1 = mail("w1", OSCAR, "Walrus ledger review", 5, "The walrusbody numbers are off.")
W2 = mail("w2", PAULA, "Re: Walrus ledger review", 6, "Agreed, walrusbody again.", "w1")
Y1 = mail("dup", OSCAR, "Yeti confession", 7, "A yetisecret I regret.")
H1 = mail("dup", PAULA, "Harmless note", 8, "Nothing to hide here.")
P1 = mail("p1", OSCAR, "Picnic schedule", 9, "Saturday at noon.")
LATER = mail("later", PAULA, "Later news", 10, "A new message after the removal.")

ALPHA = (Q1, Q2, W1, W2, Y1, P1)
"""The first list's volume; `H1` (the other use of Y1's Message-ID) comes in a later one."""

REMOVED_WORDS = (
    "Quokka",
    "marzipan",
    "quokkasecret",
    "555-0199",
    "Ximena",
    "Torvaldsen",
    "erased.example",
    "Walrus",
    "walrusbody",
    "Yeti",
    "yetisecret",
)
"""Words of the removed messages (Q1, the W thread, Y1) and of nobody else."""


def resent(entry: str, hop: str = "Received: from relay.beta.example") -> str:
    """The same mail as delivered by another list: one more header, other raw bytes, the same
    Message-ID and content (so the same key)."""
    first, rest = entry.split("\n", 1)
    return f"{first}\n{hop}\n{rest}"


def renamed(entry: str, msgid: str) -> str:
    """The same mail under another Message-ID (a gateway that makes its own): the same
    content fingerprint, another key."""
    return entry.replace("Message-ID: <", f"Message-ID: <{msgid}.", 1)
