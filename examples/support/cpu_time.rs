//! CPU time a process has used, from /proc: benchmarks share the machine with their load
//! generator (and with builds), so wall times vary and CPU times do not. Shared by `bench_web`
//! and `bench_assess` through `#[path]`.

use std::time::Duration;

/// User plus system time of `pid` (`"self"` for this process), every thread. Zero when /proc
/// cannot be read.
pub(crate) fn cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3; utime
    // and stime are fields 14 and 15, in clock ticks (USER_HZ, 100 a second on Linux).
    let fields: Vec<&str> =
        stat.rsplit_once(')').map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}
