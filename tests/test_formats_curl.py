"""curl commands: shell words, curl's options and defaults, errors, warnings, and dump."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from reqbisect.errors import InputError
from reqbisect.formats import curl
from reqbisect.wire import from_wire, to_wire

CORPUS = Path(__file__).parent / "fixtures" / "curl"
DEFAULTS = {"user-agent": curl.CURL_USER_AGENT, "accept": "*/*"}


def load(text: str, **kwargs: Any) -> dict[str, Any]:
    document: dict[str, Any] = curl.load(text, source="t.curl", base_dir=CORPUS, **kwargs).document
    return document


def words(text: str, dialect: str | None = None) -> list[str]:
    return [w.text for w in curl.split_words(text, source="t.curl", dialect=dialect)[0]]


# -- shell words ----------------------------------------------------------------------


def test_bash_quoting_and_continuations() -> None:
    text = "curl 'a b' \"c \\\"d\\\" \\$e \\x\" $'\\x41\\u00e9\\n\\'' f\\ g \\\n  h#i # comment\n"
    assert words(text) == ["curl", "a b", 'c "d" $e \\x', "Aé\n'", "f g", "h#i"]


def test_bash_ansi_c_quoting_ends_at_nul_like_bash() -> None:
    assert words("curl $'a\\x00b'c $'\\xff\\101\\cA\\e'") == ["curl", "ac", "\udcffA\x01\x1b"]


def test_bash_command_substitution_of_a_comment_is_nothing() -> None:
    assert words("curl a \\\n  `# why` \\\n  b") == ["curl", "a", "b"]


def test_bash_script_reads_the_first_curl_command() -> None:
    text = "#!/bin/sh\nset -e\nTOKEN=x curl -s http://a.example/ | jq .\necho done\n"
    found, _, warnings = curl.split_words(text, source="t.curl")
    assert [w.text for w in found] == ["curl", "-s", "http://a.example/"]
    assert (found[2].line, found[2].column) == (3, 17)
    assert warnings == ["line 3: everything after the curl command (from 'jq') is ignored"]


def test_bash_variables_expand_from_the_environment_with_a_warning_naming_them() -> None:
    capture = curl.load('curl "http://a.example/$PATH_PART" -H "X: ${TOKEN}" -H \'Y: $TOKEN\' -H Z:$TOKEN',
                        source="t.curl", env={"TOKEN": "t0k"})
    assert capture.document["url"] == "http://a.example/"
    assert capture.document["headers"]["x"] == "t0k"
    assert capture.document["headers"]["y"] == "$TOKEN"  # single quotes keep it literal
    assert capture.document["headers"]["z"] == "t0k"
    assert capture.warnings == (
        "t.curl, line 1, column 24: $PATH_PART is expanded from the environment "
        "(it is not set here, so $PATH_PART is empty)",
        "t.curl, line 1, column 43: $TOKEN is expanded from the environment",
        "t.curl, line 1, column 73: $TOKEN is expanded from the environment",
    )


def test_a_bare_expansion_splits_into_words_and_an_empty_one_vanishes() -> None:
    text = "curl $OPTS http://a.example/ $NOTHING -H X:${V}z"
    assert [w.text for w in curl.split_words(text, source="t", env={"OPTS": " -s  -X PUT", "V": "a b"})[0]] == [
        "curl", "-s", "-X", "PUT", "http://a.example/", "-H", "X:a", "bz"]


def test_other_expansions_are_taken_literally_with_a_warning() -> None:
    capture = curl.load('curl "http://a.example/$(date)"', source="t.curl", env={})
    assert capture.document["url"] == "http://a.example/$(date)"
    assert capture.warnings[0] == ("t.curl, line 1, column 24: shell expansion is not performed; "
                                   "the text is taken literally")


def test_cmd_caret_escapes_and_c_runtime_quotes() -> None:
    text = 'curl ^"http://a.example/?a=1^&b=2^" ^\n  -H ^"X: ^\\^"q^\\^" 50^%^25^" ^\n  -d "a ""b"" \\"c\\""'
    assert words(text) == ["curl", "http://a.example/?a=1&b=2", "-H", 'X: "q" 50%25', "-d", 'a "b" "c"']


def test_cmd_caret_newline_keeps_a_literal_newline() -> None:
    assert words('curl ^"line1^\n\nline2^" -s') == ["curl", "line1\nline2", "-s"]


def test_powershell_backticks_and_quotes() -> None:
    text = "curl.exe 'it''s' `\n  \"say `\"hi`\" `$x a``b\" \"two\"\"q\"\"\""
    assert words(text) == ["curl.exe", "it's", 'say "hi" $x a`b', 'two"q"']


def test_dialect_is_sniffed() -> None:
    assert words("curl.exe 'a' `\n 'b'") == ["curl.exe", "a", "b"]
    assert words('curl ^"a^" ^\n ^"b^"') == ["curl", "a", "b"]
    assert words('curl.exe "a""b"') == ["curl.exe", 'a"b']


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("curl https://a.example/ \\\n  -H 'X: 1' \\\n  --data 'x' 'oops\n",
         "bad.curl, line 3, column 14: unterminated single quote"),
        ("curl $'abc", "bad.curl, line 1, column 6: unterminated single quote"),
        ('curl "abc', "bad.curl, line 1, column 6: unterminated double quote"),
        ("curl.exe 'x' \"a `\" b", "bad.curl, line 1, column 14: unterminated double quote"),
        ('curl ^"a', "bad.curl, line 1, column 7: unterminated double quote"),
        ("wget http://a.example/", "bad.curl: no curl command found; the first word must be curl or curl.exe"),
    ],
)
def test_unterminated_quotes_name_line_and_column(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        curl.load(text, source="bad.curl")
    assert str(info.value) == message


# -- curl's options -----------------------------------------------------------------------


def test_plain_get_has_curls_default_headers() -> None:
    assert load("curl http://a.example") == {
        "method": "GET", "url": "http://a.example/", "headers": DEFAULTS,
        "transport": {"header_order": ["user-agent", "accept"],
                      "header_case": {"user-agent": "User-Agent", "accept": "Accept"}},
    }


def test_http2_is_what_an_option_asks_for_over_tls() -> None:
    assert load("curl --http2 https://a.example")["transport"]["http"] == "2"
    assert "http" not in load("curl https://a.example")["transport"]
    assert "http" not in load("curl --http1.1 https://a.example")["transport"]
    assert "http" not in load("curl --http2 http://a.example")["transport"]  # no TLS: curl would upgrade, we do not
    document = load("curl --http2 https://a.example -H 'X-A: 1'")
    assert "--http2" in curl.dump(document)
    assert load(curl.dump(document)) == document


def test_data_makes_a_form_post_with_curls_content_type() -> None:
    assert load("curl a.example/x -d 'a=1' --data-binary 'b=2'") == {
        "method": "POST", "url": "http://a.example/x",
        "headers": {**DEFAULTS, "content-type": "application/x-www-form-urlencoded"},
        "body": {"a": "1", "b": "2"},
        "transport": {"header_order": ["user-agent", "accept", "content-type"],
                      "header_case": {"user-agent": "User-Agent", "accept": "Accept", "content-type": "Content-Type"}},
    }


def test_header_removal_empty_headers_and_replacements() -> None:
    document = load("curl http://a.example/ -H 'Accept:' -H 'X-E;' -H 'user-agent: me' -H 'X-A: 1' -H 'X-A:'")
    assert document["headers"] == {"x-e": "", "user-agent": "me", "x-a": "1"}


def test_curls_own_headers_come_in_curls_order() -> None:
    capture = curl.load(
        "curl http://a.example/ -H 'X-Custom: 1' -d x -e http://r.example/ -b 'a=1' -b 'b=2' "
        "--compressed -A ua -u 'u:p'", source="t.curl",
    )
    assert capture.wire is not None
    assert [name for name, _ in capture.wire.headers] == [
        "Authorization", "User-Agent", "Accept", "Accept-Encoding", "Referer", "Cookie", "X-Custom", "Content-Type",
    ]
    assert capture.document["headers"]["authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    assert capture.document["headers"]["accept-encoding"] == curl.CURL_ACCEPT_ENCODING
    assert capture.document["cookies"] == {"a": "1", "b": "2"}
    assert dict(capture.wire.headers)["Cookie"] == "a=1;b=2"


def test_empty_user_agent_removes_it_and_a_cookie_header_wins_over_b() -> None:
    document = load("curl http://a.example/ -A '' -b 'x=1' -H 'Cookie: y=2'")
    assert document["headers"] == {"accept": "*/*"}
    assert document["cookies"] == {"y": "2"}


def test_json_option_sets_content_type_and_accept_and_concatenates() -> None:
    document = load("curl http://a.example/ -H 'X: 1' --json '{\"a\":' --json '1}'")
    assert document["headers"] == {"user-agent": curl.CURL_USER_AGENT, "x": "1",
                                   "content-type": "application/json", "accept": "application/json"}
    assert document["body"] == {"a": 1}


def test_get_moves_data_to_the_query_and_head_sends_head() -> None:
    document = load("curl -G 'http://a.example/s?x=0' -d q=%C3%A9 --data-urlencode 'r=a b'")
    assert document["method"] == "GET" and "body" not in document
    capture = curl.load("curl -G 'http://a.example/s?x=0' -d q=%C3%A9", source="t")
    assert capture.wire is not None and capture.wire.url == "http://a.example/s?x=0&q=%c3%a9"
    assert document["query"] == {"x": "0", "q": "é", "r": "a b"}
    assert load("curl -I http://a.example/")["method"] == "HEAD"
    assert load("curl -X purge http://a.example/ -d x")["method"] == "purge"


def test_short_options_combine_and_take_attached_values() -> None:
    assert load("curl -sSLXPUT -dk=v http://a.example/")["method"] == "PUT"
    assert load("curl -sSLXPUT -dk=v http://a.example/")["body"] == {"k": "v"}


def test_data_urlencode_forms_follow_curl() -> None:
    capture = curl.load("curl http://a.example/ --data-urlencode 'n=a b&c' --data-urlencode '=x y' "
                        "--data-urlencode 'é*' --data-urlencode 'f@data/notes.txt'", source="t", base_dir=CORPUS)
    assert capture.wire is not None
    assert capture.wire.body == b"n=a+b%26c&x+y&%C3%A9%2A&f=hello%0Aworld%0A"


def test_data_files_are_read_relative_to_the_capture_and_stripped_like_curl() -> None:
    capture = curl.load("curl http://a.example/ -d @data/form_crlf.txt --data-binary @data/form_crlf.txt",
                        source="t", base_dir=CORPUS)
    assert capture.wire is not None
    assert capture.wire.body == b"a=1b=two%20words&a=1\r\nb=two%20words\r\n"


def test_form_parts_follow_curl() -> None:
    document = load("curl http://a.example/ -F a=1 -F 'f=@data/notes.txt' -F 'g=@data/binary.bin;filename=x.dat' "
                    "-F 'h=<data/notes.txt' -F 'i=v;type=text/x' -F 'j=\"a;b\"' --form-string 'k=@raw'")
    assert document["headers"]["content-type"].startswith("multipart/form-data; boundary=" + "-" * 24)
    assert document["body"] == {
        "a": "1",
        "f": {"filename": "notes.txt", "content_type": "text/plain", "content": "hello\nworld\n"},
        "g": {"filename": "x.dat", "content_type": "application/octet-stream",
              "content_base64": base64.b64encode(bytes(range(256))).decode()},
        "h": "hello\nworld\n",
        "i": {"content_type": "text/x", "content": "v"},
        "j": "a;b",
        "k": "@raw",
    }


def test_url_credentials_dot_segments_and_fragment() -> None:
    document = load("curl 'http://bob:p%40ss@a.example/a/./b/../c?x#frag'")
    assert document["url"] == "http://a.example/a/c"
    assert document["headers"]["authorization"] == "Basic " + base64.b64encode(b"bob:p@ss").decode()
    assert load("curl --path-as-is http://a.example/a/../b")["url"] == "http://a.example/a/../b"


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("curl -x http://proxy:3128 http://a.example/", "option --proxy is ignored"),
        ("curl -b jar.txt http://a.example/", "-b 'jar.txt' names a cookie file, which is not read"),
        ("curl http://a.example/1 http://a.example/2", "curl would also request 'http://a.example/2'"),
        ("curl -H 'Host: other' http://a.example/", "the Host header is dropped"),
        ("curl -H 'no colon' http://a.example/", "is not a header"),
        ("curl -u alice http://a.example/", "an empty password is used"),
        ("curl 'http://a.example/[1-2]'", "curl expands [] and {} in URLs"),
    ],
)
def test_approximations_are_warned_about(text: str, warning: str) -> None:
    warnings = curl.load(text, source="t.curl").warnings
    assert len(warnings) == 1
    assert warnings[0].startswith("t.curl, line 1: ") and warning in warnings[0]


def test_options_without_effect_are_named_in_one_warning() -> None:
    capture = curl.load("curl -sS -v -o out --max-time 5 --tcp-nodelay -g --path-as-is http://a.example/a/../b",
                        source="t")
    assert capture.warnings == ("t, line 1: options that change nothing reqbisect sends are ignored: "
                                "-s, -S, -v, -o, --max-time, --tcp-nodelay",)
    assert capture.document["url"] == "http://a.example/a/../b"


def test_insecure_and_location_are_warned_about() -> None:
    warnings = curl.load("curl -kL http://a.example/", source="t").warnings
    assert [w.split(":")[1] for w in warnings] == [" option --insecure is ignored", " option --location is ignored"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("curl http://a.example/ \\\n -H 'X: 1' \\\n --data-binry @x",
         "bad.curl, line 3: unknown option '--data-binry' (did you mean '--data-binary'?)"),
        ("curl --data=x http://a.example/",
         "bad.curl, line 1: unknown option '--data=x'; curl takes the value as the next word: --data VALUE"),
        ("curl -W http://a.example/", "bad.curl, line 1: unknown option '-W'"),
        ("curl http://a.example/ -H", "bad.curl, line 1: option '-H' needs a value"),
        ("curl -X POST", "bad.curl: no URL in the curl command"),
        ("curl ftp://a.example/", "bad.curl, line 1: unsupported URL scheme 'ftp' (expected http or https)"),
        ("curl http://a.example/ -F novalue", "bad.curl, line 1: -F 'novalue' is not name=content"),
        ("curl http://a.example/ -d @-", "bad.curl, line 1: --data reads standard input, which a capture cannot "
                                         "replay"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        curl.load(text, source="bad.curl", base_dir=CORPUS)
    assert str(info.value) == message


def test_missing_data_file_names_the_path() -> None:
    with pytest.raises(InputError) as info:
        curl.load("curl http://a.example/ \\\n  --data-binary @data/missing.json", source="bad.curl", base_dir=CORPUS)
    assert str(info.value) == (f"bad.curl, line 2: cannot read '{CORPUS / 'data' / 'missing.json'}' "
                               "for --data-binary: No such file or directory")


# -- dump ---------------------------------------------------------------------------------


def test_dump_writes_one_option_per_line_and_removes_curls_defaults() -> None:
    document = {"method": "POST", "url": "https://api.example.com/v1/messages", "query": {"beta": "true"},
                "headers": {"x-api-key": "sk-1", "content-type": "application/json", "x-empty": ""},
                "cookies": {"s": "1"}, "body": {"model": "it's"}}
    assert curl.dump(document) == (
        "curl 'https://api.example.com/v1/messages?beta=true' \\\n"
        "  -H User-Agent: \\\n"
        "  -H Accept: \\\n"
        "  -H 'x-api-key: sk-1' \\\n"
        "  -H 'content-type: application/json' \\\n"
        "  -H 'x-empty;' \\\n"
        "  -H 'cookie: s=1' \\\n"
        "  --data-binary '{\"model\":\"it'\\''s\"}'\n"
    )


def test_dump_states_the_method_only_when_curl_would_not_pick_it() -> None:
    base = {"url": "http://a.example/", "headers": {"user-agent": "u", "accept": "*/*"}}
    assert "-X" not in curl.dump({**base, "method": "GET"})
    assert "-X PUT" in curl.dump({**base, "method": "PUT"})
    assert "-I" in curl.dump({**base, "method": "HEAD"})
    assert "-X GET" in curl.dump({**base, "method": "GET", "body": "x"})
    assert "-X" not in curl.dump({**base, "method": "POST", "body": "x"})
    assert "-H Content-Type:" in curl.dump({**base, "method": "POST", "body": "x"})


def test_quote_uses_ansi_c_only_for_unprintable_bytes() -> None:
    assert curl.quote("plain/word=1") == "plain/word=1"
    assert curl.quote("a b's é") == "'a b'\\''s é'"
    assert curl.quote(b"a\n\x01\xff'\\") == "$'a\\n\\x01\\xff\\'\\\\'"


def test_dump_sends_nul_bytes_through_printf_and_at_signs_raw() -> None:
    text = curl.dump({"method": "POST", "url": "http://a.example/", "body_base64": base64.b64encode(b"-\x00%'\\").decode()})
    assert "--data-binary @<(printf '\\x2d\\x00%%\\x27\\x5c')" in text
    assert load(text)["body_base64"] == base64.b64encode(b"-\x00%'\\").decode()
    assert "--data-raw @file" in curl.dump({"method": "POST", "url": "http://a.example/", "body": "@file"})


def test_dump_keeps_the_capture_bytes() -> None:
    capture = from_wire(to_wire({"method": "POST", "url": "http://a.example/",
                                 "headers": {"content-type": "application/json"}, "body": {"a": 1}}), source="t")
    assert capture.wire is not None
    spaced = from_wire(type(capture.wire)("POST", "http://a.example/", (("Content-Type", "application/json"),),
                                          b'{"a":  1}'), source="t")
    assert "--data-binary '{\"a\":  1}'" in curl.dump(spaced.document, like=[spaced])
    assert "-H 'Content-Type: application/json'" in curl.dump(spaced.document, like=[spaced])


def test_cmd_variables_are_not_expanded_but_warned_about() -> None:
    capture = curl.load('curl "http://a.example/%USERNAME%" ^\n  -H ^"X: 100^%^25^"', source="t.cmd", dialect="cmd")
    assert capture.document["url"] == "http://a.example/%USERNAME%"
    assert capture.document["headers"]["x"] == "100%25"
    assert capture.warnings == ("t.cmd, line 1, column 24: variables are not expanded; the text is taken literally",)


def test_a_bash_quoted_caret_quote_is_not_taken_for_cmd() -> None:
    # '\'' closes, escapes and reopens a bash quote; the ^" after it is inside quotes.
    document = {"method": "GET", "url": "http://a.example/", "cookies": {"b": "'", "a": '^"'}}
    text = curl.dump(document)
    assert "'\\''" in text
    assert curl.load(text, source="t.curl").document["cookies"] == document["cookies"]
