"""Sprig's text functions, assembled from their modules (Masterminds/sprig v3 semantics).

Left out on purpose: ``env``/``expandenv`` (the operator's environment), network and
path functions, ``genPrivateKey`` and the certificate generators (too expensive for a
tenant to call in a loop), ``bcrypt``/``htpasswd``, ``semver``, ``derivePassword``,
``encryptAES``/``decryptAES``, ``typeOf`` and friends, ``urlParse``/``urlJoin``.
Sprig's ``slice`` is shadowed by Go's builtin ``slice``.
"""

from __future__ import annotations

from secretsync.gotemplate.funcs.spec import Table
from secretsync.gotemplate.funcs.sprig_dates import DATES
from secretsync.gotemplate.funcs.sprig_encoding import ENCODING
from secretsync.gotemplate.funcs.sprig_lists import LISTS
from secretsync.gotemplate.funcs.sprig_math import MATH
from secretsync.gotemplate.funcs.sprig_regex import REGEX
from secretsync.gotemplate.funcs.sprig_strings import STRINGS

SPRIG: Table = {**STRINGS, **LISTS, **MATH, **ENCODING, **REGEX, **DATES}
