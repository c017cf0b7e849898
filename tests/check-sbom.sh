#!/bin/sh
# check-sbom.sh: scripts/sbom describes the built programs as SPDX 2.3
# JSON (TAP). Run by make check with HL_TOP_SRCDIR and HL_BUILDDIR set.
#
# The document must have the SPDX 2.3 header fields, a hookledger package
# with configure.ac's version, and a package with a version for each
# library the daemon is built on: libmicrohttpd, SQLite, libsodium,
# OpenSSL's libcrypto and Jansson. Without dpkg the versions cannot be
# known, and the test skips.

set -u
S=${HL_TOP_SRCDIR:-.}
B=${HL_BUILDDIR:-.}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "1..0 # SKIP no dpkg-query: package versions are unknown here"
	exit 0
fi
PY=${PYTHON3:-python3}
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT

if ! "$PY" "$S/scripts/sbom" --builddir "$B" -o "$t/sbom.json" 2>"$t/err"; then
	echo "not ok 1 - scripts/sbom exits 0"
	sed 's/^/# /' "$t/err"
	echo "1..1"
	exit 1
fi
echo "ok 1 - scripts/sbom exits 0"

version=$(sed -n 's/^AC_INIT(\[hookledger\], *\[\([^]]*\)\].*/\1/p' "$S/configure.ac")
exec "$PY" - "$t/sbom.json" "$version" <<'EOF'
import json, re, sys

n = 1
failed = 0


def ok(cond, what, diag=""):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what))
    if not cond:
        failed += 1
        if diag:
            print("# " + str(diag).replace("\n", "\n# "))


try:
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
except ValueError as e:
    doc = None
    ok(False, "the SBOM is JSON", e)
version = sys.argv[2]
if doc is not None:
    ok(isinstance(doc, dict), "the SBOM is a JSON object")
    ok(doc.get("spdxVersion") == "SPDX-2.3", "spdxVersion is SPDX-2.3",
       doc.get("spdxVersion"))
    ok(doc.get("SPDXID") == "SPDXRef-DOCUMENT", "SPDXID is SPDXRef-DOCUMENT")
    ok(doc.get("dataLicense") == "CC0-1.0", "dataLicense is CC0-1.0")
    ok(isinstance(doc.get("name"), str) and doc["name"], "the document is named")
    ok(str(doc.get("documentNamespace", "")).startswith("https://"),
       "documentNamespace is a URI")
    ci = doc.get("creationInfo") or {}
    ok(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ci.get("created", ""))
       is not None and bool(ci.get("creators")),
       "creationInfo has created (UTC) and creators", ci)
    pkgs = doc.get("packages") or []
    ok(all(isinstance(p.get("name"), str) and p.get("name") and
           isinstance(p.get("versionInfo"), str) and p.get("versionInfo") and
           str(p.get("SPDXID", "")).startswith("SPDXRef-") and
           "downloadLocation" in p for p in pkgs) and pkgs,
       "every package has name, versionInfo, SPDXID, downloadLocation")
    ids = [p.get("SPDXID") for p in pkgs] + \
        [f.get("SPDXID") for f in doc.get("files") or []]
    ok(len(ids) == len(set(ids)), "SPDXIDs are unique")
    known = set(ids) | {"SPDXRef-DOCUMENT"}
    rels = doc.get("relationships") or []
    ok(all(r.get("spdxElementId") in known and
           r.get("relatedSpdxElement") in known for r in rels) and rels,
       "every relationship names elements of the document")
    ok(any(r.get("relationshipType") == "DESCRIBES" and
           r.get("spdxElementId") == "SPDXRef-DOCUMENT" for r in rels),
       "the document DESCRIBES a package")
    hl = [p for p in pkgs if p.get("name") == "hookledger"]
    ok(len(hl) == 1 and hl[0].get("versionInfo") == version,
       "hookledger %s is listed" % version,
       [(p.get("name"), p.get("versionInfo")) for p in hl])
    files = {f.get("fileName") for f in doc.get("files") or []}
    ok({"./hookledgerd", "./hookledger"} <= files,
       "both programs are listed as files", files)
    ok(all(any(c.get("algorithm") == "SHA256" and
               re.fullmatch(r"[0-9a-f]{64}", c.get("checksumValue", ""))
               for c in f.get("checksums") or [])
           for f in doc.get("files") or []),
       "every file has a SHA256 checksum")
    for want, pattern in (("libmicrohttpd", r"libmicrohttpd\d+"),
                          ("SQLite", r"libsqlite3-\d+"),
                          ("libsodium", r"libsodium\d+"),
                          ("OpenSSL libcrypto", r"libssl3|libcrypto\d*"),
                          ("Jansson", r"libjansson\d+")):
        hits = [p for p in pkgs if re.fullmatch(pattern, p.get("name", ""))]
        ok(len(hits) == 1 and re.match(r"\d", hits[0].get("versionInfo", ""))
           is not None and any(
               e.get("referenceType") == "purl" and
               e.get("referenceLocator", "").startswith("pkg:deb/")
               for e in hits[0].get("externalRefs") or []),
           "%s: one package with a version and a purl (%s)" % (
               want, ", ".join("%s %s" % (p["name"], p.get("versionInfo"))
                               for p in hits)),
           [p.get("name") for p in pkgs])
    used = {m for p in pkgs for m in re.findall(
        r"LicenseRef-[A-Za-z0-9.-]+", p.get("licenseDeclared", ""))}
    defined = {x.get("licenseId") for x in
               doc.get("hasExtractedLicensingInfos") or []}
    ok(used <= defined, "every LicenseRef used is defined", used - defined)
print("1..%d" % n)
sys.exit(1 if failed else 0)
EOF
