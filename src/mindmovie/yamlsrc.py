"""Line-aware YAML loading and human error reports for hand-written files.

goals.yaml and plan.yaml are written and edited by people. When something is wrong the
message must read ``file:line: field: what is wrong``, never a traceback. PyYAML's
constructed objects forget where they came from, so we compose nodes (which keep their
marks) and build plain dicts/lists ourselves, recording the 1-based line of every mapping
key and list item under its *path* (e.g. ``("goals", 1, "vision")``, list indices 0-based
like pydantic's error locations). A pydantic ``ValidationError`` is then mapped back onto
those lines.

Two deliberate choices:

* Duplicate keys are an error. PyYAML silently keeps the last one, which hides typos.
* Scalars stay text (only ``null``/``~``/empty become ``None``). YAML 1.1 would turn
  ``title: 2025`` into an int, ``category: yes`` into ``True`` and ``title: 2025-01-01`` into
  a date, and a ``str`` field would then reject them. Pydantic's lax parsing turns ``"2"``
  into ``2`` wherever the schema wants a number, so numbers still work.
"""

from __future__ import annotations

import codecs
import difflib
import errno
import json
import os
import re
import stat
import types
import unicodedata
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NamedTuple, Self, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError

from mindmovie.fsutil import kind_of, link_note

#: characters drawn as nothing that are neither whitespace nor format (Cf): Unicode's
#: default-ignorable letters and marks (the Hangul fillers U+115F, U+1160, U+3164 and
#: U+FFA0, the combining grapheme joiner, Khmer inherent vowels, Mongolian and other
#: variation selectors) and the blank Braille pattern U+2800, a common "invisible name"
_BLANK_LOOKING = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def is_blank(text: str) -> bool:
    """Whether nothing of ``text`` would be seen: only whitespace, invisible format
    characters (Unicode category Cf: zero-width space U+200B, joiners, word joiner
    U+2060, BOM U+FEFF) and letters drawn as nothing (`_BLANK_LOOKING`: a Hangul filler,
    a blank Braille cell). `str.strip` keeps those, so a title of one zero-width space
    passed as text and made an empty card. Joiners and variation selectors inside real
    text (an emoji ZWJ sequence, a Persian ZWNJ) stay: only text with nothing visible is
    blank."""
    return all(
        ch.isspace() or ch in _BLANK_LOOKING or unicodedata.category(ch) == "Cf" for ch in text
    )


def given_text(text: str | None) -> str | None:
    """``text`` stripped, or None when it is absent or blank (`is_blank`): an optional
    field (affirmation, closing, person description) left blank means "not given"."""
    return None if text is None or is_blank(text) else text.strip()


def _non_blank(v: str) -> str:
    if is_blank(v):
        raise ValueError("must not be blank")
    return v


#: text a person must give: spaces alone are no answer (they made empty prompts and cards);
#: goals.yaml's and plan.yaml's `title` both (plan.yaml's took '' until 2026-12)
NonBlank = Annotated[str, AfterValidator(_non_blank)]

Loc = tuple[str | int, ...]
"""A path into the loaded data: mapping keys and 0-based list indices."""

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_TAG = "tag:yaml.org,2002:"
_SURROGATE = re.compile("[\ud800-\udfff]")
#: the keys whose values are file paths: a name whose bytes are not UTF-8 (a folder
#: unpacked from an old Windows zip) is read by Python with lone surrogates, which
#: plan.yaml is written with as \uDCxx escapes and must be read back with
_PATH_KEYS = frozenset({"photos", "reference_photos", "music"})


def hashtag_like(comment: str) -> bool:
    """Whether a YAML comment reads like text (`#1 in my field`, `#blessed`): no space
    after its mark. `# to do` and `## later` are comments as meant."""
    return len(comment) >= 2 and not comment[1].isspace() and comment[1] != "#"


_SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "timestamp"))

#: lists/mappings nested deeper than this are refused: our files need a few levels, and
#: PyYAML's composer (and our builder) recurse once per level, so a file of 1000 "[" was
#: a RecursionError traceback instead of a line
MAX_DEPTH = 100

#: values a file may hold once its aliases are expanded: a few "billion laughs" lines
#: (each alias list naming the one before nine times) built 43 million values, two
#: minutes of CPU and gigabytes, before the error; our files hold hundreds (the largest
#: plan.yaml goals.yaml can make, 180 scenes of 20 photos, ~5,000)
MAX_VALUES = 100_000

#: the ends of the two `_TooMany` messages (config.py picks them out by these)
ALIASES_EXPANDED = "once aliases (*name) are expanded"
TOO_MANY_VALUES = "values, which no hand-written YAML file holds"


class _TooMany(Exception):
    """Raised by the builder when the expanded data passes ``MAX_VALUES``; ``aliased``:
    aliases were expanded on the way (else the file itself is that large)."""

    def __init__(self, node: yaml.Node, aliased: bool) -> None:
        super().__init__(node)
        self.node = node
        self.aliased = aliased

    def message(self) -> str:
        if self.aliased:
            return f"more than {MAX_VALUES} values {ALIASES_EXPANDED}"
        # a plan of 14,000 scenes was "once aliases are expanded", and it had none
        return f"file is too large: more than {MAX_VALUES} {TOO_MANY_VALUES}: is it the right file?"


class Problem(NamedTuple):
    """One thing wrong with a source file: where (1-based line, dotted field) and what."""

    line: int | None
    field: str | None
    message: str


def plural(n: int, word: str) -> str:
    """`n` and `word`, plural unless n is 1 ("1 scene", "2 scenes")."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


#: the other problems' places a SourceError names after its first (then "...")
MORE_SHOWN = 5


class SourceError(Exception):
    """A hand-written file is wrong; ``str()`` is one line a person can act on.

    ``path`` is the file as given, ``line`` is 1-based, ``field`` is a dotted location like
    ``goals[2].vision`` where list indices are 1-based (``goals[2]`` is the *second* goal,
    as a person counts). When there are several problems the first by line is reported
    and the rest are counted in ``others``; all of them are in ``problems``.
    """

    def __init__(
        self,
        path: Path,
        line: int | None,
        field: str | None,
        message: str,
        *,
        others: int = 0,
        problems: Sequence[Problem] = (),
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.message = message
        self.others = others
        self.problems: list[Problem] = list(problems) or [Problem(line, field, message)]
        super().__init__(path, line, field, message)

    @classmethod
    def from_problems(cls, path: Path, problems: Iterable[Problem]) -> Self:
        """Report the earliest problem (by line) and count the rest."""
        ordered = sorted(
            dict.fromkeys(problems),  # drop exact duplicates, keep order
            key=lambda p: (p.line is None, p.line or 0),
        )
        if not ordered:
            raise ValueError("from_problems needs at least one problem")
        first = ordered[0]
        return cls(
            path,
            first.line,
            first.field,
            first.message,
            others=len(ordered) - 1,
            problems=ordered,
        )

    def __str__(self) -> str:
        where = str(self.path) if self.line is None else f"{self.path}:{self.line}"
        what = self.message if not self.field else f"{self.field}: {self.message}"
        more = ""
        if self.others:
            # where the others are, so one edit can mend them all: "(and 2 more
            # problems)" alone made the person render again to learn each next one
            rest = self.problems[1:]  # (from_problems puts the one reported first)
            shown = [
                " ".join(x for x in (p.line and f"line {p.line}", p.field) if x)
                for p in rest[:MORE_SHOWN]
            ]
            shown = [x for x in shown if x]
            if len(rest) > MORE_SHOWN:
                shown.append("...")
            named = f": {', '.join(shown)}" if shown else ""
            more = f" (and {plural(self.others, 'more problem')}{named})"
        return f"{where}: {what}{more}"


#: the most characters of a key a message quotes: a key of 900,000 characters (an unknown
#: one) was quoted whole twice, a "one-line" error of 1.8 MB
_KEY_SHOWN = 60


def _key(name: str) -> str:
    """A key as a message names it: cut short past `_KEY_SHOWN` characters."""
    return _cut(name, _KEY_SHOWN)


def _cut(text: str, limit: int = 40, *, tail: bool = False) -> str:
    """`text` as a message quotes it: a provider key in it hidden (`config.hide_keys`),
    then cut to `limit` characters (`tail`: its end kept). Cut first, a Google key lost
    the characters its shape is found by (AIza and 35 more), and the message showed 36
    of its 39 (the secrets audit)."""
    from mindmovie.config import hide_keys

    text = hide_keys(text)
    if len(text) <= limit:
        return text
    start, end = len(text) + 3 - limit, limit - 3
    for m in _HIDDEN.finditer(text):  # (what is hidden is said whole: "not s..." was not)
        if m.start() < start < m.end():
            start = m.start()
        if m.start() < end < m.end():
            end = m.end()
    return "..." + text[start:] if tail else text[:end] + "..."


#: what `config.hide_keys` puts where a key was ("<the key in ANTHROPIC_API_KEY, not shown>")
_HIDDEN = re.compile(r"<[^<>]{0,80}not shown>")


def format_loc(loc: Sequence[str | int]) -> str | None:
    """``("goals", 1, "vision")`` -> ``"goals[2].vision"`` (1-based, as a person counts)."""
    out = ""
    for seg in loc:
        if isinstance(seg, int):
            out += f"[{seg + 1}]"
        else:
            out += f".{_key(seg)}" if out else _key(seg)
    return out or None


@dataclass
class YamlDoc:
    """Plain data from a YAML file plus the 1-based line of every key / list item."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    #: the comment after a value left empty on its line (`vision: #1 in my field`), by
    #: path: what the person meant as the value, which YAML reads as a comment
    comments: dict[Loc, str] = field(default_factory=dict)
    #: the comment that cut a value short on its line (`vision: Be #1 in my field` is
    #: "Be"), by path: (the value read, the comment), a hashtag-like one only (see
    #: `_hashtag`)
    cut: dict[Loc, tuple[str, str]] = field(default_factory=dict)
    #: a value in double quotes that holds `\_`, as written, by path: YAML reads it as a
    #: no-break space, and a message naming that space names one the person never typed
    nbsp_escapes: set[Loc] = field(default_factory=set)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Line of ``loc``, or of its nearest recorded ancestor (e.g. a missing field's
        parent mapping)."""
        key = tuple(loc)
        while True:
            if key in self.lines:
                return self.lines[key]
            if not key:
                return None
            key = key[:-1]


def _unsupported_tag(node: yaml.Node) -> str:
    """The message for a tag our files do not read (`!!set`, `!!binary`, `!!omap`,
    `!!python/name:x`, `!mine`), the tag as written."""
    tag = str(node.tag)
    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return f"unsupported YAML tag {shown!r}; remove it"


#: an alias inside its own anchor (`&o` ... `*o` or `<<: *o` under it)
_SELF_ALIAS = "an alias refers to itself (recursive data)"


#: a comment right after a value, on its line
_COMMENT_AFTER = re.compile(r"[ \t]+(#[^\n]*)")
#: a node's anchor and tag written before it (`&c`, `!!str`), each followed by a space
_PROPERTIES = re.compile(r"^(?:[&!][^ \t]*[ \t]+)+")


class _Builder:
    """Turns composed YAML nodes into dicts/lists/str/None, recording lines by path."""

    def __init__(self, merges: bool = False, text: str = "") -> None:
        self.lines: dict[Loc, int] = {}
        self.comments: dict[Loc, str] = {}
        self.cut: dict[Loc, tuple[str, str]] = {}
        self.nbsp_escapes: set[Loc] = set()
        self.text = text
        self.problems: list[Problem] = []
        self.merges = merges
        self._active: set[int] = set()
        self._count = 0
        self._built: set[int] = set()  # nodes built: one built again is an alias's
        # scalars whose comment is noted: an anchored one's (`category: &c health #tag`)
        # was said again at each `*c`, on the alias's line; once, at the anchor's, is enough
        self._noted: set[int] = set()
        self._aliased = False

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self._count += 1
        if id(node) in self._built:
            self._aliased = True
        else:
            self._built.add(id(node))
        if self._count > MAX_VALUES:
            # aliases to blame only when they made most of the values: a plan of 14,000
            # scenes each naming one shared photo list (`*id001`, as PyYAML writes a list
            # used twice) was "once aliases are expanded", with ~85% written in the file
            expanded = self._count - len(self._built)
            raise _TooMany(node, self._aliased and expanded * 2 > self._count)
        if len(loc) > MAX_DEPTH:  # aliases nest deeper than the text does
            self._problem(node, loc[:1], f"nested more than {MAX_DEPTH} levels deep")
            return None
        if id(node) in self._active:
            # on the line of the key or item holding the alias (the anchor's node starts
            # where it was defined, lines above)
            line = self.lines.get(loc, node.start_mark.line + 1)
            self.problems.append(Problem(line, format_loc(loc), _SELF_ALIAS))
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, loc)
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, loc)
            return self._scalar(node, loc)
        finally:
            self._active.discard(id(node))

    def _first_note(self, node: yaml.Node) -> bool:
        """Whether ``node``'s comment is yet to be noted (not when built again for an alias)."""
        if id(node) in self._noted:
            return False
        self._noted.add(id(node))
        return True

    def _problem(self, node: yaml.Node, loc: Loc, message: str) -> None:
        self.problems.append(Problem(node.start_mark.line + 1, format_loc(loc), message))

    def _scalar(self, node: yaml.Node, loc: Loc) -> str | None:
        if node.tag == _TAG + "null":
            if node.value == "":  # nothing written: is a comment on its line?
                at = node.start_mark.index
                end = self.text.find("\n", at)
                rest = self.text[at : None if end < 0 else end]
                # (after an anchor or a tag: `affirmation: &c #blessed` said nothing)
                rest = _PROPERTIES.sub("", rest)
                if rest.lstrip(" \t").startswith("#") and self._first_note(node):
                    self.comments[loc] = rest.strip(" \t\r")
            return None
        if node.tag not in _SCALAR_TAGS:
            self._problem(node, loc, _unsupported_tag(node))
            return None
        value: str = node.value
        # not quoted (a plain scalar's style: None, or "" from libyaml)
        plain = not getattr(node, "style", "?") and node.tag == _TAG + "str"
        comment = self._comment_after(node) if plain else None
        if comment and hashtag_like(comment) and self._first_note(node):
            self.cut[loc] = (value, comment)
        if getattr(node, "style", None) == '"' and "\u00a0" in value:
            written = self.text[node.start_mark.index : node.end_mark.index]
            if "\\_" in written:
                self.nbsp_escapes.add(loc)
        if _SURROGATE.search(value):
            # an emoji written as its JSON escape pair ("\ud83c\udf1f", as json.dumps
            # writes it; valid YAML): one character, not two halves refused as "not text"
            value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        if (bad := _SURROGATE.search(value)) and not _PATH_KEYS.intersection(
            k for k in loc if isinstance(k, str)
        ):
            # "\udcff" in a double-quoted string (what a non-UTF-8 terminal's byte
            # becomes): no file, prompt or card can be written with it
            self._problem(
                node, loc, f"invalid character {bad.group()!r} (not text); write it again"
            )
            return None
        return value

    def _comment_after(self, node: yaml.Node) -> str | None:
        """The comment after ``node`` on its last line, or None. Matched where the node
        ends: the rest of its line was copied for each value, so a long line of many
        (`details: [a, b, ...]`, 5 MB) took 5.6 s to load (0.3 s before this look)."""
        m = _COMMENT_AFTER.match(self.text, node.end_mark.index)
        return m.group(1).strip(" \t\r") if m else None

    def _sequence(self, node: yaml.SequenceNode, loc: Loc) -> list[Any]:
        if node.tag != _TAG + "seq":
            self._problem(node, loc, _unsupported_tag(node))
        items: list[Any] = []
        for i, child in enumerate(node.value):
            sub = (*loc, i)
            self.lines[sub] = child.start_mark.line + 1
            items.append(self.build(child, sub))
        return items

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        if node.tag != _TAG + "map":
            self._problem(node, loc, _unsupported_tag(node))
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        merged_lines: dict[Loc, int] = {}
        for knode, vnode in node.value:
            if knode.tag == _TAG + "merge":
                if self.merges:
                    self._merge(knode, vnode, loc, merged, merged_lines)
                else:
                    self._problem(knode, loc, "merge keys (<<) are not supported; write keys out")
                continue
            if not isinstance(knode, yaml.ScalarNode):
                self._problem(knode, loc, "a key must be a plain word, not a list or mapping")
                continue
            key = str(knode.value)
            sub = (*loc, key)
            kline = knode.start_mark.line + 1
            if key in out:
                self.problems.append(
                    Problem(
                        kline,
                        format_loc(sub),
                        f"duplicate key {key!r} (first at line {self.lines[sub]})",
                    )
                )
                continue
            self.lines[sub] = kline
            out[key] = self.build(vnode, sub)
        written = set(out)
        for key, value in merged.items():  # keys written out win over merged ones
            if key not in written:
                out[key] = value
        for sub, line in merged_lines.items():
            if sub[len(loc)] not in written:
                self.lines.setdefault(sub, line)
        return out

    def _merge(
        self,
        knode: yaml.Node,
        vnode: yaml.Node,
        loc: Loc,
        merged: dict[str, Any],
        merged_lines: dict[Loc, int],
    ) -> None:
        """`<<: *name` (or a list of them): the keys it brings, each placed on the `<<`
        line, where it enters this mapping (the anchor's own lines are another place's
        settings). The first source to bring a key wins, as in PyYAML."""
        line = knode.start_mark.line + 1
        sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
        for src in sources:
            if not isinstance(src, yaml.MappingNode):
                self._problem(knode, loc, "a merge (<<) takes a mapping or a list of mappings")
                continue
            if id(src) in self._active:  # `x: &o` with `<<: *o` under it: built, it was None
                self.problems.append(Problem(line, format_loc(loc), _SELF_ALIAS))
                continue
            saved, self.lines = self.lines, {}
            try:
                value = self.build(src, loc)
            finally:
                got, self.lines = self.lines, saved
            for key, v in value.items():
                merged.setdefault(key, v)
            for sub in got:
                merged_lines.setdefault(sub, line)


def yaml_hint(problem: str) -> str:
    """What to do about a PyYAML problem of a hand-written file, as '; ...' (or ''): its
    own words name no mistake a person made (a tab indent, an unquoted ': ' in a value,
    a key indented unlike its neighbours)."""
    if "'\\t'" in problem:
        return "; indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return (
            "; a value with ': ' in it must be quoted (\"Run: every day\"), "
            "and a key must line up with the keys beside it"
        )
    if "expected <block end>" in problem:
        return "; a key here is indented unlike the keys beside it: line up the keys of one item"
    if "escape character" in problem or "expected escape sequence" in problem:
        # a Windows path in double quotes ("C:\Users\me.jpg"): PyYAML's "expected escape
        # sequence of 8 hexadecimal numbers, but found 's'" named no backslash
        return ESCAPE_HINT
    return ""


#: a backslash inside double quotes starts an escape (`"C:\Users\me.jpg"` is refused,
#: `"C:\temp\new.jpg"` is read with a tab and a line break in it)
ESCAPE_HINT = (
    '; inside " quotes a backslash starts an escape (\\n, \\t, \\U...): write a path '
    "with / (C:/Users/me/me.jpg), or quote it with ' instead"
)


#: what a quote never closed is said as, on the line it opens on
UNCLOSED_QUOTE = "the quote opened on this line is never closed (the file ends inside it)"


def unclosed_quote_line(exc: yaml.YAMLError) -> int | None:
    """The line a quote that is never closed opens on (`title: "My year`), or None.
    PyYAML's problem is at the end of the file ("found unexpected end of stream"), the
    line named first, which sent the person to the last line instead of the quote's."""
    if (
        isinstance(exc, yaml.MarkedYAMLError)
        and exc.context == "while scanning a quoted scalar"
        and exc.problem == "found unexpected end of stream"
        and exc.context_mark is not None
    ):
        return int(exc.context_mark.line) + 1
    return None


def quote_hint(exc: yaml.MarkedYAMLError, text: str) -> str:
    """'; ...' when more text follows a closing quote on its line (`vision: 'I'm
    strong'`: the value is 'I', then `m strong'`), else ''. PyYAML's "expected <block
    end>, but found '<scalar>'" got the indentation hint, sending the person to line up
    keys that were lined up."""
    mark = exc.problem_mark
    if mark is None or "'<scalar>'" not in str(exc.problem):
        return ""
    before = text[: mark.index].rsplit("\n", 1)[-1].rstrip(" \t")
    if before.endswith("'"):
        return (
            "; a ' inside a value quoted with ' ends it: write it twice ('I''m here'), "
            "or leave the quotes off"
        )
    if before.endswith('"'):
        return (
            '; a " inside a value quoted with " ends it: write it as \\" ("say \\"yes\\""), '
            "or quote the value with ' instead"
        )
    return ""


#: a key's value that starts with one of YAML's own marks (`affirmation: [Draft] I am
#: rich`, `@work`, `|dream`, `*Run*`): YAML reads the mark, not text
_INDICATOR_VALUE = re.compile(r"^(\s*(?:- +)?)([^\s#'\"\[{][^:#]*?):[ \t]+([\[{@`%|>,?&*!].*)$")


def indicator_hint(exc: yaml.MarkedYAMLError, text: str) -> str:
    """'; ...' when the line of the error is a key whose value starts with one of YAML's
    own marks (`_INDICATOR_VALUE`), else ''. PyYAML's words named a syntax the person
    never meant ("found character '@' that cannot start any token", "expected <block
    end>", which got the hint to line up keys that were lined up; the text audit)."""
    if "quoted" in str(exc.context or ""):
        return ""  # (inside quotes already: `["C:\Users\me.jpg"]`'s escape, `ESCAPE_HINT`)
    lines = text.splitlines()
    for mark in (exc.problem_mark, exc.context_mark):
        if mark is None or not 0 <= mark.line < len(lines):
            continue
        m = _INDICATOR_VALUE.match(lines[mark.line].rstrip())  # (no `\s*$`: quadratic)
        if m is None:
            continue
        key, value = m.group(2), m.group(3)
        if "flow" in str(exc.context or "") and value[0] in "[{":
            # (`photos: [a.jpg, b.jpg`: a list not closed, or text)
            what = "list" if value[0] == "[" else "mapping"
            close = "]" if value[0] == "[" else "}"
            return (
                f"; a value that starts with {value[0]!r} is a YAML {what}, closed with "
                f"{close!r}; if it is text, quote it ({key}: {_quoted(value)})"
            )
        return (
            f"; a value that starts with {value[0]!r} is read as YAML's own syntax, not "
            f"text: quote it ({key}: {_quoted(value)})"
        )
    return ""


#: a line whose key has no space after its colon (`vision:Strong`, YAML's plain text
#: "vision:Strong", not a key) or whose list dash has none (`-category: health`)
_NO_SPACE = (
    (re.compile(r"^\s*(?:- +)?[A-Za-z_][\w-]*:(?=[^\s:/])"), "a key needs a space after its colon"),
    (re.compile(r"^\s*-(?=[^\s-])"), "a list item needs a space after its dash"),
)


#: spaces that look like a space and are not one to YAML: no-break (a copy from a web
#: page or a document; Option+Space on a Mac), figure, narrow no-break, ideographic (a
#: Japanese or Chinese input method's full-width space)
_ODD_SPACES = "\u00a0\u2007\u202f\u3000"
#: where YAML needs a plain space: the indentation, after a list dash, after a key's colon
_SPACE_PLACES = re.compile(
    rf"^([ \t{_ODD_SPACES}]*)(?:(-)([ \t{_ODD_SPACES}]+))?"
    rf"(?:([^\s:#'\"\[{{][^:#]*?:)([ \t{_ODD_SPACES}]+))?"
)


def odd_space_in(text: str) -> str | None:
    """The first space of ``text`` that is not a plain one (`_ODD_SPACES`), named as a
    message says it ("a no-break space (U+00A0)"), or None: the character looks like a
    space, so a person cannot see what to change unless it is named."""
    odd = next((ch for ch in text if ch in _ODD_SPACES), None)
    if odd is None:
        return None
    name = unicodedata.name(odd).lower()
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name} (U+{ord(odd):04X})"


def _plain(m: re.Match[str]) -> str:
    return "  " if m.group() == "\u3000" else " "


#: lines `_odd_space` tries, the nearest the error
_ODD_SPACE_TRIES = 10


def _odd_space(last: int, text: str) -> Problem | None:
    """The first line, of the last `_ODD_SPACE_TRIES` up to the error's (0-based
    ``last``) with a space YAML does not take for one (`_ODD_SPACES`) where it needs
    one, when that is what the error comes from: blamed only if the file, that line's
    spaces made plain, reads further. PyYAML said "mapping values are not allowed here"
    of the line after, with the hint to quote a value's ': ', of a line that looked
    right."""
    lines = text.split("\n")
    odd_lines: list[tuple[int, re.Match[str]]] = []
    for n in range(min(last, len(lines) - 1) + 1):
        m = _SPACE_PLACES.match(lines[n])
        if m is not None and any(ch in _ODD_SPACES for ch in m.group()):
            odd_lines.append((n, m))
    # each try reads the whole file again: 2000 such lines that read (`-\u00a0x` is text)
    # before a mistake took 39 s to be told, not 0.04 s; the one to blame is near the error
    for n, m in odd_lines[-_ODD_SPACE_TRIES:]:
        parts = [(g or "") for g in m.groups()]
        odd = next(ch for ch in m.group() if ch in _ODD_SPACES)
        # (an ideographic space is as wide as two)
        plain = [
            p if i == 3 else re.sub(f"[{_ODD_SPACES}]", _plain, p) for i, p in enumerate(parts)
        ]
        fixed = "".join(plain) + lines[n][m.end() :]
        try:
            compose_yaml("\n".join([*lines[:n], fixed, *lines[n + 1 :]]))
        except yaml.MarkedYAMLError as again:
            if again.problem_mark is None or again.problem_mark.line <= last:
                continue
        except yaml.YAMLError:
            continue
        what = odd_space_in(odd)
        return Problem(
            n + 1,
            None,
            f"invalid YAML: {what} where YAML needs a plain space (pasted from a web page "
            "or a document, or typed by mistake): type a space instead",
        )
    return None


def missing_space(exc: yaml.MarkedYAMLError, text: str) -> Problem | None:
    """The line missing the space after a key's colon or a list dash, when that is what
    the error comes from: PyYAML said "could not find expected ':'" (of a line that has
    one) or "mapping values are not allowed here", on the line after (with the hint to
    quote a value's ': '). Blamed only if the file, that space added, reads further.
    A space YAML does not take for one (a no-break space) is a missing space too."""
    mark = exc.problem_mark
    if mark is None:
        return None
    if odd := _odd_space(mark.line, text):
        return odd
    if exc.problem == "could not find expected ':'" and exc.context_mark is not None:
        suspects = [exc.context_mark.line]
    elif exc.problem == "mapping values are not allowed here":
        suspects = [mark.line - 1, mark.line]
    else:
        return None
    lines = text.split("\n")
    for n in suspects:
        for pattern, what in _NO_SPACE:
            if not 0 <= n < len(lines) or not (m := pattern.match(lines[n])):
                continue
            fixed = lines[n][: m.end()] + " " + lines[n][m.end() :]
            try:
                compose_yaml("\n".join([*lines[:n], fixed, *lines[n + 1 :]]))
            except yaml.MarkedYAMLError as again:
                if again.problem_mark is None or again.problem_mark.line <= mark.line:
                    continue
            except yaml.YAMLError:
                continue
            shown = _cut(fixed.strip())
            return Problem(n + 1, None, f"invalid YAML: {what}: write {shown}")
    return None


#: a Windows path on a line: a drive letter (`C:\`) or a backslash and a name ending
#: in another backslash (`\Music\`); not `\"go\"`, a quote mark written in text
_WINDOWS_PATH = re.compile(r"\b[A-Za-z]:\\|\\[A-Za-z][^\\\"\s]*\\")


def unclosed_quote_said(line: int, text: str) -> str:
    """`UNCLOSED_QUOTE`, with the backslash hint when a \\" on its (1-based) line is what
    kept it open: `music: "C:\\Music\\"` ends in a quote mark, not the value's end. Only
    on a line with a path: `vision: "She said \\"go\\" today` was told to write a path
    with /."""
    lines = text.split("\n")
    said = lines[line - 1] if 0 < line <= len(lines) else ""
    escaped = '\\"' in said and _WINDOWS_PATH.search(said) is not None
    return UNCLOSED_QUOTE + (ESCAPE_HINT if escaped else "")


def error_line(mark: yaml.Mark | None, text: str) -> int | None:
    """The line (from 1) a PyYAML error's `mark` names in `text`, at most its last line
    with text: an error at the end of the file ("got '<stream end>'", an unclosed
    bracket) is marked past it, and a 120-line config.yaml was said wrong at line 121."""
    if mark is None:
        return None
    return min(mark.line + 1, max(1, len(text.rstrip().splitlines())))


def _yaml_problem(exc: yaml.YAMLError, text: str) -> Problem:
    if (quote := unclosed_quote_line(exc)) is not None:
        return Problem(quote, None, f"invalid YAML: {unclosed_quote_said(quote, text)}")
    if isinstance(exc, yaml.MarkedYAMLError) and (space := missing_space(exc, text)):
        return space
    if isinstance(exc, yaml.MarkedYAMLError):
        line = error_line(exc.problem_mark or exc.context_mark, text)
        msg = f"invalid YAML: {exc.problem or exc.context or 'cannot parse'}"
        if exc.problem and exc.context:
            cm = exc.context_mark
            at = f" at line {cm.line + 1}" if cm is not None and cm.line + 1 != line else ""
            msg += f" ({exc.context}{at})"
        msg += quote_hint(exc, text) or indicator_hint(exc, text) or yaml_hint(msg)
        return Problem(line, None, msg)
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return Problem(line, None, f"invalid character {chr(exc.character)!r} in file")
    return Problem(None, None, f"invalid YAML: {exc}")


#: libyaml's parser when PyYAML has it (its wheels do): ~10x faster than the pure-Python
#: one, which took ~0.1 s of every command's start on goals.yaml, plan.yaml and config.
#: Only for documents it accepts: on any error the pure-Python loader parses again, so
#: every message and position a person sees is the one it gives.
_FAST_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def _loaders() -> list[type[yaml.SafeLoader]]:
    """The loaders to try in turn: libyaml's first when there is one."""
    return [yaml.SafeLoader] if _FAST_LOADER is None else [_FAST_LOADER, yaml.SafeLoader]


def _fast_first(read: Callable[[type[yaml.SafeLoader]], T]) -> T:
    """`read` with libyaml's loader; on any error (ValueError: text libyaml cannot take)
    again with the pure-Python one, whose error, worded and placed its way, goes up."""
    *fast, python = _loaders()
    for loader in fast:
        try:
            return read(loader)
        except (yaml.YAMLError, ValueError):
            pass
    return read(python)


def compose_yaml(text: str) -> yaml.Node | None:
    """The YAML text's node tree (marks give 1-based lines as ``line + 1``); raises
    PyYAML's own error, from its pure-Python loader, for bad YAML."""
    return _fast_first(lambda loader: yaml.compose(text, Loader=loader))


class _KeysAsWritten(yaml.constructor.SafeConstructor):
    """Mapping keys that YAML reads as something other than text (`~:`, `null:`,
    `true:`, `1:`) kept as written: config.yaml's errors named them ``None`` and
    ``True``, which the person never wrote. Values are read as YAML reads them."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)  # merge keys (<<), as SafeConstructor does
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            key = self.construct_object(knode, deep=deep)
            if not isinstance(key, str) and isinstance(knode, yaml.ScalarNode):
                key = knode.value
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    knode.start_mark,
                )
            out[key] = self.construct_object(vnode, deep=deep)
        return out


class _PyKeysAsWritten(_KeysAsWritten, yaml.SafeLoader):
    pass


_WRITTEN_KEY_LOADERS: list[type[yaml.SafeLoader]] = [_PyKeysAsWritten]
if _FAST_LOADER is not None:

    class _CKeysAsWritten(_KeysAsWritten, _FAST_LOADER):  # type: ignore[misc,valid-type]
        pass

    _WRITTEN_KEY_LOADERS.insert(0, _CKeysAsWritten)


def safe_load_yaml(text: str, *, keys_as_written: bool = False) -> Any:
    """``yaml.safe_load`` on libyaml when it can; bad YAML raises the pure-Python
    loader's own error (see `compose_yaml`). `keys_as_written`: every mapping key is
    text, as written in the file (`_KeysAsWritten`)."""
    if keys_as_written:
        *fast, python = _WRITTEN_KEY_LOADERS
        for loader in fast:
            try:
                return yaml.load(text, Loader=loader)
            except (yaml.YAMLError, ValueError):
                pass
        return yaml.load(text, Loader=python)
    return _fast_first(lambda loader: yaml.load(text, Loader=loader))


def nesting_problem(text: str) -> Problem | None:
    """Lists/mappings nested more than ``MAX_DEPTH`` levels in the text, found with
    PyYAML's event parser (which does not recurse) before anything that does. Bad YAML
    is left to the loader that follows, which reports it."""
    for loader in _loaders():
        depth = 0
        try:
            for event in yaml.parse(text, Loader=loader):
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    depth += 1
                    if depth > MAX_DEPTH:
                        mark = event.start_mark
                        return Problem(
                            mark.line + 1 if mark is not None else None,
                            None,
                            f"lists or mappings nested more than {MAX_DEPTH} levels deep",
                        )
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    depth -= 1
        except (yaml.YAMLError, ValueError):
            continue  # the pure-Python parser may read further: `compose_yaml` falls back to it
        return None
    return None


def parse_yaml(
    text: str, path: Path, error: type[SourceError] = SourceError, *, merges: bool = False
) -> YamlDoc:
    """Parse YAML text into plain data with line numbers; raise ``error`` on bad YAML or
    duplicate keys. An empty document gives ``data=None``. Merge keys (``<<: *name``)
    are refused unless ``merges`` (config.yaml reads them, as PyYAML does: goals.yaml
    and plan.yaml never did)."""
    if deep := nesting_problem(text):
        raise error.from_problems(path, [deep])
    try:
        root = compose_yaml(text)
    except yaml.YAMLError as exc:
        raise error.from_problems(path, [_yaml_problem(exc, text)]) from None
    if root is None:
        return YamlDoc(None, {})
    builder = _Builder(merges, text)
    builder.lines[()] = root.start_mark.line + 1
    try:
        data = builder.build(root, ())
    except _TooMany as exc:
        problem = Problem(exc.node.start_mark.line + 1, None, exc.message())
        raise error.from_problems(path, [problem]) from None
    if builder.problems:
        raise error.from_problems(path, builder.problems)
    return YamlDoc(data, builder.lines, builder.comments, builder.cut, builder.nbsp_escapes)


#: bytes a hand-written file may have. Ours are a few KB (the largest plan goals.yaml's
#: limits allow, 180 scenes of 2000-character texts of emoji, is 10 MB); the whole file
#: was read into memory first, so a video given by mistake took its size in memory and
#: /dev/zero read until the system killed the command
MAX_SOURCE_BYTES = 32 << 20


class SourceTooLarge(OSError):
    """A file given as goals, plan or settings is larger than ``MAX_SOURCE_BYTES``."""

    def message(self) -> str:
        return (
            f"file is larger than {MAX_SOURCE_BYTES >> 20} MB, which no hand-written YAML "
            "file is: is it the right file?"
        )


class NotAFile(OSError):
    """A path given as goals, plan or settings (or ./.env) is a named pipe, a socket or
    a device, not a regular file (a folder is IsADirectoryError, as `open` says it)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

    def message(self) -> str:
        return f"is {self.kind}, not a file"


def not_a_file(mode: int) -> str | None:
    """What a file of this ``st_mode`` is when it is not a regular file (None when it
    is), a folder said "a directory" as `open` says it (`fsutil.kind_of`)."""
    return kind_of(mode, folder="a directory")


def _is_null_device(st: os.stat_result) -> bool:
    """Whether ``st`` is the null device's (/dev/null, by its device number)."""
    try:
        return os.stat(os.devnull).st_rdev == st.st_rdev
    except OSError:
        return False


def read_source(path: Path) -> bytes:
    """The bytes of ``path``, at most ``MAX_SOURCE_BYTES`` of them read: a larger file
    (or an endless one) raises ``SourceTooLarge``, a folder, pipe, socket or device
    ``NotAFile``; OSError as ``open`` raises it.

    Opened without blocking and checked before reading: a named pipe (`mkfifo
    goals.yaml`) waited for a writer for ever, the command hung with no word (and a
    terminal, /dev/tty, for a line). The null device reads as the empty file it is
    (`--config /dev/null`: no settings file)."""
    try:
        first = os.stat(path).st_mode
    except (OSError, ValueError):
        first = None  # `open` says why
    if first is not None and stat.S_ISSOCK(first):  # "No such device or address" from open
        raise NotAFile("a socket")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):  # as `open` says it, which each caller words already
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if stat.S_ISCHR(st.st_mode) and _is_null_device(st):
            os.close(fd)
            return b""
        if kind := not_a_file(st.st_mode):
            raise NotAFile(kind)
        os.set_blocking(fd, True)
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        raw = f.read(MAX_SOURCE_BYTES + 1)
    if len(raw) > MAX_SOURCE_BYTES:
        raise SourceTooLarge()
    return raw


def other_suffix(path: Path) -> str:
    """ "; there is goals.yaml" for a `goals.yml` not there beside a goals.yaml that is
    (and the other way round): `render goals.yml` said "file not found" alone, of a
    file the person could see."""
    other = {".yml": ".yaml", ".yaml": ".yml"}.get(path.suffix.lower())
    if other is None:
        return ""
    near = path.with_suffix(other)
    try:
        there = near.is_file()
    except OSError:  # a name too long: nothing to point to
        return ""
    return f"; there is {near}" if there else ""


def load_yaml(path: Path, error: type[SourceError] = SourceError) -> YamlDoc:
    """Read ``path`` as UTF-8 YAML (see ``parse_yaml``); unreadable files raise ``error``."""
    try:
        raw = read_source(path)
    except (SourceTooLarge, NotAFile) as exc:
        raise error(path, None, None, exc.message()) from None
    except FileNotFoundError:
        # (a link to nothing: "file not found" alone, of a name `ls` shows)
        said = "file not found" + link_note(path) + other_suffix(path)
        raise error(path, None, None, said) from None
    except IsADirectoryError:
        raise error(path, None, None, "is a folder, not a file") from None
    except PermissionError:
        raise error(path, None, None, "cannot read file (permission denied)") from None
    except OSError as exc:
        raise error(path, None, None, f"cannot read file ({exc.strerror or exc})") from None
    try:
        text = utf16_text(raw)
    except UnicodeDecodeError:
        raise error(path, None, None, UTF16_BROKEN) from None
    if text is not None:
        return parse_yaml(text, path, error)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if kind := binary_kind(raw):
            raise error(path, None, None, not_text(kind)) from None
        line = raw.count(b"\n", 0, exc.start) + 1
        raise error(path, line, None, "not UTF-8 text; save the file as UTF-8") from None
    if utf16_without_bom(raw):
        # ASCII saved as UTF-16 with no byte-order mark decodes as UTF-8 with a NUL
        # after (or before) each letter: "invalid character '\x00'" said nothing of why
        raise error(path, 1, None, UTF16_TEXT) from None
    return parse_yaml(text, path, error)


#: the first bytes of files a person may give by mistake for a YAML file (a photo or the
#: music beside goals.yaml, a run's movie.mp4 or run.db, goals written in Word), as
#: (offset, bytes) pairs that must all be there, and what each is called
_MAGIC: tuple[tuple[tuple[tuple[int, bytes], ...], str], ...] = (
    (((0, b"\xff\xd8\xff"),), "a JPEG picture"),
    (((0, b"\x89PNG\r\n\x1a\n"),), "a PNG picture"),
    (((0, b"GIF8"),), "a GIF picture"),
    (((0, b"RIFF"), (8, b"WEBP")), "a WebP picture"),
    (((0, b"II*\x00"),), "a TIFF picture"),
    (((0, b"MM\x00*"),), "a TIFF picture"),
    (((4, b"ftypheic"),), "a HEIC picture"),
    (((4, b"ftypmif1"),), "a HEIF picture"),
    (((4, b"ftyp"),), "a video (MP4/MOV)"),
    (((0, b"\x1aE\xdf\xa3"),), "a video (WebM/MKV)"),
    (((0, b"RIFF"), (8, b"AVI ")), "a video (AVI)"),
    (((0, b"RIFF"), (8, b"WAVE")), "a sound file (WAV)"),
    (((0, b"ID3"),), "a sound file (MP3)"),
    (((0, b"\xff\xfb"),), "a sound file (MP3)"),
    (((0, b"\xff\xfa"),), "a sound file (MP3)"),
    (((0, b"\xff\xf3"),), "a sound file (MP3)"),
    (((0, b"\xff\xf2"),), "a sound file (MP3)"),
    (((0, b"fLaC"),), "a sound file (FLAC)"),
    (((0, b"OggS"),), "a sound file (Ogg)"),
    (((0, b"SQLite format 3\x00"),), "an SQLite database"),
    (((0, b"%PDF-"),), "a PDF document"),
    (((0, b"PK\x03\x04"),), "a ZIP archive (a Word .docx, say)"),
    (((0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),), "an Office document (an old Word .doc)"),
)


def binary_kind(raw: bytes) -> str | None:
    """What ``raw`` is when its first bytes are those of a picture, video, sound, run.db,
    PDF or Office file (`_MAGIC`), else None. Checked only of a file that is not UTF-8:
    `render photos/me.jpg` (or `--config movie.mp4`) said "not UTF-8 text; save the file
    as UTF-8", advice no picture can take."""
    for marks, kind in _MAGIC:
        if all(raw[at : at + len(magic)] == magic for at, magic in marks):
            return kind
    return None


def not_text(kind: str) -> str:
    """The words for a YAML file that is `binary_kind`'s `kind`."""
    return f"is {kind}, not a YAML text file; give the .yaml file (plain text, UTF-8)"


UTF16_TEXT = "saved as UTF-16 text (a NUL byte beside each letter); save the file as UTF-8"
UTF16_BROKEN = "not UTF-16 text, as its byte order mark says (cut short?); save the file as UTF-8"


def utf16_text(raw: bytes) -> str | None:
    """``raw`` decoded when it starts with a UTF-16 byte order mark, else None (raises
    UnicodeDecodeError when the rest is not UTF-16). Notepad's "Unicode" and Windows
    PowerShell 5's `>` and Out-File save it; YAML reads it (and .env is read so), yet
    goals.yaml, plan.yaml and config.yaml were refused as "not UTF-8 text"."""
    if raw.startswith(codecs.BOM_UTF32_LE):
        # (starts with UTF-16's mark too) read as UTF-16 it was "invalid character
        # '\x00'", with no word of the encoding: "not UTF-8 text" says what to do
        return None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    return None


def decoded(raw: bytes) -> str:
    """``raw`` as text: UTF-16 with its byte order mark (`utf16_text`), else UTF-8
    (raises UnicodeDecodeError). For a file already loaded once, whose errors were said."""
    text = utf16_text(raw)
    return raw.decode("utf-8") if text is None else text


def utf16_without_bom(raw: bytes) -> bool:
    """Whether ``raw`` reads like UTF-16 text with no byte-order mark: a NUL in every
    other byte (of the first 200), which no UTF-8 text has."""
    head = raw[:200]
    if len(head) < 4:
        return False
    return any(head[i::2].count(0) >= 0.9 * len(head[i::2]) for i in (0, 1))


#: control characters: a double-quoted escape writes them ("\\a", "\\e", "\\0", "\\x07",
#: "\\N") though the file may not hold them raw (the reader refuses those with their line);
#: no font draws one, so a card showed a box. Tab and newline are text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def without_control(text: str) -> str:
    """``text`` with each control character (`_CONTROL`) a space: for quoting a
    provider's words on a terminal, which obeys an escape sequence in them."""
    return _CONTROL.sub(" ", text)


def control_character(text: str) -> str | None:
    """The first control character (`_CONTROL`) in ``text``, or None: goals.yaml's
    rule, which plan.yaml and the planner's answer share (`plan.SceneText`)."""
    bad = _CONTROL.search(text)
    return None if bad is None else bad.group()


def control_problems(doc: YamlDoc, paths: Collection[str] = ()) -> list[Problem]:
    """Each text value of ``doc`` holding a control character (see ``_CONTROL``), with
    its line and field; not under a key in ``paths`` (file names, which are not drawn
    and are checked as files)."""
    problems: list[Problem] = []

    def walk(value: Any, loc: Loc) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                if key not in paths:
                    walk(sub, (*loc, key))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                walk(sub, (*loc, i))
        elif isinstance(value, str) and (bad := control_character(value)) is not None:
            problems.append(
                Problem(
                    doc.line_of(loc),
                    format_loc(loc),
                    # (only an escape can write one: the reader refuses it raw) "remove
                    # it" sent the person looking for a character their file does not show
                    f"invalid character {bad!r} (a control character, which no "
                    'font draws), written by a backslash escape inside " quotes (\\a, '
                    "\\b, \\e...): write a backslash as \\\\, or quote the text with ' "
                    "instead",
                )
            )

    walk(doc.data, ())
    return problems


def _quoted(text: str) -> str:
    """``text`` quoted as YAML reads it back whole, for a hint to copy: in " quotes, or
    in ' quotes when it holds a " or a backslash (`I "love" it #1` in " quotes was a
    quote closed early, `\\o/` an escape)."""
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    return "'" + text.replace("'", "''") + "'"


def hashtag_notes(path: Path, doc: YamlDoc) -> list[str]:
    """Notes of text YAML read as a comment, for the person who wrote ``path``
    (goals.yaml, a hand-edited plan.yaml). An optional field written `affirmation:
    #blessed` loads empty: YAML reads `#...` after a space as a comment. A comment with
    no space after its `#`, in the place of a value, reads like text (a hashtag, `#1 in
    my field`), so say so; `details: # todo` is a comment as meant and is not mentioned.
    So is one after words (`vision: Be #1 in my field` is "Be"): the rest of the line
    was dropped silently."""
    notes: list[str] = []
    for loc, comment in doc.comments.items():
        if not hashtag_like(comment):
            continue
        shown = _cut(comment)
        notes.append(
            f"{path}:{doc.line_of(loc)}: {format_loc(loc)}: YAML reads {shown!r} as a "
            f"comment, so this is left empty; to make it the text, quote it: {_quoted(shown)}"
        )
    for loc, (value, comment) in doc.cut.items():
        shown = _cut(comment)
        read = _cut(value, tail=True)
        notes.append(
            f"{path}:{doc.line_of(loc)}: {format_loc(loc)}: YAML reads {shown!r} as a "
            f"comment, so this is only {read!r}; to keep the whole line, quote it: "
            f"{_quoted(f'{read} {shown}')}"
        )
    return notes


def require_mapping(doc: YamlDoc, path: Path, error: type[SourceError], example: str) -> None:
    """The top level of our files is always ``key: value`` lines; say so if it isn't."""
    if doc.data is None:
        try:
            blank = os.path.getsize(path) == 0
        except OSError:
            blank = True
        # a file of comments (every line commented out) was said to be "empty", of a
        # file the person could see lines in
        said = "file is empty" if blank else "holds no keys, only comments or blank lines"
        raise error(path, None, None, f"{said}; expected keys like {example}")
    if not isinstance(doc.data, dict):
        raise error(
            path,
            doc.line_of(()),
            None,
            f"top level must be a mapping of keys like {example}, got {_describe(doc.data)}"
            + equals_for_colon(doc.data),
        )


def equals_for_colon(data: Any, show_value: bool = True) -> str:
    """'; write a key and its value with a colon and a space (`title: My film`), not
    with =' when a file's top level is one text that starts as `name=value` (`title=My
    film`): "got 'title=My film'" did not say what to write. '' otherwise. Without
    `show_value` the value is `...` (the config file's message shows none: it may be a
    key pasted)."""
    if not isinstance(data, str):
        return ""
    found = re.match(
        r"([A-Za-z_][\w-]*)[ \t]*=[ \t]*(\S[^=]*?)(?:[ \t]+[A-Za-z_][\w-]*[ \t]*=|$)", data
    )
    if found is None:
        return ""
    return (
        f"; write a key and its value with a colon and a space "
        f"(`{found[1]}: {found[2].strip() if show_value else '...'}`), not with ="
    )


# --- pydantic ValidationError -> problems -----------------------------------------------


def _unwrap(tp: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model whose fields live at ``loc`` (to list the keys allowed there)."""
    tp: Any = model
    for seg in loc:
        tp = _unwrap(tp)
        if isinstance(seg, int):
            if get_origin(tp) not in (list, tuple, Sequence) or not get_args(tp):
                return None
            tp = get_args(tp)[0]
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and seg in tp.model_fields:
            tp = tp.model_fields[seg].annotation
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _closest(key: str, allowed: Iterable[str]) -> str | None:
    allowed = list(allowed)
    if key not in allowed and key.lower() in allowed:
        # `VISION:` (caps lock): difflib, which tells case, found nothing like it, and
        # the error was "vision: field required" at the goal's line
        return key.lower()
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return close[0] if close else None


def misspelt(data: dict[Any, Any], allowed: Iterable[str], name: str) -> bool:
    """Whether the mapping `data` lacks the key `name` but holds an unknown key that is
    its likely misspelling (`Goals:`, `scene:`): that key's own error says it, not the
    "no goals" its absence would."""
    allowed = list(allowed)
    return name not in data and any(
        str(k) not in allowed and _closest(str(k), allowed) == name for k in data
    )


def unknown_key_message(key: str, allowed: Iterable[str]) -> str:
    """``unknown key 'visoin' (did you mean 'vision'?)`` -- typos are the usual cause."""
    allowed = list(allowed)
    close = _closest(key, allowed)
    said = repr(_key(key))
    if close and close == key.lower():
        return f"unknown key {said} (did you mean {close!r}? keys are lower case)"
    if close:
        return f"unknown key {said} (did you mean {close!r}?)"
    if allowed:
        return f"unknown key {said} (allowed here: {', '.join(allowed)})"
    return f"unknown key {said}"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        from mindmovie.config import key_shaped

        if key_shaped(value):  # (an Ark key, a UUID: no shape of its own to hide by)
            return "text shaped as a key (not shown: keys belong in the environment)"
    return _cut(repr(value))


def _allowed(model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    """' (allowed: at least 1, at most 6)' for a number field with bounds, else ''."""
    parent = _model_at(model, loc[:-1]) if loc and isinstance(loc[-1], str) else None
    spec = parent.model_fields.get(str(loc[-1])) if parent is not None else None
    if spec is None:
        return ""
    words = {"gt": "more than", "ge": "at least", "lt": "less than", "le": "at most"}
    said = [
        f"{w} {getattr(m, k)}"
        for m in spec.metadata
        for k, w in words.items()
        if getattr(m, k, None) is not None
    ]
    return f" (allowed: {', '.join(said)})" if said else ""


#: a pattern as a person reads it (plan.yaml's scene id said "does not match the
#: pattern ^[a-z0-9][a-z0-9-]*$")
_PATTERN_WORDS = {
    r"^[a-z0-9][a-z0-9-]*$": (
        "lower-case letters, digits and dashes, first a letter or digit (a folder name, "
        "e.g. 01-health-1)"
    ),
}


def _one_text(loc: tuple[str | int, ...], value: Any) -> str:
    """'; write it as one text: feelings: alive, proud' for a list of words where text
    goes (`feelings: [alive, proud]`, `actions:` written as `- run` lines, natural for a
    list of things): "must be text, got a list" said what was wrong, not how to write
    it. The first three items; quoted when YAML would not read the line as text."""
    if not isinstance(value, list) or not value or not loc or not isinstance(loc[-1], str):
        return ""
    if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
        return ""
    text = ", ".join(str(v).strip() for v in value[:3]) + (", ..." if len(value) > 3 else "")
    if re.search(r": |\s#|^[\[\]{}&*!|>'\"%@`,?:-]", text):
        text = json.dumps(text, ensure_ascii=False)
    return f"; write it as one text: {loc[-1]}: {text}"


def _friendly(err: Any, model: type[BaseModel]) -> str:
    kind: str = err["type"]
    loc: tuple[str | int, ...] = tuple(err["loc"])
    value = err.get("input")
    ctx: dict[str, Any] = err.get("ctx") or {}
    got = _describe(value)
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        return unknown_key_message(str(loc[-1]), parent.model_fields if parent else ())
    if value is None and kind.endswith("_type") and loc and isinstance(loc[-1], int):
        # a list item of no value (`-` with nothing after it, `[~]`): "write one after
        # the colon" named a colon that is not there
        return "has no value (an empty item: nothing, ~ or null); write it (or remove the item)"
    if value is None and kind.endswith("_type"):
        parent = _model_at(model, loc[:-1]) if loc and isinstance(loc[-1], str) else None
        spec = parent.model_fields.get(str(loc[-1])) if parent is not None else None
        if spec is not None and spec.is_required():  # removing it is no way out
            return "has no value; write one after the colon"
        return "has no value; write one after the colon (or remove the line)"
    if kind == "string_type":
        return f"must be text, got {got}{_one_text(loc, value)}"
    if kind in ("int_parsing", "int_type", "int_from_float", "int_parsing_size"):
        return f"must be a whole number, got {got}{_allowed(model, loc)}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"must be a number, got {got}{_allowed(model, loc)}"
    bounds = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds and isinstance(value, str) and value.strip(" +-").lower() == "nan":
        # pydantic reads "nan" as a float, which fails every bound: "must be at most 60"
        return f"must be a number, got {got}{_allowed(model, loc)}"
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}, got {got}{_allowed(model, loc)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        n = int(ctx.get("max_length", 0))
        return (
            f"must be at most {n} characters, got {len(value) if isinstance(value, str) else got}"
        )
    if kind == "too_short":
        n = int(ctx.get("min_length", 1))
        return f"must have at least {plural(n, 'item')}"
    if kind == "too_long":
        n = int(ctx.get("max_length", 0))
        if isinstance(value, str):  # a length checked after a validator (NonBlank's)
            return f"must be at most {n} characters, got {len(value)}"
        # "goals: must have at most 30 goals, got 31": the field names what it holds
        noun = str(loc[-1]).replace("_", " ") if loc and isinstance(loc[-1], str) else ""
        what = f"{n} {noun}" if noun.endswith("s") and n != 1 else plural(n, "item")
        return f"must have at most {what}" + (
            f", got {len(value)}" if isinstance(value, list) else ""
        )
    if kind == "string_pattern_mismatch":
        if shape := _PATTERN_WORDS.get(str(ctx.get("pattern"))):
            return f"must be {shape}, got {got}"
        return f"{got} does not match the pattern {ctx.get('pattern')}"
    if kind == "list_type":
        return f"must be a list, got {got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of key: value lines, got {got}"
    if kind == "path_type":
        return f"must be a file path, got {got}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def problems_from_validation(
    exc: ValidationError, doc: YamlDoc, model: type[BaseModel]
) -> list[Problem]:
    """Map each pydantic error to (line, dotted field, message).

    The line is that of the error's own key or list item if it exists in the file (wrong
    type, unknown key), else of the nearest ancestor (a missing field: its parent mapping).
    A missing field is not reported when an unknown key beside it is its likely misspelling.
    """
    errors = exc.errors()
    # A misspelt key also makes the real one "missing"; the typo alone says it better.
    implied: set[Loc] = set()
    for err in errors:
        if err["type"] == "extra_forbidden" and err["loc"]:
            parent = _model_at(model, err["loc"][:-1])
            close = _closest(str(err["loc"][-1]), parent.model_fields) if parent else None
            if close:
                implied.add((*err["loc"][:-1], close))
    out: list[Problem] = []
    for err in errors:
        loc = tuple(seg for seg in err["loc"] if isinstance(seg, (str, int)))
        if err["type"] == "missing" and loc in implied:
            continue
        message = _friendly(err, model)
        if (comment := doc.comments.get(loc)) and message.startswith("has no value"):
            # `vision: #1 in my field` said "write one after the colon": one was written
            shown = _cut(comment)
            message = (
                f"has no value: YAML reads {shown!r} as a comment; to make it the text, "
                f"quote it: {_quoted(shown)}"
            )
        out.append(Problem(doc.line_of(loc), format_loc(loc), message))
    return out


def validate(model: type[M], doc: YamlDoc) -> tuple[M | None, list[Problem]]:
    """Validate ``doc.data`` as ``model``; problems carry line numbers instead of raising."""
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, problems_from_validation(exc, doc, model)
