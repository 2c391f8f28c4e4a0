"""Mutation survivors in Sprig's certificate and bcrypt functions (sprig_crypto.py).

Expected values are Sprig v3.3.0's (crypto.go: getBaseCertTemplate gives every certificate
KeyUsage DigitalSignature|KeyEncipherment, CertSign too for genCA, a random serial below 2**128
and NotAfter = now + 24h * days) on Go's crypto/x509 (signingParamsForPublicKey: P-521 signs
with SHA-512; only RSA, ECDSA and Ed25519 keys sign; net.ParseIP takes no zone; an empty subject
makes the SAN extension critical) and golang.org/x/crypto/bcrypt. Our own bounds: the render
budget's cost of a signature (5 ms, 40 ms past 4096 bits), the days limit where Go's
time.Duration overflows, and how libcrypt's crypt_rn is found and loaded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import functools
import secrets
import types
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.x509.name import _ASN1Type

from secretsync.gotemplate import Limits, TemplateError
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import sprig_crypto
from secretsync.gotemplate.funcs.sprig_crypto import bcrypt_check, crypt
from secretsync.gotemplate.limits import Budget
from tests.gotemplate.cases_crypto import F
from tests.gotemplate.test_crypto import _cert, run
from tests.gotemplate.test_mutation_funcsB import fails

_RSA_512 = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIBOgIBAAJBALIz+gthTwVfPmjVFATmaCO5M4sG1YRUI2JRWZkCjCEN5SsuWwyf\n"
    "xfSjNJj1rAV9uwgDKSH9/hN2uxXc+rJ4ULkCAwEAAQJALfpFIFyJ89vgEVIwqRb9\n"
    "dYIaL1ujCVJgEsTkdhr3JqutwCgQZHhI+Kyzt7HlxgXBdV7daPujeOEgZpENgLG2\n"
    "EQIhAOENz8rz7Wf9A4wdUmk55QmWl46YIVzEPniRU5Spymm9AiEAyrTz2Uol/6li\n"
    "wnjbmrqWHLEjne6hzgo35Gm3ltlCDK0CIQCTVfB4pPMCxjDBVRzzyLQ6b71u3AfT\n"
    "bKKdWj8Gr5XVXQIgZ8hxuOR/w//jcpISTYwOYy5GgAu3iBgvOaDuwCsH6BkCIHvL\n"
    "Qaly3sCxZ2uEKM1CdHKQN94oI9gveu/KuAvCgMMD\n"
    "-----END RSA PRIVATE KEY-----\n"
)

_RSA_4096 = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIJJwIBAAKCAgEAk8Co7EAKUKSHZHnsr2GnnvLXyDodCQ45q1xpL5LkMZ1WYCQW\n"
    "59d2fEZBCR8/27P6xahnPhb8ThOnyLCfYFvw3NoZ7uvJooWfSEev16sKeEGUUMxg\n"
    "d8MBII+FnFZgaqqoaTKJzqwvZya6VNvquDnUM18IDMEevf8fJ0nzB69mV1ajOAUG\n"
    "nXyIaM3NLKQQRTxeFl/SaVlrFNxkT7ohbI4EAsQ/r4tpUuOArcAqKmSah0lk+xKv\n"
    "uZQlTyeVTDvY8l7dfpDLZS+ocalfeM7208P7/87Nom0uWLhUKv0UdrHDbheDWE9e\n"
    "IG7mEguouwrkQWh/8P3Xu0nPKj6iIjV6RbGvIWAe5aKzFmyuxW63BrkVswKDuwss\n"
    "z8CK5bnuYce4DWzNTxvtb1F6ih7o9oDTFDu1rw9zM3Q5JeAAmAHomeQ7b7HEgD2e\n"
    "paB71gCJHxf9KXIU8CZSDDWWAUxA1Q8Ym8OFjvxRPivGdy/DlywhngOcML7qEJUW\n"
    "YUVuW8eXIa/Z/3uM4d2k0/X5/iTV0IzmwmdQtta0BbuN06xygU7/Rg6w9NHNSRkx\n"
    "QVSYW8qgerCR3sL41/jr51hsGETH1GOe0Al7vwwk8s0jWAlCUXgu8SOoO02S0ttb\n"
    "gdaL+v16vWWWxqj/2zODd/qsubuGaN7qWekV32JvrS+H3OhOV2H9EU4Cih0CAwEA\n"
    "AQKCAgAXm+liFrmPOTsJKxJO0+Pc2iDwtZh+Ie/FGfcUyvv7kZCDvECMuzkLko5B\n"
    "zuR9Trz7aHVWzoVyVGGzB8Xvt8E9CPyr2LFXbtKM0iee5o29uXzhjEa93EMJ2OUY\n"
    "nhS59psCdDjg9VJ9wQp1FM7ksRjfPIgkwZcP9PwdYwuaZsSLoCRkhykPcR664Gew\n"
    "gma3KXY/TQBqJQefRbghpTRCDE9HweQLQNOLkx60pMgYDgtDIs8n70x08t8jTsfk\n"
    "bouz7sSlvK1DdeIMh2vh+fAm1mIl9f2VvqxxMMMCO35RmQYJSWiLa+M2e4H30DUd\n"
    "7hea+/+1mlomaxzXOzrdDH6FNGcvR+brzxzR9yfulDJiVt1BbdMN6egXN0xAKf7X\n"
    "yohdlffJgRvMn7kTY+MfUxeJqfDqvhm/AQHz2RvgmnwvPCBj6lHJcnsFh7tTxwq5\n"
    "/7UPmjzKAqLfQtNOEBK/vOjrP9w5MmsmOkUK90cE2hlq8U3aIAywo1f4lU42ca7w\n"
    "nLLsi9s1H4/BiCG1lZyxc2LIMA5zyOuCxJ5Nz3Id/jxdD8sAnZb+4FHUKbLpC3iH\n"
    "+RcwSkDfb/Qj6tAFu1ammhX4NlcfV1jTBU6Il6xaDOH69EOLoyUJJRGLYmoufGLh\n"
    "s9OLHt+8Q9fJHyy+Aj2asAADOoBbbpdW88FrUjWg72zb+pUdYQKCAQEAyBJOqEsa\n"
    "Qn4rr6aRdkKgad2ohXrpxuDWD32t9g9y0L3W8CE7RxkFtNiU812NY+rEtahe9Yb4\n"
    "c67xiDnB30ORXWCM68T6CIToku3SSjW5W26NIFQG5iqvoy+JEQXtWPAGwy1/7iku\n"
    "aWbXSo4pQHiBZJ7iT0D9C+RANxkCy20rtFby4ySPgOsDnP30Cgw5M1aM4afcpvEp\n"
    "XLNdUz18z/c46AkDqvy49xHABXncrri5kALLTZf4UIaWLS7nlUweioVhvCT/CBVL\n"
    "+C+xV7ct3Z3Fwvld2cH5rLcOAqPshc57jgl+273GneC407GSkWePC1LdATdkVEjm\n"
    "mWxsqDQSUfw6dwKCAQEAvQ5CWEOVMr+d8qvGllepTgb7twbxh13/efafpEhhi05C\n"
    "kDDIABJuY6WFlLkTz+gi5O2EPoakcyurA3Eyj3C6q3mRCimoZa6tOTsN93VQ0Idi\n"
    "D0Kef0VbWzYRhpBtqfYeD/a/FgeLv9wo39uxhImwL7BF75KbPwt7l2bKtWbuA6XG\n"
    "bZJtuZ/BcOfrw3vLClquX3RPBIyRuY0jMUkKEoZ8JKR61m0jXYxokhGbbNhUS8Ud\n"
    "qd8VlWRrUvF4bJ9M3jiGBz55+dIPC0fHNeHD5zn8H/9wdOt220W/QG2lfUhqunoY\n"
    "+sci0WiHF0Qw6OwgEqxfsSPPVRORgFaYRH9g+m7xCwKCAQA8+T9ZkNHm89bSiFwK\n"
    "g5Gp0fDbBTOb9cenHvFWbSzbqw+HTUloiJqxm9QBO0Cs886RYkfWYhT0BJv9nUSV\n"
    "i10Q7SzlabmdwQu0Q6B0F11vHQkLkjAsE1RF0mXed0T3dudIsmQrrAdF/h6czSiL\n"
    "Sm58wONNrguwhRaA9DFi19ma82jAitLlQjpurQKj0UfZeoYi+2qGwjaN1ugZR0Lz\n"
    "im+gX6brhGvGeHVh9dqosQl0dzWIZ0k5GVtJV+MiH/mq062OjmPfDcaCU96jUeM7\n"
    "iCrOGftdMv2pgnxVl6msudnz1rb/tx2B3gvWEGcPw1TX6aALD9uWyETm+yE+Pehb\n"
    "bhhPAoIBAHUxDp1KH4Va1J0mMC7n3jJZD9Xv/u6LrR88as9acuT4uThKlN++jSFF\n"
    "7J05cPeTDXZdaXmc2vntms/CbrYOChjbfbYQBqwpcIWmfszjsxngoj+Va0y3gJ70\n"
    "0D5a7y/JOe9pZCBSwyVGYywJMmxXMZkOKvwMJCIbixxaAtQaHvax32PyvgOv7SiB\n"
    "C1udNEqR1b+kCItoW7jqrWMSxKShKvlH4EFlW+PUcsoBEhiRrQdfBDlV6To3CnRa\n"
    "7OxgfzTNUv/QkanztZGnh+x1q4t9HTX0kRBZGc9o19onXctghZBcuXlS0dl/cyZQ\n"
    "BgWMwYDxy0uySAaT38DvbOohD8uN0+sCggEAW36XXjo/Fqg/GtHgshBMM1y0MSHe\n"
    "feWAClQMjpo6+w2lazB2apyr+gxr9ABEDtbLJFDw8oy5H94s2DuvucifZdtsg+NX\n"
    "ov12WdRWM1NHpnMi1PscR+GAkxow9Z8LdAS11xeldBZpSlNthD7Fm+gMtuIxk6DU\n"
    "uEwr99Kf0y5JpoR2WXQFU6hJmoDm0L7EF6k7giy5ocDZ7iUU13zFhbdtn5zxiSgV\n"
    "coD2f/MCvp8NCu31pJHi6knF7U1q5M5+c/vRfFAlyyYooO6FFDQoENx6WKVcMMH9\n"
    "AjMdzWPKovtkWjpKmwwzBow1qX9OyzmOJxsVonbZKs3ss6p3ZpC+gn7dNw==\n"
    "-----END RSA PRIVATE KEY-----\n"
)

_RSA_4097 = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIJKwIBAAKCAgEBq2AnbnPoT4ON8vokwor7+3ffKf9SlWNrEIK0p2pRq/+22HU0\n"
    "M2+8yKZMu0jnn3pThFcNpcK2QF2Hwh0/BXHF1RWpV+5kxnUQGIW0s/H2PtjG7zKO\n"
    "qWBYtsl/uUpVVW7dJ8fz/Bxdmdqa3SKxppTVJuza8bI/CGAbwq50mIUoyaP4NgCY\n"
    "Gkw4WzVsw/7/OJdJmf1VtThERYtgknOb9Cv+M2dsOv8VbqzZpdz4Od7wrKJLzMj5\n"
    "Zi7KvpWLV9+Ops8ZdE7P+MJTD5PIvOvaDNmOgIK9IRolvB1Dqbr3Gc4/WqEn93Co\n"
    "B6fyXQ3YoE9Z57dAJfQT1zkmPUgDQF9OJj8jN8nGH9qakTvyPO3Pv3b0FWTC0eAV\n"
    "LegI7BCk7YIXc1PONsC3vFxhy2p/rha8OW9pHdWD7fPRaUSBrGybi+3ncIlq/K6/\n"
    "x3Xn8n+fbyi5K9c+xH/49poOKhvPokfNEAiErcq+lOKF0Tm5Pvwrf0ajU8CZQysN\n"
    "lRe4pF4rWO3Yogc0qmXqO+gh92rYZdQGtinAcNHZNBzOOHIeDHZhqJ34OwZk1lbP\n"
    "q6yYwydTQZqBjCLiSTPQgXqytEc+fENDZoTUYMvHO94nTy1xuloQ3zHgLz3vOsYX\n"
    "6by73Phj2l9QrOuONHea3BxtQoa955F8gmrSKdO+7pTDcGRRnnx1pCVu2ucCAwEA\n"
    "AQKCAgEApAoFOJUOry58lq3C3FVCgPQy2UjiJusBFlZFBxl8/brqMM1T2wZhfNaw\n"
    "DxbdqM3oLpzHZT+GetAroqtdHDbeS3rEBDdBwRb/tZnkkUknTlogiYFrVsHfa1GO\n"
    "T82jUWZ7RqCuGq+8kahh1s1RSPJJmmZBZ5IWNZ3GKgSSRlSeIj9orzmtKDLnUsL/\n"
    "238N8WfIXW3qruNI+TSVPcFYM/GK4aop1b9BN7jq1YoqUPQshubIl3Lwn3MIaPy3\n"
    "fmQVuhs11vnFQ+M6xHjiDPmuOU5sLxF/jKwfncPRy90yqVoL4TqIP6ajKEUjduow\n"
    "ot+yT4l7+tVjpDGQZuc0MEokkfOcDOVZUti0cl3z3XoGtx6sv3ci5emO++nci2y5\n"
    "bBYLJ2LzIPigdjFjLTl08QjlY4Tin6I3X8K9FkA2oeN7psoBq29mCqMFS2qN5uMt\n"
    "zlJ282CGETIe2gC/nN3+lWtMoxn44rQ8UMMGXGqgbhFkuny8E36pPC9gUby+1WsM\n"
    "nn4We+MbVNtcU/knkDS+10aejLoDp0cROenkt5RiS9nPx7HN55mbn9jR72Xr2Aki\n"
    "UjdslUKAJJtayGbLtgvA4ubt3oOU2shZEypN4sA0q+g8KI9LcqBjPfeEa4ap1j3A\n"
    "lLqs557iiRkh4nU7ScDggt+KxEgWSvo1kVArjGtjN+yvMhh+IaECggEBAehfBEgJ\n"
    "eOwStIs1OZX20l+Yr9NGDgvTQOA0H9WpVIxN/ZNex2dbTZjhNGZ2Zz/WU52EoBhh\n"
    "aG7T3m8Rnrds81ES/TcCpksO/LbQZohcMao4A0gM03Bi0Dzn4BjABxC+5LoB0D+T\n"
    "b8uStQwD/Qk/ros9wfmGpwE/MH4CksHGSWg2qUXlnrDd7UvYTT7/hx4Pvks529KI\n"
    "d6z54FERng/mxCJNI5I5PnpAQ6UT7RHidwJypjnCgYfOJlFZX+wI5ML433WBK0xp\n"
    "Kiv56ok/4UVGyPn+zc9NO0T5S3GWvZa8EPMOf+4bH3QPNIcFzJERI+qi3Td4ZJaC\n"
    "EYwKZnE4ZB4dATcCggEBAOAG0nDmCnUJb9bvD56JFLIy4nhj4rgL471SMXapwz9H\n"
    "HILj35jrreXzaCKTTcLcvX0zPLKhMtIRO2F4cJ7Wg66F9NpDGAexeB6C9MyPB2QO\n"
    "/aBrGmePGphArhsfvHEH0QMmqKggJtzBM0iX/C9W4ZSbF23KIIDmDxMYI7iionLP\n"
    "4g7g1Cf0SiapwUUR5YMFTh+WGr0vA1N01Qpgzr/gyL+wAE+34DUSFaOAeqtL0X16\n"
    "unXC2ySquIaZ3b6WZlilFerweMRKeSr0d69Fy1ckIb74FdJYI9js58UTVALOaTsV\n"
    "sU3iAmDjLczPxPH4zKL74ogPBMpVjjLYnPggNRyoi9ECggEBAeNVbmpRHaEenhqM\n"
    "EbMOtYQxHAqP8cTYTgPW8o7GaEv3v/gDPHxZS4H7mJ2zn1n5p4VkxgF7Hh1ZiHIK\n"
    "UTeeF21syriP4b61VX0k4eUgwXKCvxSmxPgcg5VTs2ErY5K6KqrAsrbJF0K1roL2\n"
    "y45EvV1HQNvQ3SYJwNdlepNWyD3go0TvDVBkQ77lkwW/ZZ1l3WKcH6fMsgy6vLvf\n"
    "IL0CGakNCSBlkSTyxz/waZdit3/vsf3GN+YNK7UlLB7xal5gat/jd9PG3Rrq26j8\n"
    "VNn4RV3ORSheekM4Kud/VaGB/ZBgEFK5+zYk+kqLfbsw6IgGqcOFXp/qmK0tedei\n"
    "BMwczp8CggEBAI5MRwdnV2UX5W5E00sED51RLQEDkVMOWk47EygolNhwtu99Bt3/\n"
    "daoGfjLYFiCcTdBk5z0fn0RHpcw30HFUGLiWZfzteSoJ1B6tWAlHII6x5vAql88H\n"
    "2wCytOSNuAijymOR/rcsFQNLxONrhsgbC5Z1HOCj7xlxCEo8nxP8WetLmG+S56+p\n"
    "QCBm21igEYSzrffqRHm+jwJHx7qb2zeN9HWtucTpKwUKw6vjRAfiVOK7PgznBIO5\n"
    "3RPCUFNq/P95fP6KWGt2UpiySAOQ9aQYU0cWFeZSDhMQB/fqWwadTcI1+TVbRd98\n"
    "7e6WWqbIPlOYYz/BKm3LAlPRu4LwEkxt0sECggEBAUZWV8iVry+L5sqysIGgvZGc\n"
    "RWkjy67eo4mc8oadidcy0PYS7Nj3+AR4Tj7YbgKmAwd+IdXZ+fa93Gbyji5Jm+CM\n"
    "9fgwnNBsx35h5jRZGU5B7gILfUjNpRjNWG4ZYtjoEB9bT+eyFjEuEMl1jsKZbN3I\n"
    "4oUYW6tCUklY67KGi06dlUnkIeaQaYvsTDt5/cyKnPuwJRkVDDyXUI5/kQgvA+y8\n"
    "AgjoNi7Lz5KM8mh85qR+NcuhakWEPaTpm0UkXsd55rBRi7TcqkV+8R7WshwYk5PN\n"
    "iodJPyP0eAY99AODJAGrkAKhrpMsZdVs54QRvNnf0XEt3c8LCV9dhhNtJRGSBmo=\n"
    "-----END RSA PRIVATE KEY-----\n"
)

_DSA_1024 = (
    "-----BEGIN DSA PRIVATE KEY-----\n"
    "MIIBuwIBAAKBgQCRlyaYRszMfiEfpfkX+S2uN3Lm2U6eelhwMCP9o0vWZn2RcMdp\n"
    "SAayLZLneH3n9pbMLm76XObb0ScJBTfNCppHaIoqtBCTcxXm9y06v3QDrl7iSyUK\n"
    "7wkb0XnbJVPsgFRQWKrVLpgrXr/8QEqt7iazpu8TEBhn0lid6Fxqgf18uwIVANrO\n"
    "on0Ep8/yS9TWDy7aMa8Lh7HlAoGBAIC79wFrLtI+fODxSOThDNfUirhHaqtIET33\n"
    "Jvmc9Y3I9z4g5nS616F6EPd+jyACTsml0qe2xIbuyNPtW9kihmdStk2JM/jdoCf/\n"
    "OpNMBJLZ4FICtaE3QDs9cOAmhaK/JktI0eFUaGDZeP5FdBD7QC0SOQJfiUHSTVnC\n"
    "N50VliXzAoGACSbouK+LNwV6FWqFkGPvfLrOaqh2zvJM+cqVmf8tQjjPfL8YWCfH\n"
    "XEbdQElYnRvmSvOwz0vVgOGMa5g8XWwJcXY6zxfBvVx0FxhxewOEG80Cr3jrpc/p\n"
    "uOM25DrLGmmpbhBDgsyiOwppOl21FAqcfWrDzGCMxz/MZHD085mRu9oCFE0OQvRb\n"
    "mOzzSFG0deXaBK34tkez\n"
    "-----END DSA PRIVATE KEY-----\n"
)


def _pem(key: Any, fmt: serialization.PrivateFormat) -> str:
    data: bytes = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    return data.decode()


@functools.cache
def _rsa_1024() -> str:
    key = rsa.generate_private_key(65537, 1024)  # noqa: S505 - the smallest size Go signs with
    return _pem(key, serialization.PrivateFormat.TraditionalOpenSSL)


@functools.cache
def _p521() -> str:
    return _pem(ec.generate_private_key(ec.SECP521R1()), serialization.PrivateFormat.TraditionalOpenSSL)


@functools.cache
def _x25519() -> str:
    return _pem(x25519.X25519PrivateKey.generate(), serialization.PrivateFormat.PKCS8)


_SELF = "{{ (genSelfSignedCertWithKey .cn nil (list `a.example`) .days .k).Cert }}"


def _self_signed(cn: str = "x", days: int = 1, key: str = F["ec_key"], **kw: Any) -> x509.Certificate:
    return _cert(run(_SELF, {"cn": cn, "days": days, "k": key}, **kw))


# --- libcrypt: crypt_rn is looked up once, by its link name, with a fallback soname ------------------


@pytest.fixture
def fresh_libcrypt(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """An empty cache: the next bcrypt loads libcrypt again."""
    cache: list[Any] = []
    monkeypatch.setattr(sprig_crypto, "_libcrypt", cache)
    return cache


def test_libcrypt_is_loaded_on_first_use(fresh_libcrypt: list[Any]) -> None:
    hashed = run('{{ bcrypt "hunter2" }}')
    assert hashed.startswith("$2a$10$") and len(hashed) == 60
    assert bcrypt_check(hashed.encode(), b"hunter2")
    assert len(fresh_libcrypt) == 1 and fresh_libcrypt[0].restype is ctypes.c_char_p
    assert run('{{ bcrypt "x" | len }}') == "60"  # the cached function is used again
    assert len(fresh_libcrypt) == 1


def test_libcrypt_is_asked_for_by_its_link_name(
    fresh_libcrypt: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ctypes.util.find_library("crypt")
    asked: list[str] = []

    def find_library(name: str) -> str | None:
        asked.append(name)
        return real if name == "crypt" else None

    monkeypatch.setattr(ctypes.util, "find_library", find_library)
    assert bcrypt_check(run('{{ bcrypt "pw" }}').encode(), b"pw")
    assert asked == ["crypt"]


@pytest.mark.parametrize(
    ("found", "loaded"),
    [("libcrypt.so.2", "libcrypt.so.2"), (None, "libcrypt.so.1")],
    ids=["the_link_name_found", "nothing_found"],
)
def test_libcrypt_soname_is_the_fallback(
    fresh_libcrypt: list[Any], monkeypatch: pytest.MonkeyPatch, found: str | None, loaded: str
) -> None:
    # find_library gives None where there is no ldconfig or compiler (slim images): then the soname
    # libcrypt.so.1 is loaded; a library find_library does name is loaded as named. Whichever name it
    # is asked for, the fake CDLL hands out this machine's own crypt_rn (loaded first the ordinary
    # way), so this holds whatever libcrypt soname the machine has.
    crypt_rn = sprig_crypto._crypt_rn()
    fresh_libcrypt.clear()
    names: list[str | None] = []

    def cdll(name: str | None) -> types.SimpleNamespace:
        names.append(name)
        return types.SimpleNamespace(crypt_rn=crypt_rn)

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: found if name == "crypt" else None)
    monkeypatch.setattr(ctypes, "CDLL", cdll)
    assert bcrypt_check(run('{{ bcrypt "pw" }}').encode(), b"pw")
    assert names == [loaded]


# --- crypt and bcrypt_check --------------------------------------------------------------------------


@functools.cache
def _hash_of_a() -> bytes:
    return sprig_crypto.bcrypt_hash(b"a")


@pytest.mark.parametrize(
    ("phrase", "suffix"),
    [(b"a\x00b", b""), (b"a", b"\x00"), (b"a", b"\x00x")],
    ids=["nul_in_password", "nul_ending_the_setting", "nul_in_the_setting"],
)
def test_crypt_refuses_nul_bytes_instead_of_truncating(phrase: bytes, suffix: bytes) -> None:
    # C would stop at the NUL and hash "a" with the hash of "a" as the setting
    assert crypt(b"a", _hash_of_a()) == _hash_of_a()
    with pytest.raises(ValueError):
        crypt(phrase, _hash_of_a() + suffix)


@pytest.mark.parametrize(
    ("hashed", "password"),
    [
        (None, b"a\x00b"),  # the hash of "a" is no match for "a\0b"
        (b"*0", b"pw"),  # crypt_rn returns NULL for a setting it refuses
        (b"$2a$10$short", b"pw"),
        (b"", b"pw"),
    ],
)
def test_bcrypt_check_is_false_when_crypt_refuses(hashed: bytes | None, password: bytes) -> None:
    assert bcrypt_check(hashed if hashed is not None else _hash_of_a(), password) is False


def test_crypt_raises_when_crypt_rn_returns_null() -> None:
    with pytest.raises(ValueError):
        crypt(b"pw", b"*0")


@pytest.mark.xfail(
    strict=True,
    raises=TemplateError,
    reason="Go's x/crypto/bcrypt hashes a password holding NUL bytes; libcrypt can't",
)
def test_bcrypt_of_a_password_with_a_nul_byte() -> None:
    hashed = run("{{ bcrypt .pw }}", {"pw": "a\x00b"})
    assert hashed.startswith("$2a$10$") and len(hashed) == 60


# --- the render budget's cost of a signature ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "cost"),
    [("leaf_key", 5), ("_RSA_4096", 5), ("_RSA_4097", 40), ("ec_key", 5), ("ed_key", 5)],
)
def test_a_signature_costs_40_ms_only_past_4096_bits(key: str, cost: int) -> None:
    pem = F[key] if key in F else globals()[key]
    source = "{{ (genSelfSignedCertWithKey `x` nil nil 1 .k).Key | eq .k }}"
    assert run(source, {"k": pem}, limits=Limits(max_expensive_ms=cost)) == "true"
    assert fails(source, {"k": pem}, limits=Limits(max_expensive_ms=cost - 1)).kind == "expensive call limit"


# --- IP addresses and the subject -------------------------------------------------------------------------


@pytest.mark.parametrize("ip", ["fe80::1%eth0", "fe80::1%1", "::1%"])
def test_an_ip_with_a_zone_is_refused(ip: str) -> None:
    source = "{{ genSelfSignedCertWithKey `x` (list .ip) nil 1 .k }}"
    assert fails(source, {"ip": ip, "k": F["ec_key"]}).kind == "function failed"


def test_an_empty_common_name_gives_an_empty_subject() -> None:
    cert = _self_signed("")
    assert cert.subject == x509.Name([]) and cert.issuer == x509.Name([])
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical  # Go: the SAN extension is critical when the subject is empty


@pytest.mark.parametrize(
    ("cn", "tag"),
    [
        ("a b'()+,-./:=?", _ASN1Type.PrintableString),
        ("a_b", _ASN1Type.UTF8String),
        ("\ud7ff", _ASN1Type.UTF8String),
        ("\ue000", _ASN1Type.UTF8String),  # the first code point after the surrogates
        ("\U0010ffff", _ASN1Type.UTF8String),
    ],
)
def test_common_name_string_type(cn: str, tag: _ASN1Type) -> None:
    (attribute,) = _self_signed(cn).subject
    assert attribute.value == cn and attribute._type == tag


@pytest.mark.parametrize("cn", ["\ud800", "\udfff", "a\udc80"])
def test_a_common_name_holding_a_surrogate_is_refused(cn: str) -> None:
    # Go: "asn1: string not valid UTF-8"
    assert fails(_SELF, {"cn": cn, "days": 1, "k": F["ec_key"]}).kind == "function failed"


# --- signature algorithms ----------------------------------------------------------------------------------


def test_rsa_keys_of_1024_bits_still_sign() -> None:
    cert = _self_signed(key=_rsa_1024())
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)


def test_rsa_keys_under_1024_bits_are_refused() -> None:
    # Go 1.24+ (rsa1024min): "crypto/rsa: 512-bit keys are insecure"
    assert fails(_SELF, {"cn": "x", "days": 1, "k": _RSA_512}).kind == "function failed"


def test_p521_signs_with_sha512() -> None:
    cert = _self_signed(key=_p521())
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA512)
    assert cert.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.ECDSA_WITH_SHA512


def test_an_x25519_key_cannot_sign() -> None:
    # Go: an *ecdh.PrivateKey is no crypto.Signer
    assert fails(_SELF, {"cn": "x", "days": 1, "k": _x25519()}).kind == "function failed"


def test_a_dsa_key_cannot_be_certified() -> None:
    # Go's marshalPublicKey: "x509: unsupported public key type: *dsa.PublicKey"
    source = "{{ $ca := genCAWithKey `ca` 1 .ca }}{{ genSignedCertWithKey `x` nil nil 1 $ca .k }}"
    assert fails(source, {"ca": F["ec_key"], "k": _DSA_1024}).kind == "function failed"
    self_signed = "{{ genSelfSignedCertWithKey `x` nil nil 1 .k }}"
    assert fails(self_signed, {"k": _DSA_1024}).kind == "function failed"


# --- validity ----------------------------------------------------------------------------------------------


def test_the_longest_validity_go_can_express() -> None:
    cert = _self_signed(days=106751)  # 24h * 106751 still fits in Go's time.Duration
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=106751)


@pytest.mark.parametrize("days", [106752, -106752, 1 << 40])
def test_a_validity_past_go_durations_is_refused(days: int) -> None:
    # Go's time.Duration(days) * 24h wraps around there; we refuse instead
    assert fails(_SELF, {"cn": "x", "days": days, "k": F["ec_key"]}).kind == "function failed"


@pytest.mark.xfail(
    strict=True, raises=TemplateError, reason="Go writes NotAfter before NotBefore; cryptography refuses to"
)
@pytest.mark.parametrize("days", [-1, -106751])
def test_a_negative_validity_as_go(days: int) -> None:
    cert = _self_signed(days=days)
    assert round((cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds()) == days * 86400


# tokyo (tests/support/fixtures_time.py): TZ=JST-9, a POSIX zone string that needs no tz database
@pytest.mark.usefixtures("tokyo")
def test_validity_starts_now_in_utc_whatever_the_local_zone() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cert = _self_signed(days=2)
    after = dt.datetime.now(dt.UTC)
    assert before <= cert.not_valid_before_utc <= after
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=2)


# --- serial numbers: Sprig draws them below 2**128 (we skip 0, which cryptography refuses) ----------------


@pytest.mark.parametrize(("pick", "serial"), [("low", 1), ("high", (1 << 128) - 1)])
def test_serial_number_range(monkeypatch: pytest.MonkeyPatch, pick: str, serial: int) -> None:
    bounds: list[int] = []

    def randbelow(n: int) -> int:
        bounds.append(n)
        return 0 if pick == "low" else n - 1

    monkeypatch.setattr(secrets, "randbelow", randbelow)
    assert _self_signed().serial_number == serial
    assert bounds == [(1 << 128) - 1]


# --- key usage ---------------------------------------------------------------------------------------------


def _key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


@pytest.mark.parametrize(
    ("source", "ca"),
    [
        ("{{ (genCAWithKey `ca` 1 .ec_key).Cert }}", True),
        ("{{ (genSelfSignedCertWithKey `x` nil nil 1 .ec_key).Cert }}", False),
        ("{{ (genSignedCertWithKey `x` nil nil 1 (genCAWithKey `ca` 1 .ed_key) .ec_key).Cert }}", False),
    ],
)
def test_key_usage_as_sprig(source: str, ca: bool) -> None:
    usage = _cert(run(source)).extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value == _key_usage(ca)


# --- the CA of genSignedCert: a sprig.certificate whose Cert no longer parses (not from a template) --------


@pytest.mark.parametrize(
    "cert_pem",
    [
        "",
        "no PEM here",
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        F["ec_key"],  # a PEM block, but not a certificate
    ],
)
def test_a_ca_whose_certificate_does_not_parse(cert_pem: str) -> None:
    ca = sprig_crypto.certificate(cert_pem, F["ec_key"])
    with pytest.raises(Fault) as info:
        sprig_crypto.gen_signed_with_key(Budget(Limits()), "x", None, None, 1, ca, F["ec_key"])
    assert info.value.kind == "function failed"
