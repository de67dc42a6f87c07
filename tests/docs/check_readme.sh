#!/usr/bin/env bash
# check_readme.sh: README.md's code is true.
#  - every ```c block is compiled on its own with -std=c11 -Wall -Werror
#    (a block is a whole translation unit: its own includes, no main needed);
#  - every ```fortran block with gfortran -std=f2018 -Wall -Werror against
#    the built module (when there is one);
#  - every ```python block is parsed;
#  - the blocks that are whole programs (a C main, a Fortran program, the
#    Python block that calls dramkv.init) run on 2 ranks;
#  - the heat2d block (the one with --kill-after) runs as written, with
#    launch/ and build/ meaning <src-dir>/launch and <build-dir>, in a
#    temporary directory that is also $HOME: the first job must die, the
#    restart must finish.
# Usage: check_readme.sh <build-dir> <src-dir> [python3]
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
python=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Split README.md into $tmp/<n>.<lang>, one file per fenced block.
awk -v dir="$tmp" '
    /^```[a-z]+$/ && !inblock { lang = substr($0, 4); n++; inblock = 1
                                file = dir "/" n "." lang; next }
    /^```$/ && inblock { inblock = 0; close(file); next }
    inblock { print > file }' "$src/README.md"

nc=0
nf=0
np=0
for f in "$tmp"/*.c; do
    [ -e "$f" ] || continue
    cc -std=c11 -Wall -Werror -I"$src/include" -c "$f" -o "$tmp/out.o" || {
        echo "README C block FAILED to compile:"; cat -n "$f"; exit 1; }
    nc=$((nc + 1))
done
mod=$build/bindings/fortran/mod
for f in "$tmp"/*.fortran; do
    [ -e "$f" ] && [ -d "$mod" ] || continue
    cp "$f" "$tmp/block.f90"
    gfortran -std=f2018 -Wall -Werror -I"$mod" -fsyntax-only "$tmp/block.f90" || {
        echo "README Fortran block FAILED to compile:"; cat -n "$f"; exit 1; }
    nf=$((nf + 1))
done
for f in "$tmp"/*.python; do
    [ -e "$f" ] && [ -n "$python" ] || continue
    "$python" -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' "$f" || {
        echo "README Python block FAILED to parse:"; cat -n "$f"; exit 1; }
    np=$((np + 1))
done
echo "compiled $nc C, $nf Fortran and parsed $np Python blocks"

# run2 <what> <program and args>: on 2 ranks, must exit 0.
run2() {
    local what=$1
    shift
    "$src/launch/dkvrun" -n 2 --timeout 60 -- "$@" </dev/null ||
        { echo "FAILED: the README's $what exits non-zero"; exit 1; }
}
for f in $(grep -l "int main" "$tmp"/*.c); do
    cc -std=c11 -Wall -Werror -I"$src/include" "$f" -o "$tmp/c_prog" \
        -L"$build" -Wl,-rpath,"$build" -ldramkv
    run2 "C program $(head -1 "$f")" "$tmp/c_prog"
done
for f in $(grep -l "^program" "$tmp"/*.fortran 2>/dev/null); do
    [ -d "$mod" ] || continue
    cp "$f" "$tmp/prog.f90"
    gfortran -I"$mod" "$tmp/prog.f90" -o "$tmp/f_prog" \
        -L"$build/bindings/fortran" -Wl,-rpath,"$build/bindings/fortran" \
        -ldramkv_fortran -L"$build" -Wl,-rpath,"$build" -ldramkv
    run2 "Fortran program" "$tmp/f_prog"
done
for f in $(grep -l "dramkv.init" "$tmp"/*.python 2>/dev/null); do
    [ -n "$python" ] || continue
    PYTHONPATH=$build/python run2 "Python block" "$python" "$f"
done

heat=$(grep -l -- "--kill-after" "$tmp"/*.sh | head -1)
[ -n "$heat" ] || { echo "no heat2d block with --kill-after in README.md"; exit 1; }
# One command per logical line (backslash continuations joined).
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$heat" | sed 's/ *#.*$//' |
    sed -e "s#build/#$build/#g" -e "s#launch/#$src/launch/#g" >"$tmp/heat.cmds"
export HOME=$tmp/home
mkdir -p "$HOME"
cd "$HOME"
while IFS= read -r cmd; do
    [ -n "$cmd" ] || continue
    echo "+ $cmd"
    if [[ $cmd == *--kill-after* ]]; then
        if bash -c "$cmd" </dev/null >"$tmp/log" 2>&1; then
            cat "$tmp/log"; echo "the --kill-after job exited 0"; exit 1
        fi
        grep -- "--kill-after: raising SIGKILL" "$tmp/log"
    else
        bash -c "$cmd" </dev/null 2>&1 | tee "$tmp/log"
        [ "${PIPESTATUS[0]}" = 0 ] || { echo "FAILED: $cmd"; exit 1; }
    fi
done <"$tmp/heat.cmds"
grep -q "restart from step" "$tmp/log" || { echo "the last job did not restart"; exit 1; }
echo "readme check passed"
