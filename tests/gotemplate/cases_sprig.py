"""Sprig function behaviour, expected outputs produced by Go 1.26 with Masterminds/sprig v3.3.0."""

# ruff: noqa: E501
# fmt: off
D = {'a': 'alpha', 's': 'Hello World', 'pem': '', 'json': '{"a":1,"b":[true,null,"x"],"c":{"d":1.5e21}}', 'csv': 'a,b,,c', 'b64': 'aGVsbG8=', 'n': '42'}

# function -> [(source, data, missingkey, expected output or None, expected error kind or None)]
CASES = {
    'abbrev': [
        ('{{ abbrev 5 "hello world" }}', None, 'default', 'he...', None),
        ('{{ abbrev 3 "hello" }}', None, 'default', 'hello', None),
        ('{{ abbrev 20 "short" }}', None, 'default', 'short', None),
        ('{{ abbrev 4 "hello" }}', None, 'default', 'h...', None),
    ],
    'abbrevboth': [
        ('{{ abbrevboth 5 10 "1234 5678 9123 4567" }}', None, 'default', '...5678...', None),
        ('{{ abbrevboth 0 6 "abcdefghij" }}', None, 'default', 'abc...', None),
        ('{{ abbrevboth 1 5 "abcdefghij" }}', None, 'default', 'abcdefghij', None),
    ],
    'add': [
        ('{{ add 1 2 3 }}', None, 'default', '6', None),
        ('{{ add }}', None, 'default', '0', None),
        ('{{ add "1" 2.7 }}', None, 'default', '3', None),
        ('{{ add 9223372036854775807 1 }}', None, 'default', '-9223372036854775808', None),
    ],
    'add1': [
        ('{{ add1 5 }}', None, 'default', '6', None),
        ('{{ add1 "x" }}', None, 'default', '1', None),
        ('{{ add1 -1 }}', None, 'default', '0', None),
        ('{{ add1 9223372036854775807 }}', None, 'default', '-9223372036854775808', None),
    ],
    'add1f': [
        ('{{ add1f 0.1 }}', None, 'default', '1.1', None),
        ('{{ add1f -1 }}', None, 'default', '0', None),
        ('{{ add1f "x" }}', None, 'default', '1', None),
    ],
    'addf': [
        ('{{ addf 1.1 2.2 }}', None, 'default', '3.3', None),
        ('{{ addf }}', None, 'default', '0', None),
    ],
    'adler32sum': [
        ('{{ adler32sum "abc" }}', None, 'default', '38600999', None),
        ('{{ adler32sum "" }}', None, 'default', '1', None),
    ],
    'ago': [
        ('{{ ago 0 | len | lt 1 }}', None, 'default', 'true', None),
        ('{{ ago (now) }}', None, 'default', '0s', None),
    ],
    'all': [
        ('{{ all 1 "a" true }}', None, 'default', 'true', None),
        ('{{ all 1 "" }}', None, 'default', 'false', None),
        ('{{ all }}', None, 'default', 'true', None),
    ],
    'any': [
        ('{{ any 0 "" "x" }}', None, 'default', 'true', None),
        ('{{ any 0 "" }}', None, 'default', 'false', None),
        ('{{ any }}', None, 'default', 'false', None),
    ],
    'append': [
        ('{{ append (list 1) 2 }}', None, 'default', '[1 2]', None),
        ('{{ append "x" 1 }}', None, 'default', None, 'wrong type'),
    ],
    'atoi': [
        ('{{ atoi "42" }}', None, 'default', '42', None),
        ('{{ atoi "x" }}', None, 'default', '0', None),
        ('{{ atoi "-7" }}', None, 'default', '-7', None),
        ('{{ atoi " 1" }}', None, 'default', '0', None),
        ('{{ atoi "99999999999999999999" }}', None, 'default', '9223372036854775807', None),
        ('{{ atoi "1_0" }}', None, 'default', '0', None),
        ('{{ atoi "+5" }}', None, 'default', '5', None),
        ('{{ atoi "" }}', None, 'default', '0', None),
    ],
    'b32dec': [
        ('{{ b32dec "NBSWY3DP" }}', None, 'default', 'hello', None),
        ('{{ b32dec "!!!" }}', None, 'default', 'illegal base32 data at input byte 0', None),
        ('{{ b32dec "NBSWY3D" }}', None, 'default', 'illegal base32 data at input byte 0', None),
        ('{{ b32dec "" }}', None, 'default', '', None),
    ],
    'b32enc': [
        ('{{ b32enc "hello" }}', None, 'default', 'NBSWY3DP', None),
        ('{{ b32enc "" }}', None, 'default', '', None),
        ('{{ b32enc "ab" }}', None, 'default', 'MFRA====', None),
    ],
    'b64dec': [
        ('{{ b64dec "aGVsbG8=" }}', None, 'default', 'hello', None),
        ('{{ b64dec "aGVsbG8" }}', None, 'default', 'illegal base64 data at input byte 4', None),
        ('{{ b64dec "a!b=" }}', None, 'default', 'illegal base64 data at input byte 1', None),
        ('{{ b64dec "aGVs\\nbG8=" }}', None, 'default', 'hello', None),
        ('{{ b64dec "YQ==YQ==" }}', None, 'default', 'illegal base64 data at input byte 4', None),
    ],
    'b64enc': [
        ('{{ b64enc "hello" }}', None, 'default', 'aGVsbG8=', None),
        ('{{ b64enc "" }}', None, 'default', '', None),
    ],
    'biggest': [
        ('{{ biggest 1 9 }}', None, 'default', '9', None),
        ('{{ biggest 3 "4" }}', None, 'default', '4', None),
    ],
    'camelcase': [
        ('{{ camelcase "http_server" }}', None, 'default', 'HttpServer', None),
        ('{{ camelcase "foo-bar baz" }}', None, 'default', 'FooBarBaz', None),
        ('{{ camelcase "_x" }}', None, 'default', '_X', None),
        ('{{ camelcase "--" }}', None, 'default', '---', None),
        ('{{ camelcase "ABC_def" }}', None, 'default', 'AbcDef', None),
    ],
    'cat': [
        ('{{ cat "a" 1 nil "b" (list 1 2) }}', None, 'default', 'a 1 b [1 2]', None),
        ('{{ cat }}', None, 'default', '', None),
        ('{{ cat 1.5 1e6 true }}', None, 'default', '1.5 1e+06 true', None),
    ],
    'ceil': [
        ('{{ ceil 1.2 }}', None, 'default', '2', None),
        ('{{ ceil -1.5 }}', None, 'default', '-1', None),
        ('{{ ceil "x" }}', None, 'default', '0', None),
        ('{{ ceil 2 }}', None, 'default', '2', None),
    ],
    'chunk': [
        ('{{ chunk 2 (list 1 2 3 4 5) }}', None, 'default', '[[1 2] [3 4] [5]]', None),
        ('{{ chunk 3 (list) }}', None, 'default', '[]', None),
    ],
    'coalesce': [
        ('{{ coalesce "" 0 "x" "y" }}', None, 'default', 'x', None),
        ('{{ coalesce "" nil }}', None, 'default', '<no value>', None),
        ('{{ coalesce }}', None, 'default', '<no value>', None),
    ],
    'compact': [
        ('{{ compact (list 1 0 "" "a" nil false (list)) }}', None, 'default', '[1 a]', None),
        ('{{ compact (list) }}', None, 'default', '[]', None),
        ('{{ compact (list (dict)) }}', None, 'default', '[]', None),
    ],
    'concat': [
        ('{{ concat (list 1) (list 2 3) (list) }}', None, 'default', '[1 2 3]', None),
        ('{{ concat }}', None, 'default', '[]', None),
        ('{{ concat (list 1) 2 }}', None, 'default', None, 'wrong type'),
    ],
    'contains': [
        ('{{ contains "cat" "catch" }}', None, 'default', 'true', None),
        ('{{ contains "x" "catch" }}', None, 'default', 'false', None),
        ('{{ "catch" | contains "at" }}', None, 'default', 'true', None),
    ],
    'date': [
        ('{{ date "2006-01-02 15:04:05 Mon Jan" 0 }}', None, 'default', '1970-01-01 00:00:00 Thu Jan', None),
        ('{{ date "2006" 86400 }}', None, 'default', '1970', None),
    ],
    'dateInZone': [
        ('{{ dateInZone "2006-01-02T15:04:05Z07:00" 86400 "UTC" }}', None, 'default', '1970-01-02T00:00:00Z', None),
        ('{{ dateInZone "Jan _2 3:4:5 PM .000 .999 MST -0700 -07:00" 1700000000 "America/New_York" }}', None, 'default', 'Nov 14 5:13:20 PM .000  EST -0500 -05:00', None),
        ('{{ dateInZone "2006" 0 "Nope/Zone" }}', None, 'default', '1970', None),
        ('{{ dateInZone "2006-01-02 15:04:05.000 MST" (toDate "2006-01-02T15:04:05Z07:00" "2024-03-05T10:20:30+02:00") "UTC" }}', None, 'default', '2024-03-05 08:20:30.000 UTC', None),
        ('{{ dateInZone "15:04" (dateModify "1h30m" (toDate "2006-01-02" "2024-01-01")) "UTC" }}', None, 'default', '01:30', None),
        ('{{ dateInZone "2006-01-02 15:04" (dateModify "-90m" (toDate "2006-01-02" "2024-01-01")) "UTC" }}', None, 'default', '2023-12-31 22:30', None),
        ('{{ dateInZone "15:04" (dateModify "bogus" (toDate "2006-01-02" "2024-01-01")) "UTC" }}', None, 'default', '00:00', None),
        ('{{ dateInZone "15:04" (date_modify "2h" (toDate "2006-01-02" "2024-01-01")) "UTC" }}', None, 'default', '02:00', None),
        ('{{ dateInZone "15:04" (mustDateModify "1m" (toDate "2006-01-02" "2024-01-01")) "UTC" }}', None, 'default', '00:01', None),
        ('{{ dateInZone "15:04" (must_date_modify "1m" (toDate "2006-01-02" "2024-01-01")) "UTC" }}', None, 'default', '00:01', None),
    ],
    'date_in_zone': [
        ('{{ date_in_zone "15:04" 0 "UTC" }}', None, 'default', '00:00', None),
    ],
    'deepCopy': [
        ('{{ deepCopy (list 1 (dict "a" 2)) }}', None, 'default', '[1 map[a:2]]', None),
        ('{{ deepCopy nil }}', None, 'default', None, 'function failed'),
    ],
    'default': [
        ('{{ default "d" "" }}', None, 'default', 'd', None),
        ('{{ default "d" "x" }}', None, 'default', 'x', None),
        ('{{ default "d" 0 }}', None, 'default', 'd', None),
        ('{{ default "d" (list) }}', None, 'default', 'd', None),
        ('{{ default "d" nil }}', None, 'default', 'd', None),
        ('{{ default "d" false }}', None, 'default', 'd', None),
        ('{{ default "d" }}', None, 'default', 'd', None),
        ('{{ .missing | default "dflt" }}', D, 'default', 'dflt', None),
    ],
    'dict': [
        ('{{ dict "a" 1 "b" "two" }}', None, 'default', 'map[a:1 b:two]', None),
        ('{{ dict }}', None, 'default', 'map[]', None),
        ('{{ dict "a" }}', None, 'default', 'map[a:]', None),
        ('{{ dict 1 2 }}', None, 'default', 'map[1:2]', None),
        ('{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }}', None, 'default', 'map[a:1 b:2]', None),
        ('{{ $a := dict "x" (dict "y" 1) }}{{ $b := deepCopy $a }}{{ $_ := set $b.x "y" 2 }}{{ $a }}{{ $b }}', None, 'default', 'map[x:map[y:1]]map[x:map[y:2]]', None),
        ('{{ $d := dict "a" 1 }}{{ unset $d "zz" }}', None, 'default', 'map[a:1]', None),
        ('{{ $d := dict }}{{ $_ := set $d "k" (list 1) }}{{ $d.k }}', None, 'default', '[1]', None),
    ],
    'dig': [
        ('{{ dig "a" "b" "dflt" (dict "a" (dict "b" 5)) }}', None, 'default', '5', None),
        ('{{ dig "a" "z" "dflt" (dict "a" (dict "b" 5)) }}', None, 'default', 'dflt', None),
    ],
    'div': [
        ('{{ div 7 2 }}', None, 'default', '3', None),
        ('{{ div -7 2 }}', None, 'default', '-3', None),
        ('{{ div 7 "2" }}', None, 'default', '3', None),
        ('{{ div 1 0 }}', None, 'default', None, 'division by zero'),
    ],
    'divf': [
        ('{{ divf 10 4 }}', None, 'default', '2.5', None),
        ('{{ divf 1 3 }}', None, 'default', '0.3333333333333333', None),
        ('{{ divf 1 0 }}', None, 'default', None, 'division by zero'),
    ],
    'duration': [
        ('{{ duration "90" }}', None, 'default', '1m30s', None),
        ('{{ duration 0 }}', None, 'default', '0s', None),
    ],
    'durationRound': [
        ('{{ durationRound "2h10m" }}', None, 'default', '2h', None),
        ('{{ durationRound 0 }}', None, 'default', '0s', None),
        ('{{ durationRound "400h" }}', None, 'default', '16d', None),
    ],
    'empty': [
        ('{{ empty "" }}', None, 'default', 'true', None),
        ('{{ empty "x" }}', None, 'default', 'false', None),
        ('{{ empty 0 }}', None, 'default', 'true', None),
        ('{{ empty (dict) }}', None, 'default', 'true', None),
        ('{{ empty nil }}', None, 'default', 'true', None),
        ('{{ empty 0.0 }}', None, 'default', 'true', None),
    ],
    'fail': [
        ('{{ fail "boom" }}', None, 'default', None, 'fail'),
        ('{{ if false }}{{ fail "x" }}{{ end }}ok', None, 'default', 'ok', None),
    ],
    'first': [
        ('{{ first (list 1 2) }}', None, 'default', '1', None),
        ('{{ first (list) }}', None, 'default', '<no value>', None),
        ('{{ first "str" }}', None, 'default', None, 'wrong type'),
    ],
    'float64': [
        ('{{ float64 "1.5" }}', None, 'default', '1.5', None),
        ('{{ float64 "x" }}', None, 'default', '0', None),
        ('{{ float64 3 }}', None, 'default', '3', None),
        ('{{ float64 "1e3" }}', None, 'default', '1000', None),
        ('{{ float64 "inf" }}', None, 'default', '+Inf', None),
        ('{{ float64 true }}', None, 'default', '1', None),
        ('{{ float64 " 1" }}', None, 'default', '0', None),
        ('{{ float64 "1_000.5" }}', None, 'default', '1000.5', None),
    ],
    'floor': [
        ('{{ floor 1.7 }}', None, 'default', '1', None),
        ('{{ floor "2.5" }}', None, 'default', '2', None),
        ('{{ floor 1e300 }}', None, 'default', '1e+300', None),
        ('{{ floor -0.5 }}', None, 'default', '-1', None),
    ],
    'fromJson': [
        ('{{ (fromJson .json).a }}', D, 'default', '1', None),
        ('{{ (fromJson .json).b }}', D, 'default', '[true <nil> x]', None),
        ('{{ (fromJson .json).c.d }}', D, 'default', '1.5e+21', None),
        ('{{ fromJson "bad" }}', D, 'default', '<no value>', None),
        ('{{ fromJson "[1,2]" }}', D, 'default', '[1 2]', None),
        ('{{ fromJson "12345678" }}', D, 'default', '1.2345678e+07', None),
        ('{{ (fromJson "{\\"a\\":{\\"b\\":2}}").a.b }}', None, 'default', '2', None),
        ('{{ fromJson "NaN" }}', None, 'default', '<no value>', None),
        ('{{ fromJson "1e400" }}', None, 'default', '<no value>', None),
        ('{{ fromJson "\\"\\\\ud800\\"" }}', None, 'default', '�', None),
    ],
    'get': [
        ('{{ get (dict "a" 1) "a" }}', None, 'default', '1', None),
        ('{{ get (dict "a" 1) "z" }}', None, 'default', '', None),
    ],
    'has': [
        ('{{ has 2 (list 1 2) }}', None, 'default', 'true', None),
        ('{{ has 5 (list 1) }}', None, 'default', 'false', None),
        ('{{ has 1 nil }}', None, 'default', 'false', None),
        ('{{ has "a" (list "a") }}', None, 'default', 'true', None),
        ('{{ has 1 (list 1.0) }}', None, 'default', 'false', None),
    ],
    'hasKey': [
        ('{{ hasKey $d "b" }}', None, 'default', None, 'undefined variable'),
        ('{{ hasKey $d "a" }}', None, 'default', None, 'undefined variable'),
    ],
    'hasPrefix': [
        ('{{ hasPrefix "ca" "cat" }}', None, 'default', 'true', None),
        ('{{ hasPrefix "x" "cat" }}', None, 'default', 'false', None),
    ],
    'hasSuffix': [
        ('{{ hasSuffix "at" "cat" }}', None, 'default', 'true', None),
        ('{{ hasSuffix "" "x" }}', None, 'default', 'true', None),
        ('{{ hasSuffix "long" "g" }}', None, 'default', 'false', None),
    ],
    'htmlDate': [
        ('{{ htmlDate 0 }}', None, 'default', '1970-01-01', None),
        ('{{ htmlDate 86400 }}', None, 'default', '1970-01-02', None),
        ('{{ htmlDate (toDate "2006-01-02" "2020-02-29") }}', None, 'default', '2020-02-29', None),
    ],
    'htmlDateInZone': [
        ('{{ htmlDateInZone 0 "UTC" }}', None, 'default', '1970-01-01', None),
        ('{{ htmlDateInZone 86400 "Asia/Tokyo" }}', None, 'default', '1970-01-02', None),
    ],
    'indent': [
        ('{{ indent 2 "a\\nb" }}', None, 'default', '  a\n  b', None),
        ('{{ indent 0 "x" }}', None, 'default', 'x', None),
        ('{{ indent -1 "x" }}', None, 'default', None, 'function failed'),
    ],
    'initial': [
        ('{{ initial (list 1 2 3) }}', None, 'default', '[1 2]', None),
        ('{{ initial (list) }}', None, 'default', '[]', None),
    ],
    'initials': [
        ('{{ initials "First Try" }}', None, 'default', 'FT', None),
        ('{{ initials "" }}', None, 'default', '', None),
        ('{{ initials " lead  two" }}', None, 'default', 'lt', None),
    ],
    'int': [
        ('{{ int "42" }}', None, 'default', '42', None),
        ('{{ int "0x1F" }}', None, 'default', '31', None),
        ('{{ int "010" }}', None, 'default', '8', None),
        ('{{ int "1.0" }}', None, 'default', '1', None),
        ('{{ int "1.5" }}', None, 'default', '0', None),
        ('{{ int 3.9 }}', None, 'default', '3', None),
        ('{{ int -3.9 }}', None, 'default', '-3', None),
        ('{{ int true }}', None, 'default', '1', None),
        ('{{ int nil }}', None, 'default', '0', None),
        ('{{ int "x" }}', None, 'default', '0', None),
        ('{{ int (list 1) }}', None, 'default', '0', None),
        ('{{ int "  7" }}', None, 'default', '0', None),
        ('{{ int "0b11" }}', None, 'default', '3', None),
        ('{{ int "-0x10" }}', None, 'default', '-16', None),
        ('{{ int "1e3" }}', None, 'default', '0', None),
    ],
    'int64': [
        ('{{ int64 "9223372036854775807" }}', None, 'default', '9223372036854775807', None),
        ('{{ int64 "9223372036854775808" }}', None, 'default', '0', None),
        ('{{ int64 1e30 }}', None, 'default', '-9223372036854775808', None),
    ],
    'join': [
        ('{{ join "-" (list 1 "a" nil) }}', None, 'default', '1-a', None),
        ('{{ join "," (splitList "," "x,y") }}', None, 'default', 'x,y', None),
        ('{{ join "," "str" }}', None, 'default', 'str', None),
        ('{{ join "," nil }}', None, 'default', '', None),
    ],
    'kebabcase': [
        ('{{ kebabcase "FirstName" }}', None, 'default', 'first-name', None),
        ('{{ kebabcase "HTTPServerURL2" }}', None, 'default', 'http-server-url2', None),
        ('{{ kebabcase "already-kebab" }}', None, 'default', 'already-kebab', None),
        ('{{ kebabcase "x.y Z" }}', None, 'default', 'x.y-z', None),
    ],
    'keys': [
        ('{{ keys (dict "a" 1) (dict "b" 2) }}', None, 'default', '[a b]', None),
        ('{{ keys }}', None, 'default', '[]', None),
        ('{{ keys (dict) }}', None, 'default', '[]', None),
        ('{{ keys (dict "a" 1) }}', None, 'default', '[a]', None),
    ],
    'last': [
        ('{{ last (list 1 2) }}', None, 'default', '2', None),
        ('{{ last (list) }}', None, 'default', '<no value>', None),
        ('{{ last (list nil) }}', None, 'default', '<no value>', None),
        ('{{ last 1 }}', None, 'default', None, 'wrong type'),
    ],
    'list': [
        ('{{ list 1 "a" nil }}', None, 'default', '[1 a <nil>]', None),
        ('{{ list }}', None, 'default', '[]', None),
        ('{{ slice (list 1 2 3) 1 }}', None, 'default', '[2 3]', None),
        ('{{ slice (list 1 2 3) 0 2 }}', None, 'default', '[1 2]', None),
    ],
    'lower': [
        ('{{ lower "HÉLLO" }}', None, 'default', 'héllo', None),
        ('{{ lower "ÀB" }}', None, 'default', 'àb', None),
        ('{{ lower "" }}', None, 'default', '', None),
    ],
    'max': [
        ('{{ max 1 5 3 }}', None, 'default', '5', None),
        ('{{ max "7" 2 }}', None, 'default', '7', None),
        ('{{ max -1 }}', None, 'default', '-1', None),
    ],
    'maxf': [
        ('{{ maxf 1.5 2 }}', None, 'default', '2', None),
        ('{{ maxf 1 }}', None, 'default', '1', None),
        ('{{ maxf -1.5 -2 "x" }}', None, 'default', '0', None),
    ],
    'merge': [
        ('{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) }}', None, 'default', 'map[a:1 b:3 n:map[x:1 y:2]]', None),
        ('{{ merge (dict "a" "" "l" (list)) (dict "a" "x" "l" (list 1)) }}', None, 'default', 'map[a:x l:[1]]', None),
    ],
    'mergeOverwrite': [
        ('{{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "x" 9)) }}', None, 'default', 'map[a:2 b:3 n:map[x:9]]', None),
        ('{{ mergeOverwrite (dict "a" "x" "l" (list 1)) (dict "a" "" "l" (list)) }}', None, 'default', 'map[a: l:[]]', None),
        ('{{ mergeOverwrite (dict "a" 1) (dict "a" nil) }}', None, 'default', 'map[a:<nil>]', None),
    ],
    'min': [
        ('{{ min 4 2 8 }}', None, 'default', '2', None),
        ('{{ min 1 }}', None, 'default', '1', None),
        ('{{ min "-3" 2 }}', None, 'default', '-3', None),
    ],
    'minf': [
        ('{{ minf 1.5 "0.5" }}', None, 'default', '0.5', None),
        ('{{ minf 1 }}', None, 'default', '1', None),
        ('{{ minf -0.5 3 }}', None, 'default', '-0.5', None),
    ],
    'mod': [
        ('{{ mod 7 3 }}', None, 'default', '1', None),
        ('{{ mod -7 3 }}', None, 'default', '-1', None),
        ('{{ mod 1 0 }}', None, 'default', None, 'division by zero'),
    ],
    'mul': [
        ('{{ mul 2 3 4 }}', None, 'default', '24', None),
        ('{{ mul 3 }}', None, 'default', '3', None),
        ('{{ mul 9223372036854775807 2 }}', None, 'default', '-2', None),
        ('{{ mul 4294967296 4294967296 }}', None, 'default', '0', None),
    ],
    'mulf': [
        ('{{ mulf 1.1 3 }}', None, 'default', '3.3', None),
        ('{{ mulf 2 }}', None, 'default', '2', None),
        ('{{ mulf 0.1 0.2 }}', None, 'default', '0.02', None),
    ],
    'mustAppend': [
        ('{{ mustAppend (list 1) 2 }}', None, 'default', '[1 2]', None),
    ],
    'mustChunk': [
        ('{{ mustChunk 1 (list 1 2) }}', None, 'default', '[[1] [2]]', None),
    ],
    'mustCompact': [
        ('{{ mustCompact (list "" 1) }}', None, 'default', '[1]', None),
    ],
    'mustDateModify': [
        ('{{ mustDateModify "bogus" now }}', None, 'default', None, 'function failed'),
    ],
    'mustDeepCopy': [
        ('{{ mustDeepCopy "x" }}', None, 'default', 'x', None),
    ],
    'mustFirst': [
        ('{{ mustFirst (list 3 4) }}', None, 'default', '3', None),
        ('{{ mustFirst 1 }}', None, 'default', None, 'wrong type'),
    ],
    'mustFromJson': [
        ('{{ mustFromJson "bad" }}', None, 'default', None, 'function failed'),
        ('{{ mustFromJson "{}" }}', None, 'default', 'map[]', None),
        ('{{ mustFromJson "[1]" }}', None, 'default', '[1]', None),
    ],
    'mustHas': [
        ('{{ mustHas 1 (list 1) }}', None, 'default', 'true', None),
    ],
    'mustInitial': [
        ('{{ mustInitial (list 3 4) }}', None, 'default', '[3]', None),
    ],
    'mustLast': [
        ('{{ mustLast (list 3 4) }}', None, 'default', '4', None),
    ],
    'mustMerge': [
        ('{{ mustMerge (dict "a" 1) (dict "b" 2) }}', None, 'default', 'map[a:1 b:2]', None),
    ],
    'mustMergeOverwrite': [
        ('{{ mustMergeOverwrite (dict "a" 1) (dict "a" 2) }}', None, 'default', 'map[a:2]', None),
    ],
    'mustPrepend': [
        ('{{ mustPrepend (list 2) 1 }}', None, 'default', '[1 2]', None),
    ],
    'mustPush': [
        ('{{ mustPush (list) 1 }}', None, 'default', '[1]', None),
    ],
    'mustRegexFind': [
        ('{{ mustRegexFind "b+" "abbc" }}', None, 'default', 'bb', None),
    ],
    'mustRegexFindAll': [
        ('{{ mustRegexFindAll "b" "abcb" -1 }}', None, 'default', '[b b]', None),
        ('{{ mustRegexFindAll "(" "x" 1 }}', None, 'default', None, 'function failed'),
    ],
    'mustRegexMatch': [
        ('{{ mustRegexMatch "(" "x" }}', None, 'default', None, 'function failed'),
        ('{{ mustRegexMatch "a" "b" }}', None, 'default', 'false', None),
        ('{{ mustRegexMatch "^$" "" }}', None, 'default', 'true', None),
    ],
    'mustRegexReplaceAll': [
        ('{{ mustRegexReplaceAll "b" "abc" "X" }}', None, 'default', 'aXc', None),
    ],
    'mustRegexReplaceAllLiteral': [
        ('{{ mustRegexReplaceAllLiteral "b" "abc" "$0" }}', None, 'default', 'a$0c', None),
    ],
    'mustRegexSplit': [
        ('{{ mustRegexSplit "," "a,b" -1 }}', None, 'default', '[a b]', None),
        ('{{ mustRegexSplit "[" "x" 1 }}', None, 'default', None, 'function failed'),
    ],
    'mustRest': [
        ('{{ mustRest (list 3 4) }}', None, 'default', '[4]', None),
    ],
    'mustReverse': [
        ('{{ mustReverse (list 1 2) }}', None, 'default', '[2 1]', None),
    ],
    'mustToDate': [
        ('{{ mustToDate "2006" "x" }}', None, 'default', None, 'function failed'),
        ('{{ mustToDate "2006" "2020" | unixEpoch }}', None, 'default', '1577836800', None),
        ('{{ mustToDate "Jan 2 2006" "Mar 5 2021" | unixEpoch }}', None, 'default', '1614902400', None),
    ],
    'mustToJson': [
        ('{{ mustToJson (list 1) }}', D, 'default', '[1]', None),
        ('{{ mustToJson nil }}', None, 'default', 'null', None),
    ],
    'mustToPrettyJson': [
        ('{{ mustToPrettyJson 1 }}', D, 'default', '1', None),
        ('{{ mustToPrettyJson (dict "a" 1) }}', None, 'default', '{\n  "a": 1\n}', None),
    ],
    'mustToRawJson': [
        ('{{ mustToRawJson "<" }}', D, 'default', '"<"', None),
        ('{{ mustToRawJson (list "&") }}', None, 'default', '["&"]', None),
    ],
    'mustUniq': [
        ('{{ mustUniq (list 1 1) }}', None, 'default', '[1]', None),
    ],
    'mustWithout': [
        ('{{ mustWithout (list 1 2) 1 }}', None, 'default', '[2]', None),
    ],
    'nindent': [
        ('{{ nindent 2 "a" }}', None, 'default', '\n  a', None),
        ('{{ nindent 0 "" }}', None, 'default', '\n', None),
        ('{{ nindent 3 "a\\n\\nb" }}', None, 'default', '\n   a\n   \n   b', None),
    ],
    'nospace': [
        ('{{ nospace " a b\\tc\\n" }}', None, 'default', 'abc', None),
        ('{{ nospace "abc" }}', None, 'default', 'abc', None),
        ('{{ nospace "é b" }}', None, 'default', 'Ã©b', None),
    ],
    'now': [
        ('{{ gt (now | unixEpoch | int) 1700000000 }}', None, 'default', 'true', None),
        ('{{ len (now | date "2006") }}', None, 'default', '4', None),
    ],
    'omit': [
        ('{{ omit (dict "a" 1 "b" 2 "c" 3) "a" "z" }}', None, 'default', 'map[b:2 c:3]', None),
        ('{{ omit (dict "a" 1) }}', None, 'default', 'map[a:1]', None),
    ],
    'pick': [
        ('{{ pick (dict "a" 1 "b" 2 "c" 3) "a" "c" "z" }}', None, 'default', 'map[a:1 c:3]', None),
        ('{{ pick (dict "a" 1) }}', None, 'default', 'map[]', None),
    ],
    'pluck': [
        ('{{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}', None, 'default', '[1 3]', None),
        ('{{ pluck "a" }}', None, 'default', '[]', None),
        ('{{ pluck "x" (dict "a" 1) }}', None, 'default', '[]', None),
    ],
    'plural': [
        ('{{ plural "one" "many" 1 }}', None, 'default', 'one', None),
        ('{{ plural "one" "many" 2 }}', None, 'default', 'many', None),
        ('{{ plural "one" "many" 0 }}', None, 'default', 'many', None),
    ],
    'prepend': [
        ('{{ prepend (list 1) 0 }}', None, 'default', '[0 1]', None),
        ('{{ prepend (list) nil }}', None, 'default', '[<nil>]', None),
    ],
    'push': [
        ('{{ push (list) "x" }}', None, 'default', '[x]', None),
        ('{{ push (list 1) (list 2) }}', None, 'default', '[1 [2]]', None),
    ],
    'quote': [
        ('{{ quote "a" "b\\"c" 1 nil }}', None, 'default', '"a" "b\\"c" "1"', None),
        ('{{ quote }}', None, 'default', '', None),
    ],
    'randAlpha': [
        ('{{ len (randAlpha 10) }}', None, 'default', '10', None),
        ('{{ randAlpha 0 }}', None, 'default', '', None),
        ('{{ randAlpha -1 }}', None, 'default', '', None),
    ],
    'randAlphaNum': [
        ('{{ len (randAlphaNum 7) }}', None, 'default', '7', None),
        ('{{ randAlphaNum 0 }}', None, 'default', '', None),
    ],
    'randAscii': [
        ('{{ len (randAscii 4) }}', None, 'default', '4', None),
        ('{{ randAscii 0 }}', None, 'default', '', None),
    ],
    'randInt': [
        ('{{ lt (randInt 1 5) 5 }}', None, 'default', 'true', None),
        ('{{ ge (randInt 1 5) 1 }}', None, 'default', 'true', None),
        ('{{ randInt 5 5 }}', None, 'default', None, 'function failed'),
    ],
    'randNumeric': [
        ('{{ len (randNumeric 3) }}', None, 'default', '3', None),
        ('{{ randNumeric -5 }}', None, 'default', '', None),
    ],
    'regexFind': [
        ('{{ regexFind "[0-9]+" "abc123def456" }}', None, 'default', '123', None),
        ('{{ regexFind "x" "abc" }}', None, 'default', '', None),
        ('{{ regexFind "(" "x" }}', None, 'default', None, 'function failed'),
    ],
    'regexFindAll': [
        ('{{ regexFindAll "[0-9]" "a1b2c3" -1 }}', None, 'default', '[1 2 3]', None),
        ('{{ regexFindAll "[0-9]" "a1b2c3" 2 }}', None, 'default', '[1 2]', None),
        ('{{ regexFindAll "[0-9]" "a1" 0 }}', None, 'default', '[]', None),
        ('{{ regexFindAll "x*" "abxd" -1 }}', None, 'default', '[  x ]', None),
        ('{{ regexFindAll "." "éa" -1 }}', None, 'default', '[é a]', None),
    ],
    'regexMatch': [
        ('{{ regexMatch "^[a-z]+$" "abc" }}', None, 'default', 'true', None),
        ('{{ regexMatch "^[a-z]+$" "ab1" }}', None, 'default', 'false', None),
        ('{{ regexMatch "(" "x" }}', None, 'default', 'false', None),
        ('{{ regexMatch "^[0-9]{6}$" (randNumeric 6) }}', None, 'default', 'true', None),
        ('{{ regexMatch "^[a-zA-Z0-9]{9}$" (randAlphaNum 9) }}', None, 'default', 'true', None),
        ('{{ regexMatch "^[0-9a-f-]{36}$" uuidv4 }}', None, 'default', 'true', None),
    ],
    'regexQuoteMeta': [
        ('{{ regexQuoteMeta "1.5+[x]" }}', None, 'default', '1\\.5\\+\\[x\\]', None),
        ('{{ regexQuoteMeta "" }}', None, 'default', '', None),
        ('{{ regexQuoteMeta "a|b^$" }}', None, 'default', 'a\\|b\\^\\$', None),
    ],
    'regexReplaceAll': [
        ('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', None, 'default', '-W-xxW-', None),
        ('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W" }}', None, 'default', '---', None),
        ('{{ regexReplaceAll "(?P<n>[0-9])" "a1b2" "<$n>" }}', None, 'default', 'a<1>b<2>', None),
        ('{{ regexReplaceAll "x*" "abxd" "-" }}', None, 'default', '-a-b-d-', None),
        ('{{ regexReplaceAll "b" "abc" "$$" }}', None, 'default', 'a$c', None),
        ('{{ regexReplaceAll "" "abc" "-" }}', None, 'default', '-a-b-c-', None),
        ('{{ regexReplaceAll "a|" "baaac" "X" }}', None, 'default', 'XbXXXcX', None),
        ('{{ regexReplaceAll "(é)" "aéb" "[$1]" }}', None, 'default', 'a[é]b', None),
        ('{{ regexReplaceAll "(" "x" "y" }}', None, 'default', None, 'function failed'),
    ],
    'regexReplaceAllLiteral': [
        ('{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}', None, 'default', '-${1}-${1}-', None),
        ('{{ regexReplaceAllLiteral "x" "axbx" "$1" }}', None, 'default', 'a$1b$1', None),
        ('{{ regexReplaceAllLiteral "^" "ab" ">" }}', None, 'default', '>ab', None),
    ],
    'regexSplit': [
        ('{{ regexSplit "z+" "pizza" -1 }}', None, 'default', '[pi a]', None),
        ('{{ regexSplit "z+" "pizza" 1 }}', None, 'default', '[pizza]', None),
        ('{{ regexSplit "" "abc" -1 }}', None, 'default', '[a b c]', None),
        ('{{ regexSplit "x" "" -1 }}', None, 'default', '[]', None),
        ('{{ regexSplit "a" "banana" 2 }}', None, 'default', '[b nana]', None),
    ],
    'repeat': [
        ('{{ repeat 3 "ab" }}', None, 'default', 'ababab', None),
        ('{{ repeat 0 "x" }}', None, 'default', '', None),
        ('{{ repeat -1 "x" }}', None, 'default', None, 'function failed'),
    ],
    'replace': [
        ('{{ replace " " "-" "a b c" }}', None, 'default', 'a-b-c', None),
        ('{{ replace "" "-" "abc" }}', None, 'default', '-a-b-c-', None),
        ('{{ "aaa" | replace "a" "bb" }}', None, 'default', 'bbbbbb', None),
    ],
    'rest': [
        ('{{ rest (list 1 2 3) }}', None, 'default', '[2 3]', None),
        ('{{ rest (list) }}', None, 'default', '[]', None),
    ],
    'reverse': [
        ('{{ reverse (list 1 2 3) }}', None, 'default', '[3 2 1]', None),
        ('{{ reverse (list) }}', None, 'default', '[]', None),
    ],
    'round': [
        ('{{ round 3.14159 2 }}', None, 'default', '3.14', None),
        ('{{ round 2.5 0 }}', None, 'default', '3', None),
        ('{{ round -2.5 0 }}', None, 'default', '-3', None),
        ('{{ round 1.234 1 0.3 }}', None, 'default', '1.3', None),
        ('{{ round 1.5 0 }}', None, 'default', '2', None),
        ('{{ round 1.25 1 }}', None, 'default', '1.3', None),
        ('{{ round 1e300 400 }}', None, 'default', 'NaN', None),
        ('{{ round 0 -400 }}', None, 'default', 'NaN', None),
    ],
    'seq': [
        ('{{ seq 5 }}', None, 'default', '1 2 3 4 5', None),
        ('{{ seq 3 1 }}', None, 'default', '3 2 1', None),
        ('{{ seq 0 2 10 }}', None, 'default', '0 2 4 6 8 10', None),
        ('{{ seq 10 -3 1 }}', None, 'default', '10 7 4 1', None),
        ('{{ seq 1 2 }}', None, 'default', '1 2', None),
        ('{{ seq }}', None, 'default', '', None),
        ('{{ seq 1 2 3 4 }}', None, 'default', '', None),
        ('{{ seq 5 2 1 }}', None, 'default', '', None),
        ('{{ seq 0 }}', None, 'default', '1 0', None),
    ],
    'set': [
        ('{{ set (dict) "a" "b" }}', None, 'default', 'map[a:b]', None),
        ('{{ set nil "a" 1 }}', None, 'default', None, 'function failed'),
    ],
    'sha1sum': [
        ('{{ sha1sum "abc" }}', None, 'default', 'a9993e364706816aba3e25717850c26c9cd0d89d', None),
        ('{{ sha1sum "" }}', None, 'default', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', None),
    ],
    'sha256sum': [
        ('{{ sha256sum "abc" }}', None, 'default', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', None),
        ('{{ sha256sum "" }}', None, 'default', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', None),
    ],
    'sha512sum': [
        ('{{ sha512sum "" }}', None, 'default', 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e', None),
        ('{{ sha512sum "abc" }}', None, 'default', 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f', None),
    ],
    'shuffle': [
        ('{{ len (shuffle "hello") }}', None, 'default', '5', None),
        ('{{ shuffle "" }}', None, 'default', '', None),
    ],
    'snakecase': [
        ('{{ snakecase "FirstName" }}', None, 'default', 'first_name', None),
        ('{{ snakecase "HTTPServer" }}', None, 'default', 'http_server', None),
        ('{{ snakecase "some-kebab case" }}', None, 'default', 'some_kebab_case', None),
        ('{{ snakecase "ID2Name" }}', None, 'default', 'id2_name', None),
        ('{{ snakecase "a1b2C3" }}', None, 'default', 'a_1b2_c3', None),
        ('{{ snakecase "" }}', None, 'default', '', None),
    ],
    'sortAlpha': [
        ('{{ sortAlpha (list "b" "a" "C" 1) }}', None, 'default', '[1 C a b]', None),
        ('{{ sortAlpha "x" }}', None, 'default', '[x]', None),
    ],
    'split': [
        ('{{ split "," "a,b,c" }}', None, 'default', 'map[_0:a _1:b _2:c]', None),
        ('{{ (split "," "a,b").`_1` }}', None, 'default', None, 'syntax'),
        ('{{ split "" "ab" }}', None, 'default', 'map[_0:a _1:b]', None),
        ('{{ split "," "" }}', None, 'default', 'map[_0:]', None),
        ('{{ index (split "$" "a$b") "_0" }}', None, 'default', 'a', None),
    ],
    'splitList': [
        ('{{ splitList "," "a,b,,c" }}', None, 'default', '[a b  c]', None),
        ('{{ splitList "" "abc" }}', None, 'default', '[a b c]', None),
        ('{{ len (splitList "," "") }}', None, 'default', '1', None),
    ],
    'splitn': [
        ('{{ splitn "," 2 "a,b,c" }}', None, 'default', 'map[_0:a _1:b,c]', None),
        ('{{ splitn "," 0 "a" }}', None, 'default', 'map[]', None),
        ('{{ splitn "," -1 "a,b" }}', None, 'default', 'map[_0:a _1:b]', None),
    ],
    'squote': [
        ('{{ squote "a" 1 nil }}', None, 'default', "'a' '1'", None),
        ('{{ squote }}', None, 'default', '', None),
        ('{{ squote "" }}', None, 'default', "''", None),
    ],
    'sub': [
        ('{{ sub 5 7 }}', None, 'default', '-2', None),
        ('{{ sub 0 9223372036854775807 }}', None, 'default', '-9223372036854775807', None),
        ('{{ sub "5" "x" }}', None, 'default', '5', None),
    ],
    'subf': [
        ('{{ subf 5 1.5 0.5 }}', None, 'default', '3', None),
        ('{{ subf 1 }}', None, 'default', '1', None),
        ('{{ subf 0.3 0.1 }}', None, 'default', '0.2', None),
    ],
    'substr': [
        ('{{ substr 1 3 "hello" }}', None, 'default', 'el', None),
        ('{{ substr -1 3 "hello" }}', None, 'default', 'hel', None),
        ('{{ substr 2 99 "hello" }}', None, 'default', 'llo', None),
        ('{{ substr 2 -1 "hello" }}', None, 'default', 'llo', None),
        ('{{ substr 4 2 "hello" }}', None, 'default', None, 'index out of range'),
        ('{{ substr 9 10 "hello" }}', None, 'default', None, 'index out of range'),
        ('{{ substr 0 0 "" }}', None, 'default', '', None),
        ('{{ substr 1 2 "é" | len }}', None, 'default', '1', None),
    ],
    'swapcase': [
        ('{{ swapcase "Hello World" }}', None, 'default', 'hELLO wORLD', None),
        ('{{ swapcase "hello world" }}', None, 'default', 'HELLO WORLD', None),
        ('{{ swapcase "" }}', None, 'default', '', None),
    ],
    'ternary': [
        ('{{ ternary "y" "n" true }}', None, 'default', 'y', None),
        ('{{ ternary "y" "n" false }}', None, 'default', 'n', None),
        ('{{ true | ternary 1 2 }}', None, 'default', '1', None),
        ('{{ ternary "y" "n" 1 }}', None, 'default', None, 'wrong type'),
    ],
    'title': [
        ('{{ title "hello wORLD-foo_bar x.y" }}', None, 'default', 'Hello WORLD-Foo_bar X.Y', None),
        ('{{ title "" }}', None, 'default', '', None),
    ],
    'toDate': [
        ('{{ toDate "2006-01-02" "2024-03-05" | unixEpoch }}', None, 'default', '1709596800', None),
        ('{{ (toDate "2006-01-02 15:04" "bad") | date "2006" }}', None, 'default', '0001', None),
    ],
    'toDecimal': [
        ('{{ toDecimal "0777" }}', None, 'default', '511', None),
        ('{{ toDecimal 8 }}', None, 'default', '0', None),
        ('{{ toDecimal "x" }}', None, 'default', '0', None),
    ],
    'toJson': [
        ('{{ toJson (dict "b" 1 "a" (list 1.5 "x<y>&" nil true)) }}', None, 'default', '{"a":[1.5,"x\\u003cy\\u003e\\u0026",null,true],"b":1}', None),
        ('{{ toJson "é\\u2028\\n\\t\\u0001" }}', None, 'default', '"é\\u2028\\n\\t\\u0001"', None),
        ('{{ toJson 1e21 }}', None, 'default', '1e+21', None),
        ('{{ toJson 1e-7 }}', None, 'default', '1e-7', None),
        ('{{ toJson 0.000001 }}', None, 'default', '0.000001', None),
        ('{{ toJson 100.0 }}', None, 'default', '100', None),
        ('{{ toJson (fromJson .json) }}', D, 'default', '{"a":1,"b":[true,null,"x"],"c":{"d":1.5e+21}}', None),
        ('{{ toJson . }}', D, 'default', '{"a":"alpha","b64":"aGVsbG8=","csv":"a,b,,c","json":"{\\"a\\":1,\\"b\\":[true,null,\\"x\\"],\\"c\\":{\\"d\\":1.5e21}}","n":"42","pem":"","s":"Hello World"}', None),
    ],
    'toPrettyJson': [
        ('{{ toPrettyJson (dict "a" (list 1 2) "b" (dict) "c" (list)) }}', None, 'default', '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {},\n  "c": []\n}', None),
        ('{{ toPrettyJson (list) }}', None, 'default', '[]', None),
        ('{{ toPrettyJson nil }}', None, 'default', 'null', None),
        ('{{ toPrettyJson "s" }}', None, 'default', '"s"', None),
    ],
    'toRawJson': [
        ('{{ toRawJson (dict "a" "<b>&") }}', None, 'default', '{"a":"<b>&"}', None),
        ('{{ toRawJson "x" }}', None, 'default', '"x"', None),
    ],
    'toString': [
        ('{{ toString 1 }}', None, 'default', '1', None),
        ('{{ toString 1.5 }}', None, 'default', '1.5', None),
        ('{{ toString nil }}', None, 'default', '<nil>', None),
        ('{{ toString (list 1 "a") }}', None, 'default', '[1 a]', None),
        ('{{ toString true }}', None, 'default', 'true', None),
        ('{{ toString (dict "a" (list 1 nil)) }}', None, 'default', 'map[a:[1 <nil>]]', None),
    ],
    'toStrings': [
        ('{{ toStrings (list 1 "a" nil 2.5) }}', None, 'default', '[1 a 2.5]', None),
        ('{{ toStrings "x" }}', None, 'default', '[x]', None),
        ('{{ toStrings nil }}', None, 'default', '[]', None),
    ],
    'trim': [
        ('{{ trim "  x y \\n" }}', None, 'default', 'x y', None),
        ('{{ trim "" }}', None, 'default', '', None),
        ('{{ trim "\\u00a0x\\u0085" }}', None, 'default', 'x', None),
    ],
    'trimAll': [
        ('{{ trimAll "$" "$$5.00$" }}', None, 'default', '5.00', None),
        ('{{ trimAll "" "ab" }}', None, 'default', 'ab', None),
        ('{{ trimAll "ab" "abcba" }}', None, 'default', 'c', None),
    ],
    'trimPrefix': [
        ('{{ trimPrefix "foo" "foobar" }}', None, 'default', 'bar', None),
        ('{{ trimPrefix "x" "foobar" }}', None, 'default', 'foobar', None),
    ],
    'trimSuffix': [
        ('{{ trimSuffix "bar" "foobar" }}', None, 'default', 'foo', None),
        ('{{ "foobar" | trimSuffix "x" }}', None, 'default', 'foobar', None),
    ],
    'trimall': [
        ('{{ trimall "-" "--x--" }}', None, 'default', 'x', None),
        ('{{ trimall "x" "xax" }}', None, 'default', 'a', None),
    ],
    'trunc': [
        ('{{ trunc 3 "hello" }}', None, 'default', 'hel', None),
        ('{{ trunc -2 "hello" }}', None, 'default', 'lo', None),
        ('{{ trunc 10 "hi" }}', None, 'default', 'hi', None),
        ('{{ trunc -10 "hi" }}', None, 'default', 'hi', None),
        ('{{ trunc 0 "x" }}', None, 'default', '', None),
    ],
    'tuple': [
        ('{{ tuple 1 2 }}', None, 'default', '[1 2]', None),
        ('{{ tuple }}', None, 'default', '[]', None),
    ],
    'uniq': [
        ('{{ uniq (list 1 1 "a" "a" 2) }}', None, 'default', '[1 a 2]', None),
        ('{{ uniq (list) }}', None, 'default', '[]', None),
        ('{{ uniq (list (list 1) (list 1)) }}', None, 'default', '[[1]]', None),
    ],
    'unixEpoch': [
        ('{{ unixEpoch (toDate "2006-01-02T15:04:05Z07:00" "1970-01-02T00:00:00Z") }}', None, 'default', '86400', None),
        ('{{ unixEpoch (toDate "2006" "bad") }}', None, 'default', '-62135596800', None),
    ],
    'unset': [
        ('{{ unset $d "a" }}', None, 'default', None, 'undefined variable'),
        ('{{ unset (dict) "a" }}', None, 'default', 'map[]', None),
    ],
    'until': [
        ('{{ until 5 }}', None, 'default', '[0 1 2 3 4]', None),
        ('{{ until -3 }}', None, 'default', '[0 -1 -2]', None),
        ('{{ until 0 }}', None, 'default', '[]', None),
        ('{{ range $i := until 3 }}{{ $i }}{{ end }}', None, 'default', '012', None),
    ],
    'untilStep': [
        ('{{ untilStep 0 10 3 }}', None, 'default', '[0 3 6 9]', None),
        ('{{ untilStep 10 0 -4 }}', None, 'default', '[10 6 2]', None),
        ('{{ untilStep 0 10 -1 }}', None, 'default', '[]', None),
    ],
    'untitle': [
        ('{{ untitle "Hello World FOO" }}', None, 'default', 'hello world fOO', None),
        ('{{ untitle "" }}', None, 'default', '', None),
    ],
    'upper': [
        ('{{ upper "héllo ß" }}', None, 'default', 'HÉLLO ß', None),
        ('{{ upper "" }}', None, 'default', '', None),
    ],
    'uuidv4': [
        ('{{ len uuidv4 }}', None, 'default', '36', None),
        ('{{ ne uuidv4 uuidv4 }}', None, 'default', 'true', None),
    ],
    'values': [
        ('{{ values (dict) }}', None, 'default', '[]', None),
        ('{{ values (dict "a" 1) }}', None, 'default', '[1]', None),
        ('{{ values (dict "a" (list 1 2)) }}', None, 'default', '[[1 2]]', None),
    ],
    'without': [
        ('{{ without (list 1 2 3 2) 2 }}', None, 'default', '[1 3]', None),
        ('{{ without (list) 1 }}', None, 'default', '[]', None),
        ('{{ without (list 1 2) }}', None, 'default', '[1 2]', None),
    ],
    'wrap': [
        ('{{ wrap 5 "Hello World Foo" }}', None, 'default', 'Hello\nWorld\nFoo', None),
        ('{{ wrap 3 "abcdefgh ij" }}', None, 'default', 'abcdefgh\nij', None),
        ('{{ wrap 0 "a b" }}', None, 'default', 'a\nb', None),
    ],
    'wrapWith': [
        ('{{ wrapWith 5 "\\t" "Hello World" }}', None, 'default', 'Hello\tWorld', None),
        ('{{ wrapWith 3 "-" "abcdefgh" }}', None, 'default', 'abc-def-gh', None),
    ],
}
