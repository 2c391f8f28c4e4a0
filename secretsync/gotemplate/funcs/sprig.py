"""Sprig's text functions, assembled from their modules (Masterminds/sprig v3.3.0 semantics).

Every name of Sprig's ``TxtFuncMap`` is here except three, refused at parse time with
kind ``not supported`` (see :mod:`secretsync.gotemplate.refused`): ``env`` and
``expandenv`` (the operator's environment) and ``getHostByName`` (DNS from the operator).
ESO and Bitnami remove the same three. Sprig's ``slice`` is shadowed by Go's builtin.
The expensive ones (key generation, bcrypt, scrypt) are admitted by the render budget.
"""

from __future__ import annotations

from secretsync.gotemplate.funcs.semver import SEMVER
from secretsync.gotemplate.funcs.spec import Table
from secretsync.gotemplate.funcs.sprig_crypto import CRYPTO
from secretsync.gotemplate.funcs.sprig_dates import DATES
from secretsync.gotemplate.funcs.sprig_encoding import ENCODING
from secretsync.gotemplate.funcs.sprig_lists import LISTS
from secretsync.gotemplate.funcs.sprig_math import MATH
from secretsync.gotemplate.funcs.sprig_misc import MISC
from secretsync.gotemplate.funcs.sprig_regex import REGEX
from secretsync.gotemplate.funcs.sprig_strings import STRINGS

SPRIG: Table = {**STRINGS, **LISTS, **MATH, **ENCODING, **REGEX, **DATES, **MISC, **SEMVER, **CRYPTO}
