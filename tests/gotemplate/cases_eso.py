"""ESO template functions, expected outputs produced by Go 1.26 running ESO's toYaml, fromYaml
and filterPEM (sigs.k8s.io/yaml v1.6.0, encoding/pem) beside Sprig v3.3.0."""

# ruff: noqa: E501
# fmt: off
CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\n'
P = {'cert': '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\n', 'key': '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKe\n-----END PRIVATE KEY-----\n', 'both': 'junk before\n-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKe\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\ntrailer', 'two': '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\n', 'junk': 'not a pem', 'empty': '', 'hdr': '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n', 'long': '-----BEGIN CERTIFICATE-----\nQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n-----END CERTIFICATE-----\n', 'crlf': '-----BEGIN CERTIFICATE-----\r\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\r\n-----END CERTIFICATE-----\r\n', 'yaml': "a: 1\nb: [x, 'y', 2.5, true, null]\nc:\n  d: |\n    line1\n    line2\n1: one\nyes: no\n", 'y2': '- 1\n- 2', 'y3': 'a: &x [1, 2]\nb: *x\n', 'ybad': 'a: [1,', 'ys': 'just a string', 'y4': 'a: 0777\nb: 0x1F\nc: 1e3\nd: .inf\ne: 2001-12-14\nf: ~\ng: 12345678901234567890\n'}

CASES = [
    ('{{ filterPEM "CERTIFICATE" .cert }}', P, 'default', '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\n', None),
    ('{{ filterPEM "certificate" .both }}', P, 'default', '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\n', None),
    ('{{ filterPEM "PRIVATE KEY" .both }}', P, 'default', None, 'function failed'),
    ('{{ filterPEM "CERTIFICATE" .two }}', P, 'default', '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\n', None),
    ('{{ filterPEM "CERTIFICATE" .junk }}', P, 'default', None, 'function failed'),
    ('{{ filterPEM "CERTIFICATE" .empty }}', P, 'default', '', None),
    ('{{ filterPEM "CERTIFICATE" .key }}', P, 'default', None, 'function failed'),
    ('{{ filterPEM "RSA PRIVATE KEY" .hdr }}', P, 'default', '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n', None),
    ('{{ filterPEM "CERTIFICATE" .long }}', P, 'default', '-----BEGIN CERTIFICATE-----\nQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\nQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\nQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n-----END CERTIFICATE-----\n', None),
    ('{{ filterPEM "CERTIFICATE" .crlf }}', P, 'default', '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xhdWRlIHRlc3QgY2VydGlmaWNhdGUgZGF0YQ==\n-----END CERTIFICATE-----\n', None),
    ('{{ toYaml (dict "b" (list 1 "2" "true" "" "a\\nb") "a" 1.5 "Z" nil "_x" "y") }}', None, 'default', '_x: "y"\nZ: null\na: 1.5\nb:\n- 1\n- "2"\n- "true"\n- ""\n- |-\n  a\n  b', None),
    ('{{ toYaml "s" }}|{{ toYaml 1 }}|{{ toYaml nil }}|{{ toYaml (list) }}|{{ toYaml (dict) }}|{{ toYaml true }}', None, 'default', 's|1|null|[]|{}|true', None),
    ('{{ toYaml (dict "k10" 1 "k9" 2 "k1" 3 "K" 4 "1" 5 "-x" 6) }}', None, 'default', '-x: 6\n"1": 5\nK: 4\nk1: 3\nk9: 2\nk10: 1', None),
    ('{{ toYaml (list "yes" "no" "on" "y" "~" "null" "1.5" "1e3" "0x1F" "2001-12-14" "12:30" ".inf" "a: b" "#c" " lead" "trail " "- x" "é" "it\'s") }}', None, 'default', '- "yes"\n- "no"\n- "on"\n- "y"\n- "~"\n- "null"\n- "1.5"\n- "1e3"\n- "0x1F"\n- "2001-12-14"\n- "12:30"\n- ".inf"\n- \'a: b\'\n- \'#c\'\n- \' lead\'\n- \'trail \'\n- \'- x\'\n- é\n- it\'s', None),
    ('{{ toYaml (list 1e21 0.000001 1.0 100.5 -0.0 12345678.0) }}', None, 'default', '- 1e+21\n- 1e-06\n- 1\n- 100.5\n- 0\n- 12345678', None),
    ('{{ toYaml (dict "a" (dict "b" (dict "c" (list (dict "d" 1))))) }}', None, 'default', 'a:\n  b:\n    c:\n    - d: 1', None),
    ('{{ toYaml (list (repeat 30 "word ")) }}', None, 'default', "- 'word word word word word word word word word word word word word word word word\n  word word word word word word word word word word word word word word '", None),
    ('{{ toYaml (list "a\\nb\\n" "x\\n" "\\n" "trail \\nx") }}', None, 'default', '- |\n  a\n  b\n- |\n  x\n- |2+\n\n- "trail \\nx"', None),
    ('{{ toYaml . }}', {'b': '2', 'a': '1'}, 'default', 'a: "1"\nb: "2"', None),
    ('{{ (fromYaml .yaml).a }}|{{ (fromYaml .yaml).b }}|{{ (fromYaml .yaml).c.d }}|{{ index (fromYaml .yaml) "1" }}|{{ index (fromYaml .yaml) "true" }}', P, 'default', '1|[x y 2.5 true <nil>]|line1\nline2\n|one|false', None),
    ('{{ fromYaml .y2 }}', P, 'default', 'map[Error:error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}]', None),
    ('{{ fromYaml .y3 }}', P, 'default', 'map[a:[1 2] b:[1 2]]', None),
    ('{{ hasKey (fromYaml .ybad) "Error" }}', P, 'default', 'true', None),
    ('{{ hasKey (fromYaml .ys) "Error" }}', P, 'default', 'true', None),
    ('{{ fromYaml "" }}', None, 'default', 'map[]', None),
    ('{{ fromYaml .y4 }}', P, 'default', 'map[Error:error converting YAML to JSON: json: unsupported value: +Inf]', None),
    ('{{ (fromYaml "a: 1").a | printf "%T" }}', None, 'default', 'float64', None),
    ('{{ fromYaml .yaml | toJson }}', P, 'default', '{"1":"one","a":1,"b":["x","y",2.5,true,null],"c":{"d":"line1\\nline2\\n"},"true":false}', None),
    ('{{ toYaml (fromYaml .yaml) }}', P, 'default', '"1": one\na: 1\nb:\n- x\n- "y"\n- 2.5\n- true\n- null\nc:\n  d: |\n    line1\n    line2\n"true": false', None),
]
