#!/usr/bin/env bash
# Rebuilds fuzz/corpus/decode/ from the XML seeds in fuzz/corpus/encode/ with
# the eastest CLI, plus a few hand-written WBXML edge cases. Run from anywhere:
#   bash fuzz/gen-corpus.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
enc="$root/fuzz/corpus/encode"
dec="$root/fuzz/corpus/decode"
mkdir -p "$dec"
cd "$root"
cargo build -q --bin eastest
bin="$root/target/debug/eastest"

encode() { # encode XML-NAME OUT-NAME ARGS...
    local xml="$1" out="$2"
    shift 2
    "$bin" wbxml encode "$@" "$enc/$xml" -o "$dec/$out"
}

for f in foldersync-request foldersync-response sync-contacts sync-request-options \
         sync-email provision-request provision-response ping edge-instructions \
         libwbxml-style; do
    encode "$f.xml" "$f.wbxml" --protocol 14.1
done
encode find-16.1.xml find-16.1.wbxml --protocol 16.1
encode edge-unknown-lenient.xml edge-unknown-lenient.wbxml --protocol 14.1 --lenient

# Hand-written edge cases (hex), each a whole document.
raw() { local name="$1"; shift; printf '%s' "$*" | tr -d ' ' | xxd -r -p > "$dec/$name"; }
# The one lossy form: OPAQUE length 3 written as 80 80 03.
raw opaque-nonminimal-length.wbxml 03016A00 45 4B C3808003 414243 01 01
# Long OPAQUE (200 bytes: two-byte length 81 48).
raw opaque-long.wbxml "03016A00 45 4B C3 8148 $(printf '5A%.0s' $(seq 200)) 01 01"
# STR_I that is not UTF-8 (lenient keeps it as str-bytes).
raw str-invalid-utf8.wbxml 03016A00 45 4B 03 C328FF 00 01 01
# WBXML 1.1 header, public id 0x01 written as 80 01.
raw header-wbxml11.wbxml 0180016A00 0007 56 52 03 30 00 01 01
# Redundant SWITCH_PAGE to the current page, and one right before END.
raw switch-page-redundant.wbxml 03016A00 0000 45 4B 03 31 00 0001 01 01
# Unknown tag (page 0 token 0x11) and unknown page 3, for lenient decoding.
raw unknown-tags.wbxml 03016A00 45 51 0003 05 01 01
# Empty root, no content bit.
raw empty-root.wbxml 03016A00 0007 16
# Nesting 20 deep.
raw deep.wbxml "03016A00 $(printf '45%.0s' $(seq 20)) $(printf '01%.0s' $(seq 20))"
# Whitespace-only and control-character strings.
raw str-whitespace.wbxml 03016A00 45 4B 03 200D0A09 00 01 4C 03 41 01 42 00 01 01
ls -l "$dec"
