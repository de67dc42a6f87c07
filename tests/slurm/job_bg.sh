# job_bg.sh: sourced by the checks whose job loses ranks on purpose. Such a
# job is watched from outside: Open MPI 4.1's mpirun in recovery mode may
# not end after its survivors exit (it waits for --timeout), so the check
# ends the job itself once the survivors are done.
#
#   job_start OUT run_job.sh-args...  start run_job.sh in the background,
#                                     output to OUT; sets JOB_PID
#   job_finish DONE GRACE             wait until the job ends, or until the
#                                     command DONE succeeds and GRACE more
#                                     seconds passed (then TERM it); sets
#                                     JOB_RC (143 when it was ended here)

job_start() {
    local out=$1

    shift
    "$(dirname "${BASH_SOURCE[0]}")/run_job.sh" "$@" >"$out" 2>&1 &
    JOB_PID=$!
}

job_finish() {
    local done_cmd=$1 grace=$2 left=-1

    while kill -0 "$JOB_PID" 2>/dev/null; do
        if [ "$left" -lt 0 ] && $done_cmd; then
            left=$((grace * 10))
        elif [ "$left" -eq 0 ]; then
            echo "job_bg: survivors done ${grace} s ago; ending the job"
            kill -TERM "$JOB_PID" 2>/dev/null
        fi
        [ "$left" -le 0 ] || left=$((left - 1))
        sleep 0.1
    done
    wait "$JOB_PID"
    JOB_RC=$?
}
