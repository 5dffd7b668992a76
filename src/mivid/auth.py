"""Credentials: a JWT signed from access + secret key, or a static API key; and redaction.

Nothing here prints; `describe()` gives a redacted form for `--verbose` and
`config show`. The JWT follows the contract to the letter: HS256, `iss` =
access key, `exp` = now + 1800 s, `nbf` = now − 5 s, Unix seconds.

`Secrets` holds every credential string a run knows (the keys, each token
minted and its three parts): `Output` cuts them out of everything it prints,
and the client out of what the service says, so a server that echoes the
Authorization header gets nothing printed.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from mivid import hints
from mivid.errors import CredentialsError
from mivid.settings import Resolved, Settings, Source

TOKEN_LIFETIME = 1800
NOT_BEFORE_SKEW = 5
# A cached token is replaced this long before it expires, so a slow upload
# never arrives with a token that ran out on the way.
REFRESH_MARGIN = 300


def missing_credentials_hint() -> str:
    """What to do without keys: the variables, the config command, or the sandbox."""
    return (
        "set KLING_ACCESS_KEY and KLING_SECRET_KEY (or KLING_API_KEY), "
        f"or store them with `{hints.config_command('set', 'access-key', '-')}`; "
        "try everything offline with `mivid --sandbox …`"
    )


def redact(secret: str) -> str:
    """Enough of a secret to tell keys apart, never enough to use one."""
    # Kling's keys are 32 characters: six of them tell two keys apart. A short
    # key (a gateway's, a test's) shows two, so nobody can narrow it down much.
    if len(secret) < 12:
        return "****"
    if len(secret) < 24:
        return f"{secret[:2]}…"
    return f"{secret[:4]}…{secret[-2:]}"


#: Shorter strings are not cut out of text: they would garble words, and guard nothing real.
SHORTEST_SECRET = 6
#: A JWT (base64url JSON header and claims, and a signature): whoever minted it, never printed.
#: What is cut out is what `eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`
#: matches, found without that regex: it retries from every `eyJ` to the end of the run, so
#: `eyJ` repeated took quadratic time (510 KB of a service's message: five minutes). See
#: `_jwt_spans`.
_JWT_RUN = re.compile(r"[A-Za-z0-9_.-]+")
#: The shortest header or claims part ("eyJ" and 8 more), and signature.
_JWT_PART = 11
_JWT_SIGNATURE = 16


#: A secret at least this long is also cut out where only part of it is shown (a copy split by a
#: space, cut short): any run of `WINDOW` of its characters. Kling's keys are 32 characters.
WINDOWED_SECRET = 24
WINDOW = 12
#: Comparisons of forms at needles' hits before a text is searched with the pattern instead:
#: a megabyte of `a` against a key of 32 `a` is 30 million of them (30 s), 2.6 s for the pattern.
ANCHORED_COMPARISONS = 200_000
#: Letters the pattern takes for another in any case, lower-cased to that one first: `İ`
#: (whose lower case, two characters, would shift every later position: the regions
#: around needles' hits could not be found, and a 15 MB answer was searched whole), the
#: dotless `ı` and the long `ſ` (an `i` and an `s` to the pattern, not to lower()).
_FOLDED = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})
#: A secret at least this long is also looked for as Base64 (of it, of `Bearer <it>`, inside any
#: longer Base64): shorter ones would leave too few characters to tell them from chance.
ENCODED_SECRET = 12


class Secrets:
    """The credential strings of a run, to cut out of any text before it is printed.

    Values are added as they become known (`add`): the keys when the settings
    are read, each JWT (and its three dot-separated parts) as it is minted.
    A server may echo one transformed, so each is also cut out in any letter
    case, URL-encoded, as Base64 (however it sits in a longer Base64 text, so
    `Bearer <key>` encoded too), and for a long key, any 12 characters of it.
    A JWT is cut out plain and as Base64 (of it, of `Bearer <it>`, of its signature).
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._checked: set[str] = set()  # the forms but the runs (their blocks stand for them)
        self._windowed: set[str] = set()  # the values whose runs are cut out too
        # What `scrub` searches with, made anew by each `add` and swapped in whole: a thread
        # scrubbing while another adds a fresh token reads one or the other, never a mix.
        self._search = _Search.of(set(), set(), set(), set())
        self._adding = threading.Lock()
        self._revealing = False
        self._escapable = False  # a secret holds a character JSON text escapes
        self._later: Callable[[], list[str]] | None = None

    def add_later(self, values: Callable[[], list[str]]) -> None:
        """Values to cut out, read when a text is first scrubbed (not at all by a run that
        prints nothing): the configured keys, for commands that send nothing."""
        self._later = values

    @contextmanager
    def revealed(self) -> Iterator[None]:
        """Print secrets as they are while inside (`config get KEY --reveal`, asked for)."""
        self._revealing = True
        try:
            yield
        finally:
            self._revealing = False

    def add(self, *values: str | None, derived: bool = True, encoded: bool = False) -> None:
        """Values to cut out; `derived`: their transformed copies too (a key's: in any case,
        URL-encoded, as Base64, runs of it); else `encoded`: as Base64 too (a JWT's and its
        parts': its shape gives a plain copy away but not an encoded one, and its runs are
        left alone, as a JWT is minted afresh every half hour and its header is in every one)."""
        with self._adding:
            fresh = False
            for value in values:
                for variant in (value, value.strip()) if value else ():
                    if len(variant) >= SHORTEST_SECRET and variant not in self._values:
                        self._values.add(variant)
                        self._escapable |= any(ch in '"\\' or ch < " " for ch in variant)
                        if derived:
                            self._forms.update(_forms(variant))
                            self._checked.update(_forms(variant, windows=False))
                            self._windowed.add(variant)
                        else:
                            own = _forms(variant, windows=False) if encoded else {variant}
                            self._forms.update(own)
                            self._checked.update(own)
                        fresh = True
            if fresh:
                self._search = _Search.of(self._values, self._forms, self._checked, self._windowed)

    def add_token(self, token: str) -> None:
        """A bearer token, and each part of it when it is a JWT."""
        parts = token.split(".")
        if len(parts) == 3:  # a JWT: whole, and each part
            # As Base64 too, the token (so `Bearer <token>` too: `_forms` finds it inside any
            # longer Base64 text) and its signature; the header is in every JWT, and the
            # claims hold only the access key, cut out in every form already.
            self.add(token, parts[2], derived=False, encoded=True)
            self.add(parts[0], parts[1], derived=False)
        else:  # a static key: in every form a server may echo it
            self.add(token)

    @property
    def _pattern(self) -> re.Pattern[str] | None:
        """Every form in one pattern (`_Search.pattern`)."""
        return self._search.pattern()

    def scrub_data(self, value: Any) -> Any:
        """`value` (parsed JSON) with every string in it, keys too, scrubbed (`scrub`).

        Its JSON text, written without escapes but for quotes, backslashes and control
        characters, holds each string as it is: when nothing is found there (no known
        secret holds one of those), no string holds a secret, and `value` is kept.
        """
        if not self._revealing:
            import json

            text = json.dumps(value, ensure_ascii=False)
            if self._escapable or self.scrub(text) is not text:
                return _scrubbed_strings(value, self.scrub)
        return value

    def scrub(self, text: str) -> str:
        """`text` with every known secret, and anything shaped like a JWT, redacted (`redact`)."""
        if self._revealing:
            return text
        if self._later is not None:
            later, self._later = self._later, None
            self.add(*later())
        # Shapes first: a token cut short (a gateway's log) is no known form, and once its
        # header and claims were cut out as forms, its signature no longer looked like one.
        if "eyJ" in text:
            text = _redacted(text, _jwt_spans(text))
        search = self._search
        if search.needles:
            lowered = text.lower() if text.isascii() else text.translate(_FOLDED).lower()
            # Plain substring tests are a hundred times quicker than the pattern on a long text.
            if any(form in lowered for form in search.needles):
                found = (
                    _anchored(search.anchors, lowered)
                    if search.ascii and len(lowered) == len(text)
                    else None  # a secret not ASCII: the pattern's case folding beyond lower()
                )
                if found is not None:
                    text = _redacted(text, _merged(sorted(found)), search.whole)
                elif (pattern := search.pattern()) is not None:
                    regions = _regions(search.needles, text, lowered, search.longest)
                    text = _cut(text, pattern, regions, search.whole)
        return text


class _Search:
    """What `Secrets.scrub` looks for, made from the forms once, never changed after."""

    def __init__(
        self,
        needles: list[str],
        anchors: dict[str, list[tuple[str, int]]],
        alternatives: str,
        longest: int,
        ascii_only: bool,
        whole: frozenset[str],
    ) -> None:
        self.needles = needles  # the quick test before anything else (lower case)
        # Each needle's forms (lower case) and where in them it sits: a text is searched by
        # comparing those forms at each hit (`_anchored`), not by the pattern.
        self.anchors = anchors
        self.alternatives = alternatives  # every form, the longest first: the pattern's
        self.longest = longest  # the longest form: how far from a needle a match can reach
        self.ascii = ascii_only  # every form ASCII: lower case means the same to the pattern
        self.whole = whole  # the secrets themselves (lower case): labelled with a few characters
        self._compiled: re.Pattern[str] | None = None

    @classmethod
    def of(
        cls, values: set[str], forms: set[str], checked: set[str], windowed: set[str]
    ) -> _Search:
        # The longest first: a whole token before the parts it holds, a whole key before
        # a run of it. One pattern, any letter case (an echo upper-cased is still the key).
        ordered = sorted(forms, key=len, reverse=True)
        # A run of WINDOW characters always holds one of the key's aligned blocks of
        # WINDOW // 2, so checking those blocks (and the other forms) finds every match.
        needles = _fewest(
            {form.lower() for form in checked}
            | {
                block.lower()
                for value in windowed
                if len(value) >= WINDOWED_SECRET
                for block in _blocks(value, WINDOW // 2)
            }
        )
        lowered_forms = {form.lower() for form in forms}
        anchors = {
            needle: [(form, offset) for form in lowered_forms for offset in _offsets(form, needle)]
            for needle in needles
        }
        return cls(
            needles,
            anchors,
            "|".join(map(re.escape, ordered)),
            len(ordered[0]) if ordered else 0,
            all(form.isascii() for form in forms),
            frozenset(value.lower() for value in values),
        )

    def pattern(self) -> re.Pattern[str] | None:
        """Every form in one pattern, compiled when first wanted: a text seldom needs it
        (`_anchored`), and compiling it took 8 ms of every run's start (a token's forms too,
        so twice)."""
        if self._compiled is None and self.alternatives:
            # A lookahead finds every match, overlapping ones too: runs that overlap are cut
            # out as one (a key split in two leaves no tail of it shown).
            self._compiled = re.compile(f"(?=({self.alternatives}))", re.IGNORECASE)
        return self._compiled


def _scrubbed_strings(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(key): _scrubbed_strings(item, scrub) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed_strings(item, scrub) for item in value]
    return value


def _jwt_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` holds something shaped like a JWT: the stretches, leftmost first and not
    overlapping, that `re.sub` with the regex in `_JWT_RUN`'s comment would replace.

    Each part of that shape is a run of `[A-Za-z0-9_-]`, so a match lies in one run of those
    characters and dots, and spans three consecutive dot-separated segments a.b.c of it: the
    tail of `a` from its first `eyJ` (the leftmost start), all of `b` (it follows a dot, so it
    starts with `eyJ`), all of `c` (the last part is greedy and stops only at a dot or the
    run's end). After a match the search resumes past `c`, so the next can begin only in the
    segment after it. Each segment is looked at a bounded number of times: linear.
    """
    spans: list[tuple[int, int]] = []
    for run in _JWT_RUN.finditer(text):
        word = run.group()
        if "eyJ" not in word or word.count(".") < 2:
            continue
        segments = word.split(".")
        starts = [run.start()]
        for segment in segments[:-1]:
            starts.append(starts[-1] + len(segment) + 1)
        index = 0
        while index + 2 < len(segments):
            first, claims, signature = segments[index : index + 3]
            begin = first.find("eyJ")
            if (
                begin != -1
                and len(first) - begin >= _JWT_PART
                and claims.startswith("eyJ")
                and len(claims) >= _JWT_PART
                and len(signature) >= _JWT_SIGNATURE
            ):
                spans.append((starts[index] + begin, starts[index + 2] + len(signature)))
                index += 3
            else:
                index += 1
    return spans


def _redacted(text: str, spans: list[tuple[int, int]], whole: frozenset[str] | None = None) -> str:
    """`text` with each of `spans` (in order, not overlapping) redacted; with `whole` (known
    secrets, lower case), a stretch that is not one of them is shown as `[…]` alone.

    A label shows a secret's first four and last two characters, to tell keys apart: shown
    for every piece of a key a server echoes in overlapping runs, they would spell it.
    """
    if not spans:
        return text
    pieces: list[str] = []
    done = 0
    for start, end in spans:
        stretch = text[start:end]
        shown = redact(stretch) if whole is None or stretch.lower() in whole else "…"
        pieces += [text[done:start], f"[{shown}]"]
        done = end
    return "".join(pieces) + text[done:]


def _cut(
    text: str,
    pattern: re.Pattern[str],
    regions: list[tuple[int, int]],
    whole: frozenset[str] | None = None,
) -> str:
    """`text` with every stretch `pattern` matches in `regions` (overlapping matches merged)
    redacted."""
    # Regions are in order and apart, and matches come in order within one: merged as
    # they come (a key repeated over megabytes matches at every character of them).
    found = (match.span(1) for low, high in regions for match in pattern.finditer(text, low, high))
    return _redacted(text, _merged(found), whole)


def _merged(found: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The stretches `found`, in order of their starts, overlapping or touching ones joined
    (as they come: `found` may be a generator of millions)."""
    spans: list[list[int]] = []
    for start, end in found:
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [(start, end) for start, end in spans]


def _anchored(
    anchors: dict[str, list[tuple[str, int]]], lowered: str, budget: int = ANCHORED_COMPARISONS
) -> list[tuple[int, int]] | None:
    """Where in `lowered` each form occurs, found from its needles' hits: a form holding a
    needle at `offset` can start only `offset` before a hit, so one comparison a form says.
    None past `budget` comparisons: the pattern is quicker on a text dense with hits.

    What the pattern finds in the regions around the hits, without running it: its lookahead
    tries every form at every position of a region (a 12-character run of a key is one of 26
    forms), 250 µs an answer once a key's block occurs in it (`sandbo` in a sandbox's URL).
    """
    found: list[tuple[int, int]] = []
    for needle, forms in anchors.items():
        hit = lowered.find(needle)
        while hit != -1:
            budget -= len(forms)
            if budget < 0:
                return None
            for form, offset in forms:
                start = hit - offset
                if start >= 0 and lowered.startswith(form, start):
                    found.append((start, start + len(form)))
            hit = lowered.find(needle, hit + 1)
    return found


def _offsets(text: str, needle: str) -> list[int]:
    """Every place `needle` occurs in `text`, overlapping ones too."""
    offsets = []
    at = text.find(needle)
    while at != -1:
        offsets.append(at)
        at = text.find(needle, at + 1)
    return offsets


def _regions(needles: list[str], text: str, lowered: str, reach: int) -> list[tuple[int, int]]:
    """Where in `text` a secret's form can be: within `reach` of a needle found in `lowered`.

    Every form holds one of the needles (itself, or for a long key one of its blocks), so
    the pattern needs to run only there: a page of 500 tasks in which a key's block of 6
    happens to occur (`sandbo` of a key named sandbox-…, beside `"sandbox": false`) is
    searched around those 500 places, not along its 700,000 characters.
    """
    if len(lowered) != len(text):  # a character whose lower case is longer: search it all
        return [(0, len(text))]
    hits: list[tuple[int, int]] = []
    for needle in needles:
        start = lowered.find(needle)
        while start != -1:
            hits.append((max(0, start - reach), start + len(needle) + reach))
            start = lowered.find(needle, start + 1)
    hits.sort()
    merged: list[tuple[int, int]] = []
    for low, high in hits:
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _fewest(needles: set[str]) -> list[str]:
    """The needles that hold no other: where a longer one occurs, a shorter one it holds does
    too, so the quick test (and the regions around each hit) find the same with fewer scans.

    Every answer of the service is scanned once per needle: a key's whole forms hold its
    blocks, the whole JWT its parts, so about half the scans are saved on every page.
    """
    return sorted(
        needle
        for needle in needles
        if not any(other != needle and other in needle for other in needles)
    )


def _blocks(value: str, size: int) -> list[str]:
    return [value[start : start + size] for start in range(0, len(value) - size + 1, size)]


def _forms(secret: str, *, windows: bool = True) -> set[str]:
    """The secret as a server may echo it: itself, URL-encoded, as Base64, runs of it."""
    import base64
    from urllib.parse import quote

    forms = {secret, quote(secret, safe=""), quote(secret)}
    if len(secret) >= ENCODED_SECRET:
        raw = secret.encode()
        for offset in range(3):
            # Base64 of the secret behind `offset` other bytes: the characters that depend
            # only on the secret's own bytes are the same whatever comes before or after.
            encoded = base64.b64encode(b"\0" * offset + raw).decode().rstrip("=")
            first = (offset * 4 + 2) // 3  # the first character free of the bytes before
            end = ((offset + len(raw)) * 4) // 3  # past the last free of the bytes after
            core = encoded[first:end]
            if len(core) >= ENCODED_SECRET:
                forms.update({core, core.replace("+", "-").replace("/", "_")})
    if windows and len(secret) >= WINDOWED_SECRET:
        forms.update(secret[start : start + WINDOW] for start in range(len(secret) - WINDOW + 1))
    return forms


class Credentials(Protocol):
    def authorization(self) -> str:
        """The value of the Authorization header."""
        ...

    def renew(self) -> bool:
        """Mint a fresh credential; False when there is nothing to renew."""
        ...

    def describe(self) -> str:
        """A redacted, printable description."""
        ...

    @property
    def secrets(self) -> Secrets:
        """Every secret string these credentials hold or made (see `Secrets`)."""
        ...


@dataclass
class JwtCredentials:
    access_key: str
    secret_key: str = field(repr=False)
    clock: Callable[[], float] = time.time
    secrets: Secrets = field(default_factory=Secrets, repr=False)
    _token: str | None = field(default=None, repr=False)
    _expires: float = 0.0

    def __post_init__(self) -> None:
        self.secrets.add(self.access_key, self.secret_key)

    def token(self) -> str:
        now = self.clock()
        if self._token is None or now >= self._expires - REFRESH_MARGIN:
            self._mint(now)
        assert self._token is not None
        return self._token

    def _mint(self, now: float) -> None:
        import jwt

        issued = int(now)
        claims = {
            "iss": self.access_key,
            "exp": issued + TOKEN_LIFETIME,
            "nbf": issued - NOT_BEFORE_SKEW,
        }
        with warnings.catch_warnings():
            # PyJWT warns about HMAC keys under 32 bytes; the key is the vendor's
            # to choose, and a warning on every run would only be noise.
            warnings.simplefilter("ignore")
            self._token = jwt.encode(
                claims, self.secret_key, algorithm="HS256", headers={"alg": "HS256", "typ": "JWT"}
            )
        self._expires = issued + TOKEN_LIFETIME
        self.secrets.add_token(self._token)

    def authorization(self) -> str:
        return f"Bearer {self.token()}"

    def renew(self) -> bool:
        self._mint(self.clock())
        return True

    def describe(self) -> str:
        return f"JWT for access key {redact(self.access_key)}"


@dataclass
class ApiKeyCredentials:
    api_key: str = field(repr=False)
    secrets: Secrets = field(default_factory=Secrets, repr=False)

    def __post_init__(self) -> None:
        self.secrets.add_token(self.api_key)

    def authorization(self) -> str:
        return f"Bearer {self.api_key}"

    def renew(self) -> bool:
        return False

    def describe(self) -> str:
        return f"API key {redact(self.api_key)}"


_RANK = {Source.FLAG: 0, Source.ENVIRONMENT: 1, Source.CONFIG: 2, Source.DEFAULT: 3}
# What an HTTP header can carry as a token: visible ASCII, no spaces.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


def _trimmed(resolved: Resolved) -> Resolved:
    """A key as pasted, without the newline or spaces a copy often brings along."""
    if resolved.value is None or resolved.value == resolved.value.strip():
        return resolved
    return replace(resolved, value=resolved.value.strip() or None)


def _where(resolved: Resolved) -> str:
    if resolved.source is Source.ENVIRONMENT:
        return f"${resolved.detail}"
    if resolved.source is Source.CONFIG:
        return f"{resolved.key} ({resolved.detail})"
    return resolved.detail or resolved.key


def credentials_from_settings(settings: Settings, secrets: Secrets | None = None) -> Credentials:
    """Pick the credential the user meant.

    Access + secret key make a JWT; an API key is sent as is. When both kinds
    are set, the one from the more specific place wins (environment over the
    config file), and on a tie the JWT pair, the contract's primary scheme.
    """
    access, secret, api_key = (
        _trimmed(settings.values[name]) for name in ("access-key", "secret-key", "api-key")
    )
    pair_rank: int | None = None
    if access.value and secret.value and access.source and secret.source:
        pair_rank = max(_RANK[access.source], _RANK[secret.source])
    key_rank = _RANK[api_key.source] if api_key.value and api_key.source else None

    if pair_rank is not None and (key_rank is None or pair_rank <= key_rank):
        assert access.value and secret.value
        return JwtCredentials(access.value, secret.value, secrets=secrets or Secrets())
    if key_rank is not None:
        assert api_key.value
        if not _HEADER_SAFE.fullmatch(api_key.value):
            # httpx would refuse the header and quote it, key and all, in its error.
            raise CredentialsError(
                f"{_where(api_key)} contains spaces, control or non-ASCII characters, "
                "so it cannot be sent as a bearer token (the key itself is not shown)",
                hint="copy the key again from the Kling console: "
                + hints.config_command("set", "api-key", "-"),
            )
        return ApiKeyCredentials(api_key.value, secrets=secrets or Secrets())
    if access.value or secret.value:
        # Name the place the one key came from, and the variable for the other.
        have, missing, name = (
            (_where(access), "KLING_SECRET_KEY (or secret-key in the config file)", "secret-key")
            if access.value
            else (
                _where(secret),
                "KLING_ACCESS_KEY (or access-key in the config file)",
                "access-key",
            )
        )
        raise CredentialsError(
            f"{have} is set but {missing} is not: both are needed to sign a token "
            "(or set KLING_API_KEY instead)",
            # The one that is missing: offering to store the one already set went round in a loop.
            hint=f"store the {name.replace('-', ' ')}: {hints.config_command('set', name, '-')}",
        )
    raise CredentialsError(
        # Where mivid looked; the hint says what to set (it said the same thing twice).
        "no credentials: no key in the flags, the environment or the config file",
        hint=missing_credentials_hint(),
    )
