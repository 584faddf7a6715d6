"""Judging candidates: a document in, votes out.

A *judge* is what the run's phases ask about a document: send it (or test it)
``times`` times and say what each answer was. Two judges share the phases:

* :class:`RequestJudge` (``bisect``): a document becomes a wire request (through
  the ``--hook`` first, if any), goes through the journal's :class:`Replay` and
  the :class:`~reqbisect.sender.Sender`, and its reply is judged by the oracle,
  which the baselines teach when none is given; every answer is journaled.
* ``DocumentJudge`` (``bisect_documents``, in ``reqbisect.documents``): a test
  function judges the document itself.

A request is named by the hash of its wire bytes and which send of it this is
(``#0``, ``#1``, ... for repeats, ``#v0``, ... for verification), which is also
its key in the journal.

Every send carries the oracle's ``reads_body`` policy (``reqbisect.reading``),
so a body the oracle cannot use is never read. Baselines read an error's body
(>= 400) whatever the oracle, since a failed baseline is reported with its
message. While the default oracle is still to be learned, BAD's body is read
(its signature is what failing means) and GOOD waits for BAD's first answer,
then reads its own body only if it has BAD's status (the two are then told
apart by their bodies) or is an error.
"""

from __future__ import annotations

import copy
import inspect
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import anyio

from reqbisect._types import Document, JSONValue
from reqbisect.budget import Budget, BudgetSpent
from reqbisect.document import Capture
from reqbisect.errors import BaselineError, InputError
from reqbisect.hooks import Prepare
from reqbisect.journal import Entry, Journal, Replay, Role
from reqbisect.mode import Side
from reqbisect.oracle import Oracle, Reply, SignatureOracle, call_oracle, describe_oracle, informative
from reqbisect.outcome import Outcome
from reqbisect.reading import BodyPolicy, Headers, body_policy, read_all
from reqbisect.sender import Sender, wire_key
from reqbisect.signature import signature
from reqbisect.wire import WireRequest, to_wire

__all__ = ["Judge", "RequestJudge", "Votes"]


@dataclass(frozen=True, slots=True)
class Votes:
    """The outcomes of sending one document some number of times."""

    outcomes: tuple[Outcome, ...]
    #: The last reply that came back (None when nothing was sent, e.g. a test judged it).
    reply: Reply | None = None
    #: The budget ran out before every send was made.
    spent: bool = False

    @property
    def majority(self) -> Outcome:
        """GOOD or BAD when more than half agree; UNRESOLVED otherwise (a tie included)."""
        for outcome in (Outcome.GOOD, Outcome.BAD):
            if 2 * self.outcomes.count(outcome) > len(self.outcomes):
                return outcome
        return Outcome.UNRESOLVED


class Judge(Protocol):
    """What the phases of a run ask about documents (see the module docstring)."""

    #: Sends per candidate; its outcome is their majority.
    repeat: int
    budget: Budget
    #: Requests the search leaves for the verification at the end.
    verification_reserve: int
    #: The first answer to GOOD and to BAD, kept for the result even when they fail.
    baseline: dict[Side, Reply]

    @property
    def cache_hits(self) -> int: ...

    @property
    def oracle_description(self) -> str | None:
        """How good and bad are told apart, in words, for the result."""

    def allowed(self, concurrency: int) -> int:
        """How many candidates may be in flight now (fewer while a server signals overload)."""

    async def calibrate(self, good: JSONValue, bad: JSONValue, *, times: int, majority: bool = False) -> tuple[str, ...]:
        """Judge GOOD and BAD (learning what good and bad look like, if need be).

        With ``majority``, each side is what most of its ``times`` answers say
        (the others are returned as doubts, in words); otherwise every answer must agree.

        Raises:
            BaselineError: GOOD is not good or BAD is not bad.
        """

    async def votes(self, document: JSONValue, *, role: Role, times: int) -> Votes: ...


class RequestJudge:
    """Requests to a server (or an app), judged by an oracle; see the module docstring."""

    def __init__(
        self,
        *,
        sender: Sender,
        replay: Replay,
        like: Sequence[Capture],
        oracle: Oracle | None,
        prepare: Prepare | None,
        journal: Journal | None,
        repeat: int,
    ) -> None:
        self._sender = sender
        self._replay = replay
        self._like = like
        self._oracle = oracle
        # A learned oracle is learned again when the baselines are sent again.
        self._learns = oracle is None
        self._prepare = prepare
        self._journal = journal
        self.repeat = repeat
        self.budget = sender.budget
        # The minimal good and bad requests are each judged once more at the end.
        self.verification_reserve = 2 * repeat
        self.baseline: dict[Side, Reply] = {}
        # Verification sends made of each wire request, so that every one gets its own key.
        self._verified: Counter[str] = Counter()

    @property
    def cache_hits(self) -> int:
        return self._sender.cache_hits

    @property
    def oracle_description(self) -> str | None:
        """How the oracle tells good from bad, in words (None before the baselines taught it)."""
        return describe_oracle(self._oracle) if self._oracle is not None else None

    def allowed(self, concurrency: int) -> int:
        return self._sender.allowed(concurrency)

    async def wire_for(self, document: Document) -> WireRequest:
        """The bytes to send for ``document``, after the hook (which gets a copy) if there is one."""
        if self._prepare is not None:
            # A copy: candidates share subtrees with each other and with GOOD and BAD,
            # and hooks often sign in place.
            prepared = self._prepare(copy.deepcopy(document))
            document = await prepared if inspect.isawaitable(prepared) else prepared
            if not isinstance(document, dict):
                raise InputError(
                    f"the hook returned {type(document).__name__}, not a request document", source="--hook"
                )
        return to_wire(document, like=self._like)

    async def _replies(
        self,
        document: Document,
        *,
        role: Role,
        times: int,
        reads_body: BodyPolicy | None = None,
        answered: Callable[[Reply], None] | None = None,
    ) -> tuple[list[tuple[str, Reply]], bool]:
        """Send ``document`` ``times`` times: (key, reply) for each send made, and whether the budget ran out.

        ``reads_body`` is the oracle's policy unless given; ``answered`` sees each reply as it comes.
        """
        wire = await self.wire_for(document)
        base = wire_key(wire)
        tag = "v" if role is Role.VERIFY else ""
        policy = reads_body if reads_body is not None else body_policy(self._oracle)
        first = self._verified[base] if role is Role.VERIFY else 0
        if role is Role.VERIFY:
            self._verified[base] += times
        out: list[tuple[str, Reply]] = []
        for i in range(first, first + times):
            key = f"{base}#{tag}{i}"
            try:
                reply = await self._replay.fetch(wire, key=key, fresh=role is Role.VERIFY or i > 0, reads_body=policy)
            except BudgetSpent:
                return out, True
            out.append((key, reply))
            if answered is not None:
                answered(reply)
        return out, False

    async def _judge(self, key: str, reply: Reply, document: Document, role: Role) -> Outcome:
        assert self._oracle is not None, "calibrate() comes first"
        outcome = await call_oracle(self._oracle, reply, document)
        # Requests that got no answer (transport errors, rate limits) are left to resend.
        if self._journal is not None and reply.recorded is None and not reply.retryable:
            await self._journal.record(
                Entry(key, outcome, reply.status, signature(reply, document).record, role, elapsed=reply.elapsed),
                document=document,
            )
        return outcome

    async def votes(self, document: JSONValue, *, role: Role, times: int) -> Votes:
        assert isinstance(document, dict)
        sent, spent = await self._replies(document, role=role, times=times)
        outcomes = [await self._judge(key, reply, document, role) for key, reply in sent]
        outcomes += [Outcome.UNRESOLVED] * (times - len(sent))
        return Votes(tuple(outcomes), sent[-1][1] if sent else None, spent)

    async def calibrate(self, good: JSONValue, bad: JSONValue, *, times: int, majority: bool = False) -> tuple[str, ...]:
        """Send GOOD and BAD ``times`` times each, learn the oracle if none was given, check both.

        Replies replayed from a journal keep their recorded outcome, and their
        recorded signature teaches the oracle. With ``majority``, the answers of
        a side that disagree with most of its answers are set aside (and named in
        the doubts returned) instead of failing the run.
        """
        assert isinstance(good, dict) and isinstance(bad, dict)
        sides = {Side.GOOD: (good, Role.BASELINE_GOOD), Side.BAD: (bad, Role.BASELINE_BAD)}
        sent: dict[Side, list[tuple[str, Reply]]] = {}
        spent: set[Side] = set()
        learning = self._learns
        bad_status: list[int] = []  # BAD's first answer, once it is in
        bad_answered = anyio.Event()

        oracle_reads = body_policy(self._oracle)

        def baseline_reads(status: int, headers: Headers) -> bool:
            if learning:
                return not bad_status or status == bad_status[0] or status >= 400
            return status >= 400 or oracle_reads(status, headers)

        def bad_answer(reply: Reply) -> None:
            if not reply.retryable and reply.status is not None and not bad_status:
                bad_status.append(reply.status)
                bad_answered.set()

        async def send(side: Side) -> None:
            document, role = sides[side]
            if learning and side is Side.GOOD:
                await bad_answered.wait()
            policy = read_all if learning and side is Side.BAD else baseline_reads
            try:
                sent[side], out_of_budget = await self._replies(
                    document, role=role, times=times, reads_body=policy,
                    answered=bad_answer if side is Side.BAD else None,
                )
            finally:
                if side is Side.BAD:
                    bad_answered.set()  # no answer to wait for: GOOD goes ahead and reads its body
            if out_of_budget:
                spent.add(side)

        async with anyio.create_task_group() as tg:
            for side in sides:
                tg.start_soon(send, side)
        if spent:  # retries of failed baseline sends took what the baselines needed
            raise BaselineError(
                f"the request budget ({self.budget.limit}) ran out while sending "
                f"{' and '.join(side.name for side in sorted(spent))} (retries of failed sends count too)",
                hint="raise --max-requests, or check why the server fails (transport errors, 429, 503)",
            )
        doubts: list[str] = []
        if majority:
            for side in sides:
                sent[side], doubt = _most_common_status(side, sent[side])
                doubts += doubt
        self.baseline = {side: pairs[0][1] for side, pairs in sent.items()}
        replies = {side: [reply for _, reply in pairs] for side, pairs in sent.items()}
        if self._learns:
            self._oracle = SignatureOracle.learn(replies[Side.GOOD], replies[Side.BAD], documents=(good, bad))
        for side, (document, role) in sides.items():
            want = Outcome(side.value)
            kept = informative(replies[side])
            for key, reply in sent[side]:
                if reply not in kept:
                    continue
                got = await self._judge(key, reply, document, role)
                if got is not want:
                    raise BaselineError(f"{side.name} is not {want}: it got {reply.short()} (judged {got})")
        return tuple(doubts)


def _most_common_status(side: Side, sent: list[tuple[str, Reply]]) -> tuple[list[tuple[str, Reply]], list[str]]:
    """The answers of ``side`` with the status most of them had, and the others in words.

    Raises:
        BaselineError: no status has more than half of the answers.
    """
    statuses = Counter(reply.status for _, reply in sent if not reply.retryable)
    if not statuses:
        return sent, []
    (status, count), = statuses.most_common(1)
    if 2 * count <= sum(statuses.values()):
        raise BaselineError(
            f"{side.name} is flaky: sent {len(sent)} times it answered "
            + ", ".join(str(reply.status) for _, reply in sent),
            hint="use --good-if/--bad-if to say what counts, or --repeat N to take a majority",
        )
    kept = [(key, reply) for key, reply in sent if reply.status == status or reply.retryable]
    others = [reply.short(60) for _, reply in sent if reply.status != status and not reply.retryable]
    doubt = [f"{side.name} answered {', '.join(others)} on {len(others)} of {len(sent)} sends"] if others else []
    return kept, doubt
