#!/usr/bin/env bash
# Issue 26 ("Bounded and sealed"): its acceptance, measured through the real
# binaries in one run.
#
#   scripts/sealed-acceptance.sh [WORKDIR]     (from the repository's root or anywhere)
#
# - serve over a local inbox (crmsim as a process, bearer token TOKEN below):
#   a symbolic link to /proc/self/environ, an export without its header line,
#   a zip of 300,000 members: the token and the planted customer data must be
#   nowhere (every file erpsync wrote: logs, reports, archive, state + WAL,
#   serve.json) and /healthz under 1 KiB;
# - run -file of a .gz of ROWS identical rows (63,000,000) and of a 1 MB .xlsx
#   with a 1 GiB member of zeros: peak RSS under 300 MiB (/usr/bin/time -v),
#   reports and logs under 50 MB; the same for three variants of the
#   workbook whose GiB is in a part that is read (the sheet, as zeros or as
#   one cell, or the shared strings);
# - run of an S3 export (cmd/fakes3, sync/source/sourcetest's hostile
#   server) whose body is endless, never answered, or stops after 100
#   bytes, with stall_timeout: 5s: ends within a minute, and the spool never
#   holds more than the listed size.
#
# Prints a table, and PASS or FAIL per check; exits 1 if any check fails.
# Environment: BIN (binaries, /tmp/sealed-bin), ROWS (rows of the .gz),
# MEMBERS (members of the zip). Everything stays in WORKDIR; servers listen
# on 127.0.0.1 only; every wait is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-/tmp/sealed-bin}
ROWS=${ROWS:-63000000}
MEMBERS=${MEMBERS:-300000}
W=${1:-$(mktemp -d /tmp/sealed-acceptance.XXXXXX)}
W=$(mkdir -p "$W" && cd "$W" && pwd)
TOKEN=tok-SEALED-4f1c
# The planted customer: looked for everywhere but in the exports themselves.
NAME='Zorglub Sealvane'
EMAIL='zorglub.sealvane@example.org'
IBAN='FR7630006000011234567890189'
HEADER='KUNNR;NAME1;LAND1;SMTP_ADDR;IBAN'
ROW="K-SEAL-1;$NAME;FR;$EMAIL;$IBAN"
ROW2='K-SEAL-2;Other Customer;DE;other@example.org;DE89370400440532013000'
# The .gz's row: 40 bytes with its newline, so 63M rows are 2.5 GB, under
# source.max_bytes (4 GiB), as in the issue (a 2.6 MB .gz).
GZROW='K1;Alpha;FR;alpha@example.org;FR7630006'

IN=$W/in       # generated inputs, never written by erpsync
AUX=$W/aux     # crmsim's and fakes3's output, /usr/bin/time's figures, /healthz bodies
ERP=$W/erp     # every file erpsync writes, and nothing else
RESULTS=$AUX/results.tsv
mkdir -p "$IN" "$AUX" "$ERP"
: >"$RESULTS"
: >"$AUX/checks.txt"
PIDS=()

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
check() { # check OK|FAIL what (also from the background case: into a file)
	if [ "$1" = OK ]; then log "PASS $2"; else log "FAIL $2"; fi
	printf '%s %s\n' "$1" "$2" >>"$AUX/checks.txt"
}
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

# waitfor SECONDS WHAT CMD...: polls CMD every 0.2 s, at most SECONDS.
waitfor() {
	local limit=$1 what=$2 i
	shift 2
	for ((i = 0; i < limit * 5; i++)); do
		if "$@"; then return 0; fi
		sleep 0.2
	done
	log "gave up waiting ${limit}s for $what"
	return 1
}

# listening FILE: the first http://127.0.0.1:PORT in FILE.
listening() { grep -o 'http://127\.0\.0\.1:[0-9]*' "$1" 2>/dev/null | head -1; }

build() {
	log "building into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...)
}

start_crmsim() {
	"$BIN/crmsim" -addr 127.0.0.1:0 -token "$TOKEN" >"$AUX/crmsim.log" 2>&1 &
	PIDS+=($!)
	waitfor 20 crmsim listening "$AUX/crmsim.log" >/dev/null
	SIM=$(listening "$AUX/crmsim.log")
	log "crmsim at $SIM"
}

# config DIR SOURCE_PATH [EXTRA_YAML]: DIR/erpsync.yaml, state and reports in DIR.
config() {
	local dir=$1 path=$2 extra=${3:-}
	mkdir -p "$dir/logs"
	cat >"$dir/erpsync.yaml" <<EOF
crm:
  base_url: $SIM
  auth: bearer
  token_env: CRM_TOKEN
source:
  path: $path
  delimiter: ";"
  columns:
    reference: KUNNR
    name: NAME1
    billingCountry: LAND1
    email: SMTP_ADDR
$extra
state:
  path: $dir/erpsync.db
reports:
  dir: $dir/reports
EOF
	chmod 600 "$dir/erpsync.yaml"
	CRM_TOKEN=$TOKEN "$BIN/erpsync" init -config "$dir/erpsync.yaml" >"$dir/logs/init.log" 2>&1
}

# bytes PATH...: the bytes under PATHs (0 when none).
bytes() { { du -scb "$@" 2>/dev/null || true; } | tail -1 | cut -f1; }

# record CASE RSS_KIB REPORT_LOG_BYTES HEALTHZ_BYTES FOUND NOTE
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }

# export_file PATH: an export itself, which holds its customers by right:
# in serve's inbox, or moved to its archive (not a .txt written beside it).
export_file() {
	case $1 in
	*/serve/inbox/*) return 0 ;;
	*/serve/archive/*.txt) return 1 ;;
	*/serve/archive/*) return 0 ;;
	esac
	return 1
}

# found DIR HEALTHZ_FILE STRING...: where the strings are, among every file
# under DIR (binary ones too: the state, its WAL) and the /healthz body,
# the exports themselves left out.
found() {
	local dir=$1 hz=$2 s f hits=""
	shift 2
	for s in "$@"; do
		while IFS= read -r f; do
			if [ -z "$f" ] || export_file "$f"; then continue; fi
			hits+="${f#"$W"/} "
		done < <(grep -rlaF -- "$s" "$dir" "$hz" 2>/dev/null || true)
	done
	if [ -z "$hits" ]; then echo no; else echo "yes: $(tr ' ' '\n' <<<"$hits" | sort -u | tr '\n' ' ')"; fi
}

# timed CASE OUTFILE CMD...: runs CMD under /usr/bin/time -v; sets RSS (KiB)
# and CODE.
timed() {
	local name=$1 out=$2
	shift 2
	set +e
	CRM_TOKEN=$TOKEN timeout -s KILL 1800 /usr/bin/time -v -o "$AUX/$name.time" "$@" >"$out" 2>&1
	CODE=$?
	set -e
	RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$AUX/$name.time")
	log "$name: exit $CODE, peak RSS $RSS KiB, $(awk -F'): ' '/Elapsed \(wall clock\)/ {print $2}' "$AUX/$name.time") wall"
}

# bounded CASE RSS_KIB DIR: the checks of a bomb run (RSS, reports + logs,
# no token anywhere).
bounded() {
	local name=$1 rss=$2 dir=$3 size tok
	size=$(bytes "$dir/reports" "$dir/logs")
	tok=$(found "$dir" /dev/null "$TOKEN")
	record "$name" "$rss" "$size" - "token: $tok" "exit $CODE"
	[ "$rss" -lt $((300 * 1024)) ] && check OK "$name: peak RSS $rss KiB < 300 MiB" || check FAIL "$name: peak RSS $rss KiB >= 300 MiB"
	[ "$size" -lt 50000000 ] && check OK "$name: reports+logs $size B < 50 MB" || check FAIL "$name: reports+logs $size B >= 50 MB"
	[ "$tok" = no ] && check OK "$name: no token" || check FAIL "$name: token $tok"
}

# --- the .gz of ROWS identical rows (in the background: minutes of CPU) -----
gz_case() {
	local dir=$ERP/gz
	log "gz: writing $ROWS identical rows"
	(set +o pipefail; { echo "$HEADER"; yes "$GZROW" | head -n "$ROWS"; } | gzip -9 >"$IN/rows.csv.gz")
	log "gz: $(stat -c %s "$IN/rows.csv.gz") bytes on disk; run -file"
	config "$dir" "$IN/rows.csv.gz"
	timed gz "$dir/logs/run.log" "$BIN/erpsync" run -config "$dir/erpsync.yaml" -file "$IN/rows.csv.gz"
	bounded "gz ($ROWS rows, $(stat -c %s "$IN/rows.csv.gz") B)" "$RSS" "$dir"
}

# --- the 1 MB .xlsx with a 1 GiB member of zeros -----------------------------
# xlsx_case NAME LABEL [GENBOMB ARGS]: run -file of a workbook of 1 GiB of junk.
xlsx_case() {
	local name=$1 label=$2 dir=$ERP/$1
	shift 2
	"$BIN/genbomb" -kind xlsx -junk $((1 << 30)) -header "$HEADER" -row "$ROW" -row "$ROW2" -out "$IN/$name.xlsx" "$@"
	config "$dir" "$IN/$name.xlsx"
	timed "$name" "$dir/logs/run.log" "$BIN/erpsync" run -config "$dir/erpsync.yaml" -file "$IN/$name.xlsx"
	bounded "$label ($(stat -c %s "$IN/$name.xlsx") B)" "$RSS" "$dir"
}

xlsx_cases() {
	xlsx_case xlsx "xlsx, 1 GiB xl/media/junk.bin"
	# The same GiB as the sheet that is read: parts exempt from the 64 MiB
	# memory bound (they are extracted to a temporary folder, then streamed).
	xlsx_case xlsx-sheet "xlsx, sheet1.xml 1 GiB of zeros" -junk-name xl/worksheets/sheet1.xml
	xlsx_case xlsx-cell "xlsx, sheet1.xml one 1 GiB cell" -junk-name xl/worksheets/sheet1.xml -junk-cell
	xlsx_case xlsx-strings "xlsx, sharedStrings.xml 1 GiB of zeros" -junk-name xl/sharedStrings.xml
}

# --- serve over an inbox: the link, the header-less export, the zip ----------
serve_start() {
	SDIR=$ERP/serve
	mkdir -p "$SDIR/inbox" "$SDIR/archive"
	config "$SDIR" "$SDIR/inbox/*" "  archive_dir: $SDIR/archive
  settle: 1s
schedule: \"@every 1s\"
serve:
  listen: 127.0.0.1:0
  shutdown_timeout: 20s"
	CRM_TOKEN=$TOKEN "$BIN/erpsync" serve -config "$SDIR/erpsync.yaml" >"$SDIR/logs/serve.log" 2>&1 &
	SERVE_PID=$!
	PIDS+=("$SERVE_PID")
	waitfor 30 "serve's /healthz" grep -q 'listen": *"127' "$SDIR/logs/serve.log"
	HEALTHZ=http://$(grep -o 'listen": *"127\.0\.0\.1:[0-9]*' "$SDIR/logs/serve.log" | head -1 | grep -o '127[0-9.:]*')/healthz
	log "serve (pid $SERVE_PID) answers $HEALTHZ"
}

# drop NAME SRC: puts SRC into the inbox as NAME, a minute old (settled).
drop() {
	cp "$2" "$SDIR/inbox/$1"
	touch -d '1 minute ago' "$SDIR/inbox/$1"
}

rejected() { compgen -G "$SDIR/archive/rejected/$1*.error.txt" >/dev/null; }

# serve_measure CASE: /healthz, serve's peak RSS so far, reports + logs, and
# where the token and the planted customer are.
serve_measure() {
	local name=$1 hz=$AUX/healthz-$1.txt code size hzb rss tok cust
	code=$(curl -s -m 10 -o "$hz" -w '%{http_code}' "$HEALTHZ" || echo none)
	hzb=$(stat -c %s "$hz")
	rss=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")
	size=$(bytes "$SDIR/reports" "$SDIR/logs")
	tok=$(found "$SDIR" "$hz" "$TOKEN")
	cust=$(found "$SDIR" "$hz" "$NAME" "$EMAIL" "$IBAN")
	record "serve: $name" "$rss (serve so far)" "$size" "$hzb ($code)" "token: $tok; customer: $cust" "$(head -c 120 "$hz" | tr '\n\t' '  ')"
	[ "$hzb" -lt 1024 ] && check OK "$name: /healthz $hzb B < 1 KiB" || check FAIL "$name: /healthz $hzb B >= 1 KiB"
	[ "$tok" = no ] && check OK "$name: no token" || check FAIL "$name: token $tok"
	[ "$cust" = no ] && check OK "$name: no customer data" || check FAIL "$name: customer data $cust"
}

serve_cases() {
	serve_start
	ln -s /proc/self/environ "$SDIR/inbox/a-environ.csv"
	sleep 5 # five ticks: a link is never listed, so nothing marks its passing
	[ -L "$SDIR/inbox/a-environ.csv" ] && check OK "symlink: left in the inbox, not taken" || check FAIL "symlink: moved"
	serve_measure symlink

	printf '%s\n%s\n' "$ROW" "$ROW2" >"$IN/noheader.csv"
	drop b-noheader.csv "$IN/noheader.csv"
	waitfor 60 "the header-less export's rejection" rejected b-noheader || check FAIL "header-less: not rejected"
	serve_measure header-less

	"$BIN/genbomb" -kind zip -members "$MEMBERS" -header "$HEADER" -row "$ROW" -out "$IN/members.zip"
	drop c-members.zip "$IN/members.zip"
	waitfor 180 "the zip's rejection" rejected c-members || check FAIL "zip: not rejected"
	serve_measure "zip of $MEMBERS members ($(stat -c %s "$IN/members.zip") B)"

	kill -TERM "$SERVE_PID"
	waitfor 30 "serve's end" eval '! kill -0 "$SERVE_PID" 2>/dev/null' || true
	local code=0
	wait "$SERVE_PID" || code=$?
	[ "$code" = 0 ] && check OK "serve: exit 0 on SIGTERM" || check FAIL "serve: exit $code on SIGTERM"
	local tok cust
	tok=$(found "$SDIR" /dev/null "$TOKEN")
	cust=$(found "$SDIR" /dev/null "$NAME" "$EMAIL" "$IBAN")
	record "serve: after its end" - "$(bytes "$SDIR/reports" "$SDIR/logs")" - "token: $tok; customer: $cust" "state, WAL, serve.json, logs"
	[ "$tok$cust" = nono ] && check OK "serve: nothing found after its end" || check FAIL "serve after its end: $tok / $cust"
}

# --- S3: endless, unanswered and stalled bodies, stall_timeout: 5s -----------
s3_case() { # s3_case PREFIX
	local prefix=$1 dir=$ERP/s3-$1 max=0 now start end pid listed
	listed=$(stat -c %s "$IN/s3/day1.csv")
	config "$dir" "s3://erp/$prefix/*.csv" "  stall_timeout: 5s
  s3:
    region: us-east-1
    endpoint: $S3URL"
	start=$(date +%s.%N)
	(
		export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
			AWS_CONFIG_FILE="$AUX/none" AWS_SHARED_CREDENTIALS_FILE="$AUX/none" AWS_PROFILE= CRM_TOKEN=$TOKEN
		code=0
		timeout -s KILL 150 /usr/bin/time -v -o "$AUX/s3-$prefix.time" \
			"$BIN/erpsync" run -config "$dir/erpsync.yaml" >"$dir/logs/run.log" 2>&1 || code=$?
		echo "$code" >"$AUX/s3-$prefix.code"
	) &
	pid=$!
	for ((i = 0; i < 10000; i++)); do # 0.02 s each, and the run is killed at 150 s
		kill -0 "$pid" 2>/dev/null || break
		now=$(find "$dir" -path '*/.erpsync-spool-*' -type f -printf '%s\n' 2>/dev/null | awk '{n += $1} END {print n + 0}')
		[ "$now" -gt "$max" ] && max=$now
		sleep 0.02
	done
	wait "$pid" || true
	end=$(date +%s.%N)
	CODE=$(cat "$AUX/s3-$prefix.code" 2>/dev/null || echo killed)
	local wall
	wall=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')
	RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$AUX/s3-$prefix.time" 2>/dev/null || echo -)
	record "s3 $prefix (listed $listed B)" "$RSS" "$(bytes "$dir/reports" "$dir/logs")" - "token: $(found "$dir" /dev/null "$TOKEN")" \
		"exit $CODE in ${wall}s; spool peak $max B; $(grep -v '^\s*$' "$dir/logs/run.log" | tail -1 | cut -c1-140 | tr '\t|' ' /')"
	awk -v w="$wall" 'BEGIN {exit !(w < 60)}' && check OK "s3 $prefix: ended in ${wall}s < 60 s" || check FAIL "s3 $prefix: ${wall}s"
	[ "$max" -le "$listed" ] && check OK "s3 $prefix: spool peak $max B <= listed $listed B" || check FAIL "s3 $prefix: spool $max B > $listed B"
}

s3_cases() {
	mkdir -p "$IN/s3"
	awk -v h="$HEADER" 'BEGIN {print h; for (i = 1; i <= 2000; i++) printf "K-%05d;Customer %d;FR;c%d@example.org;FR76300060000112345678%05d\n", i, i, i, i}' >"$IN/s3/day1.csv"
	"$BIN/fakes3" -put "$IN/s3/day1.csv" >"$AUX/fakes3.log" 2>&1 &
	local fpid=$!
	PIDS+=("$fpid")
	waitfor 20 fakes3 listening "$AUX/fakes3.log" >/dev/null
	S3URL=$(listening "$AUX/fakes3.log")
	log "fakes3 at $S3URL"
	local p
	for p in endless stallh stallb; do s3_case "$p"; done
	kill -TERM "$fpid"
	waitfor 10 "fakes3's end" eval '! kill -0 "$fpid" 2>/dev/null' || true
	local sent
	sent=$(grep 'hostile body bytes' "$AUX/fakes3.log" || echo 'fakes3: no count')
	log "$sent"
	record "s3: what fakes3 sent" - - - - "$sent (the endless body's, cut by the client at its listing, plus 100 B per stalled try)"
}

table() {
	printf '\n| case | peak RSS (KiB) | reports+logs (B) | /healthz B (status) | token / customer data found | notes |\n|---|---|---|---|---|---|\n'
	awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6}' "$RESULTS"
	printf '\n'
	cat "$AUX/checks.txt"
}

main() {
	log "work dir $W"
	build
	start_crmsim
	gz_case >"$AUX/gz.out" 2>&1 &
	local gz=$!
	serve_cases
	s3_cases
	xlsx_cases
	log "waiting for the .gz run (bounded: 30 min)"
	waitfor 1800 "the .gz run" eval '! kill -0 "$gz" 2>/dev/null' || kill "$gz"
	wait "$gz" || check FAIL "gz case ended with an error"
	cat "$AUX/gz.out" >&2
	table
	! grep -q '^FAIL' "$AUX/checks.txt"
}

main
