# Shared by scripts/run and scripts/test: install what is missing, build.
# Sourced, not run. Works from any folder; paths are the project's.

HL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HL_BUILD="$HL_ROOT/build"

# Debian 12 packages the build, the tests and the scripts need.
HL_PACKAGES="build-essential autoconf automake pkg-config
	libmicrohttpd-dev libsqlite3-dev libsodium-dev libssl-dev
	libjansson-dev check python3 openssl curl sqlite3 tzdata"
# The configure flags of build/: scripts/run and scripts/test share them,
# so that switching between the two never reconfigures and rebuilds.
HL_CONFIGURE_FLAGS="--enable-werror"
# What scripts/fuzz adds: clang and its libFuzzer runtime.
HL_FUZZ_PACKAGES="clang libclang-rt-14-dev"
# What scripts/test adds: readelf (binutils), memcheck, the linters, bear
# for compile_commands.json, systemd-analyze, and dpkg's data for the SBOM.
HL_TEST_PACKAGES="binutils valgrind cppcheck clang-tidy bear systemd"

hl_say() { printf '==> %s\n' "$*" >&2; }
hl_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# hl_install_deps [packages]: install those missing (default $HL_PACKAGES).
hl_install_deps() {
	local missing=() p
	for p in ${1:-$HL_PACKAGES}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		hl_die "missing packages: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}"
	fi
	hl_say "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
	    hl_die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends "${missing[@]}" >/dev/null ||
	    hl_die "apt-get install failed"
}

# hl_build [configure options...]: bootstrap, configure and make in build/
# (default options: $HL_CONFIGURE_FLAGS).
hl_build() {
	[ $# -gt 0 ] || set -- $HL_CONFIGURE_FLAGS
	cd "$HL_ROOT" || exit 1
	if [ ! -x configure ] || [ configure.ac -nt configure ] ||
	    [ Makefile.am -nt Makefile.in ]; then
		hl_say "bootstrapping (autoreconf)"
		mkdir -p build-aux m4
		autoreconf -fi >/dev/null 2>&1 || autoreconf -fi ||
		    hl_die "autoreconf failed"
	fi
	mkdir -p "$HL_BUILD"
	cd "$HL_BUILD" || exit 1
	local want="$*"
	if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$want" ]; then
		hl_say "configuring ${want:-(defaults)}"
		"$HL_ROOT/configure" -q "$@" || hl_die "configure failed (see build/config.log)"
		printf '%s' "$want" > .configure-args
	fi
	hl_say "building"
	make -s -j"$(nproc)" >/dev/null || make -j1 || hl_die "build failed"
}
