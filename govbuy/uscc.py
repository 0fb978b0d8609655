"""The unified social credit code (统一社会信用代码, GB 32100-2015) every organisation carries.

Pure rules: normalisation, the check character, and a validation that says exactly what is
wrong and where. Bureaus, vendors and evaluators all have one, so the kernel owns it; the vendor
type encoded in the first two characters is the vendors domain's (vendors.rules.vendor_type).
"""

from __future__ import annotations

from govbuy.rules import RuleViolation

USCC_LENGTH = 18
# GB 32100-2015 leaves out I, O, S, V and Z so that they are never mistaken for 1, 0, 5, U, 2.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUES = {char: value for value, char in enumerate(USCC_ALPHABET)}
_USCC_ALPHABET_TEXT = "0-9 and A-H, J-N, P-R, T, U, W-Y (never I, O, S, V or Z)"


def _invalid_uscc(detail: str) -> RuleViolation:
    return RuleViolation("invalid_uscc", detail, errors=[{"field": "uscc", "message": detail}])


def normalise_uscc(raw: str) -> str:
    """The code as it is stored and compared: surrounding whitespace removed, upper case.

    Codes are copied from paper licences and typed in lower case often enough that refusing
    either would only produce support calls; inner characters are left for validation to judge.
    """
    if not isinstance(raw, str):
        raise _invalid_uscc(f"a USCC must be a string, not {type(raw).__name__}")
    return raw.strip().upper()


def _first_disallowed_character(code: str) -> tuple[int, str] | None:
    for position, char in enumerate(code, start=1):
        if char not in _USCC_VALUES:
            return position, char
    return None


def _disallowed_character_detail(position: int, char: str) -> str:
    return (
        f"character {char!r} at position {position} is not allowed in a USCC; "
        f"allowed are {_USCC_ALPHABET_TEXT}"
    )


def _check_character(first17: str) -> str:
    total = sum(_USCC_VALUES[char] * weight for char, weight in zip(first17, USCC_WEIGHTS))
    # 31 − (sum mod 31) lies in 1..31; 31 has no character of its own and is written as 0.
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_check_character(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a USCC."""
    code = normalise_uscc(first17)
    if len(code) != USCC_LENGTH - 1:
        raise _invalid_uscc(
            f"the check character is computed from 17 characters; found {len(code)}"
        )
    bad = _first_disallowed_character(code)
    if bad is not None:
        raise _invalid_uscc(_disallowed_character_detail(*bad))
    return _check_character(code)


def make_uscc(prefix17: str) -> str:
    """A valid USCC from its first 17 characters (for tests, demo and seed data)."""
    code = normalise_uscc(prefix17)
    return code + uscc_check_character(code)


def validate_uscc(raw: str) -> str:
    """The normalised code, or `invalid_uscc` saying exactly what is wrong and where."""
    code = normalise_uscc(raw)
    if len(code) != USCC_LENGTH:
        raise _invalid_uscc(f"a USCC has {USCC_LENGTH} characters; found {len(code)}")
    bad = _first_disallowed_character(code)
    if bad is not None:
        raise _invalid_uscc(_disallowed_character_detail(*bad))
    expected = _check_character(code[:17])
    if code[17] != expected:
        raise _invalid_uscc(
            f"check character at position 18 is {code[17]!r} but {expected!r} was expected"
        )
    return code
